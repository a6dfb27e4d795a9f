"""Cash tokens through the real Ledger: terms (currency, deposit or wholesale money), who may
issue which, deposit and payout references, and the central bank's limits on every movement
(mint, transfer, burn, settlement legs), each code on its case and not on the near miss."""

from __future__ import annotations

from typing import Any

from msgspec import structs
from tests.regulated import DAY_MS, Regulated, rejected

from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.cash import (
    DEPOSIT,
    WHOLESALE,
    CashLimits,
    CashTerms,
    cash_limits_key,
    cash_terms_key,
    non_resident_flow_key,
    reference_key,
)
from rantai.core.explain import explain
from rantai.core.ids import account_id
from rantai.core.kinds.cash import CreateCash, SetCashLimits, SetCashTerms
from rantai.core.kinds.genesis import Genesis
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, OpenAccount
from rantai.core.kinds.policies import SetRules
from rantai.core.kinds.settlement import AffirmSettlement, ProposeSettlement
from rantai.core.kinds.transfers import Transfer
from rantai.core.rules import DEFAULT_TERMS
from rantai.core.settlement import FAILED, Instruction, Leg, instruction_key
from rantai.core.tx import TxBody

CASH = "MYR.BANK"
BANK = "bank"
BANK_ACCOUNT = account_id(BANK)


class CashMarket(Regulated):
    """A regulated chain whose central bank (BNM) has cash in its scope, a licensed bank
    issuing the tokenized deposit ``MYR.BANK`` (terms declared at creation), residents of
    Malaysia ``alice`` and ``bob`` and a resident of Singapore ``sam``."""

    def __init__(self) -> None:
        super().__init__()
        self.register(BANK, ("investor",), "organisation")
        assert self.run("BNM", GrantRole(BANK, "cash_issuer")).code == codes.OK
        receipt = self.run(BANK, CreateCash(CASH, "Ringgit deposit", 2, 10**15, "MYR", DEPOSIT))
        assert receipt.code == codes.OK, receipt
        self.alice = self.investor("alice")
        self.bob = self.investor("bob")
        self.sam = self.investor("sam", residency="SG")
        self.deposits = 0

    def run(self, sender: str, body: TxBody, **kw: Any) -> Receipt:
        if isinstance(body, Genesis):  # the central bank supervises cash
            agencies = tuple(
                structs.replace(a, scope=("cash",)) if a.party.id == "BNM" else a
                for a in body.agencies
            )
            body = structs.replace(body, agencies=agencies)
        return super().run(sender, body, **kw)

    def deposit(self, account: str, amount: int) -> Receipt:
        """The bank mints ``amount`` against a fresh deposit reference."""
        self.deposits += 1
        return self.run(BANK, Mint(CASH, account, amount, f"DEP-{self.deposits}"))

    def limits(
        self,
        holder_max: int = 0,
        tx_max: int = 0,
        nr_tx_max: int = 0,
        nr_day_max: int = 0,
    ) -> None:
        body = SetCashLimits(CASH, holder_max, tx_max, nr_tx_max, nr_day_max, "MY")
        assert self.run("BNM", body).code == codes.OK


def test_a_bank_issues_deposits_and_only_the_central_bank_wholesale_money() -> None:
    chain = CashMarket()
    terms: CashTerms = chain.value(cash_terms_key(CASH))
    assert (terms.currency, terms.money) == ("MYR", DEPOSIT)
    wholesale = CreateCash("MYR.CB", "Wholesale ringgit", 2, 10**15, "MYR", WHOLESALE)
    rejected(chain, BANK, wholesale, codes.NOT_AUTHORIZED)  # a bank: deposits only
    rejected(chain, "SC", wholesale, codes.NOT_AUTHORIZED)  # an agency without cash in scope
    rejected(chain, "BNM", structs.replace(wholesale, money=DEPOSIT), codes.NOT_AUTHORIZED)
    receipt = chain.run("BNM", wholesale)
    assert receipt.code == codes.OK
    assert chain.value("inst/MYR.CB").issuer == "BNM"
    assert chain.value(cash_terms_key("MYR.CB")).money == WHOLESALE
    assert [e.name for e in receipt.events] == ["instrument_created", "cash_terms"]
    rejected(chain, "BNM", wholesale, codes.ALREADY_EXISTS)
    # any ISO 4217 currency: a US dollar deposit beside the ringgit one
    usd = CreateCash("USD.BANK", "Dollar deposit", 2, 10**15, "USD", DEPOSIT)
    assert chain.run(BANK, usd).code == codes.OK
    assert chain.deposit(chain.alice, 100).code == codes.OK
    assert chain.run("BNM", Mint("MYR.CB", chain.bob, 5, "RTGS-1")).code == codes.OK


