"""Decimal text <-> minor units, exactly: no float, no rounding, every refusal coded."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rantai.core import codes
from rantai.core.limits import AMOUNT_MAX
from rantai.iso20022 import Iso20022Error, minor_from_text, text_from_minor


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [
        ("1250.5", 2, 125050),
        ("1250.50", 2, 125050),
        ("1.230", 2, 123),
        ("+7", 0, 7),
        (" 3.", 2, 300),
        (".5", 1, 5),
        ("0.00000001", 8, 1),
        ("1000000000000000000", 0, AMOUNT_MAX),
    ],
)
def test_decimal_text_to_minor_units(text: str, decimals: int, minor: int) -> None:
    assert minor_from_text(text, decimals, "Amt") == minor


@pytest.mark.parametrize(
    ("text", "decimals", "code"),
    [
        ("1.235", 2, codes.BAD_AMOUNT),  # finer than the instrument: never rounded
        ("0.00", 2, codes.BAD_AMOUNT),
        ("1000000000000000001", 0, codes.BAD_AMOUNT),
        ("-1", 2, codes.MALFORMED),
        ("1e3", 2, codes.MALFORMED),
        (".", 2, codes.MALFORMED),
        ("", 2, codes.MALFORMED),
    ],
)
def test_refused_amounts(text: str, decimals: int, code: str) -> None:
    with pytest.raises(Iso20022Error) as caught:
        minor_from_text(text, decimals, "Amt")
    assert (caught.value.code, caught.value.element) == (code, "Amt")


@given(st.integers(1, AMOUNT_MAX), st.integers(0, 18))
def test_round_trip(minor: int, decimals: int) -> None:
    assert minor_from_text(text_from_minor(minor, decimals), decimals, "Amt") == minor


def test_text_from_minor_pads() -> None:
    assert text_from_minor(5, 2) == "0.05"
    assert text_from_minor(12345, 2) == "123.45"
    assert text_from_minor(12345, 0) == "12345"
