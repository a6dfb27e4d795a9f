"""The list Merkle tree against RFC 9162 (a recursive reference here, and CT's published vectors)."""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.crypto.merkle import inclusion_proof, merkle_root, verify_inclusion


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 MTH, written as the RFC writes it."""
    if not leaves:
        return _h(b"")
    if len(leaves) == 1:
        return _h(b"\x00" + leaves[0])
    k = _split(len(leaves))
    return _h(b"\x01" + ref_root(leaves[:k]) + ref_root(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 9162 §2.1.3.1 PATH(m, D[n])."""
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_root(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_root(leaves[:k])]


def ref_shape(m: int, n: int) -> list[str]:
    """The side of each audit path element (from the leaf up) for leaf ``m`` of ``n``."""
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return [*ref_shape(m, k), "right"]
    return [*ref_shape(m - k, n - k), "left"]


def leaves_of(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


def flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


# certificate-transparency's reference data (RFC 6962 test vectors): leaves and the roots of
# their first n leaves, n = 0..8.
CT_LEAVES = [
    bytes.fromhex(x)
    for x in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATH_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


@pytest.mark.parametrize("n", range(len(CT_ROOTS)))
def test_root_matches_certificate_transparency_vectors(n: int) -> None:
    assert merkle_root(CT_LEAVES[:n]).hex() == CT_ROOTS[n]


def test_proof_matches_certificate_transparency_vector() -> None:
    path = inclusion_proof(CT_LEAVES, 0)
    assert [p.hex() for p in path] == CT_PATH_0_OF_8
    assert verify_inclusion(bytes.fromhex(CT_ROOTS[8]), CT_LEAVES[0], 0, 8, path)


def test_empty_and_small_trees_by_hand() -> None:
    a, b, c = b"a", b"b", b"c"
    la, lb, lc = _h(b"\x00" + a), _h(b"\x00" + b), _h(b"\x00" + c)
    assert merkle_root([]) == _h(b"")
    assert merkle_root([a]) == la
    assert merkle_root([a, b]) == _h(b"\x01" + la + lb)
    # Three leaves split 2 + 1: the third leaf is the right subtree on its own.
    assert merkle_root([a, b, c]) == _h(b"\x01" + _h(b"\x01" + la + lb) + lc)


@pytest.mark.parametrize("n", range(18))
def test_root_matches_reference(n: int) -> None:
    assert merkle_root(leaves_of(n)) == ref_root(leaves_of(n))


@pytest.mark.parametrize("n", range(1, 41))
def test_every_proof_matches_reference_and_verifies(n: int) -> None:
    leaves = leaves_of(n)
    root = merkle_root(leaves)
    for index in range(n):
        path = inclusion_proof(leaves, index)
        assert path == ref_path(index, leaves)
        assert verify_inclusion(root, leaves[index], index, n, path)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 17, 31, 40])
def test_any_flipped_bit_fails(n: int) -> None:
    leaves = leaves_of(n)
    root = merkle_root(leaves)
    for index in range(n):
        leaf, path = leaves[index], inclusion_proof(leaves, index)
        for bit in range(len(leaf) * 8):
            assert not verify_inclusion(root, flip(leaf, bit), index, n, path)
        for at, element in enumerate(path):
            for bit in range(0, 256, 7):
                bad = [*path[:at], flip(element, bit), *path[at + 1 :]]
                assert not verify_inclusion(root, leaf, index, n, bad)
        for bit in range(8):
            assert not verify_inclusion(root, leaf, index ^ (1 << bit), n, path)
            assert not verify_inclusion(flip(root, bit), leaf, index, n, path)


@pytest.mark.parametrize("n", range(1, 41))
def test_flipped_size_fails_unless_the_path_has_the_same_shape(n: int) -> None:
    # RFC 9162 binds the size through the signed tree head, not the path: a path also fits
    # a tree of another size that looks the same along it (leaf 0 of 5 and of 7, say). So a
    # wrong size must fail exactly when the audit path's shape differs.
    leaves = leaves_of(n)
    root = merkle_root(leaves)
    for index in range(n):
        path = inclusion_proof(leaves, index)
        for bit in range(8):
            size = n ^ (1 << bit)
            same_shape = index < size and ref_shape(index, size) == ref_shape(index, n)
            assert verify_inclusion(root, leaves[index], index, size, path) == same_shape


def test_a_path_can_fit_another_size() -> None:
    leaves = leaves_of(5)
    path = inclusion_proof(leaves, 0)
    assert verify_inclusion(merkle_root(leaves), leaves[0], 0, 7, path)


