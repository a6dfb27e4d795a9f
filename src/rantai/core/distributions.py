"""Distributions: one transaction pays every holder at a record date, pro rata, in cash.

**Amounts.** Holder ``i`` with ``u_i`` units at the record is due either a rate per unit,
``floor(u_i * num / den)``, or a share of a stated total ``T``, ``floor(T * u_i / U)`` where
``U`` is the units of all holders at the record. Each amount is rounded down to the minor
unit, so no holder is ever paid more than the exact share. The *residue* — the total due
(``floor(U * num / den)``, or ``T``) less the sum of the rounded amounts, always below one
minor unit per holder — is paid to a named residue account, so the payer's debit is exactly
the total due and every sen is accounted for.

**Payments.** Each payment is a movement of the cash instrument from the payer's account to
the holder's, checked by the cash instrument's compliance like any transfer. A payment the
checks refuse (the holder's account frozen, a sanctions hit, a cap on the cash token) is not
made and does not stop the others: its amount stays with the payer, owed to the holder
(``owed/<distribution>/<account>``), until a ``claim_distribution`` pays it once the
cause is gone. Whatever the payer cannot fund refuses the whole distribution.

| key | value |
|---|---|
| ``dist/<id>`` | ``Distribution`` (id: the paying transaction's id, lowercase hex) |
| ``owed/<id>/<account>`` | int: an amount the checks refused to pay, still owed |

Which kinds fit which instrument is fixed here: a sukuk pays *profit* or *rental*, never
*coupon* or interest; a bond pays *coupon*; funds and equities *dividend* or *income*; any
instrument may return *capital*.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import msgspec

from rantai.core import codes, limits
from rantai.core.access import balance, credit, debit
from rantai.core.compliance import check_movement, record_movement
from rantai.core.errors import Rejection, invariant
from rantai.core.ids import account_owner
from rantai.core.records import Account, Instrument, account_key
from rantai.core.rules import Move
from rantai.core.state import register_namespace
from rantai.core.tx import EventValue, TxContext

__all__ = [
    "DISTRIBUTION_KINDS",
    "KINDS_BY_INSTRUMENT",
    "Distribution",
    "Payout",
    "announce_payment",
    "distribution_key",
    "owed_key",
    "pay_holders",
    "pay_one",
    "per_unit_amounts",
    "pro_rata_amounts",
]

DISTRIBUTION_KINDS: Final = ("coupon", "profit", "rental", "dividend", "income", "capital")
KINDS_BY_INSTRUMENT: Final[dict[str, tuple[str, ...]]] = {
    "bond": ("coupon", "capital"),
    "sukuk": ("profit", "rental", "capital"),
    "fund": ("dividend", "income", "capital"),
    "equity": ("dividend", "capital"),
    "other": DISTRIBUTION_KINDS,
    "cash": (),
}


class Distribution(msgspec.Struct, frozen=True, array_like=True):
    """What one distribution paid, and what it still owes."""

    id: str
    instrument: str
    record: str  # record date name; "" when paid on the live register (a redemption)
    kind: str
    pay_instrument: str
    source: str  # the payer's account
    holders: int  # accounts with units at the record
    units: int  # their units
    due: int  # total due, residue included
    paid: int  # paid to holders so far
    owed: int  # refused by the checks, not yet claimed
    residue: int
    residue_account: str
    height: int


class Payout(msgspec.Struct, frozen=True):
    """One holder's share. Not stored."""

    account: str
    units: int
    amount: int


def distribution_key(distribution: str) -> str:
    return f"dist/{distribution}"


def owed_key(distribution: str, account: str) -> str:
    return f"owed/{distribution}/{account}"