def test_cash_terms_once_by_the_issuer_before_the_first_mint() -> None:
    chain = CashMarket()
    assert chain.run(BANK, CreateInstrument("MYR.OLD", "cash", "Old", 2, 10**15)).code == "ok"
    body = SetCashTerms("MYR.OLD", "MYR", DEPOSIT)
    rejected(chain, "alice", body, codes.NOT_AUTHORIZED)
    chain.instrument(code="SUK")
    rejected(chain, "issuer", SetCashTerms("SUK", "MYR", DEPOSIT), codes.NOT_CASH)
    rejected(chain, BANK, structs.replace(body, money=WHOLESALE), codes.NOT_AUTHORIZED)
    assert chain.run(BANK, body).code == codes.OK
    rejected(chain, BANK, body, codes.ALREADY_EXISTS)
    assert chain.run(BANK, CreateInstrument("MYR.MINTED", "cash", "M", 2, 10**15)).code == "ok"
    assert chain.run(BANK, Mint("MYR.MINTED", chain.alice, 1, "")).code == codes.OK
    late = SetCashTerms("MYR.MINTED", "MYR", DEPOSIT)
    rejected(chain, BANK, late, codes.TERMS_LOCKED)


def test_mints_need_a_fresh_deposit_reference_and_burns_a_payout_reference() -> None:
    chain = CashMarket()
    rejected(chain, BANK, Mint(CASH, chain.alice, 100, ""), codes.REFERENCE_REQUIRED)
    assert chain.run(BANK, Mint(CASH, chain.alice, 100, "DEP-A")).code == codes.OK
    assert chain.value(reference_key(CASH, "DEP-A")) is not None
    rejected(chain, BANK, Mint(CASH, chain.bob, 100, "DEP-A"), codes.REFERENCE_USED)
    assert chain.run(BANK, Mint(CASH, chain.bob, 100, "DEP-B")).code == codes.OK
    rejected(chain, "alice", Burn(CASH, chain.alice, 40, ""), codes.REFERENCE_REQUIRED)
    assert chain.run("alice", Burn(CASH, chain.alice, 40, "PAY-1")).code == codes.OK
    assert chain.balance(chain.alice, CASH) == 60
    # the same reference on another cash instrument is another deposit
    assert chain.run(BANK, CreateCash("USD.BANK", "$", 2, 10**15, "USD", DEPOSIT)).code == "ok"
    assert chain.run(BANK, Mint("USD.BANK", chain.alice, 7, "DEP-A")).code == codes.OK
    # a cash instrument without terms (created before them) keeps minting without one
    assert chain.run(BANK, CreateInstrument("MYR.OLD", "cash", "Old", 2, 10**15)).code == "ok"
    assert chain.run(BANK, Mint("MYR.OLD", chain.alice, 1, "")).code == codes.OK
    assert chain.run(BANK, Mint("MYR.OLD", chain.alice, 1, "")).code == codes.OK


def test_only_an_agency_with_cash_in_scope_sets_limits() -> None:
    chain = CashMarket()
    body = SetCashLimits(CASH, 1_000, 500, 0, 0, "MY")
    rejected(chain, BANK, body, codes.NOT_AUTHORIZED)  # not the issuing bank
    rejected(chain, "SC", body, codes.NOT_AUTHORIZED)  # nor another agency
    chain.instrument(code="SUK")
    rejected(chain, "BNM", structs.replace(body, instrument="SUK"), codes.NOT_CASH)
    rejected(chain, "BNM", structs.replace(body, instrument="NOPE"), codes.UNKNOWN_INSTRUMENT)
    assert chain.run("BNM", body).code == codes.OK
    record: CashLimits = chain.value(cash_limits_key(CASH))
    assert (record.holder_max, record.tx_max, record.set_by) == (1_000, 500, "BNM")
    assert chain.run("BNM", structs.replace(body, tx_max=0)).code == codes.OK  # changed
    assert chain.value(cash_limits_key(CASH)).tx_max == 0


def test_per_transaction_cap_on_mint_transfer_and_burn() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    chain.limits(tx_max=1_000)
    rejected(chain, BANK, Mint(CASH, chain.alice, 1_001, "DEP-X"), codes.CASH_TX_CAP)
    assert chain.run(BANK, Mint(CASH, chain.alice, 1_000, "DEP-X")).code == codes.OK
    over = Transfer(chain.alice, chain.bob, CASH, 1_001, "")
    rejected(chain, "alice", over, codes.CASH_TX_CAP)
    assert chain.run("alice", structs.replace(over, amount=1_000)).code == codes.OK
    rejected(chain, "alice", Burn(CASH, chain.alice, 1_001, "PAY"), codes.CASH_TX_CAP)
    assert chain.run("alice", Burn(CASH, chain.alice, 1_000, "PAY")).code == codes.OK


def test_holder_cap_counts_what_the_receiver_would_hold() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    assert chain.deposit(chain.bob, 300).code == codes.OK
    chain.limits(holder_max=1_000)
    rejected(chain, "alice", Transfer(chain.alice, chain.bob, CASH, 701, ""), codes.CASH_HOLDER_CAP)
    assert chain.run("alice", Transfer(chain.alice, chain.bob, CASH, 700, "")).code == codes.OK
    assert chain.balance(chain.bob, CASH) == 1_000
    rejected(chain, BANK, Mint(CASH, chain.bob, 1, "DEP-Y"), codes.CASH_HOLDER_CAP)
    # the issuing bank's own units are not a deposit: its treasury is not capped
    assert chain.deposit(BANK_ACCOUNT, 5_000).code == codes.OK


