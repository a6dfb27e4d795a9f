"""Record dates: the balances of an instrument frozen in time, without copying them all.

A record date fixes the register of an instrument as it stands at the end of the block that
took it (height ``H``). Distributions and ballots read it later, while holders go on
trading. Copying every balance at ``H`` would cost as much as the register; instead the
copy is lazy (copy-on-write): while a record is *open*, the first time a block after ``H``
changes an account's balance of the instrument, ``credit``/``debit`` save the balance it had
before, which is its balance at ``H``. So a balance at the record is the saved one where
there is one, and the live one otherwise, and the cost is one read per balance change plus
one write per account that changed since ``H``.

The same balances are provable by anyone: the node proves any balance at past height ``H``
against header ``H``'s state root (docs/decisions/state-commitment.md).

| key | value |
|---|---|
| ``record/<instrument>/<name>`` | ``RecordDate`` |
| ``recopen/<instrument>`` | ``OpenRecords``: the open records' names and heights |
| ``snap/<instrument>/<name>/<account>`` | int: the account's balance at the record (may be 0) |

Closing a record deletes its snapshot entries; the record itself stays as history.
"""

from __future__ import annotations

from typing import Final

import msgspec

from rantai.core.records import balance_key
from rantai.core.registers import register_scannable
from rantai.core.state import StateView, register_namespace

__all__ = [
    "OPEN",
    "CLOSED",
    "OpenRecord",
    "OpenRecords",
    "RecordDate",
    "balance_at",
    "holders_at",
    "open_records_key",
    "record_key",
    "snapshot_before_change",
    "snapshot_key",
    "snapshot_prefix",
]

OPEN: Final = "open"
CLOSED: Final = "closed"


class RecordDate(msgspec.Struct, frozen=True, array_like=True):
    """The register of ``instrument`` at the end of block ``height``."""

    instrument: str
    name: str
    height: int
    timestamp_ms: int
    purpose: str  # free text: "coupon 3", "sukukholder consent" ...
    status: str  # open | closed
    open_ballots: int  # ballots reading the record; it cannot close while any is open
    taken_by: str


class OpenRecord(msgspec.Struct, frozen=True, array_like=True):
    name: str
    height: int


class OpenRecords(msgspec.Struct, frozen=True, array_like=True):
    records: tuple[OpenRecord, ...]


def record_key(instrument: str, name: str) -> str:
    return f"record/{instrument}/{name}"


def open_records_key(instrument: str) -> str:
    return f"recopen/{instrument}"


def snapshot_prefix(instrument: str, name: str) -> str:
    return f"snap/{instrument}/{name}/"


def snapshot_key(instrument: str, name: str, account: str) -> str:
    return f"snap/{instrument}/{name}/{account}"


def snapshot_before_change(view: StateView, account: str, instrument: str, before: int) -> None:
    """Save ``before`` as ``account``'s balance at each open record that has not saved one.

    ``credit`` and ``debit`` call it before every balance write. A record taken in the
    block being executed saves nothing: its register is the end of this block.
    """
    open_records: OpenRecords | None = view.get(open_records_key(instrument))
    if open_records is None:
        return
    height = view.height
    for record in open_records.records:
        if height is not None and record.height >= height:
            continue
        key = snapshot_key(instrument, record.name, account)
        if view.get(key) is None:
            view.put(key, before)


def balance_at(view: StateView, record: RecordDate, account: str) -> int:
    """``account``'s balance of the record's instrument at the record."""
    saved: int | None = view.get(snapshot_key(record.instrument, record.name, account))
    if saved is not None:
        return saved
    live: int | None = view.get(balance_key(account, record.instrument))
    return 0 if live is None else live


def holders_at(view: StateView, record: RecordDate) -> list[tuple[str, int]]:
    """Every ``(account, units)`` with units at the record, in account order."""
    prefix = snapshot_prefix(record.instrument, record.name)
    accounts = set(view.accounts_holding(record.instrument))
    accounts.update(key[len(prefix) :] for key in view.keys_with_prefix(prefix))
    rows = []
    for account in sorted(accounts):
        units = balance_at(view, record, account)
        if units:
            rows.append((account, units))
    return rows


register_namespace("record", RecordDate)
register_namespace("recopen", OpenRecords)
register_namespace("snap", int)
register_scannable("snap")
