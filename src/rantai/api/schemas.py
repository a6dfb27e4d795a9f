"""The shapes of requests and responses, as documented in the OpenAPI schema.

Routes build their JSON directly (``rantai.core.jsonform.to_json`` and msgspec), which is
several times faster than validating through these models; the models are the contract that
``/openapi.json`` publishes and that the schema tests (schemathesis) hold every response to.
Byte strings are lowercase hex; amounts are integers in minor units.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

__all__ = [
    "AccessLogEntry",
    "AccessLogPage",
    "BalanceInfo",
    "BlockInfo",
    "ChainInfo",
    "ErrorBody",
    "HeaderInfo",
    "HeaderPage",
    "Health",
    "HolderPage",
    "InstrumentInfo",
    "InstrumentPage",
    "InstrumentStats",
    "NonceInfo",
    "PartyInfo",
    "PartyPage",
    "PositionPage",
    "SubmitRequest",
    "SubmitResponse",
    "TxInfo",
    "error_responses",
]

Hex = Annotated[str, Field(pattern="^[0-9a-f]*$", description="bytes as lowercase hex")]
EventValue = str | int | bool | None


class ErrorBody(BaseModel):
    """Every error: a stable reason code and a text for people."""

    code: str
    message: str


class Health(BaseModel):
    status: Literal["ok"]
    height: int
    chain_id: str


class HeaderFields(BaseModel):
    """The header as signed (docs/encoding.md), field by field."""

    chain_id: str
    height: int
    prev_hash: Hex
    timestamp_ms: int
    tx_count: int
    txs_root: Hex
    receipts_root: Hex
    state_root: Hex


class CertificateSignature(BaseModel):
    public_key: Hex
    signature: Hex


class HeaderInfo(BaseModel):
    """A header, its hash, and the executors' signatures over the hash."""

    height: int
    hash: Hex
    header: HeaderFields
    certificate: list[CertificateSignature]


class HeaderPage(BaseModel):
    items: list[HeaderInfo]
    next: int | None


class AgencyInfo(BaseModel):
    party: str
    scope: list[str]


class ThresholdInfo(BaseModel):
    action_class: str
    approvals: int


class ChainInfo(BaseModel):
    chain_id: str
    operator: str
    agencies: list[AgencyInfo]
    thresholds: list[ThresholdInfo]
    executors: list[Hex]
    genesis_timestamp_ms: int
    height: int


class InstrumentInfo(BaseModel):
    code: str
    kind: str
    name: str
    decimals: int
    issuer: str
    supply_cap: int
    supply: int
    created_height: int


class InstrumentPage(BaseModel):
    items: list[InstrumentInfo]
    next: str | None
    height: int


class EventInfo(BaseModel):
    name: str
    attrs: dict[str, EventValue]


class ReceiptInfo(BaseModel):
    tx_id: Hex
    code: str
    events: list[EventInfo]


class SubmitRequest(BaseModel):
    """Signed envelopes (docs/encoding.md) as hex; as MessagePack, an array of bin."""

    envelopes: Annotated[list[Hex], Field(min_length=1, max_length=10_000)]


class SubmitResult(BaseModel):
    tx_id: Hex | None
    code: str
    message: str
    height: int | None
    receipt: ReceiptInfo | None


class SubmitResponse(BaseModel):
    results: list[SubmitResult]


class PartyInfo(BaseModel):
    id: str
    kind: str
    name: str
    keys: list[Hex]
    roles: list[str]
    registered_by: str
    registered_height: int


class NonceInfo(BaseModel):
    """The nonce the party's next transaction must carry, in committed state."""

    party: str
    nonce: int
    height: int


class PartyPage(BaseModel):
    items: list[PartyInfo]
    next: str | None
    height: int


class Position(BaseModel):
    instrument: str
    amount: int


class PositionPage(BaseModel):
    account: str
    items: list[Position]
    next: str | None
    height: int


class StateProofInfo(BaseModel):
    """Check with ``rantai.core.proofs.verify_state_value``; ``""`` is an empty sibling."""

    siblings: list[Hex]
    leaf_path: Hex | None
    leaf_value_digest: Hex | None


class BalanceInfo(BaseModel):
    account: str
    instrument: str
    height: int
    amount: int
    value: Hex | None
    header: HeaderInfo
    proof: StateProofInfo


class Holder(BaseModel):
    account: str
    amount: int


class HolderPage(BaseModel):
    instrument: str
    items: list[Holder]
    next: str | None
    height: int


class InstrumentStats(BaseModel):
    instrument: str
    kind: str
    supply: int
    holders: int
    height: int


class TxInfo(BaseModel):
    tx_id: Hex
    height: int
    index: int
    sender: str
    nonce: int
    envelope: Hex
    body: dict[str, Any]
    receipt: ReceiptInfo
    header: HeaderInfo
    tx_proof: list[Hex]
    receipt_proof: list[Hex]


class BlockTx(BaseModel):
    tx_id: Hex
    code: str


class BlockInfo(BaseModel):
    height: int
    hash: Hex
    header: HeaderFields
    certificate: list[CertificateSignature]
    txs: list[BlockTx]


class AccessLogEntry(BaseModel):
    """hash = SHA-256(encode([prev_hash, seq, at_ms, party, method, path, query, status]))."""

    seq: int
    at_ms: int
    party: str
    method: str
    path: str
    query: str
    status: int
    prev_hash: Hex
    hash: Hex


class AccessLogPage(BaseModel):
    items: list[AccessLogEntry]
    next: int | None


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for the error statuses a route can answer with."""
    return {
        status: {"model": ErrorBody, "description": _ERROR_DESCRIPTIONS.get(status, "error")}
        for status in statuses
    }


_ERROR_DESCRIPTIONS = {
    400: "malformed request or query (`malformed`, `bad_query`, `too_many_items`)",
    401: "missing, bad, stale or replayed read signature",
    403: "outside the reader's scope (`forbidden`)",
    404: "no such resource (`not_found`)",
    413: "body too large (`too_large`)",
    503: "busy, no genesis, or the database is down; retry",
}
