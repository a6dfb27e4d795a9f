"""One test per rule and per enforcement check: it passes at the edge, fails one unit beyond
with its own code, and the failure changes nothing but the sender's nonce."""

from __future__ import annotations

import pytest
from tests.regulated import (
    DAY_MS,
    INSTRUMENT,
    YEAR_MS,
    Regulated,
    open_travel,
    rejected,
    seal_travel,
)

from rantai.core import codes
from rantai.core.actions import (
    ChangeRules,
    FreezeAccount,
    FreezeAmount,
    HaltMarket,
    SuspendInstrument,
)
from rantai.core.ids import account_id, account_owner
from rantai.core.kinds.claims import RevokeClaim
from rantai.core.kinds.instruments import Burn, CreateInstrument, Mint
from rantai.core.kinds.parties import OpenAccount
from rantai.core.kinds.policies import (
    AppointAgent,
    ApproveTransfer,
    PauseInstrument,
    SetRules,
    UnpauseInstrument,
)
from rantai.core.kinds.transfers import Transfer, TravelTransfer
from rantai.core.rules import (
    DEFAULT_TERMS,
    ConditionalTransfer,
    Eligibility,
    InvestorCategories,
    Lockup,
    LotSize,
    MaxBalance,
    MaxHolders,
    MinHolding,
    Residency,
    RetailLimit,
    ShariahOnly,
    SupplyCap,
    Terms,
    TravelRule,
    VolumeLimit,
)
from rantai.core.travel import TravelPayload

A, B, C = account_id("alice"), account_id("bob"), account_id("carol")


@pytest.fixture
def chain() -> Regulated:
    c = Regulated()
    c.investor("alice")
    c.investor("bob")
    return c


def send(chain: Regulated, amount: int, source: str = A, destination: str = B) -> str:
    """Transfer as the source's owner; the receipt's code."""
    owner = account_owner(source)
    return chain.run(owner, Transfer(source, destination, INSTRUMENT, amount, "")).code


def refuse(chain: Regulated, amount: int, code: str, source: str = A, destination: str = B) -> None:
    owner = account_owner(source)
    rejected(chain, owner, Transfer(source, destination, INSTRUMENT, amount, ""), code)


# --- rules --------------------------------------------------------------------------------


def test_eligibility_kyc_level_at_the_edge(chain: Regulated) -> None:
    chain.investor("carol", kyc="1")
    chain.instrument((Eligibility(("sanctions_screened",), 2, True, True),))
    assert chain.mint(A, 100).code == codes.OK
    assert send(chain, 10) == codes.OK  # bob's level 2 is the minimum
    refuse(chain, 10, codes.RULE_ELIGIBILITY, destination=C)  # carol's 1 is one below
    rejected(chain, "issuer", Mint(INSTRUMENT, C, 1, ""), codes.RULE_ELIGIBILITY)


def test_eligibility_claim_expiry_is_enforced_at_the_edge(chain: Regulated) -> None:
    chain.instrument((Eligibility(("kyc",), 0, False, True),))
    assert chain.mint(A, 100).code == codes.OK
    chain.register("carol")
    expires = chain.now_ms + 10 * DAY_MS
    assert chain.claim("carol", "kyc", "3", expires_ms=expires).code == codes.OK
    chain.at(expires - 1)
    assert send(chain, 1, destination=C) == codes.OK  # one millisecond before expiry
    chain.at(expires)
    refuse(chain, 1, codes.RULE_ELIGIBILITY, destination=C)  # at expiry it no longer counts


def test_eligibility_sender_side_and_unverified_receiver(chain: Regulated) -> None:
    chain.instrument((Eligibility(("kyc",), 0, True, True),))
    chain.register("carol")  # no claims at all
    assert chain.mint(A, 100).code == codes.OK
    refuse(chain, 1, codes.RULE_ELIGIBILITY, destination=C)
    assert chain.run("alice", RevokeClaim("alice", "kyc")).code == codes.UNKNOWN_CLAIM
    assert chain.run("kyc-provider", RevokeClaim("alice", "kyc")).code == codes.OK
    refuse(chain, 1, codes.RULE_ELIGIBILITY)  # the sender's own claim is revoked


def test_investor_category(chain: Regulated) -> None:
    chain.investor("carol", category="accredited")
    chain.instrument((InvestorCategories(("accredited", "institutional")),))
    assert chain.mint(C, 100).code == codes.OK
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 1, ""), codes.RULE_INVESTOR_CATEGORY)
    assert send(chain, 10, C, account_id("carol")) == codes.SELF_TRANSFER
    refuse(chain, 10, codes.RULE_INVESTOR_CATEGORY, C, B)


