"""Transactions: the signed envelope, the kinds of body, and the stateless checks.

An envelope is the canonical array ``[chain_id, sender, nonce, public_key, body, signature]``.
The signature is Ed25519 over ``b"rantai/tx/v1"`` followed by the canonical bytes of the first
five fields as an array. The transaction id is SHA-256 of the whole envelope's bytes.

Each kind of transaction is a ``TxBody`` subclass, declared in its own module under
``rantai.core.kinds``, with a kind tag, a stateless ``check_form`` and a stateful ``apply``.
Dispatch is by method, so adding a kind adds a module and touches no central switch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

import msgspec

from rantai.core import codes, limits
from rantai.core.encoding import decode, decode_known, encode
from rantai.core.errors import Malformed
from rantai.core.ids import check_party_id
from rantai.core.state import StateView
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import PUBLIC_KEY_SIZE, SIGNATURE_SIZE, SigningKey, verify

__all__ = [
    "TX_DOMAIN",
    "Envelope",
    "Event",
    "SignedTx",
    "TxBody",
    "TxContext",
    "body_types",
    "build_envelope",
    "check_envelope",
    "check_envelope_parts",
    "decode_checked",
    "decode_envelope",
    "signing_bytes",
]

TX_DOMAIN: Final = b"rantai/tx/v1"

EventValue = str | int | bool | None  # bytes go in as hex text


class Event(msgspec.Struct, frozen=True, array_like=True):
    """Something a transaction did, for the read side: a name and sorted attributes."""

    name: str
    attrs: dict[str, EventValue]


@dataclass(slots=True)
class TxContext:
    """What a transaction's ``apply`` sees: state, the block, the sender, and its events."""

    view: StateView
    height: int
    timestamp_ms: int
    sender: str
    tx_id: bytes
    events: list[Event] = field(default_factory=list)

    def emit(self, name: str, **attrs: EventValue) -> None:
        """Record an event on the transaction's receipt."""
        self.events.append(Event(name, attrs))


