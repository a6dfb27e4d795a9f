"""The UN Security Council consolidated list format: what is read, and what is refused."""

from __future__ import annotations

import pytest
from tests.supervision.support import SAMPLE_LIST

from rantai.supervision import SanctionsListError, load_sanctions_list
from rantai.supervision.sanctions import normalize_name, parse_sanctions_list


def test_the_sample_list_is_read() -> None:
    listed = load_sanctions_list(SAMPLE_LIST)
    assert listed.generated == "2026-11-01T00:00:00.000Z"
    assert [(s.reference, s.kind) for s in listed.subjects] == [
        ("KPi.900", "individual"),
        ("QDi.901", "individual"),
        ("KPe.950", "entity"),
    ]
    arnold = listed.subjects[0]
    assert arnold.names == ("arnold testerson", "arnie testerson")
    assert arnold.countries == ("Democratic People's Republic of Korea",)
    assert listed.jurisdictions() == {"KP", "SO"}
    assert listed.unmapped_countries() == {"Atlantis"}


def test_names_match_normalized_and_whole() -> None:
    listed = load_sanctions_list(SAMPLE_LIST)
    found = listed.match_name("  sample   SHIPPING trading co ")
    assert found is not None and found.reference == "KPe.950"
    assert listed.match_name("Sample Maritime") is found  # an alias
    assert listed.match_name("Sample Shipping") is None
    assert listed.match_name("") is None
    assert normalize_name("O'Brien-Smith, J.") == "o brien smith j"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'<!DOCTYPE x [<!ENTITY a "aaaa">]><CONSOLIDATED_LIST/>', "DOCTYPE"),
        (b"<CONSOLIDATED_LIST><INDIVIDUALS>", "not XML"),
        (b"<SDN_LIST/>", "root element"),
    ],
)
def test_unsafe_or_foreign_documents_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(SanctionsListError, match=message):
        parse_sanctions_list(data)


def test_a_missing_file_is_refused() -> None:
    with pytest.raises(SanctionsListError, match="cannot read"):
        load_sanctions_list(SAMPLE_LIST.with_name("missing.xml"))
