"""Claims: a trusted claim issuer attests, renews or revokes a claim about a party.

See ``rantai.core.claims`` for when a claim counts. Issuing over a revoked claim of the same
issuer is how that issuer lifts its own revocation; no other issuer's claim can.
"""

from __future__ import annotations

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import has_role, require_party
from rantai.core.claims import Claim, check_claim, check_topic, claim_key, trusted_issuers
from rantai.core.controls import set_sanctions_hit
from rantai.core.credentials import parse_credential
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_party_id
from rantai.core.tx import TxBody, TxContext
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import verify

__all__ = ["ImportCredential", "IssueClaim", "RevokeClaim", "write_claim"]

SANCTIONS = "sanctions_screened"


def _require_trusted_issuer(ctx: TxContext, issuer: str, topics: tuple[str, ...]) -> None:
    if not has_role(require_party(ctx.view, issuer), "claim_issuer"):
        raise Rejection(codes.NOT_AUTHORIZED, "only a claim issuer issues claims")
    for topic in topics:
        if issuer not in trusted_issuers(ctx.view, topic):
            raise Rejection(codes.UNTRUSTED_ISSUER, f"{issuer!r} is not trusted for {topic!r}")


def write_claim(ctx: TxContext, party: str, claim: Claim) -> None:
    """Store ``claim`` on ``party`` (replacing the issuer's previous one on the topic).

    Rejects, in order: unknown_party, bad_time (already expired).
    """
    require_party(ctx.view, party)
    if claim.expires_ms <= ctx.timestamp_ms:
        raise Rejection(codes.BAD_TIME, f"expires at {claim.expires_ms}, block time is later")
    ctx.view.put(claim_key(party, claim.topic, claim.issuer), claim)
    if claim.topic == SANCTIONS:
        screeners = trusted_issuers(ctx.view, SANCTIONS)
        set_sanctions_hit(ctx.view, party, claim.issuer, screeners, hit=False)
    ctx.emit(
        "claim_issued",
        holder=party,
        topic=claim.topic,
        issuer=claim.issuer,
        expires_ms=claim.expires_ms,
    )


class IssueClaim(TxBody, frozen=True, tag="issue_claim"):
    """Attest ``topic`` = ``value`` about ``party`` until ``expires_ms``.

    Sender: a claim issuer trusted for the topic. Rejects, in order: not_authorized,
    untrusted_issuer, unknown_party, bad_time.
    """

    party: str
    topic: str
    value: str
    evidence_hash: bytes
    expires_ms: int

    def check_form(self) -> None:
        check_party_id(self.party)
        check_claim(self.topic, self.value)
        if len(self.evidence_hash) != 32:
            raise Malformed(codes.BAD_FIELD, "evidence_hash: 32 bytes (SHA-256)")
        if not 0 < self.expires_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "expires_ms: a positive block time")

    def apply(self, ctx: TxContext) -> None:
        _require_trusted_issuer(ctx, ctx.sender, (self.topic,))
        claim = Claim(
            topic=self.topic,
            issuer=ctx.sender,
            value=self.value,
            evidence_hash=self.evidence_hash,
            issued_ms=ctx.timestamp_ms,
            expires_ms=self.expires_ms,
            revoked_ms=0,
            tx_id=ctx.tx_id,
        )
        write_claim(ctx, self.party, claim)


class RevokeClaim(TxBody, frozen=True, tag="revoke_claim"):
    """Revoke the sender's claim on ``topic`` about ``party``. It stays, marked revoked, and
    blocks the topic for the party until the sender issues it again.

    A revoked ``sanctions_screened`` claim from a currently trusted screener also blocks
    every movement of the party at once (``sanctioned``). Rejects, in order: unknown_claim,
    no_change (revoked already).
    """

    party: str
    topic: str

    def check_form(self) -> None:
        check_party_id(self.party)
        check_topic(self.topic)

    def apply(self, ctx: TxContext) -> None:
        key = claim_key(self.party, self.topic, ctx.sender)
        claim: Claim | None = ctx.view.get(key)
        if claim is None:
            raise Rejection(codes.UNKNOWN_CLAIM, f"no {self.topic!r} claim by {ctx.sender!r}")
        if claim.revoked_ms:
            raise Rejection(codes.NO_CHANGE, "revoked already")
        ctx.view.put(key, replace(claim, revoked_ms=ctx.timestamp_ms))
        screeners = trusted_issuers(ctx.view, SANCTIONS)
        if self.topic == SANCTIONS and ctx.sender in screeners:
            set_sanctions_hit(ctx.view, self.party, ctx.sender, screeners, hit=True)
        ctx.emit("claim_revoked", holder=self.party, topic=self.topic, issuer=ctx.sender)


class ImportCredential(TxBody, frozen=True, tag="import_credential"):
    """Import the claims of a W3C Verifiable Credential (a VC-JWT signed with EdDSA).

    Sender: anyone (typically the subject presenting it); the issuer's signature is what
    counts. Each claim is stored as if its issuer had issued it in this transaction, with
    the SHA-256 of the credential as evidence. Rejects, in order: unknown_party (issuer),
    not_authorized (not a claim issuer), untrusted_issuer (for some topic), bad_credential
    (the signature does not verify under a current key of the issuer, or not yet valid),
    unknown_party (subject), bad_time (expired).
    """

    jwt: str

    def check_form(self) -> None:
        parse_credential(self.jwt)

    def apply(self, ctx: TxContext) -> None:
        credential = parse_credential(self.jwt)
        topics = tuple(topic for topic, _ in credential.claims)
        _require_trusted_issuer(ctx, credential.issuer, topics)
        issuer = require_party(ctx.view, credential.issuer)
        message, signature = credential.signing_input, credential.signature
        if not any(verify(key, message, signature) for key in issuer.keys):
            raise Rejection(codes.BAD_CREDENTIAL, "the signature is not by a key of the issuer")
        if ctx.timestamp_ms < credential.not_before_ms:
            raise Rejection(codes.BAD_CREDENTIAL, "not valid yet (nbf)")
        evidence = sha256(self.jwt.encode("ascii"))
        for topic, value in credential.claims:
            claim = Claim(
                topic=topic,
                issuer=credential.issuer,
                value=value,
                evidence_hash=evidence,
                issued_ms=ctx.timestamp_ms,
                expires_ms=credential.expires_ms,
                revoked_ms=0,
                tx_id=ctx.tx_id,
            )
            write_claim(ctx, credential.subject, claim)
