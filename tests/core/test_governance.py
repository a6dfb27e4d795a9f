"""Multi-agency governance: thresholds, double approval, expiry, veto, every action class,
reversals, and the lapse of a time-limited freeze."""

from __future__ import annotations

import pytest
from tests.regulated import BASIS, DAY_MS, INSTRUMENT, Regulated, rejected
from tests.support import CHAIN_ID, key_of

from rantai.core import codes, limits
from rantai.core.actions import (
    ChangeGovernance,
    ChangeRules,
    ForcedTransfer,
    FreezeAccount,
    FreezeAmount,
    FreezeParty,
    GrantRoleAction,
    HaltMarket,
    RecoverKey,
    Resume,
    RevokeRoleAction,
    SuspendInstrument,
    TrustIssuers,
    Unfreeze,
)
from rantai.core.errors import Malformed
from rantai.core.governance import GOVCONF_KEY, LegalBasis, VetoRight
from rantai.core.ids import account_id, account_owner
from rantai.core.kinds.governance import Approve, Propose, Veto
from rantai.core.kinds.instruments import Mint
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import Threshold
from rantai.core.rules import DEFAULT_TERMS, LotSize
from rantai.core.tx import check_envelope
from rantai.crypto.hashing import sha256

A, B = account_id("alice"), account_id("bob")


@pytest.fixture
def chain() -> Regulated:
    c = Regulated()
    c.investor("alice")
    c.investor("bob")
    c.instrument()
    assert c.mint(A, 1_000).code == codes.OK
    return c


def send(chain: Regulated, amount: int = 1, source: str = A, destination: str = B) -> str:
    owner = account_owner(source)
    return chain.run(owner, Transfer(source, destination, INSTRUMENT, amount, "")).code


def test_below_threshold_nothing_happens(chain: Regulated) -> None:
    proposal, receipt = chain.propose(FreezeParty("alice"))
    assert receipt.code == codes.OK
    assert [e.name for e in receipt.events] == ["proposal_created"]
    assert send(chain) == codes.OK  # 1 of 2 approvals: not frozen
    assert chain.value(f"proposal/{proposal}").status == "open"
    receipt = chain.approve(proposal, "MOD")
    assert [e.name for e in receipt.events] == ["proposal_approved", "frozen", "proposal_executed"]
    assert send(chain) == codes.FROZEN
    stored = chain.value(f"proposal/{proposal}")
    assert (stored.status, stored.approvals, stored.basis) == ("executed", ("SC", "MOD"), BASIS)


def test_double_approval_and_outsiders_refused(chain: Regulated) -> None:
    proposal, _ = chain.propose(FreezeParty("alice"))
    rejected(chain, "SC", Approve(proposal, ""), codes.ALREADY_APPROVED)
    rejected(chain, "alice", Approve(proposal, ""), codes.NOT_AUTHORIZED)
    rejected(chain, "BNM", Approve("ab" * 32, ""), codes.UNKNOWN_PROPOSAL)
    assert chain.approve(proposal, "BNM").code == codes.OK
    rejected(chain, "MOD", Approve(proposal, ""), codes.PROPOSAL_CLOSED)
    expires = chain.now_ms + DAY_MS
    rejected(
        chain, "alice", Propose(FreezeParty("bob"), BASIS, "", expires, 0), codes.NOT_AUTHORIZED
    )


def test_proposal_expiry_at_the_edge(chain: Regulated) -> None:
    expires = chain.now_ms + 10 * DAY_MS
    first, _ = chain.propose(FreezeParty("alice"), expires_ms=expires)
    second, _ = chain.propose(FreezeParty("bob"), expires_ms=expires)
    chain.at(expires - 1)
    assert chain.approve(first, "BNM").code == codes.OK
    chain.at(expires)
    rejected(chain, "BNM", Approve(second, ""), codes.PROPOSAL_EXPIRED)
    assert send(chain) == codes.FROZEN  # the first executed in time
    assert chain.value("ctl/bob") is None  # the second never will


def test_proposal_times_are_checked(chain: Regulated) -> None:
    now = chain.now_ms + 100 * DAY_MS
    freeze = FreezeParty("bob")
    for expires, valid_until in (
        (now, 0),
        (now + limits.PROPOSAL_TTL_MS_MAX + 1, 0),
        (now + DAY_MS, now),
    ):
        chain.at(now)
        rejected(chain, "SC", Propose(freeze, BASIS, "", expires, valid_until), codes.BAD_TIME)
    chain.at(now)
    edge = Propose(freeze, BASIS, "", now + limits.PROPOSAL_TTL_MS_MAX, now + 1)
    assert chain.run("SC", edge).code == codes.OK
    soon = now + DAY_MS
    with pytest.raises(Malformed) as info:  # only time-limited actions may lapse
        chain.tx("SC", Propose(Unfreeze("ab" * 32), BASIS, "", soon, now + 5))
    assert info.value.code == codes.BAD_FIELD


