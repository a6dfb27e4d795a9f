"""Exact conversion between ISO 20022 decimal text and integer minor units.

An amount in a message is ``xs:decimal`` text ("1250.5"); on the ledger it is an integer
count of the instrument's minor units (``decimals`` per instrument). The text is converted
digit by digit, never through ``float`` or ``Decimal``: "1250.5" with 2 decimals is 125050.
Digits past the instrument's decimals must be zeros ("1.230" is 123 at 2 decimals, "1.235"
is refused), so no amount is ever rounded.
"""

from __future__ import annotations

import re
from typing import Final

from rantai.core import codes
from rantai.core.limits import AMOUNT_MAX
from rantai.iso20022.errors import Iso20022Error

__all__ = ["minor_from_text", "text_from_minor"]

# The lexical form of xs:decimal after whitespace collapse: sign, digits, optional fraction.
_DECIMAL: Final = re.compile(r"\+?([0-9]*)(?:\.([0-9]*))?")


def minor_from_text(text: str, decimals: int, element: str) -> int:
    """Minor units of the decimal ``text`` for an instrument with ``decimals``.

    Raises Iso20022Error: malformed (not a non-negative decimal), bad_amount (zero, more
    significant fraction digits than ``decimals``, or above ``AMOUNT_MAX``).
    """
    match = _DECIMAL.fullmatch(text.strip())
    whole, fraction = ("", "") if match is None else (match.group(1), match.group(2) or "")
    if match is None or not (whole or fraction):
        raise Iso20022Error(codes.MALFORMED, element, f"not a decimal amount: {text[:40]!r}")
    significant = fraction.rstrip("0")
    if len(significant) > decimals:
        raise Iso20022Error(
            codes.BAD_AMOUNT, element, f"{text.strip()} has more than {decimals} decimal places"
        )
    minor = int((whole or "0") + significant.ljust(decimals, "0"))
    if not 0 < minor <= AMOUNT_MAX:
        raise Iso20022Error(codes.BAD_AMOUNT, element, f"{text.strip()} is zero or too large")
    return minor


def text_from_minor(minor: int, decimals: int) -> str:
    """The decimal text of ``minor`` units at ``decimals`` ("12345", 2 -> "123.45")."""
    if minor < 0 or decimals < 0:
        raise ValueError("minor units and decimals are non-negative")
    if decimals == 0:
        return str(minor)
    digits = str(minor).rjust(decimals + 1, "0")
    return f"{digits[:-decimals]}.{digits[-decimals:]}"
