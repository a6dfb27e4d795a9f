"""Write the golden vectors in tests/vectors/*.json. Run only to add vectors, never to make a
failing test pass: a changed vector is a changed protocol, reviewed as data.

    python -m tests.vectors.generate
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support import CHAIN_ID, Chain, key_of

from rantai.core import codes
from rantai.core.encoding import encode
from rantai.core.errors import Malformed
from rantai.core.ids import account_id
from rantai.core.jsonform import body_from_json, to_json
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.tx import TX_DOMAIN, build_envelope, check_envelope, decode_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey

HERE = Path(__file__).parent
TOO_LARGE_BYTES = 65_537  # one above ENVELOPE_BYTES_MAX

ENCODING_CASES: list[tuple[str, Any]] = [
    ("int 0", 0), ("int 127", 127), ("int 128", 128), ("int 255", 255), ("int 256", 256),
    ("int 65535", 65535), ("int 65536", 65536), ("int 2^32", 2**32), ("int 10^18", 10**18),
    ("int -1", -1), ("int -32", -32), ("int -33", -33), ("int -129", -129),
    ("text empty", ""), ("text a", "a"), ("text 31 chars", "x" * 31), ("text 32 chars", "x" * 32),
    ("text non-ascii", "Bahasa Malaysia: ringgit, sen — ✓"),
    ("bool true", True), ("null", None), ("array empty", []), ("array nested", [1, ["a", [None]]]),
    ("map sorted", {"b": 1, "a": 2, "aa": 3}),
]  # fmt: skip

BYTES_CASES = [
    ("bytes empty", b""),
    ("bytes 32 zero", bytes(32)),
    ("bytes 300", bytes(range(256)) + bytes(44)),
]

TX_CASES: list[tuple[str, str, int, str, dict[str, Any]]] = [
    ("transfer", "inv-0", 0, "transfer",
     {"source": "inv-0:main", "destination": "inv-1:main", "instrument": "BOND1", "amount": 1_000, "memo": ""}),
    ("transfer with memo, nonce 300", "inv-0", 300, "transfer",
     {"source": "inv-0:main", "destination": "inv-1:main", "instrument": "GII-2035", "amount": 10**18,
      "memo": "trade 42"}),
    ("register party", "registrar", 7, "register_party",
     {"id": "inv-9", "kind": "person", "name": "Siti", "keys": [key_of("inv-9").public_key.hex()],
      "roles": ["investor"]}),
    ("batch transfer", "inv-1", 2, "batch_transfer",
     {"movements": [{"source": "inv-1:main", "destination": "inv-0:main", "instrument": "BOND1",
                     "amount": 5, "memo": "a"},
                    {"source": "inv-1:main", "destination": "inv-2:main", "instrument": "MYR.BANK1",
                     "amount": 7, "memo": "b"}]}),
]  # fmt: skip


def _hex(value: bytes) -> str:
    return value.hex()


def encoding_vectors() -> list[dict[str, Any]]:
    out = [{"name": n, "value": v, "hex": _hex(encode(v))} for n, v in ENCODING_CASES]
    out += [{"name": n, "value_hex": _hex(v), "hex": _hex(encode(v))} for n, v in BYTES_CASES]
    return out


def ed25519_vectors() -> list[dict[str, str]]:
    """RFC 8032 §7.1 test 1 and 2 (the library, not ours, but a client must agree on them)."""
    cases = [
        ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", ""),
        ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb", "72"),
    ]
    out = []
    for seed, message in cases:
        key = SigningKey(bytes.fromhex(seed))
        out.append({"seed": seed, "message": message, "public_key": _hex(key.public_key),
                    "signature": _hex(key.sign(bytes.fromhex(message)))})  # fmt: skip
    return out


def tx_vectors() -> list[dict[str, Any]]:
    out = []
    for name, sender, nonce, kind, fields in TX_CASES:
        key = key_of(sender)
        body = body_from_json(kind, fields)
        envelope = build_envelope(CHAIN_ID, sender, nonce, key, body)
        decoded, _ = decode_envelope(envelope)
        signed = TX_DOMAIN + encode((CHAIN_ID, sender, nonce, key.public_key, decoded.body))
        out.append({
            "name": name, "chain_id": CHAIN_ID, "sender": sender, "nonce": nonce,
            "seed": _hex(key.seed), "public_key": _hex(key.public_key), "kind": kind,
            "body": fields, "body_hex": _hex(bytes(decoded.body)), "signed_bytes": _hex(signed),
            "signature": _hex(decoded.signature), "envelope": _hex(envelope),
            "tx_id": _hex(sha256(envelope)),
        })  # fmt: skip
    return out


def stateless_rejection_vectors() -> list[dict[str, str]]:
    """One envelope per stateless reason code, and the code."""
    chain = Chain()
    good = chain.envelope("inv-0", Transfer("inv-0:main", "inv-1:main", "BOND1", 1, ""), nonce=0)
    bad_sig = bytearray(good)
    bad_sig[-1] ^= 1
    non_canonical = (
        bytes([good[0]])
        + encode(CHAIN_ID)
        + encode("inv-0")
        + b"\xcc\x00"
        + good[1 + len(encode(CHAIN_ID)) + len(encode("inv-0")) + 1 :]
    )
    cases = {
        codes.TOO_LARGE: bytes(TOO_LARGE_BYTES),
        codes.MALFORMED: encode(["not", "an", "envelope"]),
        codes.UNKNOWN_KIND: encode([CHAIN_ID, "inv-0", 0, bytes(32), ["steal", 1], bytes(64)]),
        codes.NON_CANONICAL: non_canonical,
        codes.WRONG_CHAIN: Chain("other-chain").envelope("inv-0", Transfer("inv-0:main", "inv-1:main", "BOND1", 1, ""), nonce=0),
        codes.BAD_SIGNATURE: bytes(bad_sig),
        codes.BAD_AMOUNT: chain.envelope("inv-0", Transfer("inv-0:main", "inv-1:main", "BOND1", 0, ""), nonce=0),
        codes.TOO_MANY_ITEMS: chain.envelope("inv-0", body_from_json("batch_transfer", {"movements": []}), nonce=0),
        codes.BAD_FIELD: chain.envelope("inv-0", Transfer("inv-0:main", "inv-1:main", "bond1", 1, ""), nonce=0),
    }  # fmt: skip
    out = []
    for code, raw in cases.items():
        try:
            check_envelope(raw, CHAIN_ID)
        except Malformed as exc:
            assert exc.code == code, (code, exc)
        else:
            raise AssertionError(f"{code} vector passes")
        if code == codes.TOO_LARGE:  # size is checked first: any bytes do; kept short here
            out.append({"code": code, "envelope_zero_bytes": len(raw)})
        else:
            out.append({"code": code, "envelope": _hex(raw)})
    return out


def chain_vectors() -> dict[str, Any]:
    """A small chain from genesis: every block's header and hash, every receipt's code.

    Includes a receipt for each stateful reason code the core issue defines.
    """
    chain = Chain()
    chain.market(investors=2, minted=1_000)
    a, b = account_id("inv-0"), account_id("inv-1")
    bodies = [
        ("inv-0", Transfer(a, b, "BOND1", 250, "ok"), {}),
        ("inv-0", Transfer(a, b, "BOND1", 10**6, ""), {}),  # insufficient_balance
        ("inv-0", Transfer(a, a, "BOND1", 1, ""), {}),  # self_transfer
        ("inv-0", Transfer(a, "ghost:main", "BOND1", 1, ""), {}),  # unknown_account
        ("inv-0", Transfer(a, b, "NOPE", 1, ""), {}),  # unknown_instrument
        ("inv-0", Transfer(b, a, "BOND1", 1, ""), {}),  # not_authorized
        ("inv-0", Transfer(a, b, "BOND1", 1, ""), {"nonce": 99}),  # bad_nonce
        ("ghost", Transfer(a, b, "BOND1", 1, ""), {"key": key_of("inv-0")}),  # unknown_sender
        ("inv-0", Transfer(a, b, "BOND1", 1, ""), {"key": key_of("inv-1")}),  # key_not_authorized
        ("issuer", Mint("BOND1", a, 10**15, ""), {}),  # supply_cap_exceeded
        ("issuer", CreateInstrument("BOND1", "bond", "x", 2, 10), {}),  # already_exists
        (
            "registrar",
            RegisterParty("inv-7", "person", "x", (key_of("inv-0").public_key,), ()),
            {},
        ),  # key_in_use
    ]
    chain.block([chain.tx(sender, body, **kw) for sender, body, kw in bodies])
    blocks = []
    for outcome, raws in zip(chain.outcomes, chain.blocks_txs, strict=True):
        blocks.append({
            "header": to_json(outcome.header), "header_hash": _hex(outcome.header_hash),
            "envelopes": [_hex(r) for r in raws],
            "receipts": [_hex(r) for r in outcome.receipt_bytes],
            "codes": [r.code for r in outcome.receipts],
        })  # fmt: skip
    return {"chain_id": CHAIN_ID, "blocks": blocks}


def all_vectors() -> dict[str, Any]:
    return {
        "encoding": encoding_vectors(),
        "ed25519": ed25519_vectors(),
        "txs": tx_vectors(),
        "stateless_rejections": stateless_rejection_vectors(),
        "chain": chain_vectors(),
    }


def main() -> None:
    for name, data in all_vectors().items():
        (HERE / f"{name}.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
