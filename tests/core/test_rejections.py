"""One test per reason code: the code is the documented one, and nothing else changes."""

from __future__ import annotations

import msgspec
import pytest
from nacl.bindings import crypto_core_ed25519_add
from tests.support import CHAIN_ID, Chain, genesis_body, key_of

from rantai.core import codes, limits
from rantai.core.access import credit
from rantai.core.encoding import encode
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.parties import (
    AddKey,
    GrantRole,
    OpenAccount,
    RegisterParty,
    RevokeKey,
    RevokeRole,
)
from rantai.core.kinds.transfers import BatchTransfer, Movement, Transfer
from rantai.core.ledger import Ledger, apply_tx
from rantai.core.state import StateView
from rantai.core.tx import (
    Envelope,
    SignedTx,
    TxBody,
    build_envelope,
    check_envelope,
    decode_checked,
)
from rantai.crypto.keys import SigningKey


@pytest.fixture
def chain() -> Chain:
    c = Chain()
    c.market(investors=2, minted=1_000)
    return c


A, B = account_id("inv-0"), account_id("inv-1")
IDENTITY_POINT = bytes([1]) + bytes(31)


def _stateless(chain: Chain, raw: bytes) -> str:
    with pytest.raises(Malformed) as info:
        check_envelope(raw, CHAIN_ID)
    return info.value.code


# --- stateless: the envelope never reaches a block ---------------------------------------


def test_too_large(chain: Chain) -> None:
    body = Transfer(A, B, "BOND1", 1, "x" * (limits.ENVELOPE_BYTES_MAX + 1))
    assert _stateless(chain, chain.envelope("inv-0", body)) == codes.TOO_LARGE


@pytest.mark.parametrize("raw", [b"", b"\xc1", b"\x93\x01\x02\x03", encode(["a", "b"])])
def test_malformed(chain: Chain, raw: bytes) -> None:
    assert _stateless(chain, raw) == codes.MALFORMED


def test_unknown_kind(chain: Chain) -> None:
    raw = encode(
        Envelope(CHAIN_ID, "inv-0", 0, bytes(32), msgspec.Raw(encode(["steal", 1])), bytes(64))
    )
    assert _stateless(chain, raw) == codes.UNKNOWN_KIND


def test_non_canonical(chain: Chain) -> None:
    raw = chain.envelope("inv-0", Transfer(A, B, "BOND1", 1, ""))
    # The nonce 0 as a 2-byte uint8 (0xcc 0x00) instead of a positive fixint: same value.
    envelope = msgspec.msgpack.decode(raw, type=Envelope)
    prefix = encode([envelope.chain_id, envelope.sender])[1:]
    longer = b"\x96" + prefix + b"\xcc\x00" + raw[1 + len(prefix) + 1 :]
    assert msgspec.msgpack.decode(longer, type=Envelope).nonce == 0
    assert _stateless(chain, longer) == codes.NON_CANONICAL


def test_wrong_chain(chain: Chain) -> None:
    other = Chain("another-chain")
    assert (
        _stateless(chain, other.envelope("inv-0", Transfer(A, B, "BOND1", 1, "")))
        == codes.WRONG_CHAIN
    )


def test_bad_signature(chain: Chain) -> None:
    raw = bytearray(chain.envelope("inv-0", Transfer(A, B, "BOND1", 1, "")))
    raw[-1] ^= 1
    assert _stateless(chain, bytes(raw)) == codes.BAD_SIGNATURE


def test_signature_by_other_key_over_same_body(chain: Chain) -> None:
    raw = chain.envelope("inv-0", Transfer(A, B, "BOND1", 1, ""))
    envelope = msgspec.msgpack.decode(raw, type=Envelope)
    forged = encode(msgspec.structs.replace(envelope, public_key=key_of("inv-1").public_key))
    assert _stateless(chain, forged) == codes.BAD_SIGNATURE


@pytest.mark.parametrize("amount", [0, -1, limits.AMOUNT_MAX + 1, 2**64 - 1])
def test_bad_amount(chain: Chain, amount: int) -> None:
    assert (
        _stateless(chain, chain.envelope("inv-0", Transfer(A, B, "BOND1", amount, "")))
        == codes.BAD_AMOUNT
    )


