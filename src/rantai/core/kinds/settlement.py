"""Settlement: propose an instruction, affirm it (earmarking), cancel, retry, and run a
netting cycle. The records are in ``rantai.core.settlement``; docs/decisions/settlement.md
says why it works this way.

Every leg is a movement of kind ``transfer`` and goes through ``check_movement`` as a
transfer does (enforcement, the instrument's rules, balance, partial freezes, earmarks).
Gross settlement applies all legs in the affirming (or retrying) transaction; when a leg is
refused, every leg is undone, the instruction goes to ``failed`` with the leg's index and
code (on the record and on the receipt's ``settlement_failed`` event), and its earmarks stay
so that a retry can succeed once the cause is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from msgspec import structs

from rantai.core import codes, limits
from rantai.core.access import (
    balance,
    credit,
    debit,
    require_account,
    require_instrument,
    require_issuer_or_agent,
    require_party,
)
from rantai.core.compliance import check_movement, record_movement
from rantai.core.controls import PartyControls, ctl_key, frozen_amount
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import (
    account_owner,
    check_account_id,
    check_amount,
    check_instrument_code,
    check_party_id,
    check_text,
    check_tx_id,
)
from rantai.core.records import CHAIN_KEY, ChainConfig
from rantai.core.rules import TRANSFER, Move, Policy, policy_key
from rantai.core.settlement import (
    AFFIRMED,
    CANCELLED,
    EXPIRED,
    FAILED,
    NO_LEG,
    PROPOSED,
    SETTLED,
    Cycle,
    Earmark,
    Earmarks,
    Instruction,
    Leg,
    cycle_key,
    debits,
    earmark_key,
    earmarked,
    instruction_key,
    mediator_key,
    payers,
    status,
)
from rantai.core.tx import TxBody, TxContext

__all__ = [
    "AffirmSettlement",
    "CancelSettlement",
    "ProposeSettlement",
    "RetrySettlement",
    "RunCycle",
    "SetMediator",
    "affirm_as",
    "create_instruction",
    "net_positions",
]


def _check_instruction_id(value: str) -> None:
    check_tx_id(value, "instruction")


def _check_leg(leg: Leg) -> None:
    check_amount(leg.amount)
    check_account_id(leg.source, "from")
    check_account_id(leg.destination, "to")
    check_instrument_code(leg.instrument)
    if leg.source == leg.destination:
        raise Malformed(codes.BAD_FIELD, "a leg's from and to are the same account")


def _require_instruction(ctx: TxContext, instruction: str) -> Instruction:
    record: Instruction | None = ctx.view.get(instruction_key(instruction))
    if record is None:
        raise Rejection(codes.UNKNOWN_INSTRUCTION, f"no instruction {instruction!r}")
    return record


def _require_open(ctx: TxContext, record: Instruction, *states: str) -> None:
    """Rejects: instruction_closed (not in ``states``), then instruction_expired."""
    if record.state not in states:
        raise Rejection(codes.INSTRUCTION_CLOSED, f"instruction {record.id} is {record.state}")
    if status(record, ctx.timestamp_ms) == EXPIRED:
        raise Rejection(codes.INSTRUCTION_EXPIRED, f"instruction {record.id} expired")


# --- earmarks --------------------------------------------------------------------------


def _available(ctx: TxContext, account: str, instrument: str) -> int:
    """Units of ``instrument`` in ``account`` that neither a partial freeze nor an earmark
    holds, as a transfer's compliance check computes them."""
    view, now = ctx.view, ctx.timestamp_ms
    controls: PartyControls | None = view.get(ctl_key(account_owner(account)))
    frozen = 0 if controls is None else frozen_amount(controls, account, instrument, now)
    return balance(view, account, instrument) - frozen - earmarked(view, account, instrument, now)


def _earmark(ctx: TxContext, record: Instruction, party: str) -> None:
    """Earmark what ``party`` pays under ``record``.

    Rejects, per (account, instrument) in sorted order: earmarked (fewer units available
    than the legs move), too_many_items (EARMARKS_MAX instructions earmark it already).
    """
    view, now = ctx.view, ctx.timestamp_ms
    for account, instrument, amount in debits(record.legs, party):
        free = _available(ctx, account, instrument)
        if amount > free:
            raise Rejection(codes.EARMARKED, f"{account} has {free} of {instrument} available")
        key = earmark_key(account, instrument)
        current: Earmarks | None = view.get(key)
        live = () if current is None else tuple(e for e in current.entries if now < e.until_ms)
        if len(live) >= limits.EARMARKS_MAX:
            raise Rejection(codes.TOO_MANY_ITEMS, f"{limits.EARMARKS_MAX} earmarks on {account}")
        entry = Earmark(record.id, amount, record.deadline_ms)
        view.put(key, Earmarks(tuple(sorted((*live, entry), key=lambda e: e.instruction))))


