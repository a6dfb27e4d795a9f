"""The demo scenario: a small national market built only from signed transactions.

Three agencies, an operator and a registrar come from genesis; then, each step a signed
transaction through the node's normal path: two banks licensed as cash issuers with ringgit
deposit tokens, an issuer with a government sukuk and a corporate bond, investors onboarded,
primary issuance, cash funding, and a history of secondary transfers. Every step's receipt is
checked; a step that does not do what it should fails the demo.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import nonce_key
from rantai.core.tx import TxBody, build_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey
from rantai.node.datadir import ChainFiles, init_chain, load_key, save_key
from rantai.node.node import Node

__all__ = ["DemoReport", "run_demo"]

SEED = 20261127  # the demo is the same every time


@dataclass(slots=True)
class DemoReport:
    """What the demo did, step by step."""

    steps: list[tuple[str, int, int]] = field(default_factory=list)  # name, txs, failures
    head_height: int = 0

    @property
    def ok(self) -> bool:
        return all(failures == 0 for _, _, failures in self.steps)


class _Driver:
    def __init__(self, node: Node, files: ChainFiles) -> None:
        self.node = node
        self.files = files
        chain = node.ledger.chain
        assert chain is not None  # init_chain made genesis
        self.chain_id = chain.chain_id
        self.keys: dict[str, SigningKey] = {}

    def key(self, party: str) -> SigningKey:
        if party not in self.keys:
            path = self.files.key(party)
            if path.exists():
                self.keys[party] = load_key(path).key
            else:
                self.keys[party] = SigningKey(sha256(f"rantai-demo/{party}".encode()))
                save_key(path, party, self.keys[party])
        return self.keys[party]

    def send(self, items: Sequence[tuple[str, TxBody]], expect: str = codes.OK) -> tuple[int, int]:
        nonces: dict[str, int] = {}
        raws = []
        for sender, body in items:
            nonce = nonces.get(sender, self.node.ledger.values.get(nonce_key(sender), 0))
            nonces[sender] = nonce + 1
            raws.append(build_envelope(self.chain_id, sender, nonce, self.key(sender), body))
        admitted = self.node.submit(raws)
        failures = sum(1 for a in admitted if a.code != codes.OK)
        while self.node.pending_count:
            self.node.produce_block()
        ids = [a.tx_id for a in admitted if a.tx_id is not None and a.code == codes.OK]
        receipts = self.node.wait(ids, timeout_s=30)
        failures += sum(1 for i in ids if i not in receipts or receipts[i][1].code != expect)
        return len(items), failures


def run_demo(
    data: Path,
    investors: int = 500,
    trades: int = 2_000,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Create a chain in ``data`` and play the scenario on it."""
    node = init_chain(data, "rantai-demo")
    try:
        return _play(_Driver(node, ChainFiles(data)), investors, trades, progress)
    finally:
        node.stop()
        node.store.close()


