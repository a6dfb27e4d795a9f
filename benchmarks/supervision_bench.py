"""Benchmark of the AML monitors (``rantai.supervision``) over the bench's transfers.

Builds the bench chain (``rantai.bench.chain.build_chain``), runs ``--txs`` bench transfers
through the node and keeps the blocks it announces, as a supervisor attached to the node
receives them. Then, for each set of monitors, a fresh ``BlockMonitors`` over the node's store
is fed the setup blocks (untimed) and the transfer blocks (timed): CPU time of this thread
(``time.thread_time``), so that other processes on a shared machine do not inflate it, per
transfer, best and median of ``--repeat`` runs. ``none`` (no monitors) is the cost of reading
the movements and keeping the state cache; each monitor's own cost is its figure minus that.

``default`` is what ``rantai up`` runs without a sanctions list; ``listed`` adds the sample
UN list of the tests and a configured high-risk country, so every party's name is matched and
its residency read.

Run: ``.venv/bin/python benchmarks/supervision_bench.py [--accounts N] [--txs M]``.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rantai.bench.chain import Phase, build_chain, sign_phase_parallel
from rantai.core import codes
from rantai.core.block import Header, Receipt
from rantai.core.encoding import decode
from rantai.node.node import CommittedBlock, Node
from rantai.store.base import Store
from rantai.supervision import (
    HighRiskJurisdiction,
    HighRiskJurisdictionConfig,
    Monitor,
    default_monitors,
    load_sanctions_list,
)
from rantai.supervision.supervisor import BlockMonitors

SAMPLE_LIST = Path(__file__).parent.parent / "tests/supervision/data/un_consolidated_sample.xml"
GC_YOUNG_THRESHOLD = 20_000  # as rantai.cli.serve sets it
SUBMIT_BATCH = 2_000
WAIT_S = 600.0

Block = tuple[Header, Sequence[Receipt], dict[str, bytes | None]]
MonitorSet = Callable[[], Sequence[Monitor]]


def monitor_sets() -> dict[str, MonitorSet]:
    """Each measured set of monitors, by name."""
    listed = load_sanctions_list(SAMPLE_LIST)
    sets: dict[str, MonitorSet] = {"none": lambda: ()}
    for index, monitor in enumerate(default_monitors()):
        sets[monitor.name] = lambda index=index: (default_monitors()[index],)  # type: ignore[misc]
    risky = HighRiskJurisdictionConfig(high_risk_countries=frozenset({"IR"}), sanctions=listed)
    sets["high_risk_listed"] = lambda: (HighRiskJurisdiction(risky),)
    sets["default"] = default_monitors
    sets["listed"] = lambda: (
        *default_monitors(listed)[:4],
        HighRiskJurisdiction(risky),
        default_monitors()[5],
    )
    return sets


def stored_blocks(store: Store, first: int, last: int) -> list[Block]:
    blocks: list[Block] = []
    for height in range(first, last + 1):
        stored = store.get_block(height)
        assert stored is not None
        receipts = tuple(decode(tx.receipt, Receipt) for tx in stored.txs)
        blocks.append((decode(stored.header, Header), receipts, dict(stored.state_changes)))
    return blocks


def run_transfers(node: Node, accounts: int, count: int, workers: int) -> list[Block]:
    """Commit ``count`` bench transfers; the blocks as the node announced them."""
    [raws] = sign_phase_parallel(Phase(accounts, count, 0), 1, workers)
    announced: list[Block] = []

    def keep(committed: CommittedBlock) -> None:
        o = committed.outcome
        announced.append((o.header, o.receipts, o.changes))

    detach = node.subscribe(keep)
    try:
        ids = []
        for i in range(0, len(raws), SUBMIT_BATCH):
            ids += [r.tx_id for r in node.submit(raws[i : i + SUBMIT_BATCH]) if r.tx_id]
        found = node.wait(ids, WAIT_S)
        assert sum(1 for _, r in found.values() if r.code == codes.OK) == count
    finally:
        detach()
    return announced


def transfers_in(blocks: Sequence[Block]) -> int:
    return sum(len(receipts) for _, receipts, _ in blocks)


def measure(
    store: Store,
    setup: list[Block],
    runs: Sequence[list[Block]],
    make: MonitorSet,
    profile: cProfile.Profile | None = None,
) -> tuple[list[float], int, str]:
    """CPU seconds to feed each of ``runs`` of blocks in turn, after ``setup``; the count
    and digest of the alerts they raise."""
    monitors = BlockMonitors(store, make())
    for header, receipts, changes in setup:
        monitors.feed(header, receipts, changes)
    alerts = []
    seconds = []
    for blocks in runs:
        started = time.thread_time()
        if profile and blocks is runs[-1]:
            profile.enable()
        for header, receipts, changes in blocks:
            alerts += monitors.feed(header, receipts, changes)
        if profile and blocks is runs[-1]:
            profile.disable()
        seconds.append(time.thread_time() - started)
    digest = hashlib.sha256(repr(alerts).encode()).hexdigest()[:12]
    return seconds, len(alerts), digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=3_000)
    parser.add_argument("--txs", type=int, default=30_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", nargs="*", help="measure only these sets")
    parser.add_argument("--profile", metavar="SET", help="print a cProfile of one set's run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rantai-supervision-bench-") as tmp:
        now_ms = time.time_ns() // 10**6
        node = build_chain(Path(tmp) / "chain", args.accounts, args.workers, now_ms)
        try:
            setup_head = node.store.head_height()
            assert setup_head is not None
            blocks = run_transfers(node, args.accounts, args.txs, args.workers)
        finally:
            node.stop()
        setup = stored_blocks(node.store, 0, setup_head)
        # First run: the blocks until every account has sent once, in which the monitors
        # first read each party's facts from the store. Then the steady state.
        cold = 1
        while transfers_in(blocks[:cold]) < args.accounts:
            cold += 1
        runs = [blocks[:cold], blocks[cold:]]
        cold_txs, steady_txs = map(transfers_in, runs)
        # As ``rantai up`` runs (``rantai.cli.serve``): what is loaded is out of the
        # collector's sight, and the youngest generation is collected less often.
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
        print(f"{args.accounts} accounts, {args.txs} transfers in {len(blocks)} blocks")
        print(f"us of CPU per transfer: first {cold_txs} transfers, then {steady_txs}")
        print(
            f"{'monitors':<24} {'first':>8} {'then best':>10} {'median':>8} {'alerts':>7}  digest"
        )
        for name, make in monitor_sets().items():
            if args.only and name not in args.only:
                continue
            measured = [measure(node.store, setup, runs, make) for _ in range(args.repeat)]
            cold_s = min(s[0] for s, _, _ in measured) / cold_txs * 1e6
            steady_s = [s[1] / steady_txs * 1e6 for s, _, _ in measured]
            _, count, digest = measured[0]
            best, median = min(steady_s), statistics.median(steady_s)
            print(f"{name:<24} {cold_s:>8.2f} {best:>10.2f} {median:>8.2f} {count:>7}  {digest}")
        if args.profile:
            profile = cProfile.Profile()
            measure(node.store, setup, runs, monitor_sets()[args.profile], profile)
            pstats.Stats(profile).sort_stats("cumulative").print_stats(20)
        node.store.close()


if __name__ == "__main__":
    main()
