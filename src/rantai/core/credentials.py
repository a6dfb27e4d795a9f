"""W3C Verifiable Credentials as claims: a VC-JWT (compact JWS) signed with EdDSA (Ed25519).

A credential is ``base64url(header) . base64url(payload) . base64url(signature)`` (RFC 7515
compact serialization, RFC 8037 for ``EdDSA``; the JWT encoding of the VC Data Model). The
signature is over the ASCII bytes ``header . payload`` as they appear, so how the JSON is
written does not matter; the JSON is read strictly all the same (no duplicate member names,
no floats), so every reader sees the same claims.

| JWT member | meaning here |
|---|---|
| header ``alg`` | must be ``EdDSA``; ``crit`` is refused |
| ``iss`` | the claim issuer's party id, or ``did:rantai:<party id>`` |
| ``sub`` | the subject's party id (same forms) |
| ``exp`` | expiry, NumericDate (seconds); the claims' ``expires_ms`` is ``exp * 1000`` |
| ``nbf`` | optional: not valid before (seconds) |
| ``vc.credentialSubject`` | ``{"<topic>": "<value>", ...}``; ``id``, if present, is ``sub`` |

The issuer must be trusted for every topic, and the signature must verify under one of the
issuer's current keys on the ledger (``rantai.core.kinds.claims.ImportCredential``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any, Final

import msgspec

from rantai.core import codes, limits
from rantai.core.claims import check_claim
from rantai.core.errors import Malformed
from rantai.core.ids import check_party_id

__all__ = ["DID_PREFIX", "Credential", "parse_credential"]

DID_PREFIX: Final = "did:rantai:"
_SEGMENT: Final = re.compile(r"[A-Za-z0-9_-]+")
_SECONDS_MAX: Final = limits.TIMESTAMP_MS_MAX // 1000


class Credential(msgspec.Struct, frozen=True):
    """A parsed credential: not yet checked against the ledger."""

    issuer: str
    subject: str
    claims: tuple[tuple[str, str], ...]  # (topic, value), sorted by topic
    expires_ms: int
    not_before_ms: int
    signing_input: bytes
    signature: bytes


def _bad(message: str) -> Malformed:
    return Malformed(codes.BAD_FIELD, f"credential: {message}")


def _b64(segment: str) -> bytes:
    if _SEGMENT.fullmatch(segment) is None:
        raise _bad("not base64url without padding")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise _bad("a member name twice")
    return dict(pairs)


def _refuse_float(text: str) -> Any:
    raise _bad(f"a non-integer number {text[:20]!r}")


def _json(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(
            _b64(segment),
            object_pairs_hook=_unique,
            parse_float=_refuse_float,
            parse_constant=_refuse_float,
        )
    except (ValueError, RecursionError):
        raise _bad("not JSON") from None
    if not isinstance(value, dict):
        raise _bad("not a JSON object")
    return value


def _party(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{name}: a string")
    party = value.removeprefix(DID_PREFIX)
    check_party_id(party, name)
    return party


def _seconds(payload: dict[str, Any], name: str, *, required: bool) -> int:
    value = payload.get(name)
    if value is None and not required:
        return 0
    if type(value) is not int or not 0 <= value <= _SECONDS_MAX:
        raise _bad(f"{name}: a NumericDate in whole seconds")
    return value


def parse_credential(jwt: str) -> Credential:
    """Parse a VC-JWT. Raises Malformed(bad_field) for anything not of the form above."""
    if len(jwt) > limits.CREDENTIAL_CHARS_MAX:
        raise _bad(f"longer than {limits.CREDENTIAL_CHARS_MAX} characters")
    parts = jwt.split(".")
    if len(parts) != 3:
        raise _bad("three dot-separated parts")
    header, payload = _json(parts[0]), _json(parts[1])
    if header.get("alg") != "EdDSA" or "crit" in header:
        raise _bad("alg must be EdDSA, without crit")
    signature = _b64(parts[2])
    if len(signature) != 64:
        raise _bad("an Ed25519 signature is 64 bytes")
    issuer, subject = _party(payload.get("iss"), "iss"), _party(payload.get("sub"), "sub")
    vc = payload.get("vc")
    attested = vc.get("credentialSubject") if isinstance(vc, dict) else None
    if not isinstance(attested, dict):
        raise _bad("vc.credentialSubject: an object")
    if "id" in attested and _party(attested["id"], "credentialSubject.id") != subject:
        raise _bad("credentialSubject.id is not sub")
    claims = sorted((k, v) for k, v in attested.items() if k != "id")
    if not 1 <= len(claims) <= limits.CREDENTIAL_CLAIMS_MAX:
        raise _bad(f"1 to {limits.CREDENTIAL_CLAIMS_MAX} claims")
    for topic, value in claims:
        if not isinstance(value, str):
            raise _bad(f"{topic}: a string value")
        check_claim(topic, value)
    return Credential(
        issuer=issuer,
        subject=subject,
        claims=tuple(claims),
        expires_ms=_seconds(payload, "exp", required=True) * 1000,
        not_before_ms=_seconds(payload, "nbf", required=False) * 1000,
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=signature,
    )