def _release(ctx: TxContext, record: Instruction) -> None:
    """Remove every earmark ``record`` holds (and lapsed ones met on the way)."""
    view, now = ctx.view, ctx.timestamp_ms
    for party in record.affirmed_by:
        for account, instrument, _ in debits(record.legs, party):
            key = earmark_key(account, instrument)
            current: Earmarks | None = view.get(key)
            if current is None:
                continue
            kept = tuple(
                e for e in current.entries if e.instruction != record.id and now < e.until_ms
            )
            if kept:
                view.put(key, Earmarks(kept))
            else:
                view.delete(key)


# --- legs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    """A leg that passed its checks, ready to apply."""

    leg: Leg
    move: Move
    policy: Policy | None


def _move_of(ctx: TxContext, leg: Leg) -> Move:
    """``leg`` as a transfer. Rejects: unknown_instrument, unknown_account (from, to)."""
    view = ctx.view
    instrument = require_instrument(view, leg.instrument)
    source = require_account(view, leg.source)
    destination = require_account(view, leg.destination)
    return Move(
        TRANSFER,
        instrument,
        source.id,
        source.owner,
        destination.id,
        destination.owner,
        leg.amount,
        ctx.timestamp_ms,
    )


def _check_leg_state(ctx: TxContext, leg: Leg) -> _Checked:
    """Check ``leg`` as a transfer. Rejects as ``_move_of``, then the compliance checks
    (``rantai.core.compliance``)."""
    move = _move_of(ctx, leg)
    return _Checked(leg, move, check_movement(ctx.view, move))


def _apply_leg(ctx: TxContext, checked: _Checked) -> None:
    """Apply one checked leg. Rejects: balance_overflow."""
    leg, policy = checked.leg, checked.policy
    tracked = policy is not None and policy.tracked
    debit(ctx.view, leg.source, leg.instrument, leg.amount, tracked=tracked)
    credit(ctx.view, leg.destination, leg.instrument, leg.amount, tracked=tracked)
    record_movement(ctx.view, checked.move, policy)


def _execute(ctx: TxContext, record: Instruction) -> None:
    """Settle ``record`` gross: release its earmarks and apply every leg, or none.

    On a leg's rejection, every write since the start is undone (earmarks included, so they
    stay), and the instruction is stored as failed with the leg's index and code.
    """
    view = ctx.view
    mark, events = view.mark(), len(ctx.events)
    _release(ctx, record)
    for index, leg in enumerate(record.legs):
        try:
            _apply_leg(ctx, _check_leg_state(ctx, leg))
        except Rejection as rejection:
            view.restore(mark)
            del ctx.events[events:]
            failed = _with(record, state=FAILED, failed_leg=index, failed_code=rejection.code)
            view.put(instruction_key(record.id), failed)
            ctx.emit("settlement_failed", instruction=record.id, leg=index, code=rejection.code)
            return
        ctx.emit(
            "settlement_leg",
            instruction=record.id,
            leg=index,
            source=leg.source,
            destination=leg.destination,
            instrument=leg.instrument,
            amount=leg.amount,
        )
    settled = _with(record, state=SETTLED, failed_leg=NO_LEG, failed_code="")
    view.put(instruction_key(record.id), settled)
    ctx.emit("settlement_settled", instruction=record.id, legs=len(record.legs))


def _with(record: Instruction, *, state: str, failed_leg: int, failed_code: str) -> Instruction:
    return structs.replace(record, state=state, failed_leg=failed_leg, failed_code=failed_code)


# --- kinds -----------------------------------------------------------------------------


