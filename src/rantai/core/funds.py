"""Fund units: dealing terms, net asset values, the queue of orders, and the arithmetic of
a dealing (docs/decisions/funds.md). The kinds are in ``rantai.core.kinds.funds``.

A fund (an instrument of kind ``fund``) deals at *forward* prices: a subscription (cash in)
or a redemption (units in) is queued with the dealing whose cut-off comes first at or after
it, and settles at the first NAV published for a valuation at or after that cut-off, which
nobody knew when the order was placed. The queued cash or units move at order time into the
fund's *dealing account*, an account of the manager, so the investor cannot spend them twice
and the dealing account's balances are exactly the queue.

**Cut-off rule.** ``cutoff_ms_of_day`` is a time of the UTC day of block time. An order at
block time ``t`` belongs to dealing day ``d`` = the day of ``t`` if ``t`` is before that
day's cut-off, else the next day; it may be cancelled while block time is before
``cutoff_ms(d)``, and is due at a NAV whose ``valuation_ms`` is at or after ``cutoff_ms(d)``.

**Rounding** (``units_for_cash``, ``cash_for_units``, ``gate_fills``): every division rounds
in favour of the fund's other holders: units issued are rounded down, the cash they cost up
(the residue is refunded), redemption cash down, and gated fills down; what a gate leaves
unfilled is carried to the next dealing, so nothing is lost.

| key | value |
|---|---|
| ``fund/<instrument>`` | ``DealingTerms``: set once by the manager |
| ``nav/<instrument>`` | ``Nav``: the latest NAV published |
| ``fundq/<instrument>`` | ``FundQueue``: orders waiting for a dealing, by id |
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core import limits
from rantai.core.state import register_namespace
from rantai.core.windows import day_of

__all__ = [
    "BPS",
    "REDEEM",
    "SUBSCRIBE",
    "DealingTerms",
    "FundOrder",
    "FundQueue",
    "Nav",
    "cash_for_units",
    "cutoff_ms",
    "dealing_day",
    "dealing_terms_key",
    "gate_fills",
    "nav_key",
    "queue_key",
    "units_for_cash",
]

SUBSCRIBE, REDEEM = "subscribe", "redeem"
BPS: Final = 10_000


class DealingTerms(msgspec.Struct, frozen=True, array_like=True):
    """How a fund deals. Units are in the fund instrument's minor units (its ``decimals``);
    a NAV is the price of one whole unit (``10**decimals`` minor units) in minor units of
    ``cash_instrument``."""

    cash_instrument: str
    cash_account: str  # the fund's cash: subscriptions paid in, redemptions paid out
    dealing_account: str  # holds queued cash and units until they deal or are cancelled
    cutoff_ms_of_day: int  # 0 to DAY_MS - 1, UTC
    min_subscription: int  # in minor units of cash; 0: none
    gate_bps: int  # redemptions filled per dealing, basis points of units outstanding
    set_height: int


class Nav(msgspec.Struct, frozen=True, array_like=True):
    """The latest net asset value per unit, and whether a dealing used it."""

    cash_instrument: str
    nav_minor: int
    valuation_ms: int
    published_ms: int
    dealt: bool


class FundOrder(msgspec.Struct, frozen=True, array_like=True):
    """A queued order: ``amount`` is cash (a subscription) or units (a redemption, what is
    left of it after gated dealings)."""

    id: int
    side: str  # subscribe | redeem
    account: str
    amount: int
    dealing_day: int
    placed_ms: int


class FundQueue(msgspec.Struct, frozen=True, array_like=True):
    """A fund's queued orders, sorted by id; ``next_id`` numbers the next one."""

    next_id: int
    orders: tuple[FundOrder, ...]


def dealing_terms_key(instrument: str) -> str:
    return f"fund/{instrument}"


def nav_key(instrument: str) -> str:
    return f"nav/{instrument}"


def queue_key(instrument: str) -> str:
    return f"fundq/{instrument}"


def dealing_day(timestamp_ms: int, cutoff_ms_of_day: int) -> int:
    """The dealing day of an order placed at block time ``timestamp_ms``."""
    day = day_of(timestamp_ms)
    return day if timestamp_ms < day * limits.DAY_MS + cutoff_ms_of_day else day + 1


def cutoff_ms(day: int, cutoff_ms_of_day: int) -> int:
    """The block time of dealing day ``day``'s cut-off."""
    return day * limits.DAY_MS + cutoff_ms_of_day


def units_for_cash(cash: int, nav_minor: int, decimals: int) -> tuple[int, int]:
    """Units a subscription of ``cash`` buys, rounded down, and what they cost, rounded up
    (at most ``cash``; the rest is refunded)."""
    scale: int = 10**decimals
    units = cash * scale // nav_minor
    cost = -(-units * nav_minor // scale)
    return units, cost


def cash_for_units(units: int, nav_minor: int, decimals: int) -> int:
    """Cash a redemption of ``units`` pays, rounded down."""
    scale: int = 10**decimals
    return units * nav_minor // scale


def gate_fills(requested: tuple[int, ...], outstanding: int, gate_bps: int) -> tuple[int, ...]:
    """How much of each redemption a dealing fills under a gate of ``gate_bps`` of the
    ``outstanding`` units: all when they total at most the gate, else each pro rata,
    ``requested * gate // total`` rounded down, so no order gets more than its share and
    the fills total at most the gate."""
    gate = outstanding * gate_bps // BPS
    total = sum(requested)
    if total <= gate:
        return requested
    return tuple(r * gate // total for r in requested)


register_namespace("fund", DealingTerms)
register_namespace("nav", Nav)
register_namespace("fundq", FundQueue)
