"""Stateless admission of envelopes, with signature checks spread over worker processes.

Ed25519 verification dominates admission cost (~40 µs each), so batches of envelopes are
checked in a process pool; each worker returns only ``None`` or ``(code, message)`` per
envelope to keep the traffic between processes small, and the caller decodes a passed
envelope again (a few microseconds, no check repeated) to get the typed transaction.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from rantai.core.errors import Malformed
from rantai.core.tx import SignedTx, check_envelope, check_envelope_parts, decode_checked
from rantai.node.orphans import exit_with

__all__ = ["Admitted", "Refused", "Verifier"]

# Fewer envelopes than this are checked in the caller's thread (for one or a few, the
# pool's round trip would take longer than the checks); at least this many go to the pool,
# so that the node process, whose one interpreter executes blocks and serves HTTP, does not
# verify them itself. At 64, clients sending 59 transfers every 50 ms had the node verify
# them all: its CPU 192 - 194 us a transfer and p99 730 - 858 ms at 4,744 a second, against
# 137 - 139 us (the pool 95 - 96) and 355 - 436 ms at 16 (docs/performance.md, session 14).
CHUNK_ENVELOPES_MIN = 16
# The workers' niceness: they yield the cores to their caller's serial thread (the node's
# executor, the audit's replay). Why and measured: docs/decisions/verifier-priority.md.
WORKER_NICE = 10

# Workers are forked from a small server process that has imported only this module, never
# from their caller: a node starts its pool with the first batch, by then holding the whole
# state, and forking it made every page it wrote afterwards a copy-on-write fault.
# Why and measured: docs/decisions/verifier-forkserver.md.
_WORKER_START = multiprocessing.get_context("forkserver")
_WORKER_START.set_forkserver_preload([__name__])


@dataclass(frozen=True, slots=True)
class Refused:
    """An envelope refused by a stateless check."""

    code: str
    message: str


Admitted = SignedTx | Refused


def _check_chunk(chain_id: str, raws: Sequence[bytes]) -> list[tuple[str, str] | None]:
    results: list[tuple[str, str] | None] = []
    for raw in raws:
        try:
            check_envelope_parts(raw, chain_id)
        except Malformed as exc:
            results.append((exc.code, exc.message))
        else:
            results.append(None)
    return results


def _start_worker(nice: int, caller: int) -> None:
    # Ctrl-C reaches the whole process group; the caller shuts the pool down in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with(caller)  # the caller, not the forkserver: see rantai.node.orphans
    if nice:
        os.nice(nice)


class Verifier:
    """Checks envelopes statelessly; ``workers=0`` checks in the calling thread.

    The workers run at ``nice`` (``WORKER_NICE`` unless told): their caller's own thread is
    the serial part of the work (the node's executor, the audit's replay), and the workers,
    with more envelopes queued than there are cores, take what it leaves.
    """

    def __init__(self, chain_id: str, workers: int = 0, nice: int = WORKER_NICE) -> None:
        self.chain_id = chain_id
        self.workers = workers
        self._pool = (
            ProcessPoolExecutor(
                max_workers=workers,
                mp_context=_WORKER_START,
                initializer=_start_worker,
                initargs=(nice, os.getpid()),
            )
            if workers > 0
            else None
        )

    def check(self, raws: Sequence[bytes]) -> list[Admitted]:
        """Return, per envelope and in order, the checked transaction or why it was refused."""
        return self.check_later(raws)()

    def check_later(self, raws: Sequence[bytes]) -> Callable[[], list[Admitted]]:
        """Start checking ``raws`` in the pool; return the function that waits for ``check``'s
        answer. Lets the caller work (execute the previous block) while the workers verify.
        Without a pool, or for a small batch, the checks run when the answer is asked for."""
        if self._pool is None or len(raws) < CHUNK_ENVELOPES_MIN:
            return lambda: [self._check_one(raw, verify_signature=True) for raw in raws]
        size = max(CHUNK_ENVELOPES_MIN, -(-len(raws) // (self.workers * 2)))
        chunks = [raws[i : i + size] for i in range(0, len(raws), size)]
        futures = [self._pool.submit(_check_chunk, self.chain_id, c) for c in chunks]

        def answer() -> list[Admitted]:
            out: list[Admitted] = []
            for chunk, future in zip(chunks, futures, strict=True):
                for raw, verdict in zip(chunk, future.result(), strict=True):
                    if verdict is None:
                        out.append(self._decode_passed(raw))
                    else:
                        out.append(Refused(*verdict))
            return out

        return answer

    @staticmethod
    def _decode_passed(raw: bytes) -> Admitted:
        # A worker ran every check on these bytes; the same code would pass them again.
        try:
            return decode_checked(raw)
        except Malformed as exc:
            return Refused(exc.code, exc.message)

    def _check_one(self, raw: bytes, *, verify_signature: bool) -> Admitted:
        try:
            return check_envelope(raw, self.chain_id, verify_signature=verify_signature)
        except Malformed as exc:
            return Refused(exc.code, exc.message)

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