class ProposeSettlement(TxBody, frozen=True, tag="propose_settlement"):
    """Propose a settlement instruction: ``legs`` settled together by ``deadline_ms``, gross
    on the last affirmation (``cycle`` empty) or net in cycle ``cycle``.

    Sender: the owner of an account in some leg. The instruction's id is this transaction's
    id in lowercase hex. Proposing does not affirm. The affirmers are the payers and the
    mediators (``set_mediator``) of the instruments moved, as they are now.

    Rejects, in order: bad_time (deadline not after block time, or beyond
    SETTLEMENT_TTL_MS_MAX), unknown_instrument, unknown_account (from, to) leg by leg,
    not_authorized, then for a cycle: cycle_closed, too_many_items.
    """

    legs: tuple[Leg, ...]
    deadline_ms: int
    cycle: str

    def check_form(self) -> None:
        if not 1 <= len(self.legs) <= limits.SETTLEMENT_LEGS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.SETTLEMENT_LEGS_MAX} legs")
        for leg in self.legs:
            _check_leg(leg)
        if not 0 < self.deadline_ms <= limits.TIMESTAMP_MS_MAX:
            raise Malformed(codes.BAD_FIELD, "deadline_ms out of range")
        if self.cycle:
            check_text(self.cycle, "cycle", limits.CYCLE_ID_CHARS_MAX)

    def apply(self, ctx: TxContext) -> None:
        now, view = ctx.timestamp_ms, ctx.view
        if not now < self.deadline_ms <= now + limits.SETTLEMENT_TTL_MS_MAX:
            raise Rejection(codes.BAD_TIME, "deadline must be after block time, within the TTL")
        owners: set[str] = set()
        for leg in self.legs:
            require_instrument(view, leg.instrument)
            owners.add(require_account(view, leg.source).owner)
            owners.add(require_account(view, leg.destination).owner)
        if ctx.sender not in owners:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} is party to no leg")
        if self.cycle:
            _queue(ctx, self.cycle, ctx.tx_id.hex())
        create_instruction(ctx, ctx.tx_id.hex(), self.legs, self.deadline_ms, self.cycle)


def create_instruction(
    ctx: TxContext, instruction_id: str, legs: tuple[Leg, ...], deadline_ms: int, cycle: str
) -> Instruction:
    """Store a new proposed instruction proposed by the sender, and return it. Its
    affirmers are the payers and the current mediators of the instruments it moves.

    The caller has checked the legs' instruments and accounts exist and the deadline.
    """
    view = ctx.view
    affirmers = set(payers(legs))
    for leg in legs:
        mediator: str | None = view.get(mediator_key(leg.instrument))
        if mediator is not None:
            affirmers.add(mediator)
    record = Instruction(
        id=instruction_id,
        proposer=ctx.sender,
        legs=legs,
        affirmers=tuple(sorted(affirmers)),
        deadline_ms=deadline_ms,
        cycle=cycle,
        state=PROPOSED,
        affirmed_by=(),
        failed_leg=NO_LEG,
        failed_code="",
        proposed_height=ctx.height,
    )
    view.put(instruction_key(instruction_id), record)
    ctx.emit("settlement_proposed", instruction=instruction_id, legs=len(legs))
    return record


class SetMediator(TxBody, frozen=True, tag="set_mediator"):
    """Make ``mediator`` the mandatory mediator of ``instrument``: every instruction proposed
    from now on that moves it needs the mediator's affirmation too (an empty ``mediator``
    removes it). Instructions already proposed keep their affirmers. Sender: the issuer or
    its agent.

    Rejects, in order: unknown_instrument, not_authorized, unknown_party, no_change.
    """

    instrument: str
    mediator: str

    def check_form(self) -> None:
        check_instrument_code(self.instrument)
        if self.mediator:
            check_party_id(self.mediator, "mediator")

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        require_issuer_or_agent(view, self.instrument, ctx.sender)
        if self.mediator:
            require_party(view, self.mediator)
        key = mediator_key(self.instrument)
        if (view.get(key) or "") == self.mediator:
            raise Rejection(codes.NO_CHANGE, f"{self.instrument!r} has that mediator already")
        if self.mediator:
            view.put(key, self.mediator)
        else:
            view.delete(key)
        ctx.emit("mediator_set", instrument=self.instrument, mediator=self.mediator)


def _queue(ctx: TxContext, cycle_id: str, instruction_id: str) -> None:
    """Add an instruction to a cycle. Rejects: cycle_closed, too_many_items."""
    cycle: Cycle | None = ctx.view.get(cycle_key(cycle_id))
    if cycle is None:
        cycle = Cycle(cycle_id, (), ran=False)
    if cycle.ran:
        raise Rejection(codes.CYCLE_CLOSED, f"cycle {cycle_id!r} ran already")
    if len(cycle.instructions) >= limits.CYCLE_INSTRUCTIONS_MAX:
        raise Rejection(codes.TOO_MANY_ITEMS, f"cycle {cycle_id!r} is full")
    queued = tuple(sorted((*cycle.instructions, instruction_id)))
    ctx.view.put(cycle_key(cycle_id), Cycle(cycle_id, queued, ran=False))


