"""The cyclic garbage collector's settings for long runs: ``rantai up`` (its own process, its
block writer's and its monitors') and ``rantai verify``.

A node or an audit holds its state decoded in memory (the decoded cache, the indexes, the
monitors), and every collection of the oldest generation walks all of it: measured in
``rantai bench``'s e2e phase (500 accounts), full collections paused every thread for 100 to
300 ms each, and the collector's work came to seconds per minute. What exists when the run
starts is moved out of the collector's sight (``gc.freeze``), and the youngest generation is
collected every 20,000 container allocations instead of 700: nearly all of a request's and a
block's objects are freed by reference counting before that, so the collector runs far less
often for the same garbage (measured: collector time down from ~3 s to ~0.7 s over the
bench's e2e phase; ``Ledger.stage_block`` at a million accounts, 76 -> 60 us a transfer).
In the monitors' process, at a million accounts, full collections walked their per-party
windows: 12 of ~40 ms each in 200,000 transfers, ~0.6 s of collector time in all, ~0.1 s
with these settings (and their windows untracked: ``rantai.supervision.monitors``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

__all__ = ["YOUNG_THRESHOLD", "quiet_collector"]

YOUNG_THRESHOLD: Final = 20_000
"""Container allocations between collections of the youngest generation (Python's: 700)."""


@contextmanager
def quiet_collector() -> Iterator[None]:
    """Freeze what exists and collect the young generation less often, until the block
    ends; then put the collector back (the command may run in a test runner)."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
