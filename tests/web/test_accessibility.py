"""Static accessibility checks of the dashboard: colour contrast (WCAG AA) and a label for
every form control. The e2e tests cover keyboard use in a real browser."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path

import pytest

WEB = Path(str(resources.files("rantai.web")))
TEMPLATES = sorted((WEB / "templates").glob("*.html"))
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# (text, background) pairs of the stylesheet's colours that carry text.
TEXT_PAIRS = [
    ("ink", "paper"), ("muted", "paper"), ("accent", "paper"), ("ok", "paper"),
    ("bad", "paper"), ("band-ink", "band"), ("paper", "accent"),
]  # fmt: skip
AA_TEXT = 4.5


def _colours() -> dict[str, str]:
    css = (WEB / "static" / "app.css").read_text()
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert contrast("#777777", "#ffffff") < AA_TEXT  # a grey that fails


@pytest.mark.parametrize("text, background", TEXT_PAIRS)
def test_text_colours_meet_wcag_aa(text: str, background: str) -> None:
    colours = _colours()
    assert contrast(colours[text], colours[background]) >= AA_TEXT


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self.labelled.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_form_control_has_a_label(path: Path) -> None:
    # Template expressions in ids are kept as a fixed marker, so id and for still match.
    parser = _Controls()
    parser.feed(JINJA.sub("X", path.read_text()))
    for control in parser.controls:
        assert control.get("aria-label") or control.get("id") in parser.labelled, (path, control)