class AffirmSettlement(TxBody, frozen=True, tag="affirm_settlement"):
    """Affirm an instruction as one of its affirmers: a party whose account it debits
    (earmarking what it pays) or an instrument's mediator (earmarking nothing).

    On the last affirmation a gross instruction settles in this transaction (or fails, and
    this transaction still records the affirmation); a cycle's instruction becomes
    ``affirmed`` and waits for its cycle.

    Rejects, in order: unknown_instruction, instruction_closed (not proposed),
    instruction_expired, not_authorized (not an affirmer), already_affirmed, then
    earmarked and too_many_items per account and instrument in sorted order.
    """

    instruction: str

    def check_form(self) -> None:
        _check_instruction_id(self.instruction)

    def apply(self, ctx: TxContext) -> None:
        record = _require_instruction(ctx, self.instruction)
        _require_open(ctx, record, PROPOSED)
        if ctx.sender not in record.affirmers:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} does not affirm {record.id}")
        if ctx.sender in record.affirmed_by:
            raise Rejection(codes.ALREADY_AFFIRMED, f"{ctx.sender!r} affirmed {record.id}")
        affirm_as(ctx, record, ctx.sender)


def affirm_as(ctx: TxContext, record: Instruction, party: str) -> None:
    """Record ``party``'s affirmation of ``record`` (an affirmer that has not affirmed),
    earmarking what it pays; settle gross on the last one.

    Rejects: earmarked, too_many_items (per account and instrument, in sorted order).
    """
    _earmark(ctx, record, party)
    affirmed_by = tuple(sorted((*record.affirmed_by, party)))
    state = AFFIRMED if affirmed_by == record.affirmers else PROPOSED
    record = structs.replace(record, affirmed_by=affirmed_by, state=state)
    ctx.view.put(instruction_key(record.id), record)
    ctx.emit("settlement_affirmed", instruction=record.id, party=party)
    if state == AFFIRMED and not record.cycle:
        _execute(ctx, record)


class CancelSettlement(TxBody, frozen=True, tag="cancel_settlement"):
    """Cancel an instruction that has not settled, releasing its earmarks. Sender: its
    proposer or one of its affirmers. An expired instruction may be cancelled too.

    Rejects, in order: unknown_instruction, not_authorized, instruction_closed (settled or
    cancelled).
    """

    instruction: str

    def check_form(self) -> None:
        _check_instruction_id(self.instruction)

    def apply(self, ctx: TxContext) -> None:
        record = _require_instruction(ctx, self.instruction)
        if ctx.sender != record.proposer and ctx.sender not in record.affirmers:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} may not cancel {record.id}")
        if record.state in (SETTLED, CANCELLED):
            raise Rejection(codes.INSTRUCTION_CLOSED, f"instruction {record.id} is {record.state}")
        _release(ctx, record)
        cancelled = _with(record, state=CANCELLED, failed_leg=NO_LEG, failed_code="")
        ctx.view.put(instruction_key(record.id), cancelled)
        ctx.emit("settlement_cancelled", instruction=record.id)


class RetrySettlement(TxBody, frozen=True, tag="retry_settlement"):
    """Settle a failed instruction again, gross, with the earmarks it kept. Sender: its
    proposer or one of its affirmers. It settles or fails again as on the last affirmation.

    Rejects, in order: unknown_instruction, not_authorized, instruction_closed (not failed),
    instruction_expired.
    """

    instruction: str

    def check_form(self) -> None:
        _check_instruction_id(self.instruction)

    def apply(self, ctx: TxContext) -> None:
        record = _require_instruction(ctx, self.instruction)
        if ctx.sender != record.proposer and ctx.sender not in record.affirmers:
            raise Rejection(codes.NOT_AUTHORIZED, f"{ctx.sender!r} may not retry {record.id}")
        _require_open(ctx, record, FAILED)
        _execute(ctx, record)