def test_a_passed_envelope_decodes_again_to_the_same_transaction(chain: Chain) -> None:
    raw = chain.envelope("inv-0", Transfer(A, B, "BOND1", 5, "memo"))
    assert decode_checked(raw) == check_envelope(raw, CHAIN_ID)
    with pytest.raises(Malformed):
        decode_checked(raw[:-3])


def test_amount_limit_itself_is_accepted_statelessly(chain: Chain) -> None:
    check_envelope(
        chain.envelope("inv-0", Transfer(A, B, "BOND1", limits.AMOUNT_MAX, "")), CHAIN_ID
    )


def test_too_many_movements(chain: Chain) -> None:
    moves = tuple(Movement(A, B, "BOND1", 1, "") for _ in range(limits.BATCH_TRANSFERS_MAX + 1))
    assert _stateless(chain, chain.envelope("inv-0", BatchTransfer(moves))) == codes.TOO_MANY_ITEMS


@pytest.mark.parametrize(
    "body",
    [
        Transfer("no-colon", B, "BOND1", 1, ""),
        Transfer(A, "x:Upper", "BOND1", 1, ""),
        Transfer(A, B, "lower", 1, ""),
        Transfer(A, B, "BOND1", 1, "bell\x07"),
        CreateInstrument("X", "spaceship", "X", 2, 10),
        CreateInstrument("X", "bond", "X", 19, 10),
        RegisterParty("with/slash", "person", "n", (key_of("new").public_key,), ()),
        RegisterParty("ok", "agency", "n", (key_of("new").public_key,), ()),
        GrantRole("inv-0", "king"),
        AddKey(b"short"),
    ],
)
def test_bad_field(chain: Chain, body: TxBody) -> None:
    assert _stateless(chain, chain.envelope("inv-0", body)) == codes.BAD_FIELD


@pytest.mark.parametrize(
    "body",
    [
        # Keys that could sign for anyone under ZIP 215: the identity, a point of order 4,
        # and a real key plus that point (a small-order part).
        RegisterParty("ok", "person", "n", (IDENTITY_POINT,), ()),
        RegisterParty("ok", "person", "n", (bytes(32),), ()),
        RegisterParty("ok", "person", "n", (key_of("new").public_key, bytes(32)), ()),
        AddKey(IDENTITY_POINT),
        AddKey(crypto_core_ed25519_add(key_of("new").public_key, bytes(32))),
    ],
)
def test_keys_outside_the_prime_order_group_are_refused(chain: Chain, body: TxBody) -> None:
    with pytest.raises(Malformed) as info:
        check_envelope(chain.envelope("inv-0", body), CHAIN_ID)
    assert info.value.code == codes.BAD_FIELD
    assert "prime-order group" in info.value.message


def test_bad_sender_id_form(chain: Chain) -> None:
    raw = chain.envelope("bad id!", Transfer(A, B, "BOND1", 1, ""), key=key_of("inv-0"))
    assert _stateless(chain, raw) == codes.BAD_FIELD


# --- stateful: in a block, recorded with the code, nothing else changed -------------------


def _rejected(chain: Chain, sender: str, body: TxBody, code: str, **kw: object) -> None:
    before = dict(chain.ledger.values)
    nonce_key = f"nonce/{sender}"
    receipt = chain.run(sender, body, **kw)
    assert receipt.code == code, receipt
    assert receipt.events == ()
    after = dict(chain.ledger.values)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed <= {nonce_key}, changed


def test_genesis_twice(chain: Chain) -> None:
    _rejected(chain, "operator", genesis_body(), codes.GENESIS_ONLY)


def test_unknown_sender(chain: Chain) -> None:
    _rejected(chain, "ghost", Transfer(A, B, "BOND1", 1, ""), codes.UNKNOWN_SENDER)


def test_key_not_authorized(chain: Chain) -> None:
    _rejected(
        chain,
        "inv-0",
        Transfer(A, B, "BOND1", 1, ""),
        codes.KEY_NOT_AUTHORIZED,
        key=key_of("inv-1"),
    )


