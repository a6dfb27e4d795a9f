"""Governance actions: what a proposal does once enough agencies approved it.

Each action is a tagged record of one action class (thresholds in ``rantai.core.governance``).
``validate`` runs when the action is proposed and again when it executes (state may have
changed in between); ``execute`` runs in the transaction whose approval meets the threshold.
Actions that take from or block a holder emit an event naming it (``holder``).

| tag | class | fields | time-limited |
|---|---|---|---|
| ``freeze_party`` | freeze | party | yes |
| ``freeze_account`` | freeze | account | yes |
| ``freeze_amount`` | freeze | account, instrument, amount | yes |
| ``unfreeze`` | unfreeze | proposal (the freeze's) | |
| ``forced_transfer`` | forced_transfer | source, destination, instrument, amount | |
| ``recover_key`` | key_recovery | party, keys | |
| ``suspend_instrument`` | instrument_suspension | instrument | yes |
| ``halt_market`` | instrument_suspension | kind (an instrument kind) | yes |
| ``resume`` | instrument_suspension | proposal (the suspension's or halt's) | |
| ``change_rules`` | rule_change | instrument, rules, terms | |
| ``revoke_certification`` | rule_change | instrument (a sukuk's Shariah certification) | |
| ``trust_issuers`` | claim_issuers | topic, issuers | |
| ``grant_role``, ``revoke_role`` | roles | party, role | |
| ``change_governance`` | governance | thresholds, vetoes | |

A time-limited action may carry ``valid_until_ms``: from that block time on it no longer
applies, without a transaction. ``unfreeze`` and ``resume`` reverse an earlier proposal by
its id; the earlier proposal's status becomes ``reversed``, naming the reversal.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec
from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import (
    balance,
    credit,
    debit,
    has_role,
    is_tracked,
    require_account,
    require_instrument,
    require_party,
)
from rantai.core.bonds import Certification, certification_key
from rantai.core.claims import check_topic, trust_key, trusted_issuers
from rantai.core.controls import (
    GOVERNANCE,
    Breaker,
    Freeze,
    PartyControls,
    Suspension,
    add_freeze,
    breaker_key,
    ctl_key,
    in_force,
    remove_freezes,
)
from rantai.core.errors import Malformed, Rejection
from rantai.core.governance import (
    GOVCONF_KEY,
    GovConfig,
    LegalBasis,
    VetoRight,
    agency_ids,
    proposal_key,
)
from rantai.core.ids import (
    check_account_id,
    check_amount,
    check_instrument_code,
    check_party_id,
    check_public_keys,
    check_tx_id,
)
from rantai.core.records import (
    ACTION_CLASSES,
    INSTRUMENT_KINDS,
    ROLES,
    Party,
    Threshold,
    party_key,
    public_key_key,
)
from rantai.core.registers import register_scannable
from rantai.core.rules import AnyRule, Policy, Terms, check_policy_form, new_policy, policy_key
from rantai.core.state import StateView, register_namespace
from rantai.core.tx import TxContext

__all__ = [
    "Action",
    "AnyAction",
    "ChangeGovernance",
    "ChangeRules",
    "ForcedTransfer",
    "FreezeAccount",
    "FreezeAmount",
    "FreezeParty",
    "GrantRoleAction",
    "HaltMarket",
    "Proposal",
    "RecoverKey",
    "Resume",
    "RevokeCertification",
    "RevokeRoleAction",
    "SuspendInstrument",
    "TrustIssuers",
    "Unfreeze",
]

OPEN, EXECUTED, VETOED, REVERSED = "open", "executed", "vetoed", "reversed"


class Action(msgspec.Struct, frozen=True, array_like=True, tag=True):
    """A governance action. Subclasses set ``tag`` and ``action_class``."""

    action_class: ClassVar[str] = ""
    time_limited: ClassVar[bool] = False

    def check_form(self) -> None:
        """Stateless checks of the fields (Malformed)."""

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        """Stateful checks, at proposal and at execution (Rejection)."""

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        """Take effect. ``validate`` has just passed."""
        raise NotImplementedError


def _holder_event(
    ctx: TxContext, name: str, holder: str, proposal: Proposal, **attrs: str | int
) -> None:
    ctx.emit(name, holder=holder, proposal=proposal.id, basis=proposal.basis.code, **attrs)


class FreezeParty(Action, frozen=True, tag="freeze_party"):
    """Block every movement out of and into every account of ``party``."""

    action_class = "freeze"
    time_limited = True

    party: str

    def check_form(self) -> None:
        check_party_id(self.party)

    def holder(self, view: StateView) -> str:
        return self.party

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_party(view, self.party)

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        _freeze(ctx, proposal, self.party, "", "", 0)


class FreezeAccount(Action, frozen=True, tag="freeze_account"):
    """Block every movement out of and into ``account``."""

    action_class = "freeze"
    time_limited = True

    account: str

    def check_form(self) -> None:
        check_account_id(self.account)

    def holder(self, view: StateView) -> str:
        return require_account(view, self.account).owner

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_account(view, self.account)

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        _freeze(ctx, proposal, self.holder(ctx.view), self.account, "", 0)


class FreezeAmount(Action, frozen=True, tag="freeze_amount"):
    """Keep ``amount`` units of ``instrument`` in ``account``: only the rest may leave."""

    action_class = "freeze"
    time_limited = True

    account: str
    instrument: str
    amount: int

    def check_form(self) -> None:
        check_account_id(self.account)
        check_instrument_code(self.instrument)
        check_amount(self.amount)

    def holder(self, view: StateView) -> str:
        return require_account(view, self.account).owner

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_account(view, self.account)
        require_instrument(view, self.instrument)

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        holder = self.holder(ctx.view)
        _freeze(ctx, proposal, holder, self.account, self.instrument, self.amount)


def _freeze(
    ctx: TxContext, proposal: Proposal, party: str, account: str, instrument: str, amount: int
) -> None:
    freeze = Freeze(
        proposal.id, GOVERNANCE, ctx.sender, account, instrument, amount, proposal.valid_until_ms
    )
    add_freeze(ctx.view, party, freeze, ctx.timestamp_ms)
    _holder_event(
        ctx,
        "frozen",
        party,
        proposal,
        account=account,
        instrument=instrument,
        amount=amount,
        valid_until_ms=proposal.valid_until_ms,
    )


_FREEZES = (FreezeParty, FreezeAccount, FreezeAmount)


def _require_executed(view: StateView, proposal_id: str, kinds: tuple[type, ...]) -> Proposal:
    target: Proposal | None = view.get(proposal_key(proposal_id))
    if target is None:
        raise Rejection(codes.UNKNOWN_PROPOSAL, f"no proposal {proposal_id[:80]!r}")
    if not isinstance(target.action, kinds):
        raise Rejection(codes.NOT_REVERSIBLE, f"proposal {proposal_id} is not of that kind")
    if target.status != EXECUTED:
        raise Rejection(codes.NOT_ACTIVE, f"proposal {proposal_id} is {target.status}")
    return target


def _reversed(ctx: TxContext, target: Proposal, proposal: Proposal) -> None:
    ctx.view.put(proposal_key(target.id), replace(target, status=REVERSED, closed_by=proposal.id))


class Unfreeze(Action, frozen=True, tag="unfreeze"):
    """Lift the freeze that proposal ``proposal`` put in force (even a lapsed one)."""

    action_class = "unfreeze"

    proposal: str

    def check_form(self) -> None:
        _check_proposal_id(self.proposal)

    def _target(self, view: StateView) -> tuple[Proposal, str]:
        target = _require_executed(view, self.proposal, _FREEZES)
        action = target.action
        holder = action.holder(view) if isinstance(action, _FREEZES) else ""
        controls: PartyControls | None = view.get(ctl_key(holder))
        if controls is None or all(f.id != self.proposal for f in controls.freezes):
            raise Rejection(codes.NOT_ACTIVE, "the freeze is no longer recorded")
        return target, holder

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        self._target(view)

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        target, holder = self._target(ctx.view)
        remove_freezes(ctx.view, holder, {self.proposal})
        _reversed(ctx, target, proposal)
        _holder_event(ctx, "unfrozen", holder, proposal, reverses=self.proposal)


class ForcedTransfer(Action, frozen=True, tag="forced_transfer"):
    """Move units between any two accounts, past freezes and rules (a court order)."""

    action_class = "forced_transfer"

    source: str
    destination: str
    instrument: str
    amount: int

    def check_form(self) -> None:
        check_account_id(self.source, "from")
        check_account_id(self.destination, "to")
        check_instrument_code(self.instrument)
        check_amount(self.amount)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_instrument(view, self.instrument)
        require_account(view, self.source)
        require_account(view, self.destination)
        if self.source == self.destination:
            raise Rejection(codes.SELF_TRANSFER, "from and to are the same account")
        if balance(view, self.source, self.instrument) < self.amount:
            raise Rejection(codes.INSUFFICIENT_BALANCE, f"{self.source!r} holds less")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        tracked = is_tracked(ctx.view, self.instrument)
        debit(ctx.view, self.source, self.instrument, self.amount, tracked=tracked)
        credit(ctx.view, self.destination, self.instrument, self.amount, tracked=tracked)
        holder = require_account(ctx.view, self.source).owner
        _holder_event(
            ctx,
            "forced_transfer",
            holder,
            proposal,
            source=self.source,
            destination=self.destination,
            instrument=self.instrument,
            amount=self.amount,
        )


class RecoverKey(Action, frozen=True, tag="recover_key"):
    """Replace every key of ``party`` with ``keys``; its holdings and nonce stay as they are."""

    action_class = "key_recovery"

    party: str
    keys: tuple[bytes, ...]

    def check_form(self) -> None:
        check_party_id(self.party)
        if not 1 <= len(self.keys) <= limits.PARTY_KEYS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.PARTY_KEYS_MAX} keys")
        check_public_keys(self.keys, "keys")

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_party(view, self.party)
        for key in self.keys:
            owner: str | None = view.get(public_key_key(key))
            if owner not in (None, self.party):
                raise Rejection(codes.KEY_IN_USE, f"key {key.hex()} belongs to another party")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        party: Party = require_party(ctx.view, self.party)
        for key in party.keys:
            if key not in self.keys:
                ctx.view.delete(public_key_key(key))
        for key in self.keys:
            ctx.view.put(public_key_key(key), self.party)
        ctx.view.put(party_key(self.party), replace(party, keys=self.keys))
        _holder_event(ctx, "key_recovered", self.party, proposal, keys=len(self.keys))


class SuspendInstrument(Action, frozen=True, tag="suspend_instrument"):
    """Stop every movement of ``instrument`` (mint, transfer, burn)."""

    action_class = "instrument_suspension"
    time_limited = True

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_instrument(view, self.instrument)
        policy: Policy | None = view.get(policy_key(self.instrument))
        suspension = None if policy is None else policy.suspension
        if suspension is not None and in_force(suspension.valid_until_ms, timestamp_ms):
            raise Rejection(codes.NO_CHANGE, f"{self.instrument!r} is suspended already")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        policy: Policy = ctx.view.get(policy_key(self.instrument)) or new_policy(instrument)
        suspension = Suspension(proposal.id, proposal.valid_until_ms)
        ctx.view.put(policy_key(self.instrument), replace(policy, suspension=suspension))
        ctx.emit(
            "instrument_suspended",
            instrument=self.instrument,
            proposal=proposal.id,
            valid_until_ms=proposal.valid_until_ms,
        )


class HaltMarket(Action, frozen=True, tag="halt_market"):
    """A circuit breaker: stop every movement of every instrument of one kind."""

    action_class = "instrument_suspension"
    time_limited = True

    kind: str

    def check_form(self) -> None:
        if self.kind not in INSTRUMENT_KINDS:
            raise Malformed(codes.BAD_FIELD, f"kind: one of {INSTRUMENT_KINDS}")

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        breaker: Breaker | None = view.get(breaker_key(self.kind))
        if breaker is not None and in_force(breaker.valid_until_ms, timestamp_ms):
            raise Rejection(codes.NO_CHANGE, f"{self.kind} is halted already")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        breaker = Breaker(self.kind, proposal.id, proposal.valid_until_ms)
        ctx.view.put(breaker_key(self.kind), breaker)
        ctx.emit(
            "market_halted",
            kind=self.kind,
            proposal=proposal.id,
            valid_until_ms=proposal.valid_until_ms,
        )


class Resume(Action, frozen=True, tag="resume"):
    """Lift the suspension or market halt that proposal ``proposal`` put in force."""

    action_class = "instrument_suspension"

    proposal: str

    def check_form(self) -> None:
        _check_proposal_id(self.proposal)

    def _target(self, view: StateView) -> Proposal:
        target = _require_executed(view, self.proposal, (SuspendInstrument, HaltMarket))
        action = target.action
        current = None
        if isinstance(action, SuspendInstrument):
            policy: Policy | None = view.get(policy_key(action.instrument))
            if policy is not None and policy.suspension is not None:
                current = policy.suspension.proposal
        elif isinstance(action, HaltMarket):
            breaker: Breaker | None = view.get(breaker_key(action.kind))
            current = None if breaker is None else breaker.proposal
        if current != self.proposal:
            raise Rejection(codes.NOT_ACTIVE, "the suspension is no longer recorded")
        return target

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        self._target(view)

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        target = self._target(ctx.view)
        action = target.action
        if isinstance(action, SuspendInstrument):
            policy: Policy = ctx.view.get(policy_key(action.instrument))
            ctx.view.put(policy_key(action.instrument), replace(policy, suspension=None))
        elif isinstance(action, HaltMarket):
            ctx.view.delete(breaker_key(action.kind))
        _reversed(ctx, target, proposal)
        ctx.emit("resumed", proposal=proposal.id, reverses=self.proposal)


class ChangeRules(Action, frozen=True, tag="change_rules"):
    """Replace an instrument's rules and terms (its status stays)."""

    action_class = "rule_change"

    instrument: str
    rules: tuple[AnyRule, ...]
    terms: Terms

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_policy_form(self.rules, self.terms)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        instrument = require_instrument(view, self.instrument)
        policy: Policy = view.get(policy_key(self.instrument)) or new_policy(instrument)
        if not policy.tracked and any(r.needs_tracking for r in self.rules):
            raise Rejection(codes.NEEDS_TRACKING, "holding rules need rules set before minting")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        policy: Policy = ctx.view.get(policy_key(self.instrument)) or new_policy(instrument)
        ctx.view.put(
            policy_key(self.instrument), replace(policy, rules=self.rules, terms=self.terms)
        )
        ctx.emit(
            "rules_changed", instrument=self.instrument, proposal=proposal.id, rules=len(self.rules)
        )


