"""The node's stateless checks, run on every body and record a builder makes.

Shared by the transaction builders (``_builders``), the rule and action builders (``rules``,
``actions``) and travel-rule sealing (``_travel``), so that all of them fail the same way:
``InvalidTransaction`` with the node's reason code, in the caller's frame, before anything
is signed.
"""

from __future__ import annotations

from typing import Protocol, TypeVar

from rantai.core.encoding import decode, encode
from rantai.core.errors import Malformed
from rantai.crypto.keys import SigningKey
from rantai.sdk._errors import InvalidTransaction

__all__ = ["PublicKeyLike", "check_record", "proposal_hex", "public_key_bytes"]

PublicKeyLike = SigningKey | bytes


class _Checkable(Protocol):
    def check_form(self) -> None: ...


R = TypeVar("R", bound=_Checkable)


def check_record(record: R) -> R:
    """Return ``record`` as the node will decode it, after its own ``check_form``.

    Raises InvalidTransaction with ``malformed`` (a field of the wrong type: a float or bool
    amount, text for bytes) or the record's own code (``bad_amount``, ``bad_field``,
    ``too_many_items``).
    """
    try:
        # Constructing a record checks no types; a round trip through the canonical encoding
        # does, exactly as the node's decoder will, and turns lists into tuples.
        checked = decode(encode(record), type(record))
        checked.check_form()
    except Malformed as exc:
        raise InvalidTransaction(exc.code, exc.message) from None
    except TypeError as exc:  # a value the encoding has no form for (a float in a list ...)
        raise InvalidTransaction("malformed", str(exc)) from None
    return checked


def public_key_bytes(key: PublicKeyLike) -> bytes:
    """The 32 public-key bytes of a ``SigningKey``, or ``key`` itself."""
    return key.public_key if isinstance(key, SigningKey) else key


def proposal_hex(proposal: str | bytes) -> str:
    """A proposal id as the wire has it (lowercase hex) from hex or the proposing tx id."""
    return proposal.hex() if isinstance(proposal, bytes) else proposal
