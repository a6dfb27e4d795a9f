"""The native state tree (``_smt.c``) against the Python reference, batch by batch.

Both must give the same root, ``len``, ``get`` and proof bytes after every batch, whatever the
batch does: inserts, updates, deletes (of absent paths too), on paths that share long
prefixes. A batch that raises must leave the tree as it was, and nothing may leak.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import random
import resource
import sys
import threading
from types import MappingProxyType

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.crypto.hashing import ZERO_DIGEST
from rantai.crypto.smt import ReferenceStateTree, StateTree, verify_state_proof

Batch = dict[bytes, bytes | None]


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _flip_bits(base: bytes, bits: set[int]) -> bytes:
    mask = sum(1 << (255 - i) for i in bits).to_bytes(32, "big")
    return bytes(b ^ m for b, m in zip(base, mask, strict=True))


# Paths around a few bases, differing in bits spread over the whole depth: deep splits, long
# chains of one-child nodes, and deletes that pull a leaf up many levels.
BASES = [bytes(32), b"\xff" * 32, _h(b"base")]
BITS = [0, 1, 2, 7, 8, 9, 31, 32, 63, 64, 100, 127, 128, 200, 254, 255]
clustered = st.builds(
    _flip_bits, st.sampled_from(BASES), st.sets(st.sampled_from(BITS), max_size=4)
)
paths = st.one_of(clustered, clustered, st.binary(min_size=32, max_size=32))
digests = st.one_of(st.sampled_from([_h(b"1"), _h(b"2")]), st.binary(min_size=32, max_size=32))
batches = st.lists(st.dictionaries(paths, st.one_of(st.none(), digests), max_size=16), max_size=8)


def assert_same(native: StateTree, reference: ReferenceStateTree, probes: list[bytes]) -> None:
    """Same root, size, values and proof bytes, for present and absent paths alike."""
    assert native.root == reference.root
    assert len(native) == len(reference)
    encode = msgspec.msgpack.encode
    for path in probes:
        assert native.get(path) == reference.get(path)
        proof = native.prove(path)
        assert encode(proof) == encode(reference.prove(path))
        assert verify_state_proof(native.root, path, native.get(path), proof)


@settings(max_examples=300, deadline=None)
@given(
    initial=st.dictionaries(paths, digests, max_size=20),
    history=batches,
    absent=st.lists(paths, max_size=6),
)
def test_native_matches_reference_after_every_batch(
    initial: dict[bytes, bytes], history: list[Batch], absent: list[bytes]
) -> None:
    pairs = list(initial.items())
    native, reference = StateTree.build(pairs), ReferenceStateTree.build(pairs)
    empty_native, empty_reference = StateTree(), ReferenceStateTree()
    # The same leaves reached through updates from an empty tree, not a build.
    empty_native.update(initial)
    empty_reference.update(initial)
    seen = set(initial) | set(absent)
    for tree, ref in ((native, reference), (empty_native, empty_reference)):
        assert_same(tree, ref, sorted(seen))
    for batch in history:
        seen |= set(batch)
        for tree, ref in ((native, reference), (empty_native, empty_reference)):
            assert tree.update(batch) == ref.update(batch)
            assert_same(tree, ref, sorted(seen))
    assert native.root == empty_native.root


def test_one_leaf_and_the_empty_tree() -> None:
    path, value = _h(b"k"), _h(b"v")
    native, reference = StateTree(), ReferenceStateTree()
    assert_same(native, reference, [path])
    assert native.update({path: value}) == reference.update({path: value})
    assert_same(native, reference, [path, _h(b"other"), _flip_bits(path, {255})])
    assert native.update({path: None}) == reference.update({path: None}) == ZERO_DIGEST
    assert_same(native, reference, [path])


def test_large_random_batches_match_the_reference() -> None:
    # Batches this large release the GIL while they reshape and hash.
    rng = random.Random(7)
    leaves = {rng.randbytes(32): rng.randbytes(32) for _ in range(5_000)}
    native, reference = StateTree.build(leaves.items()), ReferenceStateTree.build(leaves.items())
    assert native.root == reference.root
    present = list(leaves)
    for _ in range(3):
        batch: Batch = {}
        for path in rng.sample(present, 1_500):
            batch[path] = None if rng.random() < 0.4 else rng.randbytes(32)
        batch.update({rng.randbytes(32): rng.randbytes(32) for _ in range(1_000)})
        batch.update({rng.randbytes(32): None for _ in range(100)})
        assert native.update(batch) == reference.update(batch)
        present = [p for p in present if batch.get(p, b"") is not None]
        present += [p for p, v in batch.items() if v is not None and p not in leaves]
        leaves.update({p: v for p, v in batch.items() if v is not None})
        assert_same(native, reference, rng.sample(present, 200) + list(batch)[-100:])
    assert native.root == StateTree.build((p, native.get(p) or b"") for p in present).root


def test_update_accepts_any_mapping() -> None:
    batch: Batch = {_h(b"a"): _h(b"1"), _h(b"b"): _h(b"2"), _h(b"c"): None}
    from_dict, from_proxy = StateTree(), StateTree()
    assert from_dict.update(batch) == from_proxy.update(MappingProxyType(batch))
    assert (
        from_dict.root
        == ReferenceStateTree.build([(_h(b"a"), _h(b"1")), (_h(b"b"), _h(b"2"))]).root
    )


BAD_ENTRIES: list[tuple[object, object, type[Exception]]] = [
    (b"\x01" * 31, _h(b"v"), ValueError),
    (b"\x01" * 33, None, ValueError),
    (_h(b"x"), b"\x02" * 31, ValueError),
    (_h(b"x"), b"", ValueError),
    ("a" * 32, _h(b"v"), TypeError),
    (_h(b"x"), 7, TypeError),
    (_h(b"x"), bytearray(32), TypeError),
]


@pytest.mark.parametrize(
    ("bad_path", "bad_value", "error"),
    BAD_ENTRIES,
    ids=[
        "short-path",
        "long-path",
        "short-digest",
        "empty-digest",
        "str-path",
        "int-digest",
        "bytearray-digest",
    ],
)
@pytest.mark.parametrize("batch_size", [3, 3_000])
def test_a_bad_entry_leaves_the_tree_unchanged(
    bad_path: object, bad_value: object, error: type[Exception], batch_size: int
) -> None:
    rng = random.Random(batch_size)
    leaves = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(2_000)]
    tree = StateTree.build(leaves)
    root, size = tree.root, len(tree)
    probes = [leaves[0][0], leaves[1][0], _h(b"new")]
    before = [(tree.get(p), tree.prove(p)) for p in probes]
    # Valid inserts, updates and deletes around the bad entry, which comes last in the dict.
    batch: dict[object, object] = {_h(b"new"): _h(b"n"), leaves[0][0]: None}
    batch.update({leaves[1][0]: _h(b"changed")})
    batch.update({rng.randbytes(32): rng.randbytes(32) for _ in range(batch_size - 3)})
    batch[bad_path] = bad_value
    with pytest.raises(error):
        tree.update(batch)  # type: ignore[arg-type]
    assert (tree.root, len(tree)) == (root, size)
    assert [(tree.get(p), tree.prove(p)) for p in probes] == before
    assert tree.update({}) == root


def test_build_rejects_malformed_leaves() -> None:
    path, value = _h(b"k"), _h(b"v")
    with pytest.raises(ValueError):
        StateTree.build([(path, value, value)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        StateTree.build([(path, 1)])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        StateTree.build([7])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        StateTree.build(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        StateTree(b"")  # type: ignore[call-arg]
    # A list of two-element lists is as good as tuples.
    assert StateTree.build([[path, value]]).root == _h(b"\x02" + path + value)  # type: ignore[list-item]


def test_build_returns_the_subclass_and_reports_its_size() -> None:
    rng = random.Random(3)
    tree = StateTree.build([(rng.randbytes(32), rng.randbytes(32)) for _ in range(10_000)])
    assert type(tree) is StateTree
    # 64 bytes a leaf, 44 a branch (one fewer than the leaves), and the object itself.
    assert 107 * 10_000 < sys.getsizeof(tree) < 110 * 10_000


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_repeated_updates_keep_memory_flat() -> None:
    rng = random.Random(11)
    base = {rng.randbytes(32): rng.randbytes(32) for _ in range(20_000)}
    tree = StateTree.build(base.items())
    churn = [rng.randbytes(32) for _ in range(2_000)]
    inserts: Batch = {path: _h(path) for path in churn}
    deletes: Batch = dict.fromkeys(churn)
    bad: Batch = {**inserts, b"short": None}

    def cycle() -> None:
        tree.update(inserts)
        for path in churn[:50]:
            tree.prove(path)
            tree.get(path)
        with pytest.raises(ValueError):
            tree.update(bad)
        tree.update(deletes)

    for _ in range(20):
        cycle()
    root, before = tree.root, _rss_bytes()
    for _ in range(300):
        cycle()
    # A leak of even 16 bytes per change would add over 19 MiB here.
    assert _rss_bytes() - before < 4 * 2**20
    assert tree.root == root


def test_copies_are_independent() -> None:
    rng = random.Random(5)
    leaves = [(rng.randbytes(32), rng.randbytes(32)) for _ in range(500)]
    tree, reference = StateTree.build(leaves), ReferenceStateTree.build(leaves)
    # A delete leaves entries on the free lists, which a copy must carry over.
    first: Batch = {leaves[0][0]: None, rng.randbytes(32): rng.randbytes(32)}
    assert tree.update(first) == reference.update(first)
    root, size, proof = tree.root, len(tree), tree.prove(leaves[1][0])
    for copier in (copy.copy, copy.deepcopy):
        copied, copied_reference = copier(tree), copy.deepcopy(reference)
        assert type(copied) is StateTree
        assert (copied.root, len(copied)) == (root, size)
        batch: Batch = {leaves[1][0]: None, leaves[2][0]: None}
        batch.update({rng.randbytes(32): rng.randbytes(32) for _ in range(3)})
        assert copied.update(batch) == copied_reference.update(batch) != root
        assert_same(copied, copied_reference, [leaves[1][0], *batch])
        assert (tree.root, len(tree), tree.prove(leaves[1][0])) == (root, size, proof)
    assert copy.deepcopy(StateTree()).root == ZERO_DIGEST


def test_calls_during_an_update_in_another_thread_are_refused() -> None:
    rng = random.Random(13)
    tree = StateTree.build([(rng.randbytes(32), rng.randbytes(32)) for _ in range(50_000)])
    twin = copy.copy(tree)
    batch: Batch = {rng.randbytes(32): rng.randbytes(32) for _ in range(100_000)}
    # The update releases the GIL while it works; a call from this thread meanwhile must
    # raise RuntimeError rather than read a tree that is changing under it.
    worker = threading.Thread(target=tree.update, args=(batch,))
    worker.start()
    while worker.is_alive():
        with contextlib.suppress(RuntimeError):
            tree.prove(bytes(32))
    worker.join()
    assert tree.root == twin.update(batch)
    assert len(tree) == len(twin) == 150_000
