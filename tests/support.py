"""A small chain for tests: deterministic keys, genesis, and one-line transactions."""

from __future__ import annotations

from typing import Any

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.holdings import holding
from rantai.core.ids import account_id
from rantai.core.kinds.genesis import Genesis, GenesisAgency, GenesisParty
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import RegisterParty
from rantai.core.ledger import BlockOutcome, Ledger
from rantai.core.state import StateView
from rantai.core.tx import SignedTx, TxBody, build_envelope, check_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey

CHAIN_ID = "rantai-test"
GENESIS_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
AGENCIES = ("SC", "BNM", "MOD")


def key_of(name: str) -> SigningKey:
    """The same key for the same name, every run."""
    return SigningKey(sha256(b"rantai-test-key/" + name.encode()))


def genesis_body(chain_id: str = CHAIN_ID) -> Genesis:
    def party(pid: str, kind: str, roles: tuple[str, ...] = ()) -> GenesisParty:
        return GenesisParty(pid, kind, f"{pid} name", (key_of(pid).public_key,), roles)

    return Genesis(
        chain_id=chain_id,
        operator=party("operator", "organisation"),
        agencies=tuple(GenesisAgency(party(a, "agency"), ()) for a in AGENCIES),
        parties=(party("registrar", "organisation", ("registrar",)),),
        thresholds=(),
        executors=(key_of("node").public_key,),
    )


class Chain:
    """A ledger driven directly, without a node or a store."""

    def __init__(self, chain_id: str = CHAIN_ID) -> None:
        self.chain_id = chain_id
        self.ledger = Ledger()
        self.nonces: dict[str, int] = {}
        self.now_ms = GENESIS_MS
        self.outcomes: list[BlockOutcome] = []
        self.blocks_txs: list[list[bytes]] = []
        receipt = self.run("operator", genesis_body(chain_id))
        assert receipt.code == codes.OK, receipt

    def envelope(
        self, sender: str, body: TxBody, *, nonce: int | None = None, key: SigningKey | None = None
    ) -> bytes:
        if nonce is None:
            nonce = self.nonces.get(sender, 0)
            self.nonces[sender] = nonce + 1
        return build_envelope(self.chain_id, sender, nonce, key or key_of(sender), body)

    def tx(self, sender: str, body: TxBody, **kw: Any) -> SignedTx:
        return check_envelope(self.envelope(sender, body, **kw), self.chain_id)

    def block(self, txs: list[SignedTx]) -> BlockOutcome:
        self.now_ms += 1_000
        outcome = self.ledger.execute_block(txs, self.now_ms)
        self.outcomes.append(outcome)
        self.blocks_txs.append([tx.raw for tx in txs])
        return outcome

    def run(self, sender: str, body: TxBody, **kw: Any) -> Receipt:
        """One transaction in a block of its own; its receipt."""
        return self.block([self.tx(sender, body, **kw)]).receipts[0]

    def balance(self, account: str, instrument: str) -> int:
        value: int = self.ledger.values.get(f"bal/{account}/{instrument}", 0)
        return value

    def holding(self, party: str, instrument: str) -> int:
        """``party``'s units across its accounts, as the tracked-holding rules read them."""
        return holding(StateView(self.ledger.values), instrument, party)

    def register(
        self, party: str, roles: tuple[str, ...] = ("investor",), kind: str = "person"
    ) -> None:
        body = RegisterParty(party, kind, f"{party} name", (key_of(party).public_key,), roles)
        assert self.run("registrar", body).code == codes.OK

    def market(self, investors: int = 3, minted: int = 1_000_000) -> list[str]:
        """An issuer with bond BOND1, and investors holding ``minted`` each; their ids."""
        self.register("issuer", ("issuer",), "organisation")
        body = CreateInstrument("BOND1", "bond", "Test bond", 2, 10**15)
        assert self.run("issuer", body).code == codes.OK
        names = [f"inv-{i}" for i in range(investors)]
        for name in names:
            self.register(name)
            receipt = self.run("issuer", Mint("BOND1", account_id(name), minted, "primary"))
            assert receipt.code == codes.OK, receipt
        return names
