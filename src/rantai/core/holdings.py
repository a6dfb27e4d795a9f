"""Per-identity holdings and holder counts, kept incrementally by ``credit`` and ``debit``.

An instrument whose policy is *tracked* (its rules were set before its first mint; see
``rantai.core.rules``) keeps, for every party, what it holds across all of its accounts, and
the number of parties holding more than zero. ``credit`` and ``debit`` are the only balance
writers and update both in the same transaction, so the counts are exact from the first
block of the instrument's life, and no rule ever scans balances.

| key | value |
|---|---|
| ``holding/<instrument>/<party>`` | str: the one account holding all of the party's units; |
| | int: their sum, once two or more accounts have held some (absent: 0) |
| ``holders/<instrument>`` | int: parties holding more than zero (absent: 0) |

Most parties hold an instrument in one account. Naming that account, rather than repeating
its balance, means a transfer between two such holders writes no holding at all: the key
changes only when the party starts or stops holding, or comes to hold in a second account
(it then keeps the sum until it holds nothing). At a million accounts each changed key costs
~7 us across the state tree, the block's log and the fold, and a transfer's changes went from
five to three (docs/decisions/compliance.md).

An omnibus account counts for its owner (the custodian), as one holder.
"""

from __future__ import annotations

from rantai.core.errors import invariant
from rantai.core.records import balance_key
from rantai.core.state import StateView, register_namespace

__all__ = ["balance", "holder_count", "holders_key", "holding", "holding_key", "track_holding"]


def holding_key(instrument: str, party: str) -> str:
    return f"holding/{instrument}/{party}"


def holders_key(instrument: str) -> str:
    return f"holders/{instrument}"


def balance(view: StateView, account: str, instrument: str) -> int:
    """Units of ``instrument`` in ``account``, in minor units (0 when none). Here, not in
    ``rantai.core.access`` (which offers it too): a named holding is read through it."""
    value: int | None = view.get(balance_key(account, instrument))
    return 0 if value is None else value


def holding(view: StateView, instrument: str, party: str) -> int:
    """Units of ``instrument`` that ``party`` holds across its accounts (tracked only)."""
    value: int | str | None = view.get(holding_key(instrument, party))
    if value is None:
        return 0
    if isinstance(value, str):
        return balance(view, value, instrument)
    return value


def holder_count(view: StateView, instrument: str) -> int:
    """The number of parties holding ``instrument`` (tracked only)."""
    value: int | None = view.get(holders_key(instrument))
    return 0 if value is None else value


def track_holding(
    view: StateView, instrument: str, party: str, account: str, before: int, after: int
) -> None:
    """Record in ``party``'s holding that its ``account`` went from ``before`` to ``after``
    units, and adjust the count."""
    key = holding_key(instrument, party)
    held: int | str | None = view.get(key)
    if held is None:
        invariant(before == 0 < after, f"{party!r} holds no {instrument!r} to take from")
        view.put(key, account)  # all of it in this account
        _count(view, instrument, 1)
    elif isinstance(held, str):
        if held != account:
            # All was in ``held``, so this account had none: it can only have received.
            invariant(before == 0, f"{account!r} held {instrument!r} beside {held!r}")
            view.put(key, balance(view, held, instrument) + after)
        elif not after:
            view.delete(key)
            _count(view, instrument, -1)
        # else: still all in this account; nothing to write
    else:
        total = held + after - before
        invariant(total >= 0, f"holding of {party!r} in {instrument!r} would go negative")
        if total:
            view.put(key, total)
        else:
            view.delete(key)
            _count(view, instrument, -1)


def _count(view: StateView, instrument: str, change: int) -> None:
    count = holder_count(view, instrument) + change
    invariant(count >= 0, f"holder count of {instrument!r} would go negative")
    if count:
        view.put(holders_key(instrument), count)
    else:
        view.delete(holders_key(instrument))


register_namespace("holding", int | str)
register_namespace("holders", int)