def test_bad_arguments_return_false() -> None:
    leaves = leaves_of(6)
    root = merkle_root(leaves)
    path = inclusion_proof(leaves, 2)
    assert verify_inclusion(root, leaves[2], 2, 6, path)
    assert not verify_inclusion(root, leaves[2], -1, 6, path)
    assert not verify_inclusion(root, leaves[2], 6, 6, path)
    assert not verify_inclusion(root, leaves[2], 2, 0, path)
    assert not verify_inclusion(root, leaves[2], 2, -6, path)
    assert not verify_inclusion(root[:31], leaves[2], 2, 6, path)
    assert not verify_inclusion(root, leaves[2], 2, 6, path[:-1])
    assert not verify_inclusion(root, leaves[2], 2, 6, [*path, path[0]])
    assert not verify_inclusion(root, leaves[2], 2, 6, [path[0][:31], *path[1:]])
    assert not verify_inclusion(root, leaves[2], 2, 6, [b"", *path[1:]])
    assert not verify_inclusion(root, leaves[2], 2, 6, [path[0]] * 65)
    assert not verify_inclusion(root, leaves[2], 2, 6, [None, *path[1:]])  # type: ignore[list-item]
    assert not verify_inclusion(root, leaves[2], 2.0, 6, path)  # type: ignore[arg-type]
    assert not verify_inclusion(root, leaves[2], 2, 6, [])
    assert not verify_inclusion(root, leaves[2], 2, 1 << 70, path)


def test_single_leaf_tree_has_an_empty_path() -> None:
    root = merkle_root([b"only"])
    assert inclusion_proof([b"only"], 0) == []
    assert verify_inclusion(root, b"only", 0, 1, [])
    assert not verify_inclusion(root, b"only", 0, 2, [])


@pytest.mark.parametrize("index", [-1, 3])
def test_inclusion_proof_rejects_an_index_outside_the_tree(index: int) -> None:
    with pytest.raises(IndexError):
        inclusion_proof(leaves_of(3), index)


def test_ten_thousand_leaves_are_fast() -> None:
    leaves = [i.to_bytes(4, "big") for i in range(10_000)]
    started = time.perf_counter()
    root = merkle_root(leaves)
    path = inclusion_proof(leaves, 9_999)
    elapsed_s = time.perf_counter() - started
    assert root == ref_root(leaves)
    assert verify_inclusion(root, leaves[9_999], 9_999, 10_000, path)
    # About 40,000 SHA-256 calls; generous so a loaded machine does not flake.
    assert elapsed_s < 2.0


leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_property_proofs_verify_and_match_reference(
    leaves: list[bytes], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    path = inclusion_proof(leaves, index)
    assert root == ref_root(leaves)
    assert path == ref_path(index, leaves)
    assert verify_inclusion(root, leaves[index], index, len(leaves), path)


@settings(max_examples=150, deadline=None)
@given(leaves=leaf_lists, data=st.data())
def test_property_tampering_fails(leaves: list[bytes], data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(leaves) - 1))
    root = merkle_root(leaves)
    leaf, path = leaves[index], inclusion_proof(leaves, index)
    other = data.draw(st.binary(max_size=40).filter(lambda b: b != leaf))
    assert not verify_inclusion(root, other, index, len(leaves), path)
    if len(leaves) > 1:
        other_index = data.draw(st.integers(0, len(leaves) - 1).filter(lambda i: i != index))
        # With equal leaves a path can legitimately fit both places (leaves [x, x]).
        if leaves[other_index] != leaf:
            assert not verify_inclusion(root, leaf, other_index, len(leaves), path)
    if path:
        at = data.draw(st.integers(0, len(path) - 1))
        bit = data.draw(st.integers(0, 255))
        bad = [*path[:at], flip(path[at], bit), *path[at + 1 :]]
        assert not verify_inclusion(root, leaf, index, len(leaves), bad)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=70), max_size=300))
def test_any_leaves_match_reference(leaves: list[bytes]) -> None:
    """merkle_root is computed in C (_hashing.c); the RFC's recursion is the reference."""
    assert merkle_root(leaves) == ref_root(leaves)
    assert merkle_root(tuple(leaves)) == ref_root(leaves)


def test_leaves_that_are_not_bytes_are_refused() -> None:
    with pytest.raises(TypeError, match="leaf 1 is not bytes"):
        merkle_root([b"a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        merkle_root(3)  # type: ignore[arg-type]
