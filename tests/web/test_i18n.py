"""Every visible string of the dashboard goes through the catalogs, in both languages.

Fails when: the two catalogs differ in keys or in the ``{placeholders}`` of a key; a key that
a template or a page module names is missing; a template shows text (or an accessible
name: ``alt``, ``title``, ``aria-label``, ``placeholder``, a button's ``value``) that does not
come from ``t(...)``.
"""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

from rantai.web.i18n import LANGUAGES, catalog
from rantai.web.supervise import ACTIONS, STATUSES

WEB = Path(str(resources.files("rantai.web")))
TEMPLATES = sorted((WEB / "templates").glob("*.html"))
KEY = r"[a-z_]+\.[a-z_]+"
# Keys built from a prefix and a value the code knows the full set of.
FAMILIES = {
    "status": (*STATUSES, "executed", "vetoed", "reversed"),
    "action": ACTIONS,
    "lang": LANGUAGES,
}
SHOWN_ATTRIBUTES = frozenset({"alt", "title", "aria-label", "placeholder"})
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    english, malay = catalog("en"), catalog("ms")
    assert set(english) == set(malay)
    for key, text in english.items():
        assert text.strip() and malay[key].strip(), key
        assert _placeholders(text) == _placeholders(malay[key]), key


def test_the_malay_catalog_is_translated() -> None:
    english, malay = catalog("en"), catalog("ms")
    # Names that stay the same in both (the product, language names, some loanwords).
    same = {k for k in english if english[k] == malay[k]}
    assert same <= {"app.name", "lang.en", "lang.ms", "tx.nonce", "kind.sukuk", "alerts.filter",
                    "instrument.status"}  # fmt: skip
    assert malay["nav.portfolio"] == "Pegangan Saya"
    assert malay["proof.prove_balance"] == "Buktikan baki saya"
    assert malay["governance.approve"] == "Luluskan"


def _keys_named() -> set[str]:
    named: set[str] = set()
    for path in TEMPLATES:
        named |= set(re.findall(rf"'({KEY})'", path.read_text()))
    for path in WEB.glob("*.py"):
        named |= set(re.findall(r'"(error\.[a-z_]+)"', path.read_text()))
    named |= {f"{prefix}.{value}" for prefix, values in FAMILIES.items() for value in values}
    return {k for k in named if not k.endswith(".html")}


def test_every_key_named_is_in_both_catalogs() -> None:
    named = _keys_named()
    assert len(named) > 150  # the scan found the templates' keys
    for language in LANGUAGES:
        missing = named - set(catalog(language))
        assert not missing, (language, sorted(missing))


class _VisibleText(HTMLParser):
    """Collects text a reader would see or hear that is not a template expression."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        shown = set(SHOWN_ATTRIBUTES)
        if tag in ("input", "button") and dict(attrs).get("type") in ("submit", "button"):
            shown.add("value")
        for name, value in attrs:
            if name in shown and value and LETTER.search(value):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and LETTER.search(data):
            self.found.append(data.strip())


def visible_text(template: str) -> list[str]:
    """Text of ``template`` shown outside ``{{ ... }}`` and tags (empty: all translated)."""
    parser = _VisibleText()
    parser.feed(JINJA.sub(" ", template))
    parser.close()
    return parser.found


def test_the_checker_finds_untranslated_text() -> None:
    assert visible_text("<p>{{ t('a.b') }}</p>") == []
    assert visible_text("<p>Hello {{ name }}</p>") == ["Hello"]
    assert visible_text('<button aria-label="Close">{{ t("x.y") }}</button>') != []
    assert visible_text("<p>{{ a }} · {{ b }}: 42</p>") == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_templates_show_no_text_outside_the_translation_function(path: Path) -> None:
    assert visible_text(path.read_text()) == []
