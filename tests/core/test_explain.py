"""Dry runs ("would this pass, and if not, every reason why") and what-ifs ("which holders
would a rule change make non-compliant"), both without a transaction."""

from __future__ import annotations

import pytest
from tests.regulated import INSTRUMENT, Regulated

from rantai.core import codes
from rantai.core.actions import FreezeAccount
from rantai.core.explain import HolderFinding, explain, holdings_of, what_if
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Burn, Mint
from rantai.core.kinds.parties import OpenAccount
from rantai.core.kinds.transfers import BatchTransfer, Movement, Transfer
from rantai.core.rules import (
    DEFAULT_TERMS,
    Eligibility,
    InvestorCategories,
    MaxBalance,
    MaxHolders,
    Residency,
    ShariahOnly,
    SupplyCap,
    Terms,
)

A, B, C = account_id("alice"), account_id("bob"), account_id("carol")


@pytest.fixture
def chain() -> Regulated:
    c = Regulated()
    c.investor("alice")
    c.investor("bob", category="accredited")
    c.investor("carol", residency="SG", kyc="1")
    rules = (Eligibility((), 2, True, True), Residency(True, ("MY",)), MaxBalance(600))
    c.instrument(rules)
    for account, units in ((A, 500), (B, 300)):
        assert c.mint(account, units).code == codes.OK
    return c


def _codes(chain: Regulated, sender: str, body: object) -> list[str]:
    found = explain(chain.ledger.values, chain.now_ms + 1_000, sender, body)  # type: ignore[arg-type]
    return [f.code for f in found]


def test_every_failing_check_in_execution_order(chain: Regulated) -> None:
    chain.governed(FreezeAccount(C))
    body = Transfer(A, C, INSTRUMENT, 501, "")
    before = dict(chain.ledger.values)
    assert _codes(chain, "alice", body) == [
        codes.FROZEN,
        codes.RULE_ELIGIBILITY,
        codes.RULE_RESIDENCY,
        codes.INSUFFICIENT_BALANCE,
    ]
    assert chain.ledger.values == before  # a dry run writes nothing
    assert chain.run("alice", body).code == codes.FROZEN  # execution stops at the first


def test_a_passing_transfer_has_no_findings(chain: Regulated) -> None:
    assert _codes(chain, "alice", Transfer(A, B, INSTRUMENT, 300, "")) == []
    assert _codes(chain, "alice", Transfer(A, B, INSTRUMENT, 301, "")) == [codes.RULE_MAX_BALANCE]


def test_reasons_name_the_party_and_the_claim(chain: Regulated) -> None:
    found = explain(chain.ledger.values, chain.now_ms, "alice", Transfer(A, C, INSTRUMENT, 1, ""))
    assert [(f.check, f.reason) for f in found] == [
        ("eligibility", "receiver carol: kyc level 1 below 2"),
        ("residency", "carol: residency SG not allowed"),
    ]


def test_kind_checks_mint_burn_and_batch(chain: Regulated) -> None:
    assert _codes(chain, "bob", Transfer(A, B, INSTRUMENT, 1, "")) == [codes.NOT_AUTHORIZED]
    assert _codes(chain, "alice", Transfer(A, "x:main", "NOPE", 1, "")) == [
        codes.UNKNOWN_INSTRUMENT,
        codes.UNKNOWN_ACCOUNT,
    ]
    assert _codes(chain, "alice", Transfer(A, B, INSTRUMENT, 0, "")) == [codes.BAD_AMOUNT]
    assert _codes(chain, "alice", Mint(INSTRUMENT, C, 1, "")) == [
        codes.NOT_AUTHORIZED,
        codes.RULE_ELIGIBILITY,
        codes.RULE_RESIDENCY,
    ]
    assert _codes(chain, "issuer", Mint(INSTRUMENT, B, 301, "")) == [codes.RULE_MAX_BALANCE]
    assert _codes(chain, "alice", Burn(INSTRUMENT, A, 501, "")) == [codes.INSUFFICIENT_BALANCE]
    moves = (Movement(A, B, INSTRUMENT, 1, ""), Movement(A, C, INSTRUMENT, 1, ""))
    assert _codes(chain, "alice", BatchTransfer(moves)) == [
        codes.RULE_ELIGIBILITY,
        codes.RULE_RESIDENCY,
    ]
    with pytest.raises(ValueError, match="no dry run"):
        explain(chain.ledger.values, 0, "alice", OpenAccount("x", "own"))


def test_what_if_names_the_holders_a_change_would_catch(chain: Regulated) -> None:
    assert chain.run("alice", OpenAccount("second", "own")).code == codes.OK
    assert (
        chain.run("alice", Transfer(A, account_id("alice", "second"), INSTRUMENT, 100, "")).code
        == "ok"
    )
    assert chain.claim("bob", "shariah_only").code == codes.OK
    holdings = holdings_of(chain.ledger.values, INSTRUMENT)
    assert holdings == [(A, 400), (account_id("alice", "second"), 100), (B, 300)]
    rules = (
        MaxBalance(450),
        InvestorCategories(("retail",)),
        MaxHolders(1),
        ShariahOnly(),
        SupplyCap(700),
    )
    found = what_if(chain.ledger.values, chain.now_ms, INSTRUMENT, rules, DEFAULT_TERMS, holdings)
    assert found == (
        HolderFinding("", "max_holders", codes.RULE_MAX_HOLDERS, "2 holders > 1"),
        HolderFinding("", "supply_cap", codes.RULE_SUPPLY_CAP, "supply 800 > 700"),
        HolderFinding("alice", "max_balance", codes.RULE_MAX_BALANCE, "alice holds 500 > 450"),
        HolderFinding(
            "bob",
            "investor_category",
            codes.RULE_INVESTOR_CATEGORY,
            "bob: category accredited not allowed",
        ),
        HolderFinding(
            "bob", "shariah", codes.RULE_SHARIAH, "bob accepts only Shariah-certified instruments"
        ),
    )
    certified = Terms(shariah_certified=True, issuer_freeze=False, issuers=())
    found = what_if(
        chain.ledger.values, chain.now_ms, INSTRUMENT, (ShariahOnly(),), certified, holdings
    )
    assert found == ()
