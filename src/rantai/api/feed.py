"""Committed blocks, from the node's executor thread to the event loops that wait on them.

The node calls ``BlockFeed._on_commit`` on its executor thread after each commit (``Node.
subscribe``). That call must not block, so it only files what waiters wait for and wakes
their own event loops with ``call_soon_threadsafe``; everything else happens on the loop.
Two kinds of waiter:

* receipt waiters: one per ``wait=true`` submission (``ReceiptWaiter``). The executor
  thread files each watched receipt with its waiter and wakes the waiter's loop once, when
  the last receipt it expects is in: never once per transaction, which at blocks of
  thousands would cost the executor a loop wake-up (a pipe write) per transaction;
* header streams: one bounded buffer per Server-Sent Events client. A client that falls
  ``STREAM_BUFFER_MAX`` headers behind is disconnected (it reconnects with
  ``Last-Event-ID`` and catches up from the store) rather than let its buffer grow.

Both are bounded: at most ``waiting_max`` transaction ids and ``streams_max`` streams.
Each waiter keeps a reference to its own loop, so the feed works whatever loop (or test
client) a request runs on.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Collection, Sequence
from typing import Final

import msgspec

from rantai.api.errors import OVERLOADED, ApiError
from rantai.api.metrics import Metrics
from rantai.api.views import header_info
from rantai.core.block import Receipt
from rantai.node.node import CommittedBlock, Node

__all__ = ["BlockFeed", "HeaderStream", "ReceiptWaiter"]

WAITING_TXS_MAX: Final = 200_000
STREAMS_MAX: Final = 1_000
STREAM_BUFFER_MAX: Final = 1_000


class ReceiptWaiter:
    """One submission's wait for its receipts; made by ``BlockFeed.watch``, used on its loop.

    ``found`` and the count of what is still expected are written by the executor thread
    under the feed's lock; read them through the feed (``BlockFeed.wait``).
    """

    __slots__ = ("done", "expected", "found", "loop", "missing", "tx_ids")

    def __init__(self, loop: asyncio.AbstractEventLoop, tx_ids: Sequence[bytes]) -> None:
        self.loop = loop
        self.tx_ids = tuple(dict.fromkeys(tx_ids))  # each id once, in order
        self.done: asyncio.Future[None] = loop.create_future()
        self.found: dict[bytes, tuple[int, Receipt]] = {}
        self.expected: frozenset[bytes] | None = None  # None: until the admission is known
        self.missing = 0


class HeaderStream:
    """One SSE client's buffer of ``(height, HeaderInfo JSON bytes)``; used on its loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, buffer_max: int) -> None:
        self.loop = loop
        self._buffer_max = buffer_max
        self._items: deque[tuple[int, bytes]] = deque()
        self._ready = asyncio.Event()
        self.closed = False

    def push(self, item: tuple[int, bytes]) -> None:
        if len(self._items) >= self._buffer_max:
            self.close()  # too slow: drop it, the client resumes from Last-Event-ID
            return
        self._items.append(item)
        self._ready.set()

    def close(self) -> None:
        self.closed = True
        self._ready.set()

    async def next_batch(self, timeout_s: float) -> list[tuple[int, bytes]] | None:
        """What arrived (``[]`` after ``timeout_s`` of nothing), or ``None`` once closed."""
        if not self._items and not self.closed:
            try:
                await asyncio.wait_for(self._ready.wait(), timeout_s)
            except TimeoutError:
                return []
        self._ready.clear()
        if self.closed:
            return None
        items = list(self._items)
        self._items.clear()
        return items


