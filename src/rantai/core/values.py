"""The ledger's applied state: encoded in a native table, decoded when read, behind a cache.

At a million accounts the state is six million keys. As a dict of decoded records it took
~530 B a key in the Python heap (key, slot, record); the encoded bytes in the native table
(``rantai.core._values``) take ~120 B. A read decodes its record (a few hundred ns for a
small one) unless the cache of decoded records holds it: the chain's configuration, the
instruments and the busy accounts are read by every block and stay there.
docs/decisions/state-values.md says why, and what it costs.

A read that misses the cache decodes without the canonical check (``decode_known``): every
value here is either the ledger's own encoding or stored bytes whose digests ``Ledger.load``
checked against a signed state root, so the check could only pass.

Threads: in a node, the ledger's owner applies blocks while API threads read. Reads run in C
(``_values.DecodedReader``) and hold the GIL throughout, so a read sees the table before or
after an update, never during one; a record decoded from bytes an update has since replaced
never enters the cache (the reader checks the table's generation). ``load`` and ``apply`` take
the lock the node passes (a ``threading.Lock``; the core does no threading of its own); a
ledger used by one thread, as in the audit and the tests, needs none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from itertools import islice
from typing import Any, Final

from rantai.core._values import DecodedReader, NativeValueTable
from rantai.core.encoding import known_decoder
from rantai.core.state import DELETED, namespace_type

__all__ = ["DECODED_CACHE_MAX", "StateValues"]

DECODED_CACHE_MAX: Final = 131_072
"""Decoded records kept: ~50 MB at most, the whole state of ~20,000 accounts (6 keys each)."""

LOAD_CHUNK: Final = 10_000
_ABSENT: Final = object()


def _decoder_of_key(key: str) -> Callable[[bytes], Any]:
    return known_decoder(namespace_type(key))


class StateValues(Mapping[str, Any]):
    """``key -> decoded record`` over encoded values; a read-only ``Mapping`` to its readers.

    Only the ledger writes, through ``load`` and ``apply``. Iteration order is the native
    table's: deterministic, but not sorted; sort where order matters.
    """

    __slots__ = ("_cache_max", "_lock", "_reader", "_table", "direct_get")

    def __init__(
        self,
        lock: AbstractContextManager[Any] | None = None,
        cache_max: int = DECODED_CACHE_MAX,
        *,
        doorkeeper: bool = True,
    ) -> None:
        self._table = NativeValueTable()
        self._cache_max = cache_max
        self._lock: AbstractContextManager[Any] = nullcontext() if lock is None else lock
        # The reader owns the cache of decoded records; apply refreshes it through the reader.
        # Once full, the cache admits a record only on its key's second recent miss
        # (``doorkeeper``; False admits every one, to measure the difference).
        self._reader = DecodedReader(
            self._table, {}, _decoder_of_key, cache_max, doorkeeper=doorkeeper
        )
        self.direct_get: Callable[..., Any] = self._reader.get
        """``get`` itself, without a Python frame: what ``StateView`` calls."""

    def get(self, key: str, default: Any = None) -> Any:
        """The decoded record at ``key``, or ``default`` when absent."""
        return self.direct_get(key, default)

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, _ABSENT)
        if value is _ABSENT:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._table

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def raw(self, key: str) -> bytes | None:
        """The encoded value at ``key`` (what the store and the state tree hold), or None."""
        return self._table.get(key)

    def raw_items(self) -> Iterator[tuple[str, bytes]]:
        """Every ``(key, encoded value)``, decoding nothing and caching nothing."""
        get = self._table.get
        for key in self._table:
            raw = get(key)
            if raw is not None:
                yield key, raw

    def __copy__(self) -> StateValues:
        """A copy for one thread (no lock), as of now: the tests fork ledgers with it."""
        copied = StateValues(cache_max=self._cache_max)
        with self._lock:
            copied.load(self.raw_items())
        return copied

    def __deepcopy__(self, memo: dict[int, Any]) -> StateValues:
        return self.__copy__()  # decoded records are rebuilt from bytes: nothing is shared

    def memory_bytes(self) -> int:
        """Bytes the native table holds (the decoded cache not included)."""
        return self._table.memory_bytes()

    def load(self, items: Iterable[tuple[str, bytes]]) -> None:
        """Add stored ``(key, encoded value)`` pairs; for a ledger being built.

        In chunks: the table checks a whole batch before applying it, so one batch of six
        million pairs would hold them all as Python objects at once."""
        pairs = iter(items)
        with self._lock:
            while chunk := list(islice(pairs, LOAD_CHUNK)):
                self._table.update(chunk)

    def apply(self, changes: Mapping[str, bytes | None], decoded: dict[str, Any]) -> list[str]:
        """Apply a block: ``changes`` its encoded values (None: deleted), ``decoded`` the
        same values decoded (``DELETED``: deleted); return the keys that were absent before.
        Cached records are replaced; others are decoded when next read, so a block does not
        push the hot records out."""
        with self._lock:
            inserted = self._table.update_inserted(changes.items())
            self._reader.refresh(decoded, DELETED)
        return inserted
