"""Two or more ledgers over one chain, fed the same blocks in turn: an A/B of the decoded
cache's size (and of its doorkeeper: a size ending in ``:open`` admits every record) that
the machine's drift cannot tilt.

    .venv/bin/python benchmarks/ledger_twins.py --accounts 10000 --caches 131072,8192
    .venv/bin/python benchmarks/ledger_twins.py --data CHAIN --accounts N --caches ...
    .venv/bin/python benchmarks/ledger_twins.py --data CHAIN --caches 131072:open,131072

On a shared virtual machine the same blocks can take 43 or 71 µs of CPU a transfer from
one 20-second stretch to the next, and two runs of one build differ by ~15 %: separate
processes cannot show a 5 % change. Here each ledger (``Ledger.load`` of the same stored
state, each with its own ``StateValues(cache_max=...)``) executes block ``i`` right after the
others, in alternating order, so every stretch of drift falls on all of them. Each block is
staged and the oldest applied once two are staged, as the node does while its writer commits.
CPU time of this thread a transfer, per block, after a fifth of the blocks as warm-up; the
differences against the first ledger are paired block by block.

What it cannot show: effects of one ledger on the caches other work shares (here the other
ledgers are that work). A chain is built first unless ``--data`` names one (``rantai
bench``'s setup: a million accounts take several minutes). Transfers are the bench's, from
four clients interleaved in runs of 500, as ``rantai up`` receives them.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from pathlib import Path

from rantai.bench.chain import CHAIN_ID, Phase, build_chain, sign_phase_parallel
from rantai.core import codes
from rantai.core.block import Header
from rantai.core.encoding import decode
from rantai.core.ledger import Ledger
from rantai.core.tx import SignedTx, check_envelope
from rantai.core.values import StateValues
from rantai.node.collector import YOUNG_THRESHOLD
from rantai.node.datadir import ChainFiles
from rantai.store import open_store

BLOCK_TXS = 2_000
CLIENTS = 4
CLIENT_RUN = 500
STAGED_MAX = 2


def parse_cache(text: str) -> tuple[int, bool]:
    """``"131072"`` or ``"131072:open"``: the size, and whether the doorkeeper is on."""
    size, _, mode = text.partition(":")
    if mode not in ("", "open"):
        raise SystemExit(f"--caches: {text!r}: a size, or a size then ':open'")
    return int(size), mode != "open"


def load_ledgers(data: Path, caches: list[tuple[int, bool]]) -> list[Ledger]:
    store = open_store(ChainFiles(data).store_target())
    try:
        height = store.head_height()
        stored = store.get_header(height) if height is not None else None
        if stored is None:
            raise SystemExit(f"{data}: no chain")
        head = decode(stored[1], Header)
        return [
            Ledger.load(store.iter_state(), head, StateValues(cache_max=c, doorkeeper=d))
            for c, d in caches
        ]
    finally:
        store.close()


def interleaved_transfers(accounts: int, count: int) -> list[SignedTx]:
    shares = sign_phase_parallel(Phase(accounts, count, 0), CLIENTS, 2)
    raws: list[bytes] = []
    for start in range(0, max(len(s) for s in shares), CLIENT_RUN):
        for share in shares:
            raws.extend(share[start : start + CLIENT_RUN])
    return [check_envelope(raw, CHAIN_ID, verify_signature=False) for raw in raws]


def run(ledgers: list[Ledger], txs: list[SignedTx]) -> list[list[float]]:
    """CPU µs a transfer of each ledger, block by block after the warm-up."""
    blocks = [txs[i : i + BLOCK_TXS] for i in range(0, len(txs), BLOCK_TXS)]
    warm_up = len(blocks) // 5
    head = ledgers[0].tip
    assert head is not None
    timestamp_ms = head.timestamp_ms + 1
    per_ledger: list[list[float]] = [[] for _ in ledgers]
    for i, block in enumerate(blocks):
        order = range(len(ledgers)) if i % 2 == 0 else range(len(ledgers) - 1, -1, -1)
        for j in order:
            ledger = ledgers[j]
            started = time.thread_time()
            outcome = ledger.stage_block(block, timestamp_ms)
            if ledger.staged_count > STAGED_MAX:
                ledger.apply_staged()
            spent = time.thread_time() - started
            if any(r.code != codes.OK for r in outcome.receipts):
                raise SystemExit(f"block {i}: a transfer was rejected")
            if i >= warm_up:
                per_ledger[j].append(spent / len(block) * 1e6)
    roots = {ledger.tip.state_root for ledger in ledgers if ledger.tip is not None}
    if len(roots) != 1:
        raise SystemExit("the ledgers disagree on the state root")
    return per_ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--txs", type=int, default=200_000)
    parser.add_argument("--caches", default="131072,8192", help="decoded cache sizes, first = base")
    parser.add_argument("--data", type=Path, help="an existing bench chain of --accounts")
    args = parser.parse_args()
    caches = [parse_cache(text) for text in args.caches.split(",")]
    with tempfile.TemporaryDirectory(prefix="rantai-twins-") as tmp:
        data = args.data
        if data is None:
            data = Path(tmp) / "chain"
            node = build_chain(data, args.accounts, 2, time.time_ns() // 1_000_000)
            node.stop()
            node.store.close()
        ledgers = load_ledgers(data, caches)
    txs = interleaved_transfers(args.accounts, args.txs)
    gc.collect()
    gc.freeze()  # as rantai up does (rantai.node.collector)
    gc.set_threshold(YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    per_ledger = run(ledgers, txs)
    base = per_ledger[0]
    for (size, door), times in zip(caches, per_ledger, strict=True):
        paired = [t - b for t, b in zip(times, base, strict=True)]
        print(
            f"accounts {args.accounts} cache {size:>7}{'' if door else ' open'}: "
            f"mean {statistics.mean(times):.1f} median {statistics.median(times):.1f} µs a "
            f"transfer; against the first: mean {statistics.mean(paired):+.2f} "
            f"median {statistics.median(paired):+.2f} ({len(paired)} blocks)"
        )


if __name__ == "__main__":
    main()