def per_unit_amounts(
    holders: Sequence[tuple[str, int]], numerator: int, denominator: int
) -> tuple[list[Payout], int]:
    """Each holder's ``floor(units * numerator / denominator)``, and the total due."""
    invariant(numerator >= 0 and denominator > 0, "a negative or undefined rate")
    payouts = [Payout(a, u, u * numerator // denominator) for a, u in holders]
    return payouts, sum(u for _, u in holders) * numerator // denominator


def pro_rata_amounts(holders: Sequence[tuple[str, int]], total: int) -> tuple[list[Payout], int]:
    """Each holder's ``floor(total * units / all units)``, and the total due (``total``)."""
    units = sum(u for _, u in holders)
    invariant(units > 0, "a pro-rata share of no units")
    return [Payout(a, u, total * u // units) for a, u in holders], total


def pay_one(
    ctx: TxContext, pay_instrument: Instrument, source: Account, destination: str, amount: int
) -> str:
    """Pay ``amount`` from ``source`` to ``destination`` as a checked movement.

    Returns ``ok``, or the code of the check that refused it, having changed nothing. The
    caller has made sure the source holds enough.
    """
    view = ctx.view
    code = pay_instrument.code
    if destination == source.id:
        return codes.OK
    if view.get(account_key(destination)) is None:
        return codes.UNKNOWN_ACCOUNT
    move = Move(
        "transfer",
        pay_instrument,
        source.id,
        source.owner,
        destination,
        account_owner(destination),
        amount,
        ctx.timestamp_ms,
    )
    try:
        policy = check_movement(view, move)
    except Rejection as refused:
        return refused.code
    if balance(view, destination, code) + amount > limits.AMOUNT_MAX:
        return codes.BALANCE_OVERFLOW
    tracked = policy is not None and policy.tracked
    debit(view, source.id, code, amount, tracked=tracked)
    credit(view, destination, code, amount, tracked=tracked)
    record_movement(view, move, policy)
    return codes.OK


def announce_payment(
    ctx: TxContext,
    distribution: str,
    instrument: str,
    kind: str,
    pay_instrument: str,
    payout: Payout,
    outcome: str,
) -> None:
    """The receipt event of one holder's payment: ``distribution_paid``, or
    ``distribution_owed`` with the code that refused it."""
    attrs: dict[str, EventValue] = {
        "distribution": distribution,
        "instrument": instrument,
        "kind": kind,
        "account": payout.account,
        "units": payout.units,
        "pay_instrument": pay_instrument,
        "amount": payout.amount,
    }
    if outcome == codes.OK:
        ctx.emit("distribution_paid", **attrs)
    else:
        ctx.emit("distribution_owed", **attrs, code=outcome)


def pay_holders(
    ctx: TxContext,
    *,
    instrument: Instrument,
    record: str,
    kind: str,
    pay_instrument: Instrument,
    source: Account,
    payouts: Sequence[Payout],
    due: int,
    residue_account: str,
) -> Distribution:
    """Pay every payout and the residue from ``source``; store and announce the distribution.

    Rejects: insufficient_balance (the source cannot fund ``due``), and the residue
    payment's own refusal. A refused holder payment is owed instead (module docstring).
    """
    view = ctx.view
    paid_sum = sum(p.amount for p in payouts)
    residue = due - paid_sum
    invariant(residue >= 0, "rounded amounts above the total due")
    held = balance(view, source.id, pay_instrument.code)
    if held < due:
        raise Rejection(
            codes.INSUFFICIENT_BALANCE,
            f"{source.id} holds {held} of {pay_instrument.code}, {due} due",
        )
    distribution = ctx.tx_id.hex()
    paid = owed = 0
    for payout in payouts:
        if not payout.amount:
            continue
        outcome = pay_one(ctx, pay_instrument, source, payout.account, payout.amount)
        if outcome == codes.OK:
            paid += payout.amount
        else:
            owed += payout.amount
            view.put(owed_key(distribution, payout.account), payout.amount)
        announce_payment(
            ctx, distribution, instrument.code, kind, pay_instrument.code, payout, outcome
        )
    if residue:
        outcome = pay_one(ctx, pay_instrument, source, residue_account, residue)
        if outcome != codes.OK:
            raise Rejection(outcome, f"the residue of {residue} to {residue_account}")
    summary = Distribution(
        id=distribution,
        instrument=instrument.code,
        record=record,
        kind=kind,
        pay_instrument=pay_instrument.code,
        source=source.id,
        holders=len(payouts),
        units=sum(p.units for p in payouts),
        due=due,
        paid=paid,
        owed=owed,
        residue=residue,
        residue_account=residue_account,
        height=ctx.height,
    )
    view.put(distribution_key(distribution), summary)
    ctx.emit(
        "distribution",
        distribution=distribution,
        instrument=instrument.code,
        record=record,
        kind=kind,
        pay_instrument=pay_instrument.code,
        source=source.id,
        holders=summary.holders,
        units=summary.units,
        due=due,
        paid=paid,
        owed=owed,
        residue=residue,
        residue_account=residue_account,
    )
    return summary


register_namespace("dist", Distribution)
register_namespace("owed", int)