@pytest.mark.parametrize(
    "basis",
    [
        LegalBasis("because_we_can", "ref", bytes(32)),
        LegalBasis("court_order", "", bytes(32)),
        LegalBasis("court_order", "ref", b"short"),
    ],
)
def test_legal_basis_from_the_controlled_vocabulary(chain: Regulated, basis: LegalBasis) -> None:
    body = Propose(FreezeParty("bob"), basis, "", chain.now_ms + DAY_MS, 0)
    with pytest.raises(Malformed) as info:
        check_envelope(chain.envelope("SC", body, nonce=0), CHAIN_ID)
    assert info.value.code == codes.BAD_FIELD


def test_time_limited_freeze_lapses_without_a_transaction(chain: Regulated) -> None:
    until = chain.now_ms + 3 * DAY_MS
    chain.governed(FreezeAccount(A), valid_until_ms=until)
    chain.at(until - 1)
    assert send(chain) == codes.FROZEN
    chain.at(until)
    assert send(chain) == codes.OK  # lapsed on its own


def test_freeze_kinds_and_reversal_recorded(chain: Regulated) -> None:
    partial = chain.governed(FreezeAmount(A, INSTRUMENT, 900))
    assert send(chain, 101) == codes.FROZEN_AMOUNT
    whole = chain.governed(FreezeParty("bob"))
    assert send(chain) == codes.FROZEN
    undo = chain.governed(Unfreeze(whole))
    assert chain.value(f"proposal/{whole}").status == "reversed"
    assert chain.value(f"proposal/{whole}").closed_by == undo
    assert send(chain, 100) == codes.OK
    _, receipt = chain.propose(Unfreeze(whole))
    assert receipt.code == codes.NOT_ACTIVE  # reversed already
    _, receipt = chain.propose(Unfreeze(undo))
    assert receipt.code == codes.NOT_REVERSIBLE  # not a freeze
    chain.governed(Unfreeze(partial))
    assert send(chain, 900) == codes.OK
    assert chain.value("ctl/alice") is None  # nothing left in force


def test_forced_transfer_past_freezes_and_rules(chain: Regulated) -> None:
    chain.governed(FreezeParty("alice"))
    chain.governed(ChangeRules(INSTRUMENT, (LotSize(1_000),), DEFAULT_TERMS))
    proposal, _ = chain.propose(ForcedTransfer(A, B, INSTRUMENT, 250))
    receipt = chain.approve(proposal, "MOD")
    assert receipt.code == codes.OK
    forced = next(e for e in receipt.events if e.name == "forced_transfer")
    assert forced.attrs["holder"] == "alice"
    assert (chain.balance(A, INSTRUMENT), chain.balance(B, INSTRUMENT)) == (750, 250)
    assert chain.holding("bob", INSTRUMENT) == 250
    assert chain.value(f"holding/{INSTRUMENT}/bob") == B  # all of it in one account


def test_failed_execution_rejects_the_approval_and_keeps_the_proposal_open(
    chain: Regulated,
) -> None:
    proposal, _ = chain.propose(ForcedTransfer(A, B, INSTRUMENT, 1_000))
    assert send(chain, 1) == codes.OK
    rejected(chain, "BNM", Approve(proposal, ""), codes.INSUFFICIENT_BALANCE)
    assert chain.value(f"proposal/{proposal}").approvals == ("SC",)
    assert chain.run("issuer", Mint(INSTRUMENT, A, 1, "")).code == codes.OK
    assert chain.approve(proposal, "BNM").code == codes.OK


def test_key_recovery_keeps_holdings(chain: Regulated) -> None:
    new = key_of("alice-new").public_key
    chain.governed(RecoverKey("alice", (new,)), basis=LegalBasis("key_loss", "KL/1", sha256(b"")))
    assert chain.run("alice", Transfer(A, B, INSTRUMENT, 1, "")).code == codes.KEY_NOT_AUTHORIZED
    chain.nonces["alice"] -= 1  # a key check failure does not use the nonce up
    assert (
        chain.run("alice", Transfer(A, B, INSTRUMENT, 1, ""), key=key_of("alice-new")).code == "ok"
    )
    assert chain.balance(A, INSTRUMENT) == 999
    assert chain.value(f"key/{key_of('alice').public_key.hex()}") is None
    assert chain.value(f"key/{new.hex()}") == "alice"
    _, receipt = chain.propose(RecoverKey("bob", (new,)))
    assert receipt.code == codes.KEY_IN_USE


