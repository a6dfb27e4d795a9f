"""The implementation against the committed golden vectors in tests/vectors/.

The vectors are the protocol as data (docs/encoding.md): a client in another language
reproduces them. A failure here means the protocol changed; never regenerate to pass.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rantai.core.block import Header, header_hash
from rantai.core.encoding import encode
from rantai.core.errors import Malformed
from rantai.core.jsonform import body_from_json, to_json
from rantai.core.ledger import Ledger
from rantai.core.tx import TX_DOMAIN, build_envelope, check_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey, verify

VECTORS = Path(__file__).parents[1] / "vectors"


def load(name: str) -> Any:
    return json.loads((VECTORS / f"{name}.json").read_text())


@pytest.mark.parametrize("case", load("encoding"), ids=lambda c: c["name"])
def test_encoding(case: dict[str, Any]) -> None:
    value = bytes.fromhex(case["value_hex"]) if "value_hex" in case else case["value"]
    assert encode(value).hex() == case["hex"]


@pytest.mark.parametrize("case", load("ed25519"), ids=lambda c: c["seed"][:8])
def test_ed25519_rfc8032(case: dict[str, str]) -> None:
    key = SigningKey(bytes.fromhex(case["seed"]))
    assert key.public_key.hex() == case["public_key"]
    assert key.sign(bytes.fromhex(case["message"])).hex() == case["signature"]
    assert verify(key.public_key, bytes.fromhex(case["message"]), bytes.fromhex(case["signature"]))


@pytest.mark.parametrize("case", load("txs"), ids=lambda c: c["name"])
def test_transactions(case: dict[str, Any]) -> None:
    key = SigningKey(bytes.fromhex(case["seed"]))
    assert key.public_key.hex() == case["public_key"]
    body = body_from_json(case["kind"], case["body"])
    assert encode(body).hex() == case["body_hex"]
    signed = bytes.fromhex(case["signed_bytes"])
    assert signed.startswith(TX_DOMAIN)
    assert verify(key.public_key, signed, bytes.fromhex(case["signature"]))
    envelope = build_envelope(case["chain_id"], case["sender"], case["nonce"], key, body)
    assert envelope.hex() == case["envelope"]
    assert sha256(envelope).hex() == case["tx_id"]
    assert check_envelope(envelope, case["chain_id"]).tx_id.hex() == case["tx_id"]


@pytest.mark.parametrize("case", load("stateless_rejections"), ids=lambda c: c["code"])
def test_stateless_rejections(case: dict[str, str]) -> None:
    if "envelope_zero_bytes" in case:
        raw = bytes(case["envelope_zero_bytes"])
    else:
        raw = bytes.fromhex(case["envelope"])
    with pytest.raises(Malformed) as info:
        check_envelope(raw, load("chain")["chain_id"])
    assert info.value.code == case["code"]


def test_chain_replays_to_the_same_headers_receipts_and_roots() -> None:
    chain = load("chain")
    ledger = Ledger()
    for block in chain["blocks"]:
        txs = [check_envelope(bytes.fromhex(e), chain["chain_id"]) for e in block["envelopes"]]
        outcome = ledger.execute_block(txs, block["header"]["timestamp_ms"])
        assert to_json(outcome.header) == block["header"]
        assert outcome.header_hash.hex() == block["header_hash"]
        assert [r.hex() for r in outcome.receipt_bytes] == block["receipts"]
        assert [r.code for r in outcome.receipts] == block["codes"]
        stored = Header(**{k: bytes.fromhex(v) if isinstance(v, str) and k.endswith(("root", "hash")) else v
                           for k, v in block["header"].items()})  # fmt: skip
        assert header_hash(stored).hex() == block["header_hash"]


def test_chain_vectors_cover_every_stateful_code_of_the_core() -> None:
    seen = {c for block in load("chain")["blocks"] for c in block["codes"]}
    assert {
        "ok", "insufficient_balance", "self_transfer", "unknown_account", "unknown_instrument",
        "not_authorized", "bad_nonce", "unknown_sender", "key_not_authorized",
        "supply_cap_exceeded", "already_exists", "key_in_use",
    } <= seen  # fmt: skip