class RevokeCertification(Action, frozen=True, tag="revoke_certification"):
    """Revoke a sukuk's Shariah certification: no unit can be minted until an adviser
    certifies it again, and its terms no longer declare it certified (``shariah`` rule)."""

    action_class = "rule_change"

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        require_instrument(view, self.instrument)
        record: Certification | None = view.get(certification_key(self.instrument))
        if record is None or record.revoked_ms:
            raise Rejection(codes.NOT_ACTIVE, f"{self.instrument} has no certification in force")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        record: Certification = ctx.view.get(certification_key(self.instrument))
        ctx.view.put(
            certification_key(self.instrument),
            replace(record, revoked_ms=ctx.timestamp_ms, revoked_by=proposal.id),
        )
        policy: Policy | None = ctx.view.get(policy_key(self.instrument))
        if policy is not None and policy.terms.shariah_certified:
            terms = replace(policy.terms, shariah_certified=False)
            ctx.view.put(policy_key(self.instrument), replace(policy, terms=terms))
        ctx.emit("shariah_revoked", instrument=self.instrument, proposal=proposal.id)


class TrustIssuers(Action, frozen=True, tag="trust_issuers"):
    """Set the claim issuers trusted for ``topic`` (empty: none)."""

    action_class = "claim_issuers"

    topic: str
    issuers: tuple[str, ...]

    def check_form(self) -> None:
        check_topic(self.topic)
        if len(self.issuers) > limits.TRUSTED_ISSUERS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"at most {limits.TRUSTED_ISSUERS_MAX}")
        if list(self.issuers) != sorted(set(self.issuers)):
            raise Malformed(codes.BAD_FIELD, "issuers: sorted, each once")
        for issuer in self.issuers:
            check_party_id(issuer, "issuer")

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        for issuer in self.issuers:
            if not has_role(require_party(view, issuer), "claim_issuer"):
                raise Rejection(codes.ROLE_NOT_HELD, f"{issuer!r} is not a claim issuer")
        if trusted_issuers(view, self.topic) == self.issuers:
            raise Rejection(codes.NO_CHANGE, "the same issuers are trusted already")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        if self.issuers:
            ctx.view.put(trust_key(self.topic), self.issuers)
        else:
            ctx.view.delete(trust_key(self.topic))
        ctx.emit(
            "issuers_trusted",
            topic=self.topic,
            issuers=",".join(self.issuers),
            proposal=proposal.id,
        )