class RunCycle(TxBody, frozen=True, tag="run_cycle"):
    """Settle a cycle net. Sender: the chain operator (the CSD).

    Every affirmed, unexpired instruction queued for the cycle takes part; the others are
    left as they are. With the participants' earmarks released, each leg is checked as a
    transfer against the state before the cycle moved anything; an instruction with a
    refused leg fails (its leg and code recorded, its earmarks kept) and drops out. The
    rest are netted per (account, instrument) and only the net amounts move: debits first,
    then credits, in sorted order. Each settled instruction's legs are then recorded with
    the rules that keep state (volume windows). The cycle closes.

    Rejects, in order: not_authorized, unknown_cycle, cycle_closed, then a net debit's
    insufficient_balance and a net credit's balance_overflow (the whole cycle is refused).
    """

    cycle: str

    def check_form(self) -> None:
        check_text(self.cycle, "cycle", limits.CYCLE_ID_CHARS_MAX)

    def apply(self, ctx: TxContext) -> None:
        view = ctx.view
        chain: ChainConfig = view.get(CHAIN_KEY)
        if ctx.sender != chain.operator:
            raise Rejection(codes.NOT_AUTHORIZED, "only the operator runs settlement cycles")
        cycle: Cycle | None = view.get(cycle_key(self.cycle))
        if cycle is None:
            raise Rejection(codes.UNKNOWN_CYCLE, f"no cycle {self.cycle!r}")
        if cycle.ran:
            raise Rejection(codes.CYCLE_CLOSED, f"cycle {self.cycle!r} ran already")
        settled = _check_cycle(ctx, cycle)
        nets = net_positions(r.legs for r in settled)
        _apply_nets(ctx, nets)
        for record in settled:
            for leg in record.legs:
                checked = _recorded(ctx, leg)
                record_movement(view, checked.move, checked.policy)
            done = _with(record, state=SETTLED, failed_leg=NO_LEG, failed_code="")
            view.put(instruction_key(record.id), done)
            ctx.emit("settlement_settled", instruction=record.id, legs=len(record.legs))
        view.put(cycle_key(cycle.id), Cycle(cycle.id, cycle.instructions, ran=True))
        ctx.emit("cycle_settled", cycle=cycle.id, instructions=len(settled), nets=len(nets))


def _check_cycle(ctx: TxContext, cycle: Cycle) -> list[Instruction]:
    """Release the participants' earmarks, check every leg, fail the instructions with a
    refused leg (restoring their earmarks); the instructions that will settle, in order."""
    view = ctx.view
    participants: list[Instruction] = []
    for instruction_id in cycle.instructions:
        record: Instruction = view.get(instruction_key(instruction_id))
        if record.state == AFFIRMED and status(record, ctx.timestamp_ms) == AFFIRMED:
            participants.append(record)
    for record in participants:
        _release(ctx, record)
    passing: list[Instruction] = []
    failing: list[tuple[Instruction, int, str]] = []
    for record in participants:
        failure = _first_failure(ctx, record)
        if failure is None:
            passing.append(record)
        else:
            failing.append((record, *failure))
    for record, index, code in failing:
        for party in record.affirmed_by:
            _earmark(ctx, record, party)
        failed = _with(record, state=FAILED, failed_leg=index, failed_code=code)
        view.put(instruction_key(record.id), failed)
        ctx.emit("settlement_failed", instruction=record.id, leg=index, code=code)
    return passing


def _first_failure(ctx: TxContext, record: Instruction) -> tuple[int, str] | None:
    for index, leg in enumerate(record.legs):
        try:
            _check_leg_state(ctx, leg)
        except Rejection as rejection:
            return index, rejection.code
    return None


def _recorded(ctx: TxContext, leg: Leg) -> _Checked:
    """The leg's move and policy, for recording; its checks ran already."""
    return _Checked(leg, _move_of(ctx, leg), ctx.view.get(policy_key(leg.instrument)))


def net_positions(legs_of: Iterable[tuple[Leg, ...]]) -> dict[tuple[str, str], int]:
    """The net change per (account, instrument) over every leg: credits less debits, in
    sorted order. Accounts whose legs cancel out are left out."""
    nets: dict[tuple[str, str], int] = {}
    for legs in legs_of:
        for leg in legs:
            paying = (leg.source, leg.instrument)
            nets[paying] = nets.get(paying, 0) - leg.amount
            receiving = (leg.destination, leg.instrument)
            nets[receiving] = nets.get(receiving, 0) + leg.amount
    return {key: value for key, value in sorted(nets.items()) if value}


def _apply_nets(ctx: TxContext, nets: dict[tuple[str, str], int]) -> None:
    """Debit every net payer, then credit every net receiver, in sorted order."""
    view = ctx.view
    for (account, instrument), amount in nets.items():
        if amount < 0:
            debit(view, account, instrument, -amount)
            ctx.emit("net_movement", account=account, instrument=instrument, amount=amount)
    for (account, instrument), amount in nets.items():
        if amount > 0:
            credit(view, account, instrument, amount)
            ctx.emit("net_movement", account=account, instrument=instrument, amount=amount)
