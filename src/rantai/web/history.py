"""Each party's recent history, for the portfolio and issuer pages.

The store keeps transactions by id and blocks by height, not by account, and the dashboard
must not scan the chain for every page view. ``History`` reads each committed block once, in
order, the first time a page needs it and then only the blocks committed since, and keeps the
last ``ENTRIES_PER_PARTY_MAX`` events that name each party's accounts (``ACCOUNT_ATTRS``: the
same attributes the API's policy uses to decide who a transaction concerns) and each
instrument's distribution events, and each instrument's transfer volume per day for the last
``VOLUME_DAYS_MAX`` days it traded. Memory is bounded by parties x that limit.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from rantai.api.policy import ACCOUNT_ATTRS
from rantai.core import codes
from rantai.core.block import Header, Receipt
from rantai.core.dates import day_of
from rantai.core.encoding import decode
from rantai.core.ids import account_owner
from rantai.store.base import Store

__all__ = ["DISTRIBUTION_EVENT", "Entry", "History"]

ENTRIES_PER_PARTY_MAX: Final = 200
VOLUME_DAYS_MAX: Final = 30
DISTRIBUTION_EVENT: Final = "distribution_paid"


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a committed transaction, as a page lists it."""

    height: int
    at_ms: int
    tx_id: str
    event: str
    attrs: dict[str, str | int]

    def attr(self, name: str) -> str | int | None:
        return self.attrs.get(name)


class History:
    """Events by party (through the accounts they name) and distributions by instrument."""

    def __init__(self, store: Store, head_height: Callable[[], int]) -> None:
        self._store = store
        self._head_height = head_height
        self._next_height = 0
        self._by_party: dict[str, deque[Entry]] = {}
        self._distributions: dict[str, deque[Entry]] = {}
        # instrument -> [(day, units moved, transfers)], oldest first
        self._volume: dict[str, deque[tuple[str, int, int]]] = {}
        self._lock = threading.Lock()

    def of_party(self, party: str) -> list[Entry]:
        """The party's recent events, newest first."""
        self._catch_up()
        with self._lock:
            return list(reversed(self._by_party.get(party, ())))

    def distributions_of(self, instrument: str) -> list[Entry]:
        """Distribution events of ``instrument``, newest first."""
        self._catch_up()
        with self._lock:
            return list(reversed(self._distributions.get(instrument, ())))

    def volume_of(self, instrument: str) -> list[tuple[str, int, int]]:
        """``(day, units, transfers)`` per day ``instrument`` traded, oldest first; ``day``
        is the chain's (Malaysian) date, as the supervisory volume report counts it."""
        self._catch_up()
        with self._lock:
            return list(self._volume.get(instrument, ()))

    def _catch_up(self) -> None:
        with self._lock:
            head = self._head_height()
            if self._next_height > head:
                return
            for block in self._store.iter_blocks(self._next_height):
                if block.height > head:
                    break
                at_ms = decode(block.header, Header).timestamp_ms
                for tx in block.txs:
                    self._index(block.height, at_ms, tx.tx_id.hex(), decode(tx.receipt, Receipt))
                self._next_height = block.height + 1

    def _index(self, height: int, at_ms: int, tx_id: str, receipt: Receipt) -> None:
        if receipt.code != codes.OK:
            return
        for event in receipt.events:
            attrs = {k: v for k, v in event.attrs.items() if isinstance(v, str | int)}
            entry = Entry(height, at_ms, tx_id, event.name, attrs)
            owners = {
                account_owner(value)
                for name, value in attrs.items()
                if name in ACCOUNT_ATTRS and isinstance(value, str)
            }
            for owner in sorted(owners):
                self._append(self._by_party, owner, entry)
            instrument = attrs.get("instrument")
            amount = attrs.get("amount")
            if event.name == "transfer" and isinstance(instrument, str) and isinstance(amount, int):
                self._add_volume(instrument, day_of(at_ms).isoformat(), amount)
            if event.name == DISTRIBUTION_EVENT and isinstance(instrument, str):
                self._append(self._distributions, instrument, entry)

    def _add_volume(self, instrument: str, day: str, amount: int) -> None:
        days = self._volume.get(instrument)
        if days is None:
            days = self._volume[instrument] = deque(maxlen=VOLUME_DAYS_MAX)
        if days and days[-1][0] == day:
            _, units, count = days[-1]
            days[-1] = (day, units + amount, count + 1)
        else:  # blocks come in time order, so a new day is always the latest
            days.append((day, amount, 1))

    @staticmethod
    def _append(table: dict[str, deque[Entry]], key: str, entry: Entry) -> None:
        entries = table.get(key)
        if entries is None:
            entries = table[key] = deque(maxlen=ENTRIES_PER_PARTY_MAX)
        entries.append(entry)