@pytest.mark.parametrize("offset", [-1, 1, 5])
def test_bad_nonce_replayed_or_out_of_order(chain: Chain, offset: int) -> None:
    chain.run("inv-0", Transfer(A, B, "BOND1", 1, ""))
    nonce = chain.nonces["inv-0"] + offset
    _rejected(chain, "inv-0", Transfer(A, B, "BOND1", 1, ""), codes.BAD_NONCE, nonce=nonce)
    assert chain.ledger.values["nonce/inv-0"] == chain.nonces["inv-0"]  # not used up


def test_replayed_envelope_is_refused() -> None:
    chain = Chain()
    chain.market(investors=2)
    tx = chain.tx("inv-0", Transfer(A, B, "BOND1", 10, ""))
    assert chain.block([tx]).receipts[0].code == codes.OK
    assert chain.block([tx]).receipts[0].code == codes.BAD_NONCE
    assert chain.balance(B, "BOND1") == 1_000_010


def test_not_authorized(chain: Chain) -> None:
    _rejected(chain, "inv-0", Transfer(B, A, "BOND1", 1, ""), codes.NOT_AUTHORIZED)
    _rejected(chain, "inv-0", Mint("BOND1", A, 1, ""), codes.NOT_AUTHORIZED)
    _rejected(
        chain,
        "inv-0",
        RegisterParty("x", "person", "x", (key_of("x").public_key,), ()),
        codes.NOT_AUTHORIZED,
    )
    _rejected(chain, "inv-0", CreateInstrument("NEW", "bond", "n", 2, 10), codes.NOT_AUTHORIZED)
    _rejected(chain, "registrar", GrantRole("inv-0", "cash_issuer"), codes.NOT_AUTHORIZED)
    _rejected(chain, "inv-0", OpenAccount("client1", "omnibus"), codes.NOT_AUTHORIZED)
    _rejected(chain, "inv-0", Burn("BOND1", B, 1, ""), codes.NOT_AUTHORIZED)


def test_unknown_party_account_instrument_key(chain: Chain) -> None:
    _rejected(chain, "registrar", GrantRole("ghost", "investor"), codes.UNKNOWN_PARTY)
    _rejected(chain, "inv-0", Transfer(A, "ghost:main", "BOND1", 1, ""), codes.UNKNOWN_ACCOUNT)
    _rejected(chain, "inv-0", Transfer("inv-0:other", B, "BOND1", 1, ""), codes.UNKNOWN_ACCOUNT)
    _rejected(chain, "inv-0", Transfer(A, B, "NOPE", 1, ""), codes.UNKNOWN_INSTRUMENT)
    _rejected(chain, "issuer", Mint("NOPE", A, 1, ""), codes.UNKNOWN_INSTRUMENT)
    _rejected(chain, "inv-0", RevokeKey(key_of("inv-1").public_key), codes.UNKNOWN_KEY)


def test_already_exists_and_key_in_use(chain: Chain) -> None:
    _rejected(
        chain,
        "registrar",
        RegisterParty("inv-0", "person", "x", (key_of("zz").public_key,), ()),
        codes.ALREADY_EXISTS,
    )
    _rejected(
        chain,
        "registrar",
        RegisterParty("new", "person", "x", (key_of("inv-0").public_key,), ()),
        codes.KEY_IN_USE,
    )
    _rejected(
        chain, "issuer", CreateInstrument("BOND1", "bond", "again", 2, 10), codes.ALREADY_EXISTS
    )
    _rejected(chain, "inv-0", OpenAccount("main", "own"), codes.ALREADY_EXISTS)
    _rejected(chain, "inv-0", AddKey(key_of("inv-1").public_key), codes.KEY_IN_USE)


def test_last_key_and_roles(chain: Chain) -> None:
    _rejected(chain, "inv-0", RevokeKey(key_of("inv-0").public_key), codes.LAST_KEY)
    _rejected(chain, "registrar", GrantRole("inv-0", "investor"), codes.ROLE_HELD)
    _rejected(chain, "registrar", RevokeRole("inv-0", "custodian"), codes.ROLE_NOT_HELD)


def test_self_transfer(chain: Chain) -> None:
    _rejected(chain, "inv-0", Transfer(A, A, "BOND1", 1, ""), codes.SELF_TRANSFER)


