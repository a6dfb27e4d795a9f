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
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from rantai import sdk
from rantai.core import codes
from rantai.core.ids import account_id
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

    def send(self, items: Sequence[tuple[str, TxBody]]) -> list[sdk.Submission]:
        raws = [
            build_envelope(self.chain_id, sender, self.next_nonce(sender), self.key(sender), body)
            for sender, body in items
        ]
        return self.client.submit_envelopes(raws, wait=True, timeout_s=WAIT_S)

    def now_ms(self) -> int:
        """The head block's time: the demo's clock for expiries."""
        head = self.client.header()
        return head.header.timestamp_ms if head else 0


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
    store_target: str | None = None,
) -> DemoReport:
    """Create a chain in ``data`` (its store there, or at ``store_target``), serve it on
    loopback while the demo plays, stop."""
    from rantai.cli.serve import serving_in_background  # noqa: PLC0415 -- heavy API imports

    node = init_chain(data, "rantai-demo", store_target=store_target)
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

    def step(
        name: str, items: Sequence[tuple[str, TxBody]], expect: str = codes.OK
    ) -> list[sdk.Submission]:
        if progress is not None:
            progress(name)
        results = d.send(items)
        failures = sum(1 for r in results if r.receipt is None or r.receipt.code != expect)
        report.steps.append((name, len(items), failures))
        return results

    now_ms = d.now_ms()
    names = [f"inv-{i:05d}" for i in range(investors)]
    institutions = set(names[::10])
    _onboard_institutions(d, step)
    _trust_kyc_provider(step, now_ms)
    _create_instruments(step)
    _bond_terms(d, step, now_ms)
    step(
        f"onboard {investors} investors (retail and institutional)",
        [
            (
                "registrar",
                sdk.register_party(
                    n,
                    "organisation" if n in institutions else "person",
                    f"Investor {i}",
                    [d.key(n)],
                    ["investor"],
                ),
            )
            for i, n in enumerate(names)
        ],
    )
    step("KYC provider attests kyc, category, residency", _claims(names, institutions, now_ms))
    bank_of = {
        n: ("maybank", "MYR.MAYBANK") if i % 2 == 0 else ("cimb", "MYR.CIMB")
        for i, n in enumerate(names)
    }
    step(
        "fund investors and the issuers with deposit tokens",
        [
            *(
                (
                    bank,
                    sdk.mint(cash, account_id(n), rng.randrange(1_000_00, 500_000_00), f"dep {n}"),
                )
                for n, (bank, cash) in bank_of.items()
            ),
            # The issuers' paying accounts, for profit and coupons.
            ("maybank", sdk.mint("MYR.MAYBANK", account_id("mof"), 10**11, "MOF deposit")),
            ("maybank", sdk.mint("MYR.MAYBANK", account_id("tenaga"), 10**11, "TNB deposit")),
        ],
    )
    step(
        "primary issuance: sukuk from RM 10, bond to institutions",
        [
            *(
                ("mof", sdk.mint("GII-2035", account_id(n), rng.randrange(1, 2_000) * 10_00, "a"))
                for n in names
            ),
            *(
                (
                    "tenaga",
                    sdk.mint("TNB-2031", account_id(n), rng.randrange(1, 99) * 1_000_00, "b"),
                )
                for n in sorted(institutions)
            ),
        ],
    )
    step("secondary trades", _trades(d, rng, names, bank_of, trades))
    step(
        "record dates for the first coupon and profit",
        [
            ("mof", sdk.take_record("GII-2035", "p1", "profit 1")),
            ("tenaga", sdk.take_record("TNB-2031", "c1", "coupon 1")),
        ],
    )
    step(
        "profit and coupon paid to every holder, one transaction each",
        [
            ("mof", sdk.pay_period("GII-2035", 1, "p1")),
            ("tenaga", sdk.pay_period("TNB-2031", 1, "c1")),
        ],
    )
    _refusals(d, step, names, now_ms)
    return report


