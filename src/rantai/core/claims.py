"""Claims: attestations about a party by a claim issuer trusted for the claim's topic.

| key | value |
|---|---|
| ``trust/<topic>`` | tuple of party ids, sorted: the issuers governance trusts for the topic |
| ``claim/<party>/<topic>/<issuer>`` | ``Claim`` |

A claim is written only by its issuer (``issue_claim``, ``import_credential``), never by the
party it is about. Its signature is the issuing transaction's envelope signature: the claim
keeps that transaction's id, and the envelope is kept on the chain.

**When a claim counts.** At block time ``t`` a party satisfies a topic when some issuer that
is trusted for the topic now (and, where an instrument narrows the topic's issuers, is also
one of those) has a claim on it that is not revoked and has ``t < expires_ms``. When several
do, the first in issuer-id order gives the value.

**Revocation cannot be bypassed.** A revoked claim by any such issuer blocks the topic for
the party, even if another issuer's claim is valid: a holder cannot shop for a second
opinion. Only the issuer who revoked it lifts the block, by issuing the claim again. A
revoked ``sanctions_screened`` claim also blocks the party's every movement at once
(``rantai.core.controls``).

| topic | value |
|---|---|
| ``kyc`` | the level, one digit ``1`` to ``9`` |
| ``investor_category`` | ``retail``, ``sophisticated``, ``accredited`` or ``institutional`` |
| ``residency`` | an ISO 3166-1 alpha-2 code, two capital letters (``MY``) |
| ``sanctions_screened`` | free text, e.g. the list version screened against (may be empty) |
| ``shariah_only`` | free text (may be empty): the holder accepts only Shariah-certified units |
| ``x-<name>`` | a custom topic; free text |
"""

from __future__ import annotations

import re
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.errors import Malformed
from rantai.core.ids import check_text
from rantai.core.state import StateView, register_namespace

__all__ = [
    "INVESTOR_CATEGORIES",
    "STANDARD_TOPICS",
    "Claim",
    "check_claim",
    "check_topic",
    "claim_key",
    "find_claim",
    "trust_key",
    "trusted_issuers",
]

INVESTOR_CATEGORIES: Final = ("retail", "sophisticated", "accredited", "institutional")
STANDARD_TOPICS: Final = (
    "investor_category",
    "kyc",
    "residency",
    "sanctions_screened",
    "shariah_only",
)
_CUSTOM_TOPIC: Final = re.compile(r"x-[a-z0-9_-]{1,30}")
_COUNTRY: Final = re.compile(r"[A-Z]{2}")
_KYC_LEVEL: Final = re.compile(r"[1-9]")


# Untracked by the cyclic collector, as rantai.core.records says why.
class Claim(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """One issuer's attestation on one topic about one party."""

    topic: str
    issuer: str
    value: str
    evidence_hash: bytes  # SHA-256 of the evidence the issuer keeps (or of the credential)
    issued_ms: int  # block time of the issuing transaction
    expires_ms: int  # the claim counts while block time < expires_ms
    revoked_ms: int  # 0 while in force; the block time of its revocation
    tx_id: bytes  # the issuing transaction, whose envelope carries the issuer's signature


def trust_key(topic: str) -> str:
    return f"trust/{topic}"


def claim_key(party: str, topic: str, issuer: str) -> str:
    return f"claim/{party}/{topic}/{issuer}"


def check_topic(topic: str) -> None:
    """Raise Malformed(bad_field) unless ``topic`` is a standard or ``x-`` custom topic."""
    if topic not in STANDARD_TOPICS and _CUSTOM_TOPIC.fullmatch(topic) is None:
        raise Malformed(codes.BAD_FIELD, f"claim topic {topic[:40]!r}")


def check_claim(topic: str, value: str) -> None:
    """Raise Malformed(bad_field) unless ``value`` has the form its ``topic`` requires."""
    check_topic(topic)
    check_text(value, "value", limits.CLAIM_VALUE_CHARS_MAX, empty_ok=True)
    pattern = {"kyc": _KYC_LEVEL, "residency": _COUNTRY}.get(topic)
    if pattern is not None and pattern.fullmatch(value) is None:
        raise Malformed(codes.BAD_FIELD, f"{topic}: value {value[:20]!r} out of form")
    if topic == "investor_category" and value not in INVESTOR_CATEGORIES:
        raise Malformed(codes.BAD_FIELD, f"investor_category: one of {INVESTOR_CATEGORIES}")


def trusted_issuers(view: StateView, topic: str) -> tuple[str, ...]:
    """The issuers governance trusts for ``topic``, sorted (none: empty)."""
    issuers: tuple[str, ...] | None = view.get(trust_key(topic))
    return () if issuers is None else issuers


def find_claim(
    view: StateView,
    party: str,
    topic: str,
    timestamp_ms: int,
    narrowed: tuple[str, ...] | None = None,
) -> Claim | str:
    """The claim that counts for ``party`` on ``topic`` at ``timestamp_ms``, or why none does.

    ``narrowed``, when given, is an instrument's own list of issuers for the topic: only
    issuers in both lists count. Returns the first counting claim in issuer order, or a
    reason text: a revocation (which blocks the topic), else expiry, else absence.
    """
    found: Claim | None = None
    expired = False
    for issuer in trusted_issuers(view, topic):
        if narrowed is not None and issuer not in narrowed:
            continue
        claim: Claim | None = view.get(claim_key(party, topic, issuer))
        if claim is None:
            continue
        if claim.revoked_ms:
            return f"{party}: {topic} revoked by {issuer}"
        if timestamp_ms >= claim.expires_ms:
            expired = True
        elif found is None:
            found = claim
    if found is not None:
        return found
    return f"{party}: {topic} expired" if expired else f"{party}: no trusted {topic} claim"


register_namespace("trust", tuple[str, ...])
register_namespace("claim", Claim)
