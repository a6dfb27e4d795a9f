"""Checking what the server returns, so that a client need not trust the server.

A header is accepted when its hash is recomputed from its fields, it is on the client's
chain, and its certificate holds a valid signature by one of the chain's executor keys. A
value is accepted when its proof leads to that header's state root; a transaction when its
envelope and its receipt are proven to be entry ``index`` of that header's block. Every
failure raises ``ProofError``; nothing half-checked is returned.

The executor keys are the ones the client was given, or else those ``/v1/chain`` reported
the first time the client asked (trust on first use).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from rantai.core.block import BlockSignature, Header, Receipt, header_hash, signature_valid
from rantai.core.encoding import encode
from rantai.core.errors import Malformed
from rantai.core.proofs import verify_receipt, verify_state_value, verify_tx
from rantai.core.records import balance_key
from rantai.core.tx import decode_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.smt import StateProof
from rantai.sdk._convert import from_json, hex_bytes
from rantai.sdk._errors import ProofError
from rantai.sdk._models import Balance, HeaderInfo, Holding, Transaction

__all__ = [
    "balance_from_json",
    "header_from_json",
    "holdings_from_json",
    "transaction_from_json",
]


def header_from_json(data: Any, chain_id: str, executors: Collection[bytes]) -> HeaderInfo:
    """A checked ``HeaderInfo`` from its JSON form.

    Raises ProofError (hash, chain or certificate wrong), msgspec.ValidationError (shape).
    """
    header = from_json(data["header"], Header)
    info = HeaderInfo(
        height=data["height"],
        hash=hex_bytes(data["hash"]),
        header=header,
        certificate=tuple(from_json(s, BlockSignature) for s in data["certificate"]),
    )
    if header.height != info.height:
        raise ProofError(f"header says height {header.height}, response {info.height}")
    if header_hash(header) != info.hash:
        raise ProofError(f"header {info.height}: its hash is not {info.hash.hex()}")
    if header.chain_id != chain_id:
        raise ProofError(f"header {info.height} is on chain {header.chain_id!r}, not {chain_id!r}")
    if not any(
        s.public_key in executors and signature_valid(s, info.hash) for s in info.certificate
    ):
        raise ProofError(f"header {info.height}: no valid signature by an executor of the chain")
    return info


def balance_from_json(
    data: Any,
    account: str,
    instrument: str,
    height: int | None,
    chain_id: str,
    executors: Collection[bytes],
) -> Balance:
    """A ``Balance`` whose amount is proven against its header's state root.

    The proven value is the canonical encoding of ``amount``, or absence for zero (a zero
    balance is not stored), so the amount itself is what the proof covers.
    """
    if (data["account"], data["instrument"]) != (account, instrument):
        raise ProofError(
            f"asked for {account} {instrument}, got {data['account']} {data['instrument']}"
        )
    info = header_from_json(data["header"], chain_id, executors)
    if data["height"] != info.height or (height is not None and info.height != height):
        raise ProofError(f"asked for height {height}, proof is at {info.height}")
    amount, proof = _proven_amount(data, info, account, instrument)
    return Balance(account, instrument, info.height, amount, info, proof)


def holdings_from_json(
    data: Any, instrument: str, height: int | None, chain_id: str, executors: Collection[bytes]
) -> tuple[list[Holding], HeaderInfo]:
    """A page of an instrument's register, every row proven against the page's header."""
    if data["instrument"] != instrument:
        raise ProofError(f"asked for {instrument}, got {data['instrument']}")
    info = header_from_json(data["header"], chain_id, executors)
    if data["height"] != info.height or (height is not None and info.height != height):
        raise ProofError(f"asked for height {height}, proof is at {info.height}")
    rows = []
    for item in data["items"]:
        amount, _ = _proven_amount(item, info, item["account"], instrument)
        if amount == 0:
            raise ProofError(f"{item['account']} is listed as a holder with nothing")
        rows.append(Holding(item["account"], amount))
    return rows, info


def _proven_amount(
    data: Any, info: HeaderInfo, account: str, instrument: str
) -> tuple[int, StateProof]:
    """``data``'s amount and proof, checked: the value is the amount's encoding (absent for
    zero) and the proof leads from it to the header's state root."""
    amount = data["amount"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise ProofError(f"amount {amount!r} is not a balance")
    value = None if amount == 0 else encode(amount)
    served = data.get("value")
    if (None if served is None else hex_bytes(served)) != value:
        raise ProofError(f"value {served!r} is not the encoding of amount {amount}")
    proof = from_json(data["proof"], StateProof)
    if not verify_state_value(info.header, balance_key(account, instrument), value, proof):
        raise ProofError(
            f"the proof of {account} {instrument} = {amount} does not lead to the state root "
            f"of header {info.height}"
        )
    return amount, proof


def transaction_from_json(
    data: Any, tx_id: bytes, chain_id: str, executors: Collection[bytes]
) -> Transaction:
    """A ``Transaction`` whose envelope and receipt are proven to be in its block.

    The receipt is rebuilt from its JSON form and re-encoded: the proof then covers exactly
    the receipt the caller reads. The body is decoded from the proven envelope, never taken
    from the server's decoded copy.
    """
    info = header_from_json(data["header"], chain_id, executors)
    envelope = hex_bytes(data["envelope"])
    if sha256(envelope) != tx_id:
        raise ProofError(f"the envelope returned is not transaction {tx_id.hex()}")
    receipt = from_json(data["receipt"], Receipt)
    if receipt.tx_id != tx_id:
        raise ProofError(f"the receipt returned is for {receipt.tx_id.hex()}")
    index, height = data["index"], data["height"]
    if height != info.height:
        raise ProofError(f"transaction said at height {height}, header is {info.height}")
    tx_path = [hex_bytes(h) for h in data["tx_proof"]]
    receipt_path = [hex_bytes(h) for h in data["receipt_proof"]]
    if not verify_tx(info.header, envelope, index, tx_path):
        raise ProofError(f"transaction {tx_id.hex()} is not proven in block {height}")
    if not verify_receipt(info.header, encode(receipt), index, receipt_path):
        raise ProofError(f"the receipt of {tx_id.hex()} is not proven in block {height}")
    try:
        envelope_record, body = decode_envelope(envelope)
    except Malformed as exc:  # proven in a block yet undecodable: the chain itself is wrong
        raise ProofError(f"committed envelope {tx_id.hex()} does not decode: {exc}") from None
    return Transaction(
        tx_id=tx_id,
        height=height,
        index=index,
        header=info,
        envelope=envelope,
        sender=envelope_record.sender,
        nonce=envelope_record.nonce,
        public_key=envelope_record.public_key,
        body=body,
        receipt=receipt,
    )