Step = Callable[..., list[sdk.Submission]]
INSTRUMENTS = (  # issuer, code, kind, name, supply cap in minor units
    ("maybank", "MYR.MAYBANK", "cash", "Maybank tokenized ringgit deposit", 10**15),
    ("cimb", "MYR.CIMB", "cash", "CIMB tokenized ringgit deposit", 10**15),
    ("mof", "GII-2035", "sukuk", "Government Investment Issue 2035 (sukuk)", 10**13),
    ("tenaga", "TNB-2031", "bond", "Tenaga 4.2% bond 2031", 10**12),
)
DAY_MS = 86_400_000
YEAR_MS = 365 * DAY_MS
# The central bank's limits on each deposit token, in sen: no holder cap; RM 2 billion a
# transaction; a non-resident may move RM 1 million a transaction and RM 5 million a day.
CASH_LIMITS: Final = (2 * 10**11, 10**8, 5 * 10**8)
DEMO_EVIDENCE = sha256(b"rantai demo KYC file")
MYT = timezone(timedelta(hours=8))
# Fixed-date federal holidays in Kuala Lumpur; enough for the demo's payment dates.
MY_HOLIDAYS = tuple(
    f"{year}-{day}"
    for year in range(2025, 2037)
    for day in ("01-01", "05-01", "08-31", "09-16", "12-25")
)


def _onboard_institutions(d: _Driver, step: Step) -> None:
    org = "organisation"
    step(
        "onboard banks, issuers, KYC provider",
        [
            ("registrar", sdk.register_party(p, org, name, [key], roles))
            for p, name, roles, key in _institutions(d)
        ],
    )
    step(
        "central bank licenses banks and the KYC provider",
        [
            ("BNM", sdk.grant_role("maybank", "cash_issuer")),
            ("BNM", sdk.grant_role("cimb", "cash_issuer")),
            ("BNM", sdk.grant_role("kyc-provider", "claim_issuer")),
            ("SC", sdk.grant_role("shariah-adviser", "shariah_adviser")),
        ],
    )


def _institutions(d: _Driver) -> list[tuple[str, str, list[str], SigningKey]]:
    rows: tuple[tuple[str, str, list[str]], ...] = (
        ("maybank", "Malayan Banking Berhad", ["custodian"]),
        ("cimb", "CIMB Bank Berhad", ["custodian"]),
        ("mof", "Ministry of Finance (issuer)", ["issuer"]),
        ("tenaga", "Tenaga Nasional Berhad", ["issuer"]),
        ("kyc-provider", "National KYC Utility", []),
        ("shariah-adviser", "Amanah Shariah Advisory Sdn Bhd", []),
        ("baitulmal", "Baitulmal charity fund", []),
    )
    return [(p, name, roles, d.key(p)) for p, name, roles in rows]


def _trust_kyc_provider(step: Step, now_ms: int) -> None:
    """SC proposes trusting the KYC provider per topic; BNM's approval makes 2 of 3."""
    basis = sdk.legal_basis("regulatory_direction", "SC/GL/KYC-2026", sha256(b"guideline"))
    proposed = step(
        "SC proposes: trust the KYC provider (4 topics)",
        [
            (
                "SC",
                sdk.propose(
                    sdk.actions.trust_issuers(topic, ["kyc-provider"]),
                    basis,
                    expires_ms=now_ms + 30 * DAY_MS,
                ),
            )
            for topic in ("investor_category", "kyc", "residency", "sanctions_screened")
        ],
    )
    ids = [r.tx_id for r in proposed if r.tx_id is not None]
    step("BNM approves: 2 of 3 agencies, executed", [("BNM", sdk.approve(i)) for i in ids])


def _create_instruments(step: Step) -> None:
    kyc = sdk.rules.eligibility(["kyc"], kyc_level_min=1)
    professional = sdk.rules.investor_category(["accredited", "institutional", "sophisticated"])
    created = [
        (
            issuer,
            sdk.create_cash(code, name, 2, cap, "MYR", "deposit")
            if kind == "cash"
            else sdk.create_instrument(code, kind, name, 2, cap),
        )
        for issuer, code, kind, name, cap in INSTRUMENTS
    ]
    step(
        "create instruments and their rules",
        [
            *created,
            ("mof", sdk.set_rules("GII-2035", [kyc], sdk.terms(shariah_certified=True))),
            ("tenaga", sdk.set_rules("TNB-2031", [kyc, professional])),
        ],
    )
    step(
        "central bank limits on the deposit tokens",
        [
            ("BNM", sdk.set_cash_limits(code, 0, *CASH_LIMITS))
            for code in ("MYR.MAYBANK", "MYR.CIMB")
        ],
    )


def _issue_date(now_ms: int) -> date:
    """The 15th of a month about 200 days back, so that the first semi-annual payment date
    (and its record date) has just passed when the demo runs."""
    today = datetime.fromtimestamp(now_ms / 1000, tz=MYT).date()
    return (today - timedelta(days=200)).replace(day=15)


