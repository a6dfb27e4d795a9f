"""Rolling windows: sums of amounts over the last N days of block time, in bounded state.

A window record keeps one bucket per UTC day number (``timestamp_ms // DAY_MS``) that saw an
amount, sorted by day. On day ``d`` a window of ``period_days`` covers the buckets of days
``d - period_days + 1`` to ``d``: the current day counts whole, so the window is between
``period_days - 1`` and ``period_days`` days of wall time long (docs/decisions/windows.md).
Writing prunes buckets older than ``WINDOW_DAYS_MAX`` days, so a record never holds more than
``WINDOW_DAYS_MAX`` buckets whatever the traffic. A bucket saturates at ``AMOUNT_MAX``: every
limit is at most ``AMOUNT_MAX``, so saturation never changes an outcome.

| key | value |
|---|---|
| ``vol/<instrument>/<party>`` | ``Window``: units of the instrument the party sent |
| ``retail/<party>`` | ``Window``: a retail investor's investments, all issuers |
| ``retail/<party>/<issuer>`` | ``Window``: the same, in one issuer's instruments |
"""

from __future__ import annotations

import msgspec

from rantai.core import limits
from rantai.core.state import StateView, register_namespace

__all__ = [
    "DayAmount",
    "Window",
    "add_to_window",
    "day_of",
    "retail_issuer_key",
    "retail_key",
    "volume_key",
    "window_sum",
]


class DayAmount(msgspec.Struct, frozen=True, array_like=True):
    """The amount counted on one UTC day."""

    day: int
    amount: int


class Window(msgspec.Struct, frozen=True, array_like=True):
    """Day buckets, sorted by day, none older than ``WINDOW_DAYS_MAX`` days when written."""

    buckets: tuple[DayAmount, ...]


def volume_key(instrument: str, party: str) -> str:
    return f"vol/{instrument}/{party}"


def retail_key(party: str) -> str:
    return f"retail/{party}"


def retail_issuer_key(party: str, issuer: str) -> str:
    return f"retail/{party}/{issuer}"


def day_of(timestamp_ms: int) -> int:
    """The UTC day number of a block time."""
    return timestamp_ms // limits.DAY_MS


def window_sum(view: StateView, key: str, timestamp_ms: int, period_days: int) -> int:
    """The sum of the buckets at ``key`` within ``period_days`` of ``timestamp_ms``'s day."""
    window: Window | None = view.get(key)
    if window is None:
        return 0
    first = day_of(timestamp_ms) - period_days + 1
    return sum(b.amount for b in window.buckets if b.day >= first)


def add_to_window(view: StateView, key: str, timestamp_ms: int, amount: int) -> None:
    """Add ``amount`` to today's bucket at ``key``, pruning buckets past the longest window."""
    today = day_of(timestamp_ms)
    first = today - limits.WINDOW_DAYS_MAX + 1
    window: Window | None = view.get(key)
    kept = [b for b in window.buckets if b.day >= first] if window is not None else []
    if kept and kept[-1].day == today:
        total = min(kept[-1].amount + amount, limits.AMOUNT_MAX)
        kept[-1] = DayAmount(today, total)
    else:
        kept.append(DayAmount(today, min(amount, limits.AMOUNT_MAX)))
    view.put(key, Window(tuple(kept)))


register_namespace("vol", Window)
register_namespace("retail", Window)
