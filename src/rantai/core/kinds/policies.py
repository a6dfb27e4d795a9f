"""An issuer's powers over its own instruments: rules before the first mint, agents, pause,
freezes where the terms allow, and pre-approvals of conditional transfers.

Bounded on purpose (docs/decisions/issuer-powers.md): nothing here moves a holder's units.
Every action that touches a holder emits an event naming it (``holder``), so the holder's
own event feed shows it.
"""

from __future__ import annotations

from msgspec.structs import replace

from rantai.core import codes, limits
from rantai.core.access import (
    has_role,
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_party,
)
from rantai.core.agents import agents_key, agents_of
from rantai.core.controls import Freeze, add_freeze, remove_freezes
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_account_id, check_instrument_code, check_party_id
from rantai.core.records import Instrument
from rantai.core.rules import (
    AnyRule,
    Policy,
    Terms,
    check_policy_form,
    new_policy,
    policy_key,
    transfer_approval_key,
)
from rantai.core.tx import TxBody, TxContext

__all__ = [
    "AppointAgent",
    "ApproveTransfer",
    "DismissAgent",
    "IssuerFreeze",
    "IssuerUnfreeze",
    "PauseInstrument",
    "SetRules",
    "UnpauseInstrument",
    "policy_of",
]


def policy_of(ctx: TxContext, instrument: Instrument) -> Policy:
    """The instrument's policy, or the one it gets now (``rantai.core.rules.new_policy``)."""
    policy: Policy | None = ctx.view.get(policy_key(instrument.code))
    return new_policy(instrument) if policy is None else policy


class SetRules(TxBody, frozen=True, tag="set_rules"):
    """Set an instrument's rules and terms before its first mint. Sender: its issuer.

    Later changes go through governance (``change_rules``). Rejects, in order:
    unknown_instrument, not_authorized, rules_locked (the instrument has units).
    """

    instrument: str
    rules: tuple[AnyRule, ...]
    terms: Terms

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_policy_form(self.rules, self.terms)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_instrument(ctx.view, self.instrument)
        if instrument.issuer != ctx.sender:
            raise Rejection(codes.NOT_AUTHORIZED, "only the issuer sets rules")
        if instrument.supply:
            raise Rejection(codes.RULES_LOCKED, "units exist; rules change through governance")
        policy = replace(policy_of(ctx, instrument), rules=self.rules, terms=self.terms)
        ctx.view.put(policy_key(self.instrument), replace(policy, tracked=True))
        ctx.emit("rules_set", instrument=self.instrument, rules=len(self.rules), by=ctx.sender)


class PauseInstrument(TxBody, frozen=True, tag="pause_instrument"):
    """Pause transfers of an instrument. Sender: its issuer or an agent.

    Rejects, in order: unknown_instrument, not_authorized, no_change.
    """

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def apply(self, ctx: TxContext) -> None:
        _set_paused(ctx, self.instrument, paused=True)


class UnpauseInstrument(TxBody, frozen=True, tag="unpause_instrument"):
    """Let transfers of a paused instrument resume. Sender: its issuer or an agent.

    Rejects, in order: unknown_instrument, not_authorized, no_change.
    """

    instrument: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)

    def apply(self, ctx: TxContext) -> None:
        _set_paused(ctx, self.instrument, paused=False)


def _set_paused(ctx: TxContext, code: str, *, paused: bool) -> None:
    instrument = require_issuer_or_agent(ctx.view, code, ctx.sender)
    policy = policy_of(ctx, instrument)
    if policy.paused == paused:
        raise Rejection(codes.NO_CHANGE, f"{code!r} is {'' if paused else 'not '}paused already")
    ctx.view.put(policy_key(code), replace(policy, paused=paused))
    ctx.emit(
        "instrument_paused" if paused else "instrument_unpaused", instrument=code, by=ctx.sender
    )


class AppointAgent(TxBody, frozen=True, tag="appoint_agent"):
    """Appoint ``agent`` (a holder of ``issuer_agent``) to act for the sender, an issuer.

    Rejects, in order: not_authorized, unknown_party, role_not_held, no_change,
    too_many_items.
    """

    agent: str

    def check_form(self) -> None:
        check_party_id(self.agent, "agent")

    def apply(self, ctx: TxContext) -> None:
        sender = require_party(ctx.view, ctx.sender)
        if not (has_role(sender, "issuer") or has_role(sender, "cash_issuer")):
            raise Rejection(codes.NOT_AUTHORIZED, "only an issuer appoints agents")
        if not has_role(require_party(ctx.view, self.agent), "issuer_agent"):
            raise Rejection(codes.ROLE_NOT_HELD, f"{self.agent!r} is not an issuer_agent")
        agents = agents_of(ctx.view, ctx.sender)
        if self.agent in agents:
            raise Rejection(codes.NO_CHANGE, "appointed already")
        if len(agents) >= limits.AGENTS_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, f"at most {limits.AGENTS_MAX} agents")
        ctx.view.put(agents_key(ctx.sender), tuple(sorted((*agents, self.agent))))
        ctx.emit("agent_appointed", issuer=ctx.sender, agent=self.agent)