def test_holder_cap_of_a_tracked_token_counts_every_account_of_the_holder() -> None:
    chain = CashMarket()
    assert chain.run(BANK, SetRules(CASH, (), DEFAULT_TERMS)).code == codes.OK  # tracked
    assert chain.run("alice", OpenAccount("savings", "own")).code == codes.OK
    savings = account_id("alice", "savings")
    assert chain.deposit(chain.alice, 600).code == codes.OK
    assert chain.deposit(chain.bob, 1_000).code == codes.OK
    chain.limits(holder_max=1_000)
    rejected(chain, "bob", Transfer(chain.bob, savings, CASH, 401, ""), codes.CASH_HOLDER_CAP)
    assert chain.run("bob", Transfer(chain.bob, savings, CASH, 400, "")).code == codes.OK
    chain.limits(holder_max=500)  # lowered below what alice holds
    rejected(chain, "bob", Transfer(chain.bob, chain.alice, CASH, 1, ""), codes.CASH_HOLDER_CAP)
    # moving between her own accounts changes nothing she holds
    assert chain.run("alice", Transfer(savings, chain.alice, CASH, 400, "")).code == codes.OK


def test_non_resident_cap_per_movement_applies_when_either_side_is_non_resident() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    chain.limits(nr_tx_max=500)
    to_sam = Transfer(chain.alice, chain.sam, CASH, 501, "")
    rejected(chain, "alice", to_sam, codes.NON_RESIDENT_LIMIT)
    assert chain.run("alice", Transfer(chain.alice, chain.bob, CASH, 501, "")).code == "ok"
    assert chain.run("alice", structs.replace(to_sam, amount=500)).code == codes.OK
    back = Transfer(chain.sam, chain.alice, CASH, 501, "")
    rejected(chain, BANK, Mint(CASH, chain.sam, 501, "DEP-S"), codes.NON_RESIDENT_LIMIT)
    assert chain.run(BANK, Mint(CASH, chain.sam, 500, "DEP-S")).code == codes.OK
    rejected(chain, "sam", back, codes.NON_RESIDENT_LIMIT)
    assert chain.run("sam", structs.replace(back, amount=500)).code == codes.OK
    # a party that cannot show residency is treated as non-resident
    chain.register("nobody")
    rejected(
        chain,
        "alice",
        Transfer(chain.alice, account_id("nobody"), CASH, 501, ""),
        codes.NON_RESIDENT_LIMIT,
    )


def test_non_resident_daily_cap_rolls_with_the_day() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    chain.limits(nr_day_max=1_000)
    day = chain.now_ms // DAY_MS + 1
    chain.at(day * DAY_MS + 1_000)
    for _ in range(2):
        assert chain.run("alice", Transfer(chain.alice, chain.sam, CASH, 400, "")).code == "ok"
    rejected(
        chain, "alice", Transfer(chain.alice, chain.sam, CASH, 201, ""), codes.NON_RESIDENT_LIMIT
    )
    assert chain.run("alice", Transfer(chain.alice, chain.sam, CASH, 200, "")).code == "ok"
    assert chain.value(non_resident_flow_key(CASH, "sam")) is not None
    assert chain.value(non_resident_flow_key(CASH, "alice")) is None  # residents are not counted
    # residents among themselves are not counted against anyone
    assert chain.run("alice", Transfer(chain.alice, chain.bob, CASH, 5_000, "")).code == "ok"
    chain.at((day + 1) * DAY_MS)
    assert chain.run("alice", Transfer(chain.alice, chain.sam, CASH, 1_000, "")).code == "ok"


def test_a_settlement_leg_of_cash_meets_the_limits() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    chain.limits(tx_max=1_000)
    legs = (Leg(chain.alice, chain.bob, CASH, 1_001),)
    receipt = chain.run("alice", ProposeSettlement(legs, chain.now_ms + DAY_MS, ""))
    assert receipt.code == codes.OK
    instruction = receipt.tx_id.hex()
    assert chain.run("alice", AffirmSettlement(instruction)).code == codes.OK
    record: Instruction = chain.value(instruction_key(instruction))
    assert (record.state, record.failed_code) == (FAILED, codes.CASH_TX_CAP)
    assert chain.balance(chain.bob, CASH) == 0


def test_the_dry_run_explains_every_limit_broken() -> None:
    chain = CashMarket()
    assert chain.deposit(chain.alice, 10_000).code == codes.OK
    chain.limits(holder_max=2_000, tx_max=1_000, nr_tx_max=500)
    body = Transfer(chain.alice, chain.sam, CASH, 3_000, "")
    found = explain(chain.ledger.values, chain.now_ms, "alice", body)
    assert [f.code for f in found] == [
        codes.CASH_TX_CAP,
        codes.CASH_HOLDER_CAP,
        codes.NON_RESIDENT_LIMIT,
    ]
    assert {f.check for f in found} == {"cash_limits"}
    near = explain(chain.ledger.values, chain.now_ms, "alice", structs.replace(body, amount=500))
    assert near == ()