def test_residency_allow_and_deny(chain: Regulated) -> None:
    chain.investor("carol", residency="SG")
    chain.instrument((Residency(True, ("MY", "BN")),))
    assert chain.mint(A, 100).code == codes.OK
    assert send(chain, 1) == codes.OK
    refuse(chain, 1, codes.RULE_RESIDENCY, destination=C)
    chain.instrument((Residency(False, ("SG",)),), code="DENY1")
    assert chain.mint(A, 100, "DENY1").code == codes.OK
    assert chain.run("alice", Transfer(A, B, "DENY1", 1, "")).code == codes.OK
    rejected(chain, "alice", Transfer(A, C, "DENY1", 1, ""), codes.RULE_RESIDENCY)


def test_max_balance_per_identity_across_accounts(chain: Regulated) -> None:
    chain.instrument((MaxBalance(1_000),))
    assert chain.run("alice", OpenAccount("second", "own")).code == codes.OK
    second = account_id("alice", "second")
    assert chain.mint(A, 600).code == codes.OK
    assert chain.mint(second, 400).code == codes.OK  # 1,000 across two accounts: the edge
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 1, ""), codes.RULE_MAX_BALANCE)
    assert chain.mint(B, 1_000).code == codes.OK
    refuse(chain, 1, codes.RULE_MAX_BALANCE, B, A)
    # Between one identity's own accounts the holding does not change: no limit applies.
    assert chain.run("alice", Transfer(A, second, INSTRUMENT, 600, "")).code == codes.OK
    assert chain.holding("alice", INSTRUMENT) == 1_000
    assert chain.value(f"holding/{INSTRUMENT}/alice") == 1_000  # across two accounts: the sum


def test_a_holding_names_its_one_account_until_a_second_one_holds(chain: Regulated) -> None:
    chain.instrument((MaxHolders(10),))
    holding = f"holding/{INSTRUMENT}/alice"
    assert chain.mint(A, 500).code == codes.OK
    assert chain.value(holding) == A  # all of alice's units in one account
    assert chain.mint(B, 100).code == codes.OK
    assert send(chain, 200, A, B) == codes.OK
    # Both hold in one account before and after: the transfer writes no holding.
    assert not [k for k in chain.outcomes[-1].changes if k.startswith("holding/")]
    assert (chain.holding("alice", INSTRUMENT), chain.holding("bob", INSTRUMENT)) == (300, 300)
    assert chain.run("alice", OpenAccount("second", "own")).code == codes.OK
    second = account_id("alice", "second")
    assert send(chain, 100, B, second) == codes.OK
    assert chain.value(holding) == 400  # two accounts now: the sum
    assert send(chain, 300, A, B) == codes.OK
    assert chain.value(holding) == 100  # the sum stays until alice holds nothing
    assert chain.value(f"holders/{INSTRUMENT}") == 2
    assert send(chain, 100, second, B) == codes.OK
    assert chain.value(holding) is None
    assert chain.value(f"holders/{INSTRUMENT}") == 1
    assert send(chain, 600, B, A) == codes.OK  # bob empties his account as alice comes back
    assert (chain.value(holding), chain.value(f"holding/{INSTRUMENT}/bob")) == (A, None)
    assert chain.value(f"holders/{INSTRUMENT}") == 1


def test_max_holders_counts_identities_incrementally(chain: Regulated) -> None:
    chain.investor("carol")
    chain.instrument((MaxHolders(2),))
    assert chain.mint(A, 100).code == codes.OK
    assert chain.mint(B, 100).code == codes.OK  # holder 2 of 2
    assert chain.value(f"holders/{INSTRUMENT}") == 2
    rejected(chain, "issuer", Mint(INSTRUMENT, C, 1, ""), codes.RULE_MAX_HOLDERS)
    refuse(chain, 1, codes.RULE_MAX_HOLDERS, A, C)  # holder 3 of 2
    assert send(chain, 100, A, C) == codes.OK  # alice leaves as carol arrives: still 2
    assert chain.value(f"holders/{INSTRUMENT}") == 2
    assert chain.value(f"holding/{INSTRUMENT}/alice") is None


