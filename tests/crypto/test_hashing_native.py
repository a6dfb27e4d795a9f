"""hashed_changes (``_hashing.c``): state-tree paths and leaf digests as Python makes them."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.core.ledger import state_path
from rantai.crypto._hashing import hashed_changes
from rantai.crypto.hashing import sha256


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=40), st.one_of(st.none(), st.binary(max_size=200))))
def test_paths_and_digests_match_python(changes: dict[str, bytes | None]) -> None:
    expected = {
        state_path(key): None if value is None else sha256(value) for key, value in changes.items()
    }
    assert hashed_changes(changes) == expected


def test_by_hand() -> None:
    got = hashed_changes({"bal/ä": b"x", "gone": None})
    assert got == {
        hashlib.sha256("bal/ä".encode()).digest(): hashlib.sha256(b"x").digest(),
        hashlib.sha256(b"gone").digest(): None,
    }
    assert hashed_changes({}) == {}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({b"key": b"v"}, "not str"),
        ({"key": "v"}, "neither bytes nor None"),
        ({"\ud800": b"v"}, "surrogates not allowed"),
    ],
)
def test_bad_changes_are_refused(changes: dict[object, object], message: str) -> None:
    with pytest.raises((TypeError, UnicodeEncodeError), match=message):
        hashed_changes(changes)  # type: ignore[arg-type]


def test_only_a_dict_is_taken() -> None:
    with pytest.raises(TypeError, match="must be a dict"):
        hashed_changes([("a", b"b")])  # type: ignore[arg-type]
