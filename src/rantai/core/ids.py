"""Forms of identifiers and names, checked statelessly (reason ``bad_field``).

| id | form (first character a letter or digit) | example |
|---|---|---|
| party | 1 to 64 of ``A-Z a-z 0-9 . _ -`` | ``BNM``, ``inv-00042`` |
| account | ``<party>:<name>``, name 1 to 32 of ``a-z 0-9 . _ -`` | ``inv-00042:main`` |
| instrument | 1 to 32 of ``A-Z 0-9 . _ -`` | ``MYR.MAYBANK``, ``GII-2030`` |

Ids never contain ``/``, which separates the parts of state keys.
"""

from __future__ import annotations

import re
from typing import Final

from rantai.core import codes, limits
from rantai.core.errors import Malformed
from rantai.crypto.keys import is_public_key

__all__ = [
    "ACCOUNT_ID_PATTERN",
    "DEFAULT_ACCOUNT",
    "INSTRUMENT_CODE_PATTERN",
    "PARTY_ID_PATTERN",
    "account_id",
    "account_owner",
    "check_account_id",
    "check_amount",
    "check_instrument_code",
    "check_party_id",
    "check_slug",
    "check_text",
    "check_tx_id",
]

DEFAULT_ACCOUNT: Final = "main"

_PARTY = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
_NAME = r"[a-z0-9][a-z0-9._-]{0,31}"
_CODE = r"[A-Z0-9][A-Z0-9._-]{0,31}"
_PARTY_ID = re.compile(_PARTY)
_ACCOUNT_NAME = re.compile(_NAME)
_INSTRUMENT_CODE = re.compile(_CODE)

# The same forms, anchored, for schemas (OpenAPI, JSON Schema) and other languages.
PARTY_ID_PATTERN: Final = f"^{_PARTY}$"
ACCOUNT_ID_PATTERN: Final = f"^{_PARTY}:{_NAME}$"
INSTRUMENT_CODE_PATTERN: Final = f"^{_CODE}$"


def account_id(party: str, name: str = DEFAULT_ACCOUNT) -> str:
    """Return the id of ``party``'s account called ``name``."""
    return f"{party}:{name}"


def account_owner(account: str) -> str:
    """Return the party id part of an account id."""
    return account.rsplit(":", 1)[0]


def check_party_id(value: str, field: str = "party") -> None:
    """Raise Malformed(bad_field) unless ``value`` has the form of a party id."""
    if _PARTY_ID.fullmatch(value) is None:
        raise Malformed(codes.BAD_FIELD, f"{field}: not a party id: {value[:80]!r}")


def check_account_name(value: str) -> None:
    """Raise Malformed(bad_field) unless ``value`` has the form of an account name."""
    if _ACCOUNT_NAME.fullmatch(value) is None:
        raise Malformed(codes.BAD_FIELD, f"account name: not of the form: {value[:80]!r}")


def check_slug(value: str, field: str) -> None:
    """Raise Malformed(bad_field) unless ``value`` has an account name's form (record dates,
    ballots and other names an issuer gives)."""
    if _ACCOUNT_NAME.fullmatch(value) is None:
        raise Malformed(codes.BAD_FIELD, f"{field}: 1 to 32 of a-z 0-9 . _ -: {value[:80]!r}")


def check_account_id(value: str, field: str = "account") -> None:
    """Raise Malformed(bad_field) unless ``value`` has the form ``<party>:<name>``."""
    party, sep, name = value.rpartition(":")
    if not sep or _PARTY_ID.fullmatch(party) is None or _ACCOUNT_NAME.fullmatch(name) is None:
        raise Malformed(codes.BAD_FIELD, f"{field}: not an account id: {value[:80]!r}")


def check_instrument_code(value: str, field: str = "instrument") -> None:
    """Raise Malformed(bad_field) unless ``value`` has the form of an instrument code."""
    if _INSTRUMENT_CODE.fullmatch(value) is None:
        raise Malformed(codes.BAD_FIELD, f"{field}: not an instrument code: {value[:80]!r}")


def check_text(value: str, field: str, chars_max: int, *, empty_ok: bool = False) -> None:
    """Raise Malformed(bad_field) if ``value`` is too long, empty, or has control characters."""
    if len(value) > chars_max or (not value and not empty_ok):
        raise Malformed(codes.BAD_FIELD, f"{field}: 1 to {chars_max} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise Malformed(codes.BAD_FIELD, f"{field}: control characters are not allowed")


def check_public_keys(keys: tuple[bytes, ...], field: str) -> None:
    """Raise Malformed(bad_field) unless ``keys`` are distinct Ed25519 public keys that may
    be registered (``rantai.crypto.keys.is_public_key``: no key that could sign for anyone)."""
    if len(set(keys)) != len(keys) or not all(is_public_key(k) for k in keys):
        raise Malformed(
            codes.BAD_FIELD,
            f"{field}: distinct Ed25519 public keys (32-byte points of the prime-order group)",
        )


def check_tx_id(value: str, field: str) -> None:
    """Raise Malformed(bad_field) unless ``value`` is a transaction id in lowercase hex (the
    id of the proposal, instruction, book or distribution that transaction created)."""
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise Malformed(codes.BAD_FIELD, f"{field}: a transaction id in lowercase hex")


def check_amount(value: int, field: str = "amount") -> None:
    """Raise Malformed(bad_amount) unless 0 < value <= AMOUNT_MAX."""
    if not 0 < value <= limits.AMOUNT_MAX:
        raise Malformed(codes.BAD_AMOUNT, f"{field}: must be 1 to {limits.AMOUNT_MAX}, got {value}")