def test_insufficient_balance_at_the_edge(chain: Chain) -> None:
    _rejected(chain, "inv-0", Transfer(A, B, "BOND1", 1_001, ""), codes.INSUFFICIENT_BALANCE)
    assert chain.run("inv-0", Transfer(A, B, "BOND1", 1_000, "")).code == codes.OK
    assert "bal/inv-0:main/BOND1" not in chain.ledger.values  # zero is absent
    _rejected(chain, "inv-0", Transfer(A, B, "BOND1", 1, ""), codes.INSUFFICIENT_BALANCE)


def test_supply_cap_at_the_edge() -> None:
    chain = Chain()
    chain.register("issuer", ("issuer",), "organisation")
    assert chain.run("issuer", CreateInstrument("CAP", "bond", "capped", 0, 100)).code == codes.OK
    assert chain.run("issuer", Mint("CAP", account_id("issuer"), 100, "")).code == codes.OK
    _rejected(chain, "issuer", Mint("CAP", account_id("issuer"), 1, ""), codes.SUPPLY_CAP_EXCEEDED)


def test_no_balance_can_pass_amount_max_through_transactions() -> None:
    # Supply never exceeds its cap (<= AMOUNT_MAX) and equals the sum of balances, so minting
    # stops at the cap before any balance could overflow.
    chain = Chain()
    chain.register("issuer", ("issuer",), "organisation")
    chain.run("issuer", CreateInstrument("BIG", "bond", "big", 0, limits.AMOUNT_MAX))
    assert (
        chain.run("issuer", Mint("BIG", account_id("issuer"), limits.AMOUNT_MAX, "")).code
        == codes.OK
    )
    _rejected(chain, "issuer", Mint("BIG", account_id("issuer"), 1, ""), codes.SUPPLY_CAP_EXCEEDED)
    assert chain.balance(account_id("issuer"), "BIG") == limits.AMOUNT_MAX


def test_credit_refuses_to_pass_amount_max() -> None:
    # The defence behind the cap: credit itself refuses, whoever calls it.
    view = StateView({"bal/a:main/X": limits.AMOUNT_MAX - 1})
    credit(view, "a:main", "X", 1)
    with pytest.raises(Rejection) as info:
        credit(view, "a:main", "X", 1)
    assert info.value.code == codes.BALANCE_OVERFLOW
    assert view.get("bal/a:main/X") == limits.AMOUNT_MAX


def test_batch_transfer_is_all_or_nothing(chain: Chain) -> None:
    moves = (Movement(A, B, "BOND1", 600, ""), Movement(A, B, "BOND1", 600, ""))
    _rejected(chain, "inv-0", BatchTransfer(moves), codes.INSUFFICIENT_BALANCE)
    ok = (Movement(A, B, "BOND1", 400, ""), Movement(A, B, "BOND1", 600, ""))
    assert chain.run("inv-0", BatchTransfer(ok)).code == codes.OK
    assert chain.balance(B, "BOND1") == 2_000


def test_genesis_refuses_an_executor_key_of_small_order() -> None:
    body = msgspec.structs.replace(genesis_body(), executors=(IDENTITY_POINT,))
    with pytest.raises(Malformed) as info:
        body.check_form()
    assert info.value.code == codes.BAD_FIELD and "executors" in info.value.message


def test_genesis_needs_operator_key_and_nonce_zero() -> None:
    empty = Ledger()
    body = genesis_body()

    def genesis_tx(key: SigningKey, nonce: int) -> SignedTx:
        return check_envelope(build_envelope(CHAIN_ID, "operator", nonce, key, body), CHAIN_ID)

    view = StateView(empty.values)
    assert apply_tx(view, genesis_tx(key_of("SC"), 0), 0, 0).code == codes.KEY_NOT_AUTHORIZED
    assert apply_tx(view, genesis_tx(key_of("operator"), 3), 0, 0).code == codes.BAD_NONCE
    assert list(view.block_changes()) == [] and empty.values == {}
    assert apply_tx(view, genesis_tx(key_of("operator"), 0), 0, 0).code == codes.OK