def _play(
    d: _Driver, investors: int, trades: int, progress: Callable[[str], None] | None
) -> DemoReport:
    rng = random.Random(SEED)
    report = DemoReport()

    def step(name: str, items: Sequence[tuple[str, TxBody]], expect: str = codes.OK) -> None:
        if progress is not None:
            progress(name)
        sent, failures = d.send(items, expect)
        report.steps.append((name, sent, failures))

    org = "organisation"
    step(
        "onboard banks, issuer, claim provider",
        [
            ("registrar", RegisterParty(p, org, name, (d.key(p).public_key,), roles))
            for p, name, roles in (
                ("maybank", "Malayan Banking Berhad", ("custodian",)),
                ("cimb", "CIMB Bank Berhad", ("custodian",)),
                ("mof", "Ministry of Finance (issuer)", ("issuer",)),
                ("tenaga", "Tenaga Nasional Berhad", ("issuer",)),
                ("kyc-provider", "National KYC Utility", ()),
            )
        ],
    )
    step(
        "central bank licenses cash issuers",
        [
            ("BNM", GrantRole("maybank", "cash_issuer")),
            ("BNM", GrantRole("cimb", "cash_issuer")),
            ("BNM", GrantRole("kyc-provider", "claim_issuer")),
        ],
    )
    step(
        "create instruments",
        [
            (
                "maybank",
                CreateInstrument(
                    "MYR.MAYBANK", "cash", "Maybank tokenized ringgit deposit", 2, 10**15
                ),
            ),
            (
                "cimb",
                CreateInstrument("MYR.CIMB", "cash", "CIMB tokenized ringgit deposit", 2, 10**15),
            ),
            (
                "mof",
                CreateInstrument(
                    "GII-2035", "sukuk", "Government Investment Issue 2035 (sukuk)", 2, 10**13
                ),
            ),
            ("tenaga", CreateInstrument("TNB-2031", "bond", "Tenaga 4.2% bond 2031", 2, 10**12)),
        ],
    )
    names = [f"inv-{i:05d}" for i in range(investors)]
    step(
        f"onboard {investors} investors",
        [
            (
                "registrar",
                RegisterParty(
                    n,
                    "person" if i % 10 else org,
                    f"Investor {i}",
                    (d.key(n).public_key,),
                    ("investor",),
                ),
            )
            for i, n in enumerate(names)
        ],
    )
    bank_of = {
        n: ("maybank", "MYR.MAYBANK") if i % 2 == 0 else ("cimb", "MYR.CIMB")
        for i, n in enumerate(names)
    }
    step(
        "fund investors with deposit tokens",
        [
            (bank, Mint(cash, account_id(n), rng.randrange(1_000_00, 500_000_00), f"deposit {n}"))
            for n, (bank, cash) in bank_of.items()
        ],
    )
    step(
        "primary issuance: sukuk RM 10 lots and up, bond",
        [
            *(
                ("mof", Mint("GII-2035", account_id(n), rng.randrange(1, 2_000) * 10_00, "auction"))
                for n in names
            ),
            *(
                (
                    "tenaga",
                    Mint("TNB-2031", account_id(n), rng.randrange(1, 100) * 1_000_00, "bookbuild"),
                )
                for n in names[::3]
            ),
        ],
    )
    step("secondary trades", _trades(d, rng, names, bank_of, trades))
    step(
        "an overdraft is refused",
        [
            (
                names[0],
                Transfer(
                    account_id(names[0]), account_id(names[1]), "GII-2035", 10**12, "too much"
                ),
            ),
        ],
        expect=codes.INSUFFICIENT_BALANCE,
    )
    head = d.node.ledger.head
    report.head_height = head.height if head else 0
    return report


def _trades(
    d: _Driver,
    rng: random.Random,
    names: list[str],
    bank_of: dict[str, tuple[str, str]],
    count: int,
) -> list[tuple[str, TxBody]]:
    """Sukuk sold at par: units one way, the same minor units of the buyer's deposit token
    back. Two transfers each until settlement (DvP) lands."""
    values = d.node.ledger.values
    units = {n: values.get(f"bal/{account_id(n)}/GII-2035", 0) for n in names}
    cash = {n: values.get(f"bal/{account_id(n)}/{bank_of[n][1]}", 0) for n in names}
    items: list[tuple[str, TxBody]] = []
    for _ in range(count):
        seller, buyer = rng.sample(names, 2)
        amount = min(units[seller], rng.randrange(1, 200) * 10_00)
        if amount == 0 or cash[buyer] < amount:
            continue
        units[seller] -= amount
        units[buyer] += amount
        cash[buyer] -= amount
        token = bank_of[buyer][1]
        items.append(
            (seller, Transfer(account_id(seller), account_id(buyer), "GII-2035", amount, "sale"))
        )
        items.append(
            (buyer, Transfer(account_id(buyer), account_id(seller), token, amount, "payment"))
        )
    return items
