"""The dashboard's languages: English and Bahasa Malaysia, one JSON catalog each.

Every string a page shows goes through ``Translator.t(key, **values)``; a key missing from a
catalog is a bug that ``tests/web/test_i18n.py`` catches before it ships (and at run time the
key itself is shown rather than nothing, so a gap is visible, not silent). The language is
chosen per request: ``?lang=`` first (and remembered in a cookie), then the cookie, then
English.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Final

from starlette.requests import Request

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGE_COOKIE",
    "LANGUAGES",
    "Translator",
    "catalog",
    "language_of",
]

LANGUAGES: Final = ("en", "ms")
DEFAULT_LANGUAGE: Final = "en"
LANGUAGE_COOKIE: Final = "rantai_lang"


@cache
def catalog(language: str) -> dict[str, str]:
    """The catalog of ``language`` (one of ``LANGUAGES``), read once from the package."""
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    text = resources.files("rantai.web").joinpath("i18n", f"{language}.json").read_text("utf-8")
    data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"catalog {language}: an object of strings")
    return data


@dataclass(frozen=True, slots=True)
class Translator:
    """Looks keys up in one language's catalog and fills ``{name}`` placeholders."""

    language: str

    def t(self, key: str, /, **values: object) -> str:
        text = catalog(self.language).get(key, key)
        return text.format(**values) if values else text


def language_of(request: Request) -> str:
    """The language of this request: ``?lang=``, else the cookie, else English."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANGUAGE_COOKIE)
    return remembered if remembered in LANGUAGES else DEFAULT_LANGUAGE
