"""Benchmark of the state tree (``rantai.crypto.smt``); prints its figures.

Builds a tree of random leaves, applies batches of random changes (updates of present keys,
inserts of new keys, deletes), then times proofs and their verification. Random data is made
outside the timed sections. Times are CPU time of the benchmark's thread
(``time.thread_time``), so that other processes on a shared machine do not inflate them; the
native tree hashes on that same thread, with the GIL released or not.

Run: ``.venv/bin/python benchmarks/smt_bench.py [--tree native|reference] [--leaves N]``.
``--tree reference`` measures the Python ``ReferenceStateTree`` instead of the native
``StateTree``.
"""

from __future__ import annotations

import argparse
import gc
import random
import resource
import statistics
import sys
import time

import msgspec

from rantai.crypto.smt import ReferenceStateTree, StateTree, verify_state_proof

PROOFS = 20_000
TREES = {"native": StateTree, "reference": ReferenceStateTree}


def _random_changes(
    rng: random.Random, present: list[bytes], size: int
) -> dict[bytes, bytes | None]:
    """A batch of ``size`` changes: half updates, a quarter inserts, a quarter deletes.

    ``present`` (the current paths) is updated to the state after the batch.
    """
    changes: dict[bytes, bytes | None] = {}
    while len(changes) < size:
        kind = rng.random()
        if kind < 0.5:
            changes.setdefault(rng.choice(present), rng.randbytes(32))
        elif kind < 0.75:
            changes[rng.randbytes(32)] = rng.randbytes(32)
        else:
            # Swap-remove keeps the deletion O(1); the order of ``present`` does not matter.
            at = rng.randrange(len(present))
            path = present[at]
            if path in changes:
                continue
            present[at] = present[-1]
            present.pop()
            changes[path] = None
    present_set = set(present)
    present.extend(p for p, v in changes.items() if v is not None and p not in present_set)
    return changes


def _rss_mib() -> float:
    """Resident set size now (Linux ``/proc/self/statm``; peak only from getrusage)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tree", choices=sorted(TREES), default="native")
    parser.add_argument("--leaves", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    tree_type = TREES[args.tree]
    rng = random.Random(args.seed)
    print(f"python {sys.version.split()[0]}, {args.tree} tree, seed {args.seed}")

    leaves = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(args.leaves)]
    present = [path for path, _ in leaves]
    rss_before_mib = _rss_mib()
    started = time.thread_time()
    tree = tree_type.build(leaves)
    build_s = time.thread_time() - started
    tree_mib = _rss_mib() - rss_before_mib
    print(
        f"build: {args.leaves:,} leaves in {build_s:.2f} s CPU; the tree adds {tree_mib:.0f} MiB "
        f"RSS, {tree_mib * 2**20 / max(args.leaves, 1):.0f} B per leaf"
    )
    del leaves
    # The list of present paths holds millions of references; every full collection the
    # proofs' allocations trigger would walk it, which is the benchmark's cost, not the tree's.
    gc.collect()
    gc.freeze()
    per_key_us: list[float] = []
    for _ in range(args.batches):
        changes = _random_changes(rng, present, args.batch_size)
        started = time.thread_time()
        tree.update(changes)
        per_key_us.append((time.thread_time() - started) / len(changes) * 1e6)
    print(
        f"update: {args.batches} batches of {args.batch_size:,} changes, per changed key "
        f"{statistics.mean(per_key_us):.2f} us mean, {statistics.median(per_key_us):.2f} us "
        f"median, {min(per_key_us):.2f} us min (CPU); {len(tree):,} leaves after"
    )

    root = tree.root
    targets = [rng.choice(present) for _ in range(PROOFS // 2)]
    targets += [rng.randbytes(32) for _ in range(PROOFS // 2)]
    started = time.thread_time()
    proofs = [tree.prove(path) for path in targets]
    prove_us = (time.thread_time() - started) / len(targets) * 1e6
    digests = [tree.get(path) for path in targets]
    started = time.thread_time()
    ok = all(map(verify_state_proof, [root] * len(targets), targets, digests, proofs))
    verify_us = (time.thread_time() - started) / len(targets) * 1e6
    sizes = sorted(len(msgspec.msgpack.encode(proof)) for proof in proofs)
    print(f"prove: {prove_us:.1f} us per proof; verify: {verify_us:.1f} us per proof; all ok: {ok}")
    print(
        f"proof size (msgpack): mean {sum(sizes) / len(sizes):.0f} B, "
        f"max {sizes[-1]} B, {len(proofs[0].siblings)} siblings in the first"
    )
    # ru_maxrss is in KiB on Linux.
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mib:.0f} MiB (with the benchmark's own leaf and key lists)")


if __name__ == "__main__":
    main()
