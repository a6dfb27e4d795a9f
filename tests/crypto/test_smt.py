"""The state trees against a reference written from its definition (see rantai.crypto.smt).

Every test that builds a tree runs on both implementations: the native ``StateTree`` and the
Python ``ReferenceStateTree``. test_smt_native.py compares the two directly.
"""

from __future__ import annotations

import hashlib

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.crypto.hashing import ZERO_DIGEST
from rantai.crypto.smt import ReferenceStateTree, StateProof, StateTree, verify_state_proof

Leaf = tuple[bytes, bytes]
Tree = StateTree | ReferenceStateTree
TreeType = type[StateTree] | type[ReferenceStateTree]
both_trees = pytest.mark.parametrize(
    "tree_type", [StateTree, ReferenceStateTree], ids=["native", "reference"]
)


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def bit(path: bytes, i: int) -> int:
    """Bit i of a path, counted from the most significant bit of byte 0."""
    return (path[i // 8] >> (7 - i % 8)) & 1


def ref_hash(leaves: list[Leaf], depth: int = 0) -> bytes:
    """The definition, literally: recursive over the leaves of one subtree."""
    if not leaves:
        return ZERO_DIGEST
    if len(leaves) == 1:
        path, value = leaves[0]
        return _h(b"\x02" + path + value)
    left = [leaf for leaf in leaves if bit(leaf[0], depth) == 0]
    right = [leaf for leaf in leaves if bit(leaf[0], depth) == 1]
    return _h(b"\x03" + ref_hash(left, depth + 1) + ref_hash(right, depth + 1))


def ref_prove(leaves: list[Leaf], path: bytes) -> StateProof:
    """Walk from the root toward ``path`` until a subtree is empty or holds one leaf."""
    siblings: list[bytes] = []
    depth = 0
    while len(leaves) > 1:
        here = [leaf for leaf in leaves if bit(leaf[0], depth) == bit(path, depth)]
        other = [leaf for leaf in leaves if bit(leaf[0], depth) != bit(path, depth)]
        siblings.append(ref_hash(other, depth + 1) if other else b"")
        leaves, depth = here, depth + 1
    if not leaves:
        return StateProof(siblings, None, None)
    return StateProof(siblings, leaves[0][0], leaves[0][1])


def flip(data: bytes, i: int) -> bytes:
    out = bytearray(data)
    out[i // 8] ^= 1 << (7 - i % 8)
    return bytes(out)


# Paths that share long prefixes, so the tests reach deep splits (down to depth 256, for two
# paths that differ only in bit 255), long one-child chains and collapses on delete.
BASES = [bytes(32), b"\xff" * 32, _h(b"base")]
BITS = [0, 1, 2, 7, 8, 9, 100, 200, 254, 255]
clustered_paths = st.builds(
    lambda base, bits: bytes(
        b ^ m
        for b, m in zip(
            base, sum((1 << (255 - i) for i in bits), 0).to_bytes(32, "big"), strict=True
        )
    ),
    st.sampled_from(BASES),
    st.sets(st.sampled_from(BITS), max_size=3),
)
paths = st.one_of(clustered_paths, st.binary(min_size=32, max_size=32))
digests = st.one_of(st.sampled_from([_h(b"1"), _h(b"2")]), st.binary(min_size=32, max_size=32))
batches = st.lists(
    st.dictionaries(paths, st.one_of(st.none(), digests), max_size=12), min_size=1, max_size=6
)


def apply(model: dict[bytes, bytes], batch: dict[bytes, bytes | None]) -> None:
    for path, value in batch.items():
        if value is None:
            model.pop(path, None)
        else:
            model[path] = value


def replay(
    tree_type: TreeType, history: list[dict[bytes, bytes | None]]
) -> tuple[Tree, dict[bytes, bytes]]:
    tree, model = tree_type(), dict[bytes, bytes]()
    for batch in history:
        root = tree.update(batch)
        apply(model, batch)
        assert root == tree.root == ref_hash(sorted(model.items()))
        assert len(tree) == len(model)
    return tree, model


@both_trees
def test_golden_three_leaves(tree_type: TreeType) -> None:
    pa, pb, pc = _h(b"a"), _h(b"b"), _h(b"c")
    va, vb, vc = _h(b"1"), _h(b"2"), _h(b"3")
    # First bytes: a = 0xca = 1100..., b = 0x3e = 0011 1110, c = 0x2e = 0010 1110.
    assert (pa[0], pb[0], pc[0]) == (0xCA, 0x3E, 0x2E)
    leaf_a = _h(b"\x02" + pa + va)
    leaf_b = _h(b"\x02" + pb + vb)
    leaf_c = _h(b"\x02" + pc + vc)
    # Bit 0: a goes right, alone, so it is a leaf at depth 1. b and c go left together.
    # Bit 1: b and c are both 0, so node "00" holds them and "01" is empty.
    # Bit 2: b and c are both 1, so node "001" holds them and "000" is empty.
    # Bit 3: c is 0 and b is 1: they part, as leaves at depth 4.
    node_001 = _h(b"\x03" + leaf_c + leaf_b)
    node_00 = _h(b"\x03" + ZERO_DIGEST + node_001)
    node_0 = _h(b"\x03" + node_00 + ZERO_DIGEST)
    root = _h(b"\x03" + node_0 + leaf_a)
    assert root.hex() == "911b9f48e2cf2848076fedf8d7fab4fdbf01f877e80e797f1674e89a2433b946"

    leaves = [(pa, va), (pb, vb), (pc, vc)]
    assert tree_type.build(leaves).root == root
    tree = tree_type()
    tree.update({pc: vc})
    tree.update({pa: va, pb: vb})
    assert tree.root == root
    assert tree.prove(pb) == StateProof([leaf_a, b"", b"", leaf_c], pb, vb)
    assert tree.prove(pa) == StateProof([node_0], pa, va)
    # Deleting c leaves b alone under "0": it hashes as b's leaf from depth 1 up.
    tree.update({pc: None})
    assert tree.root == _h(b"\x03" + leaf_b + leaf_a)
    tree.update({pa: None})
    assert tree.root == leaf_b
    tree.update({pb: None})
    assert tree.root == ZERO_DIGEST


@both_trees
def test_empty_tree(tree_type: TreeType) -> None:
    tree = tree_type()
    assert tree.root == ZERO_DIGEST == tree_type.build([]).root
    assert len(tree) == 0
    path = _h(b"k")
    assert tree.get(path) is None
    proof = tree.prove(path)
    assert proof == StateProof([], None, None)
    assert verify_state_proof(ZERO_DIGEST, path, None, proof)
    assert not verify_state_proof(ZERO_DIGEST, path, _h(b"v"), proof)
    assert tree.update({}) == ZERO_DIGEST
    assert tree.update({path: None}) == ZERO_DIGEST


@both_trees
def test_single_leaf_is_the_root(tree_type: TreeType) -> None:
    path, value = _h(b"k"), _h(b"v")
    tree = tree_type.build([(path, value)])
    assert tree.root == _h(b"\x02" + path + value)
    assert tree.prove(path) == StateProof([], path, value)
    other = _h(b"other")
    assert verify_state_proof(tree.root, other, None, tree.prove(other))


@both_trees
def test_deepest_split(tree_type: TreeType) -> None:
    # Two paths that differ only in their last bit part at depth 255: leaves at depth 256.
    a = bytes(32)
    b = flip(a, 255)
    tree = tree_type.build([(a, _h(b"1")), (b, _h(b"2"))])
    assert tree.root == ref_hash([(a, _h(b"1")), (b, _h(b"2"))])
    proof = tree.prove(b)
    assert len(proof.siblings) == 256
    assert verify_state_proof(tree.root, b, _h(b"2"), proof)
    tree.update({a: None})
    assert tree.root == _h(b"\x02" + b + _h(b"2"))


@both_trees
def test_rejects_bad_lengths_and_leaves_tree_unchanged(tree_type: TreeType) -> None:
    path, value = _h(b"k"), _h(b"v")
    tree = tree_type.build([(path, value)])
    root = tree.root
    with pytest.raises(ValueError):
        tree.update({_h(b"x"): value, path[:31]: value})
    with pytest.raises(ValueError):
        tree.update({_h(b"x"): value, path: value[:31]})
    assert tree.root == root
    assert tree.get(_h(b"x")) is None
    with pytest.raises(ValueError):
        tree_type.build([(path[:31], value)])
    with pytest.raises(ValueError):
        tree_type.build([(path, value + b"\x00")])
    with pytest.raises(ValueError):
        tree_type.build([(path, value), (path, _h(b"w"))])
    with pytest.raises(ValueError):
        tree.get(b"short")
    with pytest.raises(ValueError):
        tree.prove(b"short")


@both_trees
def test_adversarial_proof_shapes_return_false(tree_type: TreeType) -> None:
    leaves = [(_h(bytes([i])), _h(bytes([i, i]))) for i in range(20)]
    tree = tree_type.build(leaves)
    root = tree.root
    path, value = leaves[3]
    good = tree.prove(path)
    assert verify_state_proof(root, path, value, good)
    sibs = good.siblings
    bad_proofs = [
        StateProof([b""] * 257, path, value),
        StateProof([*sibs, b""], path, value),
        StateProof(sibs[1:], path, value),
        StateProof([sibs[0][:31], *sibs[1:]], path, value),
        StateProof([sibs[0] + b"\x00", *sibs[1:]], path, value),
        StateProof(sibs, path, None),
        StateProof(sibs, None, value),
        StateProof(sibs, None, None),
        StateProof(sibs, path[:31], value),
        StateProof(sibs, path, value[:31]),
        StateProof([None, *sibs[1:]], path, value),  # type: ignore[list-item]
        StateProof(None, path, value),  # type: ignore[arg-type]
        StateProof(sibs, 7, value),  # type: ignore[arg-type]
    ]
    for proof in bad_proofs:
        assert not verify_state_proof(root, path, value, proof)
        assert not verify_state_proof(root, path, None, proof)
    assert not verify_state_proof(root, path, value, "not a proof")  # type: ignore[arg-type]
    assert not verify_state_proof(root[:31], path, value, good)
    assert not verify_state_proof(root, path[:31], value, good)
    assert not verify_state_proof(root, path, value[:31], good)
    # An inclusion proof is not an absence proof of the same path.
    assert not verify_state_proof(root, path, None, good)


def test_absence_leaf_must_share_the_prefix() -> None:
    # A made-up root where leaf q sits in the left subtree although its first bit is 1: the
    # hashes check out for a path p with first bit 0, but q cannot stand for p's subtree.
    q = b"\x80" + bytes(31)
    p = bytes(32)
    value = _h(b"v")
    fake_root = _h(b"\x03" + _h(b"\x02" + q + value) + ZERO_DIGEST)
    assert not verify_state_proof(fake_root, p, None, StateProof([b""], q, value))
    # The same shape with a leaf that does share bit 0 is a good absence proof.
    r = b"\x40" + bytes(31)
    root = _h(b"\x03" + _h(b"\x02" + r + value) + ZERO_DIGEST)
    assert verify_state_proof(root, p, None, StateProof([b""], r, value))


@both_trees
def test_proof_round_trips_through_msgpack(tree_type: TreeType) -> None:
    leaves = [(_h(bytes([i])), _h(bytes([i, 1]))) for i in range(100)]
    tree = tree_type.build(leaves)
    for path in (leaves[5][0], _h(b"absent")):
        proof = tree.prove(path)
        decoded = msgspec.msgpack.decode(msgspec.msgpack.encode(proof), type=StateProof)
        assert decoded == proof
        assert verify_state_proof(tree.root, path, tree.get(path), decoded)


@both_trees
def test_build_accepts_an_iterator(tree_type: TreeType) -> None:
    leaves = [(_h(bytes([i])), _h(bytes([i, 2]))) for i in range(50)]
    assert tree_type.build(iter(leaves)).root == ref_hash(sorted(leaves))


@both_trees
def test_large_batches_match_the_reference(tree_type: TreeType) -> None:
    keys = [_h(i.to_bytes(4, "big")) for i in range(3_000)]
    model = {k: _h(k) for k in keys[:2_000]}
    tree = tree_type.build(model.items())
    batch: dict[bytes, bytes | None] = {k: None for k in keys[:700]}
    batch.update({k: _h(b"new" + k) for k in keys[1_500:2_600]})
    tree.update(batch)
    apply(model, batch)
    assert tree.root == ref_hash(sorted(model.items()))
    assert tree.root == tree_type.build(model.items()).root
    assert len(tree) == len(model)


@settings(max_examples=150, deadline=None)
@given(history=batches)
@both_trees
def test_property_root_matches_reference_and_build(
    tree_type: TreeType,
    history: list[dict[bytes, bytes | None]],
) -> None:
    tree, model = replay(tree_type, history)
    assert tree.root == tree_type.build(model.items()).root
    for path, value in model.items():
        assert tree.get(path) == value


@settings(max_examples=100, deadline=None)
@given(history=batches, absent=st.lists(paths, max_size=4))
@both_trees
def test_property_proofs(
    tree_type: TreeType, history: list[dict[bytes, bytes | None]], absent: list[bytes]
) -> None:
    tree, model = replay(tree_type, history)
    root, leaves = tree.root, sorted(model.items())
    for path, value in model.items():
        proof = tree.prove(path)
        assert proof == ref_prove(leaves, path)
        assert verify_state_proof(root, path, value, proof)
        assert not verify_state_proof(root, path, flip(value, 0), proof)
        assert not verify_state_proof(root, path, None, proof)
    for path in absent:
        if path in model:
            continue
        proof = tree.prove(path)
        assert proof == ref_prove(leaves, path)
        assert tree.get(path) is None
        assert verify_state_proof(root, path, None, proof)
        assert not verify_state_proof(root, path, _h(b"1"), proof)


@settings(max_examples=60, deadline=None)
@given(history=batches, extra=st.lists(paths, max_size=3))
@both_trees
def test_property_every_flipped_bit_fails(
    tree_type: TreeType, history: list[dict[bytes, bytes | None]], extra: list[bytes]
) -> None:
    tree, model = replay(tree_type, history)
    root = tree.root
    for path in [*list(model)[:3], *extra]:
        value = model.get(path)
        proof = tree.prove(path)
        assert verify_state_proof(root, path, value, proof)
        for at, sibling in enumerate(proof.siblings):
            for i in range(len(sibling) * 8):
                siblings = [*proof.siblings[:at], flip(sibling, i), *proof.siblings[at + 1 :]]
                bad = StateProof(siblings, proof.leaf_path, proof.leaf_value_digest)
                assert not verify_state_proof(root, path, value, bad)
        if proof.leaf_path is not None and proof.leaf_value_digest is not None:
            for i in range(256):
                bad = StateProof(proof.siblings, flip(proof.leaf_path, i), proof.leaf_value_digest)
                assert not verify_state_proof(root, path, value, bad)
                bad = StateProof(proof.siblings, proof.leaf_path, flip(proof.leaf_value_digest, i))
                assert not verify_state_proof(root, path, value, bad)


@settings(max_examples=60, deadline=None)
@given(history=batches)
@both_trees
def test_property_deleting_everything_gives_zero(
    tree_type: TreeType,
    history: list[dict[bytes, bytes | None]],
) -> None:
    tree, model = replay(tree_type, history)
    assert tree.update(dict.fromkeys(model)) == ZERO_DIGEST
    assert len(tree) == 0
    tree.update({path: _h(b"again") for path in model})
    assert tree.root == ref_hash(sorted((path, _h(b"again")) for path in model))


@settings(max_examples=60, deadline=None)
@given(leaves=st.dictionaries(paths, digests, max_size=30), data=st.data())
@both_trees
def test_property_delete_collapses_to_the_tree_built_without_it(
    tree_type: TreeType, leaves: dict[bytes, bytes], data: st.DataObject
) -> None:
    tree = tree_type.build(leaves.items())
    gone = data.draw(st.sets(st.sampled_from(sorted(leaves)))) if leaves else set()
    tree.update(dict.fromkeys(gone))
    rest = [(p, v) for p, v in leaves.items() if p not in gone]
    assert tree.root == tree_type.build(rest).root == ref_hash(sorted(rest))
