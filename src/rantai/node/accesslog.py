"""The access log: every read by an agency, hash-chained so that a change or a gap shows.

```
entry hash = SHA-256(encode([prev_hash, seq, at_ms, party, method, path, query, status]))
```
``seq`` runs 1, 2, 3, ...; the first entry's ``prev_hash`` is 32 zero bytes. Anyone with the
entries can recompute the chain (``check_chain``); ``rantai verify`` does (``node.audit``).

Writes are batched: ``AccessLog.record`` gives the entry its seq and hash at once, in
memory, and a background thread appends what has accumulated in one store transaction every
``flush_interval_s`` (100 ms by default), so an agency's read costs a hash, not a disk sync.
**What a crash can lose**: the entries recorded since the last flush, at most one flush
interval of agency reads (and at most ``buffer_max`` entries). Whatever was flushed is
durable and intact; after a restart the chain continues from the last stored entry, so the
loss never shows as a broken chain (the seq numbers of lost entries are reused). Without
``start()`` (no background thread) every ``record`` writes synchronously.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Final

from rantai.core.encoding import encode
from rantai.crypto.hashing import ZERO_DIGEST, sha256
from rantai.store.base import AccessLogRecord, Store, StoreError

__all__ = ["AccessLog", "BrokenAccessLog", "check_chain", "entry_hash"]

FLUSH_INTERVAL_S: Final = 0.1
BUFFER_ENTRIES_MAX: Final = 10_000

log = logging.getLogger(__name__)


def entry_hash(
    prev_hash: bytes,
    seq: int,
    at_ms: int,
    party: str,
    method: str,
    path: str,
    query: str,
    status: int,
) -> bytes:
    """The hash of one entry, chained to the previous entry's hash."""
    return sha256(encode([prev_hash, seq, at_ms, party, method, path, query, status]))


class BrokenAccessLog(Exception):
    """The access log's hash chain is broken at entry ``seq``."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(f"access log entry {seq}: {problem}")
        self.seq = seq
        self.problem = problem


def check_chain(
    records: Iterable[AccessLogRecord], prev_seq: int = 0, prev_hash: bytes = ZERO_DIGEST
) -> tuple[int, bytes]:
    """Check that ``records`` continue the chain after ``(prev_seq, prev_hash)``.

    Returns the last ``(seq, hash)``. Raises ``BrokenAccessLog`` at the first entry whose seq
    is not the next one or whose hash is not the hash of its fields and the previous hash.
    """
    for record in records:
        if record.seq != prev_seq + 1:
            raise BrokenAccessLog(prev_seq + 1, f"missing (found {record.seq} next)")
        expected = entry_hash(
            prev_hash,
            record.seq,
            record.at_ms,
            record.party,
            record.method,
            record.path,
            record.query,
            record.status,
        )
        if record.hash != expected:
            raise BrokenAccessLog(record.seq, "hash does not match its fields and the chain")
        prev_seq, prev_hash = record.seq, record.hash
    return prev_seq, prev_hash


class AccessLog:
    """Appends hash-chained entries to a store's access log, in batches (module docstring).

    Thread-safe. ``record`` never blocks on the disk while the background thread runs,
    unless ``buffer_max`` entries are waiting, when it flushes in the caller's thread.
    """

    def __init__(
        self,
        store: Store,
        clock_ms: Callable[[], int],
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        buffer_max: int = BUFFER_ENTRIES_MAX,
    ) -> None:
        self._store = store
        self._clock_ms = clock_ms
        self._interval_s = flush_interval_s
        self._buffer_max = buffer_max
        self._lock = threading.Lock()  # seq, last hash, buffer
        self._flush_lock = threading.Lock()  # one append at a time, in seq order
        self._buffer: list[AccessLogRecord] = []
        last = store.last_access_log()
        self._seq = 0 if last is None else last.seq
        self._hash = ZERO_DIGEST if last is None else last.hash
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def record(
        self, party: str, method: str, path: str, query: str, status: int
    ) -> AccessLogRecord:
        """Add an entry for a read by ``party`` and return it.

        Raises:
            StoreError: the entry could not be kept: writing synchronously (no background
                thread, or a full buffer) failed. The read must then be refused.
        """
        at_ms = self._clock_ms()
        with self._lock:
            seq = self._seq + 1
            digest = entry_hash(self._hash, seq, at_ms, party, method, path, query, status)
            entry = AccessLogRecord(seq, at_ms, party, method, path, query, status, digest)
            self._buffer.append(entry)
            self._seq, self._hash = seq, digest
            waiting = len(self._buffer)
        if self._thread is None or waiting >= self._buffer_max:
            self.flush()
        return entry

    def flush(self) -> None:
        """Write every recorded entry now.

        Raises:
            StoreError: the store refused; the entries stay buffered for the next flush.
        """
        with self._flush_lock:
            with self._lock:
                batch, self._buffer = self._buffer, []
            if not batch:
                return
            try:
                self._store.append_access_log(batch)
            except StoreError:
                with self._lock:
                    self._buffer[:0] = batch
                raise

    @property
    def pending(self) -> int:
        """Entries recorded but not yet written."""
        with self._lock:
            return len(self._buffer)

    def start(self) -> None:
        """Flush in a background thread every ``flush_interval_s``."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="rantai-access-log", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            try:
                self.flush()
            except StoreError as exc:
                # Kept in the buffer and retried; record() refuses reads once it is full.
                log.error("access log flush failed, will retry: %s", exc)

    def stop(self) -> None:
        """Stop the background thread and write what is buffered."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
        self.flush()