def _check_role_action(party: str, role: str) -> None:
    check_party_id(party)
    if role not in ROLES or role in ("agency", "operator"):
        raise Malformed(codes.BAD_FIELD, f"role {role[:40]!r}: a role other than agency/operator")


class GrantRoleAction(Action, frozen=True, tag="grant_role"):
    """Grant ``role`` to ``party`` (any role but agency and operator)."""

    action_class = "roles"

    party: str
    role: str

    def check_form(self) -> None:
        _check_role_action(self.party, self.role)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        party = require_party(view, self.party)
        if has_role(party, self.role):
            raise Rejection(codes.ROLE_HELD, f"{self.party!r} is already {self.role!r}")
        if len(party.roles) >= limits.PARTY_ROLES_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, "too many roles")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        party = require_party(ctx.view, self.party)
        roles = tuple(sorted((*party.roles, self.role)))
        ctx.view.put(party_key(self.party), replace(party, roles=roles))
        ctx.emit("role_granted", party=self.party, role=self.role, by=proposal.id)


class RevokeRoleAction(Action, frozen=True, tag="revoke_role"):
    """Revoke ``role`` from ``party``."""

    action_class = "roles"

    party: str
    role: str

    def check_form(self) -> None:
        _check_role_action(self.party, self.role)

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        if not has_role(require_party(view, self.party), self.role):
            raise Rejection(codes.ROLE_NOT_HELD, f"{self.party!r} is not {self.role!r}")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        party = require_party(ctx.view, self.party)
        roles = tuple(r for r in party.roles if r != self.role)
        ctx.view.put(party_key(self.party), replace(party, roles=roles))
        ctx.emit("role_revoked", party=self.party, role=self.role, by=proposal.id)


