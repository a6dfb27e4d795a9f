"""Sanctions lists in the UN Security Council consolidated list XML format (docs/supervision.md).

The format, as published at https://scsanctions.un.org/resources/xml/en/consolidated.xml:
a ``CONSOLIDATED_LIST`` root holding ``INDIVIDUALS/INDIVIDUAL`` and ``ENTITIES/ENTITY``
elements. What is read from each subject:

| element | read as |
|---|---|
| ``REFERENCE_NUMBER`` | the subject's reference (``KPi.001``) |
| ``FIRST_NAME`` .. ``FOURTH_NAME`` | the name, joined by spaces (an entity's is ``FIRST_NAME``) |
| ``INDIVIDUAL_ALIAS/ALIAS_NAME``, ``ENTITY_ALIAS/ALIAS_NAME`` | more names |
| ``NATIONALITY/VALUE`` | countries (by name, as the list writes them) |
| ``INDIVIDUAL_ADDRESS/COUNTRY``, ``ENTITY_ADDRESS/COUNTRY`` | countries |

Everything else is ignored. Names are compared normalized: case-folded, punctuation dropped,
whitespace collapsed. Country names map to ISO 3166-1 alpha-2 codes (the form of residency
claims) through ``COUNTRY_CODES`` or a table the operator passes; a name not in the table is
kept in ``unmapped_countries`` so that an operator can see what the table misses.

Parsing is defensive: at most ``SANCTIONS_FILE_BYTES_MAX`` bytes, and a document with a
``DOCTYPE`` (the vehicle of entity expansion and external entity attacks) is refused before
the parser sees it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

__all__ = [
    "COUNTRY_CODES",
    "SANCTIONS_FILE_BYTES_MAX",
    "ListedSubject",
    "SanctionsList",
    "SanctionsListError",
    "load_sanctions_list",
    "normalize_name",
    "parse_sanctions_list",
]

SANCTIONS_FILE_BYTES_MAX: Final = 64 * 1024 * 1024
NAME_PARTS: Final = ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")

# Countries as the UN list names them (lower case) -> ISO 3166-1 alpha-2. Not exhaustive:
# the states of the current UN sanctions regimes and their usual spellings.
COUNTRY_CODES: Final[Mapping[str, str]] = {
    "afghanistan": "AF",
    "central african republic": "CF",
    "democratic people's republic of korea": "KP",
    "democratic republic of the congo": "CD",
    "haiti": "HT",
    "iran": "IR",
    "iran (islamic republic of)": "IR",
    "iraq": "IQ",
    "lebanon": "LB",
    "libya": "LY",
    "mali": "ML",
    "somalia": "SO",
    "south sudan": "SS",
    "sudan": "SD",
    "syrian arab republic": "SY",
    "yemen": "YE",
}


class SanctionsListError(Exception):
    """A sanctions list file cannot be read or is not in the expected format."""


@dataclass(frozen=True, slots=True)
class ListedSubject:
    """One listed individual or entity."""

    reference: str
    kind: str  # "individual" or "entity"
    names: tuple[str, ...]  # normalized: the name first, then aliases
    countries: tuple[str, ...]  # as written in the list


@dataclass(frozen=True, slots=True)
class SanctionsList:
    """A parsed list: its subjects, and lookups by name and by country."""

    generated: str
    subjects: tuple[ListedSubject, ...]
    country_codes: Mapping[str, str]

    def match_name(self, name: str) -> ListedSubject | None:
        """The first subject one of whose names equals ``name`` once normalized, or ``None``."""
        wanted = normalize_name(name)
        if not wanted:
            return None
        for subject in self.subjects:
            if wanted in subject.names:
                return subject
        return None

    def jurisdictions(self) -> frozenset[str]:
        """ISO codes of every country the list names (through ``country_codes``)."""
        return frozenset(
            code
            for subject in self.subjects
            for country in subject.countries
            if (code := self.country_codes.get(country.casefold())) is not None
        )

    def unmapped_countries(self) -> frozenset[str]:
        """Country names of the list that ``country_codes`` does not map."""
        return frozenset(
            country
            for subject in self.subjects
            for country in subject.countries
            if country.casefold() not in self.country_codes
        )


def normalize_name(name: str) -> str:
    """Case-folded words of ``name`` joined by one space (punctuation dropped)."""
    return " ".join(re.findall(r"\w+", name.casefold()))


def load_sanctions_list(
    path: str | Path, country_codes: Mapping[str, str] = COUNTRY_CODES
) -> SanctionsList:
    """Read and parse the list at ``path``.

    Raises:
        SanctionsListError: the file cannot be read, is too large, or is not the format.
    """
    try:
        with Path(path).open("rb") as file:
            data = file.read(SANCTIONS_FILE_BYTES_MAX + 1)
    except OSError as exc:
        raise SanctionsListError(f"cannot read {path}: {exc}") from exc
    return parse_sanctions_list(data, country_codes)


def parse_sanctions_list(
    data: bytes, country_codes: Mapping[str, str] = COUNTRY_CODES
) -> SanctionsList:
    """Parse a UN consolidated list document.

    Raises:
        SanctionsListError: too large, a DOCTYPE, not XML, or a root other than
            ``CONSOLIDATED_LIST``.
    """
    if len(data) > SANCTIONS_FILE_BYTES_MAX:
        raise SanctionsListError(f"a sanctions list is at most {SANCTIONS_FILE_BYTES_MAX} bytes")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise SanctionsListError("a sanctions list may not have a DOCTYPE or entities")
    try:
        root = ET.fromstring(data)  # DOCTYPE refused above: no entities
    except ET.ParseError as exc:
        raise SanctionsListError(f"not XML: {exc}") from exc
    if root.tag != "CONSOLIDATED_LIST":
        raise SanctionsListError(f"root element {root.tag!r}, expected CONSOLIDATED_LIST")
    subjects = [
        *(_subject(e, "individual") for e in root.iterfind("INDIVIDUALS/INDIVIDUAL")),
        *(_subject(e, "entity") for e in root.iterfind("ENTITIES/ENTITY")),
    ]
    codes = {name.casefold(): code for name, code in country_codes.items()}
    return SanctionsList(root.get("dateGenerated", ""), tuple(subjects), codes)


def _subject(element: ET.Element, kind: str) -> ListedSubject:
    prefix = kind.upper()
    name = " ".join(_texts(element.find(part) for part in NAME_PARTS))
    aliases = _texts(element.iterfind(f"{prefix}_ALIAS/ALIAS_NAME"))
    names = tuple(dict.fromkeys(n for n in map(normalize_name, (name, *aliases)) if n))
    countries = _texts(
        [*element.iterfind("NATIONALITY/VALUE"), *element.iterfind(f"{prefix}_ADDRESS/COUNTRY")]
    )
    reference = " ".join(_texts([element.find("REFERENCE_NUMBER")]))
    return ListedSubject(reference, kind, names, tuple(dict.fromkeys(countries)))


def _texts(elements: Iterable[ET.Element | None]) -> list[str]:
    return [
        text
        for element in elements
        if element is not None and (text := (element.text or "").strip())
    ]