class TxBody(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """The body of a transaction. Subclasses set ``tag="<kind>"``.

    ``check_form`` raises ``Malformed`` for anything checkable without state, in the order
    of ``codes.STATELESS_ORDER``. ``apply`` raises ``Rejection`` with a stateful code, or
    changes state through ``ctx.view`` and emits events.
    """

    needs_sender: ClassVar[bool] = True  # genesis is the one kind without a registered sender

    def check_form(self) -> None:
        """Stateless checks of the fields."""

    def apply(self, ctx: TxContext) -> None:
        """Apply to state, or raise ``Rejection``."""
        raise NotImplementedError


class Envelope(msgspec.Struct, frozen=True, array_like=True):
    """The signed envelope, as it travels and as it is stored."""

    chain_id: str
    sender: str
    nonce: int
    public_key: bytes
    body: msgspec.Raw
    signature: bytes


class SignedTx(msgspec.Struct, frozen=True):
    """An envelope that passed the stateless checks, with its decoded body and id.

    Never encoded; a struct because one is built for every envelope checked, in the verifier
    and again in the node, and a frozen dataclass costs ten times as much to build."""

    tx_id: bytes
    chain_id: str
    sender: str
    nonce: int
    public_key: bytes
    body: TxBody
    raw: bytes


_body_union: Any = None
_tags: frozenset[str] = frozenset()


def body_types() -> tuple[type[TxBody], ...]:
    """Every registered kind, sorted by tag."""
    import rantai.core.kinds  # noqa: F401, PLC0415 -- registers the kinds; a cycle at top level

    found: list[type[TxBody]] = []
    pending: list[type[TxBody]] = [TxBody]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            found.append(sub)
    return tuple(sorted(found, key=lambda t: str(t.__struct_config__.tag)))


def _union() -> tuple[Any, frozenset[str]]:
    global _body_union, _tags  # noqa: PLW0603 -- built once, after every kind module loaded
    if _body_union is None:
        types = body_types()
        _body_union = types[0] if len(types) == 1 else _make_union(types)
        _tags = frozenset(str(t.__struct_config__.tag) for t in types)
    return _body_union, _tags


def _make_union(types: Sequence[type[TxBody]]) -> Any:
    union: Any = types[0]
    for t in types[1:]:
        union = union | t
    return union


def signing_bytes(chain_id: str, sender: str, nonce: int, public_key: bytes, body: bytes) -> bytes:
    """The bytes a sender signs; ``body`` is the body's canonical encoding."""
    return TX_DOMAIN + encode((chain_id, sender, nonce, public_key, msgspec.Raw(body)))


def build_envelope(chain_id: str, sender: str, nonce: int, key: SigningKey, body: TxBody) -> bytes:
    """Sign ``body`` as ``sender`` with ``key`` and return the envelope's canonical bytes."""
    body_bytes = encode(body)
    signature = key.sign(signing_bytes(chain_id, sender, nonce, key.public_key, body_bytes))
    return encode(
        Envelope(chain_id, sender, nonce, key.public_key, msgspec.Raw(body_bytes), signature)
    )


def decode_envelope(raw: bytes) -> tuple[Envelope, TxBody]:
    """Decode an envelope and its body without checking chain or signature.

    Raises Malformed with too_large, malformed, unknown_kind or non_canonical.
    """
    if len(raw) > limits.ENVELOPE_BYTES_MAX:
        raise Malformed(codes.TOO_LARGE, f"envelope is {len(raw)} bytes")
    envelope = decode(raw, Envelope)
    union, tags = _union()
    body_raw = bytes(envelope.body)
    try:
        body: TxBody = decode(body_raw, union)
    except Malformed as exc:
        if exc.code == codes.MALFORMED and _tag_of(body_raw) not in tags:
            raise Malformed(codes.UNKNOWN_KIND, f"unknown kind {_tag_of(body_raw)!r}") from None
        raise
    return envelope, body


def _tag_of(body_raw: bytes) -> object:
    try:
        value = msgspec.msgpack.decode(body_raw)
    except msgspec.DecodeError:
        return None
    return value[0] if isinstance(value, list) and value else None


def decode_checked(raw: bytes) -> SignedTx:
    """The transaction in ``raw``, an envelope that ``check_envelope`` has already passed
    (in a verifier process): decoded again, none of the checks repeated, not even the
    canonical encoding's.

    Raises Malformed only if ``raw`` does not decode, which a passed envelope always does.
    """
    try:
        envelope = decode_known(raw, Envelope)
        body: TxBody = decode_known(bytes(envelope.body), _union()[0])
    except msgspec.DecodeError as exc:
        raise Malformed(codes.MALFORMED, str(exc)) from None
    return _signed_tx(raw, envelope, body)


def _signed_tx(raw: bytes, envelope: Envelope, body: TxBody) -> SignedTx:
    return SignedTx(
        tx_id=sha256(raw),
        chain_id=envelope.chain_id,
        sender=envelope.sender,
        nonce=envelope.nonce,
        public_key=envelope.public_key,
        body=body,
        raw=raw,
    )


def check_envelope(raw: bytes, chain_id: str, *, verify_signature: bool = True) -> SignedTx:
    """Run every stateless check on ``raw`` and return the transaction.

    Checks, in order: too_large, malformed, unknown_kind, non_canonical, wrong_chain,
    bad_signature, then the body's own ``check_form`` (bad_amount, too_many_items, bad_field).
    """
    return _signed_tx(raw, *check_envelope_parts(raw, chain_id, verify_signature=verify_signature))


def check_envelope_parts(
    raw: bytes, chain_id: str, *, verify_signature: bool = True
) -> tuple[Envelope, TxBody]:
    """``check_envelope``'s checks; the envelope and its body, without the transaction's id
    and record, which a verifier process (it returns only its verdict) would throw away."""
    envelope, body = decode_envelope(raw)
    if envelope.chain_id != chain_id:
        raise Malformed(codes.WRONG_CHAIN, f"chain {envelope.chain_id[:80]!r} is not {chain_id!r}")
    if not 0 <= envelope.nonce <= limits.NONCE_MAX:
        raise Malformed(codes.MALFORMED, "nonce out of range")
    if len(envelope.public_key) != PUBLIC_KEY_SIZE or len(envelope.signature) != SIGNATURE_SIZE:
        raise Malformed(codes.MALFORMED, "public key or signature of the wrong length")
    if verify_signature:
        message = signing_bytes(
            envelope.chain_id,
            envelope.sender,
            envelope.nonce,
            envelope.public_key,
            bytes(envelope.body),
        )
        if not verify(envelope.public_key, message, envelope.signature):
            raise Malformed(codes.BAD_SIGNATURE, "signature does not verify")
    check_party_id(envelope.sender, "sender")
    body.check_form()
    return envelope, body
