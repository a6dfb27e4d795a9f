"""The demo scenario: a small national market built only from signed transactions.

Three agencies, an operator and a registrar come from genesis; then, each step signed
transactions submitted through the SDK to the node's HTTP API, the normal path: two banks
licensed as cash issuers with ringgit deposit tokens, an issuer with a government sukuk and a
corporate bond, investors onboarded, primary issuance, cash funding, and a history of
secondary transfers. Every step's receipts are checked; a step that does not do what it should
fails the demo.

``run_demo(url, keys_dir)`` plays it against any node whose genesis keys are in ``keys_dir``;
``run_embedded_demo(data)`` creates a chain in ``data``, serves it on a free loopback port for
the duration, and plays the demo against that.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rantai import sdk
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.tx import TxBody, build_envelope
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import SigningKey
from rantai.node.datadir import ChainFiles, init_chain, load_key, save_key

__all__ = ["DemoReport", "run_demo", "run_embedded_demo"]

SEED = 20261127  # the demo is the same every time
WAIT_S = 60  # the API's longest wait
READER = "SC"  # the agency whose signed reads the demo uses (nonces, securities registers)
CASH_READER = "BNM"  # the agency whose scope covers cash


@dataclass(slots=True)
class DemoReport:
    """What the demo did, step by step."""

    steps: list[tuple[str, int, int]] = field(default_factory=list)  # name, txs, failures
    head_height: int = 0

    @property
    def ok(self) -> bool:
        return all(failures == 0 for _, _, failures in self.steps)


class _Driver:
    """Signs as any demo party and submits through one SDK client."""

    def __init__(
        self, client: sdk.Client, cash_reader: sdk.Client, keys_dir: Path, chain_id: str
    ) -> None:
        self.client = client
        self.cash_reader = cash_reader
        self.files = ChainFiles(keys_dir.parent)
        self.chain_id = chain_id
        self.keys: dict[str, SigningKey] = {}
        self.nonces: dict[str, int] = {}

    def key(self, party: str) -> SigningKey:
        if party not in self.keys:
            path = self.files.key(party)
            if path.exists():
                self.keys[party] = load_key(path).key
            else:  # a demo party: the same key every run, kept beside the genesis keys
                self.keys[party] = SigningKey(sha256(f"rantai-demo/{party}".encode()))
                save_key(path, party, self.keys[party])
        return self.keys[party]

    def next_nonce(self, party: str) -> int:
        if party not in self.nonces:
            self.nonces[party] = self.client.nonce(party)
        nonce = self.nonces[party]
        self.nonces[party] = nonce + 1
        return nonce

    def register(self, instrument: str, cash: bool = False) -> dict[str, int]:
        """The instrument's holders and amounts, read as an agency whose scope covers it."""
        reader = self.cash_reader if cash else self.client
        return {h.account: h.amount for h in reader.holders(instrument)}

    def send(self, items: Sequence[tuple[str, TxBody]], expect: str = codes.OK) -> tuple[int, int]:
        raws = [
            build_envelope(self.chain_id, sender, self.next_nonce(sender), self.key(sender), body)
            for sender, body in items
        ]
        results = self.client.submit_envelopes(raws, wait=True, timeout_s=WAIT_S)
        failures = sum(1 for r in results if r.receipt is None or r.receipt.code != expect)
        return len(items), failures


def run_demo(
    url: str,
    keys_dir: Path,
    investors: int = 500,
    trades: int = 2_000,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Play the scenario against the node at ``url``; genesis keys are read from ``keys_dir``."""
    reader = load_key(keys_dir / f"{READER}.key")
    cash = load_key(keys_dir / f"{CASH_READER}.key")
    with (
        sdk.Client(url, party=reader.party, key=reader.key, timeout_s=WAIT_S) as client,
        sdk.Client(url, party=cash.party, key=cash.key, timeout_s=WAIT_S) as cash_reader,
    ):
        chain_id = client.chain().config.chain_id
        if client.nonce("registrar") != 0:
            raise ValueError("the chain is not new: the demo plays on a chain fresh from genesis")
        driver = _Driver(client, cash_reader, keys_dir, chain_id)
        report = _play(driver, investors, trades, progress)
        head = client.header()
        report.head_height = head.height if head else 0
    return report


def run_embedded_demo(
    data: Path,
    investors: int = 500,
    trades: int = 2_000,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Create a chain in ``data``, serve it on loopback while the demo plays, stop."""
    from rantai.cli.serve import serving_in_background  # noqa: PLC0415 -- heavy API imports

    node = init_chain(data, "rantai-demo")
    try:
        node.start()
        with serving_in_background(node) as url:
            return run_demo(url, ChainFiles(data).keys, investors, trades, progress)
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
    sukuk = d.register("GII-2035")
    deposits = {**d.register("MYR.MAYBANK", cash=True), **d.register("MYR.CIMB", cash=True)}
    units = {n: sukuk.get(account_id(n), 0) for n in names}
    cash = {n: deposits.get(account_id(n), 0) for n in names}
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