class ChangeGovernance(Action, frozen=True, tag="change_governance"):
    """Replace the post-genesis thresholds and veto rights (``govconf``) as a whole."""

    action_class = "governance"

    thresholds: tuple[Threshold, ...]
    vetoes: tuple[VetoRight, ...]

    def check_form(self) -> None:
        classes = [t.action_class for t in self.thresholds]
        veto_classes = [v.action_class for v in self.vetoes]
        for names in (classes, veto_classes):
            if names != sorted(set(names)) or any(c not in ACTION_CLASSES for c in names):
                raise Malformed(codes.BAD_FIELD, "action classes: known, sorted, each once")
        for veto in self.vetoes:
            if list(veto.agencies) != sorted(set(veto.agencies)) or not veto.agencies:
                raise Malformed(codes.BAD_FIELD, "veto agencies: sorted, each once, some")

    def validate(self, view: StateView, timestamp_ms: int) -> None:
        agencies = agency_ids(view)
        for entry in self.thresholds:
            needed = len(agencies) if entry.action_class == "governance" else entry.approvals
            if not 1 <= entry.approvals <= len(agencies) or entry.approvals != needed:
                raise Rejection(
                    codes.BAD_FIELD, f"{entry.action_class}: 1 to all agencies (governance: all)"
                )
        for veto in self.vetoes:
            if any(a not in agencies for a in veto.agencies):
                raise Rejection(codes.NOT_AUTHORIZED, "only agencies hold vetoes")

    def execute(self, ctx: TxContext, proposal: Proposal) -> None:
        ctx.view.put(GOVCONF_KEY, GovConfig(self.thresholds, self.vetoes))
        ctx.emit("governance_changed", proposal=proposal.id)


def _check_proposal_id(value: str) -> None:
    check_tx_id(value, "proposal")


AnyAction = (
    FreezeParty
    | FreezeAccount
    | FreezeAmount
    | Unfreeze
    | ForcedTransfer
    | RecoverKey
    | SuspendInstrument
    | HaltMarket
    | Resume
    | ChangeRules
    | RevokeCertification
    | TrustIssuers
    | GrantRoleAction
    | RevokeRoleAction
    | ChangeGovernance
)


class Proposal(msgspec.Struct, frozen=True, array_like=True):
    """A governance action on its way: who proposed and approved it, and where it stands."""

    id: str  # the proposing transaction's id, hex
    action: AnyAction
    basis: LegalBasis
    note: str
    proposer: str
    created_ms: int
    expires_ms: int  # approvals are refused from this block time on
    valid_until_ms: int  # time-limited actions lapse at this block time (0: never)
    approvals: tuple[str, ...]  # agencies, in the order they approved; the proposer first
    status: str  # open | executed | vetoed | reversed
    closed_by: str  # the vetoing agency, or the reversing proposal's id; else ""
    executed_ms: int  # 0 until executed


register_namespace("proposal", Proposal)
register_scannable("proposal")  # the dashboard lists proposals without a scan of all state
