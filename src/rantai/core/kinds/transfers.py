"""Transfers: one movement, a batch of movements that succeed or fail together, and a
transfer that carries travel-rule data (``rantai.core.travel``)."""

from __future__ import annotations

import msgspec

from rantai.core import codes, limits
from rantai.core.access import (
    credit,
    debit,
    require_account,
    require_instrument,
    require_owned_account,
)
from rantai.core.compliance import check_movement, record_movement
from rantai.core.errors import Malformed, Rejection
from rantai.core.ids import check_account_id, check_amount, check_instrument_code, check_text
from rantai.core.rules import Move
from rantai.core.travel import TravelData, check_travel
from rantai.core.tx import TxBody, TxContext

__all__ = ["BatchTransfer", "Movement", "Transfer", "TravelTransfer", "apply_movement"]


class Movement(msgspec.Struct, frozen=True, array_like=True):
    """Units of one instrument from one account to another."""

    source: str
    destination: str
    instrument: str
    amount: int
    memo: str

    def check_form(self) -> None:
        check_amount(self.amount)
        check_account_id(self.source, "from")
        check_account_id(self.destination, "to")
        check_instrument_code(self.instrument)
        check_text(self.memo, "memo", limits.MEMO_CHARS_MAX, empty_ok=True)


def apply_movement(ctx: TxContext, movement: Movement, *, travel: bool = False) -> Move:
    """Move units from the sender's account and return the movement as checked.

    Rejects, in order: unknown_instrument, unknown_account (from), not_authorized,
    unknown_account (to), self_transfer, then the compliance checks
    (``rantai.core.compliance``: enforcement, the instrument's rules, insufficient_balance,
    frozen_amount), then balance_overflow. ``travel`` says the transaction carries
    travel-rule data.
    """
    view = ctx.view
    instrument = require_instrument(view, movement.instrument)
    source = require_owned_account(view, movement.source, ctx.sender)
    destination = require_account(view, movement.destination)
    if movement.source == movement.destination:
        raise Rejection(codes.SELF_TRANSFER, "from and to are the same account")
    move = Move(
        "transfer",
        instrument,
        source.id,
        source.owner,
        destination.id,
        destination.owner,
        movement.amount,
        ctx.timestamp_ms,
        travel,
    )
    policy = check_movement(view, move)
    tracked = policy is not None and policy.tracked
    debit(view, movement.source, movement.instrument, movement.amount, tracked=tracked)
    credit(view, movement.destination, movement.instrument, movement.amount, tracked=tracked)
    record_movement(view, move, policy)
    ctx.emit(
        "transfer",
        instrument=movement.instrument,
        source=movement.source,
        destination=movement.destination,
        amount=movement.amount,
        memo=movement.memo,
    )
    return move


class Transfer(TxBody, frozen=True, tag="transfer"):
    """Move ``amount`` of ``instrument`` from the sender's account ``source`` to ``destination``."""

    source: str
    destination: str
    instrument: str
    amount: int
    memo: str

    def check_form(self) -> None:
        self.movement().check_form()

    def movement(self) -> Movement:
        return Movement(self.source, self.destination, self.instrument, self.amount, self.memo)

    def apply(self, ctx: TxContext) -> None:
        apply_movement(ctx, self.movement())


class BatchTransfer(TxBody, frozen=True, tag="batch_transfer"):
    """Several movements from the sender's accounts, all applied or none."""

    movements: tuple[Movement, ...]

    def check_form(self) -> None:
        if not 1 <= len(self.movements) <= limits.BATCH_TRANSFERS_MAX:
            raise Malformed(codes.TOO_MANY_ITEMS, f"1 to {limits.BATCH_TRANSFERS_MAX} movements")
        for movement in self.movements:
            movement.check_form()

    def apply(self, ctx: TxContext) -> None:
        for movement in self.movements:
            apply_movement(ctx, movement)


class TravelTransfer(TxBody, frozen=True, tag="travel_transfer"):
    """A transfer with travel-rule data sealed to the agencies and both institutions.

    Rejects as ``transfer`` does, then travel_incomplete (``rantai.core.travel``).
    """

    source: str
    destination: str
    instrument: str
    amount: int
    memo: str
    travel: TravelData

    def check_form(self) -> None:
        self.movement().check_form()
        self.travel.check_form()

    def movement(self) -> Movement:
        return Movement(self.source, self.destination, self.instrument, self.amount, self.memo)

    def apply(self, ctx: TxContext) -> None:
        move = apply_movement(ctx, self.movement(), travel=True)
        check_travel(ctx.view, self.travel, move.source_party, move.destination_party)
        ctx.emit(
            "travel_data",
            source=self.source,
            destination=self.destination,
            commitment=self.travel.commitment.hex(),
            readers=",".join(c.reader for c in self.travel.copies),
        )
