"""Per-identity holdings and holder counts, kept incrementally by ``credit`` and ``debit``.

An instrument whose policy is *tracked* (its rules were set before its first mint; see
``rantai.core.rules``) keeps, for every party, the sum of its balances across all of its
accounts, and the number of parties whose sum is positive. ``credit`` and ``debit`` are the
only balance writers and update both in the same transaction, so the counts are exact from
the first block of the instrument's life, and no rule ever scans balances.

| key | value |
|---|---|
| ``holding/<instrument>/<party>`` | int: the party's units across its accounts (absent: 0) |
| ``holders/<instrument>`` | int: parties holding more than zero (absent: 0) |

An omnibus account counts for its owner (the custodian), as one holder.
"""

from __future__ import annotations

from rantai.core.errors import invariant
from rantai.core.state import StateView, register_namespace

__all__ = ["holder_count", "holders_key", "holding", "holding_key", "track_holding"]


def holding_key(instrument: str, party: str) -> str:
    return f"holding/{instrument}/{party}"


def holders_key(instrument: str) -> str:
    return f"holders/{instrument}"


def holding(view: StateView, instrument: str, party: str) -> int:
    """Units of ``instrument`` that ``party`` holds across its accounts (tracked only)."""
    value: int | None = view.get(holding_key(instrument, party))
    return 0 if value is None else value


def holder_count(view: StateView, instrument: str) -> int:
    """The number of parties holding ``instrument`` (tracked only)."""
    value: int | None = view.get(holders_key(instrument))
    return 0 if value is None else value


def track_holding(view: StateView, instrument: str, party: str, delta: int) -> None:
    """Add ``delta`` (positive or negative) to ``party``'s holding and adjust the count."""
    key = holding_key(instrument, party)
    before: int = view.get(key) or 0
    after = before + delta
    invariant(after >= 0, f"holding of {party!r} in {instrument!r} would go negative")
    if after:
        view.put(key, after)
    else:
        view.delete(key)
    if (before == 0) != (after == 0):
        count = holder_count(view, instrument) + (1 if after else -1)
        invariant(count >= 0, f"holder count of {instrument!r} would go negative")
        if count:
            view.put(holders_key(instrument), count)
        else:
            view.delete(holders_key(instrument))


register_namespace("holding", int)
register_namespace("holders", int)