def test_suspension_halt_and_resume(chain: Regulated) -> None:
    suspension = chain.governed(SuspendInstrument(INSTRUMENT))
    assert send(chain) == codes.INSTRUMENT_SUSPENDED
    _, receipt = chain.propose(SuspendInstrument(INSTRUMENT))
    assert receipt.code == codes.NO_CHANGE
    chain.governed(Resume(suspension))
    assert send(chain) == codes.OK
    halt = chain.governed(HaltMarket("sukuk"), valid_until_ms=chain.now_ms + DAY_MS)
    assert send(chain) == codes.MARKET_HALTED
    chain.governed(Resume(halt))
    assert send(chain) == codes.OK
    _, receipt = chain.propose(Resume(halt))
    assert receipt.code == codes.NOT_ACTIVE


def test_trusted_issuers_and_roles_through_governance(chain: Regulated) -> None:
    chain.register("kyc2", ("investor",), "organisation")
    _, receipt = chain.propose(TrustIssuers("kyc", ("kyc2",)))
    assert receipt.code == codes.ROLE_NOT_HELD
    chain.governed(GrantRoleAction("kyc2", "claim_issuer"))
    chain.governed(TrustIssuers("kyc", ("kyc2",)))
    assert chain.claim("bob", "kyc", "3").code == codes.UNTRUSTED_ISSUER  # kyc-provider now
    assert chain.claim("bob", "kyc", "3", issuer="kyc2").code == codes.OK
    chain.governed(RevokeRoleAction("kyc2", "claim_issuer"))
    assert chain.claim("bob", "kyc", "3", issuer="kyc2").code == codes.NOT_AUTHORIZED


def test_governance_needs_every_agency_and_configures_thresholds_and_vetoes(
    chain: Regulated,
) -> None:
    change = ChangeGovernance(
        thresholds=(Threshold("freeze", 1),),
        vetoes=(VetoRight("forced_transfer", ("BNM",)),),
    )
    proposal, _ = chain.propose(change)
    assert chain.approve(proposal, "BNM").code == codes.OK
    assert chain.value(GOVCONF_KEY) is None  # 2 of 3 is not enough for governance
    assert chain.approve(proposal, "MOD").code == codes.OK
    assert chain.value(GOVCONF_KEY) == change_config(change)
    _, receipt = chain.propose(FreezeParty("alice"))  # one agency now suffices
    assert [e.name for e in receipt.events][-1] == "proposal_executed"
    forced, _ = chain.propose(ForcedTransfer(A, B, INSTRUMENT, 1))
    rejected(chain, "MOD", Veto(forced, "no"), codes.NOT_AUTHORIZED)
    assert chain.run("BNM", Veto(forced, "not proportionate")).code == codes.OK
    assert chain.value(f"proposal/{forced}").status == "vetoed"
    rejected(chain, "MOD", Approve(forced, ""), codes.PROPOSAL_CLOSED)
    bad = ChangeGovernance((Threshold("governance", 2),), ())
    _, receipt = chain.propose(bad)
    assert receipt.code == codes.BAD_FIELD


def change_config(change: ChangeGovernance) -> object:
    from rantai.core.governance import GovConfig

    return GovConfig(change.thresholds, change.vetoes)


def test_each_action_class_executes_on_its_threshold(chain: Regulated) -> None:
    from rantai.core.kinds.genesis import ACTION_CLASSES

    chain.register("newbank", ("investor",), "organisation")
    freeze = chain.governed(FreezeAmount(A, INSTRUMENT, 1))
    samples = {
        "freeze": FreezeAccount(B),
        "unfreeze": Unfreeze(freeze),
        "forced_transfer": ForcedTransfer(A, B, INSTRUMENT, 1),
        "key_recovery": RecoverKey("bob", (key_of("bob-2").public_key,)),
        "instrument_suspension": HaltMarket("fund"),
        "rule_change": ChangeRules(INSTRUMENT, (LotSize(1),), DEFAULT_TERMS),
        "claim_issuers": TrustIssuers("x-accredited-by-sc", ("kyc-provider",)),
        "roles": GrantRoleAction("newbank", "cash_issuer"),
        "governance": ChangeGovernance((), (VetoRight("roles", ("MOD",)),)),
    }
    assert set(samples) == set(ACTION_CLASSES) - {"reserve"}  # reserve: the reserve issue
    for action_class, action in samples.items():
        assert action.action_class == action_class
        proposal, receipt = chain.propose(action)
        assert receipt.code == codes.OK, (action_class, receipt)
        approvers = ("BNM", "MOD") if action_class == "governance" else ("BNM",)
        for agency in approvers:
            receipt = chain.approve(proposal, agency)
            assert receipt.code == codes.OK, (action_class, receipt)
        assert chain.value(f"proposal/{proposal}").status == "executed", action_class