def test_min_holding(chain: Regulated) -> None:
    chain.investor("carol")
    chain.instrument((MinHolding(100),))
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 99, ""), codes.RULE_MIN_HOLDING)
    assert chain.mint(A, 300).code == codes.OK
    refuse(chain, 99, codes.RULE_MIN_HOLDING)  # bob would hold 99
    assert send(chain, 100) == codes.OK  # bob holds 100, alice keeps 200
    refuse(chain, 101, codes.RULE_MIN_HOLDING, A, C)  # alice would keep 99
    assert send(chain, 100, A, C) == codes.OK  # alice keeps exactly 100
    assert send(chain, 100, A, C) == codes.OK  # and may leave entirely
    rejected(chain, "bob", Burn(INSTRUMENT, B, 1, ""), codes.RULE_MIN_HOLDING)


def test_lot_size(chain: Regulated) -> None:
    chain.instrument((LotSize(10),))
    assert chain.mint(A, 100).code == codes.OK
    assert send(chain, 10) == codes.OK
    refuse(chain, 11, codes.RULE_LOT_SIZE)
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 9, ""), codes.RULE_LOT_SIZE)


def test_lockup_until_a_block_time(chain: Regulated) -> None:
    until = chain.now_ms + 30 * DAY_MS
    chain.instrument((Lockup(until),))
    assert chain.mint(A, 100).code == codes.OK  # issuing into a lock-up is allowed
    chain.at(until - 1)
    refuse(chain, 1, codes.RULE_LOCKUP)
    chain.at(until)
    assert send(chain, 1) == codes.OK


def test_volume_limit_rolling_window(chain: Regulated) -> None:
    chain.instrument((VolumeLimit(1_000, 7),))
    assert chain.mint(A, 10_000).code == codes.OK
    day0 = (chain.now_ms // DAY_MS + 1) * DAY_MS  # the start of the next UTC day
    chain.at(day0)
    assert send(chain, 600) == codes.OK
    chain.at(day0 + 6 * DAY_MS)  # the 7th day of the window still counts day 0
    assert send(chain, 400) == codes.OK  # 1,000 in 7 days: the edge
    refuse(chain, 1, codes.RULE_VOLUME_LIMIT)
    chain.at(day0 + 7 * DAY_MS)  # day 0 rolls out; 400 stays in
    assert send(chain, 600) == codes.OK
    refuse(chain, 1, codes.RULE_VOLUME_LIMIT)
    window = chain.value(f"vol/{INSTRUMENT}/alice")
    assert [b.amount for b in window.buckets] == [600, 400, 600]


def test_supply_cap_rule(chain: Regulated) -> None:
    chain.instrument((SupplyCap(500),))
    assert chain.mint(A, 500).code == codes.OK
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 1, ""), codes.RULE_SUPPLY_CAP)


def test_shariah_only_holders_get_certified_instruments(chain: Regulated) -> None:
    assert chain.claim("bob", "shariah_only").code == codes.OK
    chain.instrument((ShariahOnly(),))
    assert chain.mint(A, 100).code == codes.OK  # alice has no preference
    refuse(chain, 1, codes.RULE_SHARIAH)
    certified = Terms(shariah_certified=True, issuer_freeze=False, issuers=())
    chain.instrument((ShariahOnly(),), certified, code="SUKUK2")
    assert chain.mint(B, 100, "SUKUK2").code == codes.OK


def test_retail_limit_per_issuer_and_in_total(chain: Regulated) -> None:
    chain.investor("carol", category="accredited")
    rule = RetailLimit(per_issuer_max=5_000, total_max=8_000, unit_price_minor=100, period_days=365)
    chain.instrument((rule,))
    assert chain.mint(A, 50).code == codes.OK  # 50 units at 100 sen: 5,000, the edge
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 1, ""), codes.RULE_RETAIL_LIMIT)
    assert chain.mint(C, 1_000).code == codes.OK  # not retail: no limit
    chain.register("issuer2", ("issuer",), "organisation")
    assert chain.run("issuer2", CreateInstrument("EQ2", "equity", "eq", 0, 10**9)).code == "ok"
    assert chain.run("issuer2", SetRules("EQ2", (rule,), DEFAULT_TERMS)).code == codes.OK
    assert chain.run("issuer2", Mint("EQ2", A, 30, "")).code == codes.OK  # 8,000 in total
    rejected(chain, "issuer2", Mint("EQ2", A, 1, ""), codes.RULE_RETAIL_LIMIT)
    rejected(chain, "carol", Transfer(C, A, INSTRUMENT, 1, ""), codes.RULE_RETAIL_LIMIT)
    chain.at(chain.now_ms + YEAR_MS)  # a year on, the window is empty again
    assert chain.run("carol", Transfer(C, A, INSTRUMENT, 50, "")).code == codes.OK


