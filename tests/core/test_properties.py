"""Properties of the state machine under random transaction sequences (hypothesis)."""

from __future__ import annotations

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from tests.support import Chain

from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.transfers import BatchTransfer, Movement, Transfer
from rantai.core.ledger import Ledger
from rantai.core.records import Instrument
from rantai.core.tx import TxBody

INVESTORS = [f"inv-{i}" for i in range(4)]
INSTRUMENTS = ["BOND1", "CASH1"]

op = st.one_of(
    st.tuples(
        st.just("transfer"),
        st.sampled_from(INVESTORS),
        st.sampled_from(INVESTORS),
        st.sampled_from(INSTRUMENTS),
        st.integers(1, 3_000),
    ),
    st.tuples(
        st.just("mint"),
        st.sampled_from(INVESTORS),
        st.sampled_from(INVESTORS),
        st.sampled_from(INSTRUMENTS),
        st.integers(1, 3_000),
    ),
    st.tuples(
        st.just("burn"),
        st.sampled_from(INVESTORS),
        st.sampled_from(INVESTORS),
        st.sampled_from(INSTRUMENTS),
        st.integers(1, 3_000),
    ),
    st.tuples(
        st.just("batch"),
        st.sampled_from(INVESTORS),
        st.sampled_from(INVESTORS),
        st.sampled_from(INSTRUMENTS),
        st.integers(1, 3_000),
    ),
)


def _market() -> Chain:
    chain = Chain()
    chain.register("issuer", ("issuer",), "organisation")
    for code in INSTRUMENTS:
        chain.run("issuer", CreateInstrument(code, "bond", code, 2, 20_000))
    for name in INVESTORS:
        chain.register(name)
        for code in INSTRUMENTS:
            chain.run("issuer", Mint(code, account_id(name), 1_000, ""))
    return chain


def _body(kind: str, a: str, b: str, code: str, amount: int) -> tuple[str, TxBody]:
    if kind == "transfer":
        return a, Transfer(account_id(a), account_id(b), code, amount, "")
    if kind == "mint":
        return "issuer", Mint(code, account_id(b), amount, "")
    if kind == "burn":
        return a, Burn(code, account_id(a), amount, "")
    half = Movement(account_id(a), account_id(b), code, amount, "")
    return a, BatchTransfer((half, half))


def _supply_matches_balances(ledger: Ledger) -> None:
    for code in INSTRUMENTS:
        instrument: Instrument = ledger.values[f"inst/{code}"]
        held = [
            v for k, v in ledger.values.items() if k.startswith("bal/") and k.endswith(f"/{code}")
        ]
        assert all(v > 0 for v in held)  # no negative, and zero is never stored
        assert sum(held) == instrument.supply <= instrument.supply_cap


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=30), block_size=st.integers(1, 8))
def test_random_sequences_conserve_supply_and_replay_identically(
    ops: list, block_size: int
) -> None:
    chain = _market()
    txs = [chain.tx(*_body(*o)) for o in ops]
    for i in range(0, len(txs), block_size):
        before = dict(chain.ledger.values)
        outcome = chain.block(txs[i : i + block_size])
        _supply_matches_balances(chain.ledger)
        if len(outcome.receipts) == 1 and outcome.receipts[0].code != codes.OK:
            tx = txs[i]
            changed = {
                k
                for k in before.keys() | chain.ledger.values.keys()
                if before.get(k) != chain.ledger.values.get(k)
            }
            assert changed <= {f"nonce/{tx.sender}"}
    # The same ordered transactions from the same genesis give the same headers.
    again = _replay(chain)
    assert [o.header for o in again] == [o.header for o in chain.outcomes]


def _replay(chain: Chain) -> list:
    from rantai.core.tx import check_envelope

    ledger = Ledger()
    outs = []
    for outcome, txs in zip(chain.outcomes, chain.blocks_txs, strict=True):
        checked = [check_envelope(raw, chain.chain_id) for raw in txs]
        outs.append(ledger.execute_block(checked, outcome.header.timestamp_ms))
    return outs


class LedgerAgainstModel(RuleBasedStateMachine):
    """Transfers against a plain dict of balances: the ledger must agree at every step."""

    def __init__(self) -> None:
        super().__init__()
        self.chain = _market()
        self.model = {(n, c): 1_000 for n in INVESTORS for c in INSTRUMENTS}

    @rule(
        a=st.sampled_from(INVESTORS),
        b=st.sampled_from(INVESTORS),
        code=st.sampled_from(INSTRUMENTS),
        amount=st.integers(1, 2_500),
    )
    def transfer(self, a: str, b: str, code: str, amount: int) -> None:
        receipt = self.chain.run(a, Transfer(account_id(a), account_id(b), code, amount, ""))
        if a == b:
            expected = codes.SELF_TRANSFER
        elif self.model[a, code] < amount:
            expected = codes.INSUFFICIENT_BALANCE
        else:
            expected = codes.OK
            self.model[a, code] -= amount
            self.model[b, code] += amount
        assert receipt.code == expected

    @rule(
        b=st.sampled_from(INVESTORS),
        code=st.sampled_from(INSTRUMENTS),
        amount=st.integers(1, 9_000),
    )
    def mint(self, b: str, code: str, amount: int) -> None:
        supply = sum(v for (_, c), v in self.model.items() if c == code)
        receipt = self.chain.run("issuer", Mint(code, account_id(b), amount, ""))
        if supply + amount > 20_000:
            assert receipt.code == codes.SUPPLY_CAP_EXCEEDED
        else:
            assert receipt.code == codes.OK
            self.model[b, code] += amount

    @invariant()
    def balances_agree(self) -> None:
        for (name, code), amount in self.model.items():
            assert self.chain.balance(account_id(name), code) == amount
        _supply_matches_balances(self.chain.ledger)


LedgerAgainstModel.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_ledger_against_model = LedgerAgainstModel.TestCase


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=20), flip=st.integers(0, 10_000))
def test_every_balance_proof_verifies_and_a_flipped_bit_breaks_it(ops: list, flip: int) -> None:
    from rantai.core.encoding import encode
    from rantai.core.ledger import state_path
    from rantai.core.proofs import verify_state_value
    from rantai.crypto.smt import StateProof

    chain = _market()
    chain.block([chain.tx(*_body(*o)) for o in ops])
    header = chain.outcomes[-1].header
    for name in INVESTORS:
        for code in INSTRUMENTS:
            key = f"bal/{account_id(name)}/{code}"
            value = chain.ledger.values.get(key)
            raw = None if value is None else encode(value)
            proof = chain.ledger.tree.prove(state_path(key))
            assert verify_state_value(header, key, raw, proof)
            # The wrong value, or a proof with one bit flipped, does not verify.
            wrong = encode((value or 0) + 1)
            assert not verify_state_value(header, key, wrong, proof)
            blob = bytearray(encode(proof))
            position = flip % (len(blob) * 8)
            blob[position // 8] ^= 1 << (position % 8)
            try:
                tampered = msgspec.msgpack.decode(bytes(blob), type=StateProof)
            except msgspec.DecodeError:
                continue  # the flip broke the encoding itself: nothing to verify
            if tampered != proof:
                assert not verify_state_value(header, key, raw, tampered)