class DismissAgent(TxBody, frozen=True, tag="dismiss_agent"):
    """Dismiss one of the sender's agents. Rejects: no_change (not its agent)."""

    agent: str

    def check_form(self) -> None:
        check_party_id(self.agent, "agent")

    def apply(self, ctx: TxContext) -> None:
        agents = agents_of(ctx.view, ctx.sender)
        if self.agent not in agents:
            raise Rejection(codes.NO_CHANGE, f"{self.agent!r} is not an agent of the sender")
        kept = tuple(a for a in agents if a != self.agent)
        if kept:
            ctx.view.put(agents_key(ctx.sender), kept)
        else:
            ctx.view.delete(agents_key(ctx.sender))
        ctx.emit("agent_dismissed", issuer=ctx.sender, agent=self.agent)


class IssuerFreeze(TxBody, frozen=True, tag="issuer_freeze"):
    """Freeze ``account``'s units of the instrument: all (``amount`` 0) or ``amount`` of them.

    Sender: the issuer or an agent, where the instrument's terms allow issuer freezes.
    Rejects, in order: unknown_instrument, not_authorized, unknown_account, too_many_items.
    """

    instrument: str
    account: str
    amount: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_account_id(self.account)
        if not 0 <= self.amount <= limits.AMOUNT_MAX:
            raise Malformed(codes.BAD_AMOUNT, "amount: 0 (whole) to AMOUNT_MAX")

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        if not policy_of(ctx, instrument).terms.issuer_freeze:
            raise Rejection(codes.NOT_AUTHORIZED, "the instrument's terms allow no issuer freeze")
        holder = require_account(ctx.view, self.account).owner
        freeze = Freeze(
            id=ctx.tx_id.hex(),
            authority=instrument.issuer,
            actor=ctx.sender,
            account=self.account,
            instrument=self.instrument,
            amount=self.amount,
            valid_until_ms=0,
        )
        add_freeze(ctx.view, holder, freeze, ctx.timestamp_ms)
        ctx.emit(
            "holder_frozen",
            holder=holder,
            account=self.account,
            instrument=self.instrument,
            amount=self.amount,
            by=ctx.sender,
        )


class IssuerUnfreeze(TxBody, frozen=True, tag="issuer_unfreeze"):
    """Lift every issuer freeze on ``account`` for the instrument. Sender: issuer or agent.

    Rejects, in order: unknown_instrument, not_authorized, unknown_account, not_active.
    """

    instrument: str
    account: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_account_id(self.account)

    def apply(self, ctx: TxContext) -> None:
        instrument = require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        holder = require_account(ctx.view, self.account).owner
        removed = remove_freezes(
            ctx.view,
            holder,
            authority=instrument.issuer,
            account=self.account,
            instrument=self.instrument,
        )
        if not removed:
            raise Rejection(codes.NOT_ACTIVE, "no issuer freeze on the account")
        ctx.emit(
            "holder_unfrozen",
            holder=holder,
            account=self.account,
            instrument=self.instrument,
            by=ctx.sender,
        )


class ApproveTransfer(TxBody, frozen=True, tag="approve_transfer"):
    """Pre-approve one transfer of an instrument with a ``conditional_transfer`` rule.

    Sender: the issuer or an agent. Each approval lets exactly one such transfer through.
    Rejects, in order: unknown_instrument, not_authorized, unknown_account, too_many_items.
    """

    instrument: str
    source: str
    destination: str
    amount: int

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        check_account_id(self.source, "from")
        check_account_id(self.destination, "to")
        if not 0 < self.amount <= limits.AMOUNT_MAX:
            raise Malformed(codes.BAD_AMOUNT, "amount: 1 to AMOUNT_MAX")

    def apply(self, ctx: TxContext) -> None:
        require_issuer_or_agent(ctx.view, self.instrument, ctx.sender)
        holder = require_account(ctx.view, self.source).owner
        require_account(ctx.view, self.destination)
        key = transfer_approval_key(self.instrument, self.source, self.destination, self.amount)
        count: int = ctx.view.get(key) or 0
        if count >= limits.TRANSFER_APPROVALS_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, "too many pending approvals of one transfer")
        ctx.view.put(key, count + 1)
        ctx.emit(
            "transfer_approved",
            holder=holder,
            source=self.source,
            destination=self.destination,
            instrument=self.instrument,
            amount=self.amount,
            by=ctx.sender,
        )