def test_retail_limit_rounds_value_up() -> None:
    chain = Regulated()
    chain.investor("alice")
    chain.register("issuer2", ("issuer",), "organisation")
    rule = RetailLimit(per_issuer_max=100, total_max=100, unit_price_minor=1, period_days=1)
    assert chain.run("issuer2", CreateInstrument("FR", "fund", "f", 2, 10**9)).code == "ok"
    assert chain.run("issuer2", SetRules("FR", (rule,), DEFAULT_TERMS)).code == codes.OK
    # 10,000 minor units at 1 sen per whole unit (decimals 2) are worth 100 sen: the edge.
    assert chain.run("issuer2", Mint("FR", A, 9_999, "")).code == codes.OK  # 99.99 -> 100
    rejected(chain, "issuer2", Mint("FR", A, 1, ""), codes.RULE_RETAIL_LIMIT)


def test_conditional_transfer_needs_an_agents_approval(chain: Regulated) -> None:
    chain.register("agent", ("issuer_agent",))
    assert chain.run("issuer", AppointAgent("agent")).code == codes.OK
    chain.instrument((ConditionalTransfer(),))
    assert chain.mint(A, 100).code == codes.OK  # minting needs no approval
    refuse(chain, 10, codes.RULE_CONDITIONAL)
    assert chain.run("agent", ApproveTransfer(INSTRUMENT, A, B, 10)).code == codes.OK
    refuse(chain, 11, codes.RULE_CONDITIONAL)  # not the approved amount
    assert send(chain, 10) == codes.OK
    refuse(chain, 10, codes.RULE_CONDITIONAL)  # the approval is used up
    rejected(chain, "bob", ApproveTransfer(INSTRUMENT, A, B, 10), codes.NOT_AUTHORIZED)


def test_travel_rule_threshold_and_sealed_data(chain: Regulated) -> None:
    chain.instrument((TravelRule(1_000),))
    assert chain.mint(A, 10_000).code == codes.OK
    assert send(chain, 999) == codes.OK
    refuse(chain, 1_000, codes.RULE_TRAVEL)
    payload = TravelPayload(
        "Alice Tan", A, "1 Jalan Ampang, KL", "900101-14-5678", "", "Bob Lim", B, bytes(range(32))
    )
    readers = ("BNM", "MOD", "SC", "registrar")  # the agencies and both parties' registrar
    body = TravelTransfer(A, B, INSTRUMENT, 1_000, "", seal_travel(payload, readers))
    receipt = chain.run("alice", body)
    assert receipt.code == codes.OK, receipt
    assert open_travel(body.travel.copies[0], "BNM") == payload
    short = TravelTransfer(A, B, INSTRUMENT, 1_000, "", seal_travel(payload, readers[:3]))
    rejected(chain, "alice", short, codes.TRAVEL_INCOMPLETE)


# --- enforcement before rules -------------------------------------------------------------


def test_paused_by_issuer_or_agent(chain: Regulated) -> None:
    chain.register("agent", ("issuer_agent",))
    assert chain.run("issuer", AppointAgent("agent")).code == codes.OK
    chain.instrument()
    assert chain.mint(A, 100).code == codes.OK
    assert chain.run("agent", PauseInstrument(INSTRUMENT)).code == codes.OK
    refuse(chain, 1, codes.PAUSED)
    assert chain.mint(A, 1).code == codes.OK  # the issuer still mints while paused
    rejected(chain, "agent", PauseInstrument(INSTRUMENT), codes.NO_CHANGE)
    rejected(chain, "alice", UnpauseInstrument(INSTRUMENT), codes.NOT_AUTHORIZED)
    assert chain.run("issuer", UnpauseInstrument(INSTRUMENT)).code == codes.OK
    assert send(chain, 1) == codes.OK


def test_suspended_and_halted_stop_every_movement(chain: Regulated) -> None:
    chain.instrument()
    assert chain.mint(A, 100).code == codes.OK
    chain.governed(SuspendInstrument(INSTRUMENT))
    refuse(chain, 1, codes.INSTRUMENT_SUSPENDED)
    rejected(chain, "issuer", Mint(INSTRUMENT, A, 1, ""), codes.INSTRUMENT_SUSPENDED)
    rejected(chain, "alice", Burn(INSTRUMENT, A, 1, ""), codes.INSTRUMENT_SUSPENDED)
    chain.governed(HaltMarket("sukuk"))
    refuse(chain, 1, codes.MARKET_HALTED)  # the breaker comes first