def _bond_terms(d: _Driver, step: Step, now_ms: int) -> None:
    """Terms for the sukuk (wakalah) and the bond, the sukuk's Shariah pronouncement, and
    the issuers' cash for paying them."""
    issued = _issue_date(now_ms)
    calendar = sdk.calendar("MY-KL", (6, 7), MY_HOLIDAYS)
    sukuk = sdk.bond_terms(
        cash="MYR.MAYBANK",
        payer=account_id("mof"),
        residue_account=account_id("mof"),
        face=100,
        issue_date=issued.isoformat(),
        maturity_date=issued.replace(year=2035).isoformat(),
        months_per_period=6,
        income=sdk.income("fixed", 390),
        calendar=calendar,
        day_count="act/act-icma",
        structure="wakalah",
        asset="Government assets under a wakalah investment portfolio",
        asset_hash=sha256(b"GII-2035 information memorandum"),
        charity_account=account_id("baitulmal"),
    )
    bond = sdk.bond_terms(
        cash="MYR.MAYBANK",
        payer=account_id("tenaga"),
        residue_account=account_id("tenaga"),
        face=100,
        issue_date=issued.isoformat(),
        maturity_date=issued.replace(year=2031).isoformat(),
        months_per_period=6,
        income=sdk.income("fixed", 420),
        calendar=calendar,
        day_count="act/act-icma",
        calls=[sdk.option_date(issued.replace(year=2029).isoformat(), 10_100)],
    )
    pronouncement = sha256(b"GII-2035 Shariah pronouncement")
    step(
        "sukuk and bond terms; the sukuk's Shariah pronouncement",
        [
            ("mof", sdk.set_bond_terms("GII-2035", sukuk)),
            ("tenaga", sdk.set_bond_terms("TNB-2031", bond)),
            (
                "shariah-adviser",
                sdk.certify_shariah("GII-2035", pronouncement, now_ms + 5 * YEAR_MS),
            ),
        ],
    )


def _claims(names: list[str], institutions: set[str], now_ms: int) -> list[tuple[str, TxBody]]:
    expires = now_ms + YEAR_MS
    items: list[tuple[str, TxBody]] = []
    for i, n in enumerate(names):
        category = "institutional" if n in institutions else "retail"
        country = "SG" if i % 7 == 0 else "ID" if i % 11 == 0 else "MY"
        for topic, value in (("kyc", "2"), ("investor_category", category), ("residency", country)):
            items.append(("kyc-provider", sdk.issue_claim(n, topic, value, DEMO_EVIDENCE, expires)))
    # The issuers hold deposit tokens too: resident, so the central bank's non-resident
    # limits do not apply to them.
    for n in ("mof", "tenaga", "baitulmal"):
        items.append(
            ("kyc-provider", sdk.issue_claim(n, "residency", "MY", DEMO_EVIDENCE, expires))
        )
    return items


def _refusals(d: _Driver, step: Step, names: list[str], now_ms: int) -> None:
    """What the rules and the agencies stop, each with its reason code."""
    a, b = account_id(names[1]), account_id(names[2])
    step(
        "a new investor without KYC is registered",
        [
            (
                "registrar",
                sdk.register_party(
                    "inv-unverified", "person", "No KYC", [d.key("inv-unverified")], ["investor"]
                ),
            )
        ],
    )
    step(
        "sukuk to an investor without KYC is refused",
        [(names[1], sdk.transfer(a, account_id("inv-unverified"), "GII-2035", 10_00))],
        expect="rule:eligibility",
    )
    step(
        "the bond to a retail investor is refused",
        [(names[0], sdk.transfer(account_id(names[0]), b, "TNB-2031", 1_000_00))],
        expect="rule:investor_category",
    )
    basis = sdk.legal_basis("court_order", "KL High Court WA-24NCC-1-2026", sha256(b"order"))
    proposed = step(
        "SC proposes a court-ordered freeze of one account",
        [("SC", sdk.propose(sdk.actions.freeze_account(a), basis, expires_ms=now_ms + DAY_MS))],
    )
    step("BNM approves the freeze", [("BNM", sdk.approve(proposed[0].tx_id or b""))])
    step(
        "a transfer from the frozen account is refused",
        [(names[1], sdk.transfer(a, b, "GII-2035", 10_00))],
        expect=codes.FROZEN,
    )
    step(
        "an overdraft is refused",
        [(names[3], sdk.transfer(account_id(names[3]), b, "GII-2035", 10**12, "too much"))],
        expect=codes.INSUFFICIENT_BALANCE,
    )


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