class BlockFeed:
    """Wakes receipt waiters and feeds header streams as blocks commit (module docstring)."""

    def __init__(
        self,
        node: Node,
        metrics: Metrics,
        waiting_max: int = WAITING_TXS_MAX,
        streams_max: int = STREAMS_MAX,
    ) -> None:
        self._metrics = metrics
        self._waiting_max = waiting_max
        self._streams_max = streams_max
        self._lock = threading.Lock()
        self._waiters: dict[bytes, list[ReceiptWaiter]] = {}
        self._waiting = 0
        self._streams: set[HeaderStream] = set()
        self._unsubscribe = node.subscribe(self._on_commit)

    # --- on the executor thread ------------------------------------------------------------
    def _on_commit(self, block: CommittedBlock) -> None:
        self._metrics.observe_block(block)
        outcome = block.outcome
        height = outcome.header.height
        complete: list[ReceiptWaiter] = []
        with self._lock:
            if self._waiters:
                waiters_of = self._waiters
                for receipt in outcome.receipts:
                    waiters = waiters_of.pop(receipt.tx_id, None)
                    if waiters is None:
                        continue
                    self._waiting -= len(waiters)
                    for waiter in waiters:
                        waiter.found[receipt.tx_id] = (height, receipt)
                        if waiter.expected is not None and receipt.tx_id in waiter.expected:
                            waiter.missing -= 1
                            if not waiter.missing:
                                complete.append(waiter)
            streams = list(self._streams)
        for waiter in complete:
            _call_soon(waiter.loop, _finish, waiter.done)
        if streams:
            data = msgspec.json.encode(
                header_info(outcome.header, outcome.header_hash, block.certificate)
            )
            for stream in streams:
                _call_soon(stream.loop, stream.push, (height, data))

    # --- on an event loop ------------------------------------------------------------------
    def watch(self, tx_ids: Sequence[bytes]) -> ReceiptWaiter:
        """A waiter that collects ``(height, receipt)`` of each id as its block commits.

        Call before submitting, so that no commit can slip between submitting and watching;
        then ``wait`` for the ids admitted, and ``forget`` the waiter.

        Raises:
            ApiError(overloaded): too many transactions are being waited for.
        """
        waiter = ReceiptWaiter(asyncio.get_running_loop(), tx_ids)
        with self._lock:
            if self._waiting + len(waiter.tx_ids) > self._waiting_max:
                raise ApiError(OVERLOADED, "too many submissions waiting for receipts; retry")
            for tx_id in waiter.tx_ids:
                self._waiters.setdefault(tx_id, []).append(waiter)
            self._waiting += len(waiter.tx_ids)
        return waiter

    async def wait(
        self, waiter: ReceiptWaiter, admitted: Collection[bytes], timeout_s: float
    ) -> dict[bytes, tuple[int, Receipt]]:
        """``(height, receipt)`` of each id of ``admitted`` (ids ``waiter`` watches) whose
        block committed before the last of them did, or before ``timeout_s`` passed."""
        expected = frozenset(admitted).intersection(waiter.tx_ids)
        with self._lock:
            waiter.expected = expected
            waiter.missing = len(expected.difference(waiter.found))
        if waiter.missing:
            await asyncio.wait((waiter.done,), timeout=timeout_s)
        with self._lock:
            return {tx_id: found for tx_id, found in waiter.found.items() if tx_id in expected}

    def forget(self, waiter: ReceiptWaiter) -> None:
        """Stop waiting for what ``waiter`` has not received yet."""
        with self._lock:
            for tx_id in waiter.tx_ids:
                waiters = self._waiters.get(tx_id)
                if waiters is None or waiter not in waiters:
                    continue
                waiters.remove(waiter)
                self._waiting -= 1
                if not waiters:
                    del self._waiters[tx_id]
        waiter.done.cancel()

    def check_room(self) -> None:
        """Refuse a new stream before answering, when ``streams_max`` are open.

        Raises:
            ApiError(overloaded): ``streams_max`` streams are open.
        """
        with self._lock:
            if len(self._streams) >= self._streams_max:
                raise ApiError(OVERLOADED, "too many header streams open; retry")

    def open_stream(self, buffer_max: int = STREAM_BUFFER_MAX) -> HeaderStream:
        """A new header stream, fed from the next commit on. Past ``check_room``, so the
        bound is soft by the few streams that may open between the check and here."""
        stream = HeaderStream(asyncio.get_running_loop(), buffer_max)
        with self._lock:
            self._streams.add(stream)
        return stream

    def close_stream(self, stream: HeaderStream) -> None:
        with self._lock:
            self._streams.discard(stream)
        stream.close()

    def close_streams(self) -> None:
        """End every open stream (at shutdown); safe from any thread or a signal handler."""
        with self._lock:
            streams = list(self._streams)
        for stream in streams:
            _call_soon(stream.loop, stream.close)

    def close(self) -> None:
        """Stop listening to the node and end every stream."""
        self._unsubscribe()
        self.close_streams()

    @property
    def waiting(self) -> int:
        with self._lock:
            return self._waiting


def _finish(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)


def _call_soon(
    loop: asyncio.AbstractEventLoop, callback: Callable[..., object], *args: object
) -> None:
    # RuntimeError: that loop is closed; its request is over and nobody waits any more.
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback, *args)