def test_frozen_account_both_ways(chain: Regulated) -> None:
    chain.instrument()
    assert chain.mint(A, 100).code == codes.OK
    assert chain.mint(B, 100).code == codes.OK
    chain.governed(FreezeAccount(B))
    refuse(chain, 1, codes.FROZEN)  # into it
    refuse(chain, 1, codes.FROZEN, B, A)  # out of it


def test_frozen_amount_at_the_edge(chain: Regulated) -> None:
    chain.instrument()
    assert chain.mint(A, 1_000).code == codes.OK
    chain.governed(FreezeAmount(A, INSTRUMENT, 300))
    refuse(chain, 701, codes.FROZEN_AMOUNT)
    refuse(chain, 1_001, codes.INSUFFICIENT_BALANCE)
    assert send(chain, 700) == codes.OK  # the balance less the frozen 300
    refuse(chain, 1, codes.FROZEN_AMOUNT)
    assert chain.mint(A, 1).code == codes.OK  # receiving is not blocked
    assert send(chain, 1) == codes.OK


def test_sanctions_revocation_blocks_at_once_on_every_instrument(chain: Regulated) -> None:
    assert chain.run("issuer", CreateInstrument("PLAIN", "bond", "p", 0, 10**9)).code == "ok"
    assert chain.run("issuer", Mint("PLAIN", A, 100, "")).code == codes.OK  # no rules at all
    assert chain.run("screener", RevokeClaim("alice", "sanctions_screened")).code == codes.OK
    rejected(chain, "alice", Transfer(A, B, "PLAIN", 1, ""), codes.SANCTIONED)
    assert chain.run("issuer", Mint("PLAIN", B, 1, "")).code == codes.OK
    rejected(chain, "bob", Transfer(B, A, "PLAIN", 1, ""), codes.SANCTIONED)  # nor receive
    rejected(chain, "issuer", Mint("PLAIN", A, 1, ""), codes.SANCTIONED)
    # Another issuer's claim cannot lift it; only the screener that revoked, by re-issuing.
    assert chain.claim("alice", "sanctions_screened", "UN-2026-02").code == codes.OK
    assert chain.run("alice", Transfer(A, B, "PLAIN", 1, "")).code == codes.OK


# --- rules are set before the first mint, then only by governance ------------------------


def test_rules_locked_after_the_first_mint_and_tracking(chain: Regulated) -> None:
    chain.instrument()
    assert chain.mint(A, 2).code == codes.OK
    rejected(
        chain, "issuer", SetRules(INSTRUMENT, (LotSize(1),), DEFAULT_TERMS), codes.RULES_LOCKED
    )
    chain.governed(ChangeRules(INSTRUMENT, (MaxHolders(1),), DEFAULT_TERMS))
    refuse(chain, 1, codes.RULE_MAX_HOLDERS)
    # An instrument minted before it had any policy cannot get holding rules later.
    assert chain.run("issuer", CreateInstrument("OLD", "bond", "o", 0, 10**9)).code == "ok"
    assert chain.run("issuer", Mint("OLD", A, 5, "")).code == codes.OK
    _, receipt = chain.propose(ChangeRules("OLD", (MaxBalance(1),), DEFAULT_TERMS))
    assert receipt.code == codes.NEEDS_TRACKING
    chain.governed(ChangeRules("OLD", (LotSize(5),), DEFAULT_TERMS))
    rejected(chain, "alice", Transfer(A, B, "OLD", 1, ""), codes.RULE_LOT_SIZE)


def test_claims_narrowed_per_instrument(chain: Regulated) -> None:
    chain.register("kyc2", ("investor",), "organisation")
    from rantai.core.actions import GrantRoleAction, TrustIssuers

    chain.governed(GrantRoleAction("kyc2", "claim_issuer"))
    chain.governed(TrustIssuers("kyc", ("kyc-provider", "kyc2")))
    chain.register("carol")
    assert chain.claim("carol", "kyc", "3", issuer="kyc2").code == codes.OK
    from rantai.core.rules import TopicIssuers

    narrow = Terms(False, False, (TopicIssuers("kyc", ("kyc-provider",)),))
    chain.instrument((Eligibility(("kyc",), 0, False, True),), narrow)
    rejected(chain, "issuer", Mint(INSTRUMENT, C, 1, ""), codes.RULE_ELIGIBILITY)
    assert chain.mint(A, 1).code == codes.OK
