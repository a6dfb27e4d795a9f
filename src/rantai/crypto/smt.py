"""The state tree: a compressed binary sparse Merkle tree over 256-bit paths.

The ledger state is a map from keys to values. Its commitment, the state root in every block
header, is the root of this tree, where each key is a leaf at ``path = SHA-256(key)`` holding
``value_digest = SHA-256(value)``. The definition below is the whole specification; any
language can reproduce a root from it.

Definition
----------
- Bit ``i`` of a path is bit ``i`` counted from the most significant bit of byte 0 (bit 0 is
  the top bit of ``path[0]``). At depth ``d`` a node's left child holds the paths whose bit
  ``d`` is 0, its right child those whose bit ``d`` is 1. The root is at depth 0.
- The hash of the subtree at depth ``d`` with a given ``d``-bit prefix is:

  - no leaves: ``ZERO_DIGEST`` (32 zero bytes);
  - exactly one leaf ``(p, v)``: ``SHA-256(0x02 || p || v)``. A lone leaf is not pushed down
    to depth 256: it stands for its whole subtree at whatever depth it is alone;
  - two or more leaves: ``SHA-256(0x03 || hash(left child) || hash(right child))``, the
    children being the subtrees at depth ``d + 1`` (one of them may be empty).

- The root is the hash of the whole tree at depth 0, so ``ZERO_DIGEST`` when the tree is
  empty and the leaf hash when it holds one leaf.

Because the hash depends only on the set of leaves, the root after any sequence of inserts,
updates and deletes equals the root of a tree built at once from the final leaves.

Proofs
------
A ``StateProof`` is the walk from the root toward ``path``: the sibling hash at every depth
(``b""`` for an empty sibling) and the node where the walk stops, either a leaf (``path``'s
own leaf, or another key's leaf that proves ``path`` absent) or an empty subtree (absent).
``verify_state_proof`` hashes back up from that node and compares with the root.

Implementations
---------------
``StateTree``, the one the node uses, is native: ``rantai.crypto._smt`` (``_smt.c``) stores
the tree as a compressed binary trie (a leaf: path and value digest; a node with leaves on
both sides: two child indices and its cached hash), about 108 bytes per leaf, and rehashes
each changed node once per batch in C. Its file says how. ``ReferenceStateTree`` below is
the same tree in Python, written to be read: the tests check that both give the same root,
``get``, ``len`` and proof bytes after every batch (docs/decisions/native-state-tree.md).
The import fails, rather than falling back to the reference, when the extension is not
built: a node on the reference would be several times slower and larger, and quietly so.

Representation of the reference
-------------------------------
A non-empty node (interior or lone leaf) at depth ``d`` is named by its ``d``-bit prefix,
``path >> (256 - d)`` for any leaf path below it; its children are ``2 * prefix`` and
``2 * prefix + 1`` at depth ``d + 1``. ``_levels[d]`` maps the prefixes of the non-empty nodes
at depth ``d`` to their hash preimages: ``0x02 || path || value_digest`` for a leaf,
``0x03 || left hash || right hash`` for an interior node. A node's hash is one SHA-256 of what
is stored, and its children's hashes sit in its own entry. A batch update first changes the
shape (an insert pushes the leaf it meets down, a delete pulls a lone leaf up), then rewrites
each interior node on a changed path once, deepest level first: O(changed keys x depth), never
O(tree).

Why this layout (``benchmarks/smt_bench.py``, 1M leaves): at that size a dict lookup that
misses the CPU cache costs more than a SHA-256 of 65 bytes, so the layout is chosen to touch
few entries. Storing each node's own hash (with a second dict for leaf records) makes every
rehash read the clean sibling's entry as well; updates were about a quarter slower. One dict
keyed by ``(1 << d) | prefix`` instead of a dict per depth was about a tenth slower, its
lookups missing the cache more often. Build times were about the same for all three.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import TypeGuard

import msgspec

from rantai.crypto.hashing import DIGEST_SIZE, ZERO_DIGEST

try:
    from rantai.crypto._smt import NativeStateTree
except ImportError as error:  # pragma: no cover - only without a build
    raise ImportError(
        "rantai.crypto._smt, the native state tree, is not built: run `make setup` (it runs "
        "`pip install -e .`, which compiles src/rantai/crypto/_smt.c; it needs a C compiler, "
        "the Python headers and libssl-dev)"
    ) from error

__all__ = ["PATH_BITS", "ReferenceStateTree", "StateProof", "StateTree", "verify_state_proof"]

PATH_BITS = 256
_LEAF_PREFIX = b"\x02"
_NODE_PREFIX = b"\x03"
_LEAF_TAG = _LEAF_PREFIX[0]
_PATH_END = 1 + DIGEST_SIZE  # a preimage is prefix byte, then path or left, then digest or right
# Preimage of an interior node made by an insert; the rehash after the batch fills it in.
_EMPTY_PAIR = _NODE_PREFIX + ZERO_DIGEST + ZERO_DIGEST


class StateProof(msgspec.Struct, frozen=True, array_like=True):
    """The walk from the root toward one path; see the module docstring.

    ``siblings`` run from the root downward, ``b""`` standing for an empty sibling
    (``ZERO_DIGEST``) to keep proofs small. ``leaf_path`` and ``leaf_value_digest`` are the
    leaf where the walk ended, or both None when it ended in an empty subtree.
    """

    siblings: list[bytes]
    leaf_path: bytes | None
    leaf_value_digest: bytes | None


def _check_digest(name: str, value: bytes) -> None:
    if len(value) != DIGEST_SIZE:
        raise ValueError(f"a state tree {name} is {DIGEST_SIZE} bytes, got {len(value)}")


class StateTree(NativeStateTree):
    """A mutable state tree; ``root`` commits to the current set of ``(path, digest)`` leaves.

    Paths and value digests are 32-byte strings. A method that raises ``ValueError`` for a
    wrong length (``TypeError`` for a path or digest that is not bytes) leaves the tree
    unchanged. Not locked: one thread at a time may update it; see ``_smt.c``.
    """

    __slots__ = ()

    def prove(self, path: bytes) -> StateProof:
        """Return the inclusion proof of ``path``, or its absence proof, at the current root."""
        siblings, leaf_path, leaf_value_digest = self.proof_parts(path)
        return StateProof(siblings, leaf_path, leaf_value_digest)


class ReferenceStateTree:
    """``StateTree`` in Python, the executable reference the native tree is tested against.

    Same interface and results; several times slower and larger (benchmarks/smt_bench.py).
    """

    __slots__ = ("_depth_max", "_leaf_count", "_levels", "_root")

    def __init__(self) -> None:
        # _levels[d] maps the d-bit prefix of each non-empty node at depth d to its preimage.
        self._levels: list[dict[int, bytes]] = [{} for _ in range(PATH_BITS + 1)]
        self._root = ZERO_DIGEST
        self._leaf_count = 0
        # Never lowered on delete: an upper bound on the depth of every node, for _locate.
        self._depth_max = 0

    @classmethod
    def build(cls, leaves: Iterable[tuple[bytes, bytes]]) -> ReferenceStateTree:
        """Return a tree holding ``leaves``, ``(path, value_digest)`` pairs.

        Raises ``ValueError`` on a path or digest that is not 32 bytes, or a repeated path.
        """
        pairs = list(leaves)
        # map(len, ...) runs at C speed; the build must take a million leaves in seconds.
        if set(map(len, (p for p, _ in pairs))) - {DIGEST_SIZE} or set(
            map(len, (v for _, v in pairs))
        ) - {DIGEST_SIZE}:
            raise ValueError(f"state tree paths and value digests are {DIGEST_SIZE} bytes")
        tree = cls()
        if pairs:
            # Sorting the preimages sorts by path: they all start with the same prefix byte.
            preimages = [_LEAF_PREFIX + p + v for p, v in pairs]
            del pairs
            preimages.sort()
            tree._build_sorted(preimages)
        return tree

    def _build_sorted(self, preimages: list[bytes]) -> None:
        """Fill an empty tree from leaf preimages sorted by path, hashing level by level."""
        from_bytes, sha = int.from_bytes, hashlib.sha256
        path_ints = [from_bytes(p[1:_PATH_END]) for p in preimages]
        # (a ^ b).bit_length() is 256 minus the number of leading bits a and b share; a leaf
        # sits one level below the longest prefix it shares with either neighbour.
        diverge = [(a ^ b).bit_length() for a, b in pairwise(path_ints)]
        if 0 in diverge:
            raise ValueError("a path appears twice among the state tree leaves")
        edge = [PATH_BITS + 1, *diverge, PATH_BITS + 1]
        shifts = [min(a, b) - 1 for a, b in pairwise(edge)]
        del edge, diverge
        self._leaf_count = len(preimages)
        self._depth_max = depth_max = PATH_BITS - min(shifts)
        levels = self._levels
        # The leaves of each depth, in path order: prefixes, preimages and hashes.
        prefixes_at: list[list[int]] = [[] for _ in range(depth_max + 1)]
        preimages_at: list[list[bytes]] = [[] for _ in range(depth_max + 1)]
        hashes_at: list[list[bytes]] = [[] for _ in range(depth_max + 1)]
        for path_int, shift, preimage in zip(path_ints, shifts, preimages, strict=True):
            depth = PATH_BITS - shift
            prefixes_at[depth].append(path_int >> shift)
            preimages_at[depth].append(preimage)
            hashes_at[depth].append(sha(preimage).digest())
        del path_ints, shifts, preimages
        for depth in range(depth_max + 1):
            levels[depth].update(zip(prefixes_at[depth], preimages_at[depth], strict=True))
        del preimages_at
        # Prefix -> hash of the nodes at the current depth, then of their parents. Dict order
        # keeps prefixes in two ascending runs (interior nodes, then leaves), so the lookups
        # below walk memory mostly in order.
        level: dict[int, bytes] = {}
        prefix, zero = _NODE_PREFIX, ZERO_DIGEST
        for depth in range(depth_max, 0, -1):
            level.update(zip(prefixes_at[depth], hashes_at[depth], strict=True))
            prefixes_at[depth] = []
            hashes_at[depth] = []
            get = level.get
            parents = list(dict.fromkeys([node >> 1 for node in level]))
            joined = [prefix + get(n << 1, zero) + get(n << 1 | 1, zero) for n in parents]
            levels[depth - 1].update(zip(parents, joined, strict=True))
            level = dict(zip(parents, [sha(p).digest() for p in joined], strict=True))
        self._root = sha(levels[0][0]).digest()

    @property
    def root(self) -> bytes:
        """The root hash; ``ZERO_DIGEST`` for an empty tree."""
        return self._root

    def __len__(self) -> int:
        return self._leaf_count

    def _locate(self, path_int: int) -> int:
        """Return the depth of the deepest non-empty node on the path; -1 if the tree is empty.

        Nodes on a path are non-empty from the root down to some depth and empty below, so a
        search over the depth finds the last one. Random paths put most leaves near depth
        log2(leaves) + 1, so the search starts there and gallops outward before bisecting.
        """
        levels = self._levels
        if not levels[0]:
            return -1
        low, high = 0, self._depth_max + 1
        probe, step = min(self._leaf_count.bit_length() + 1, self._depth_max), 2
        if path_int >> (PATH_BITS - probe) in levels[probe]:
            low = probe
            probe += step
            while probe < high and path_int >> (PATH_BITS - probe) in levels[probe]:
                low, probe, step = probe, probe + step * 2, step * 2
            high = min(high, probe)
        else:
            high = probe
            probe -= step
            while probe > 0 and path_int >> (PATH_BITS - probe) not in levels[probe]:
                high, probe, step = probe, probe - step * 2, step * 2
            low = max(low, probe)
        while high - low > 1:
            middle = (low + high) >> 1
            if path_int >> (PATH_BITS - middle) in levels[middle]:
                low = middle
            else:
                high = middle
        return low

    def _leaf_at(self, path: bytes) -> tuple[int, int] | None:
        """Return ``(depth, prefix)`` of the leaf holding ``path``, or None."""
        path_int = int.from_bytes(path)
        depth = self._locate(path_int)
        if depth < 0:
            return None
        node = path_int >> (PATH_BITS - depth)
        preimage = self._levels[depth][node]
        if preimage[0] != _LEAF_TAG or preimage[1:_PATH_END] != path:
            return None
        return depth, node

    def get(self, path: bytes) -> bytes | None:
        """Return the value digest at ``path``, or None when the path holds no leaf."""
        _check_digest("path", path)
        found = self._leaf_at(path)
        if found is None:
            return None
        depth, node = found
        return self._levels[depth][node][_PATH_END:]

    def update(self, changes: Mapping[bytes, bytes | None]) -> bytes:
        """Apply a batch: ``path -> value digest``, or ``path -> None`` to delete; return the root.

        Deleting an absent path is a no-op. Raises ``ValueError`` (tree unchanged) when a path
        or digest is not 32 bytes.
        """
        if any(len(p) != DIGEST_SIZE for p in changes) or any(
            v is not None and len(v) != DIGEST_SIZE for v in changes.values()
        ):
            raise ValueError(f"state tree paths and value digests are {DIGEST_SIZE} bytes")
        # Depth -> prefixes of the leaves set or removed there; their ancestors need new hashes.
        changed: dict[int, list[int]] = {}
        # Any order will do: the final shape depends only on the final set of leaves.
        for path, value_digest in changes.items():
            if value_digest is None:
                self._delete(path, changed)
            else:
                self._insert(path, value_digest, changed)
        self._rehash(changed)
        return self._root

    def _insert(self, path: bytes, value_digest: bytes, changed: dict[int, list[int]]) -> None:
        """Set one leaf, reshaping as needed; record where it went in ``changed``."""
        levels = self._levels
        path_int = int.from_bytes(path)
        depth = self._locate(path_int)
        if depth < 0:
            depth = 0
            self._leaf_count += 1
        else:
            other = levels[depth][path_int >> (PATH_BITS - depth)]
            if other[0] != _LEAF_TAG:
                # An interior node whose child toward the path is empty: the leaf goes there.
                depth += 1
                self._leaf_count += 1
            elif other[1:_PATH_END] != path:
                depth = self._split(depth, path_int, other, changed)
                self._leaf_count += 1
        node = path_int >> (PATH_BITS - depth)
        levels[depth][node] = _LEAF_PREFIX + path + value_digest
        changed.setdefault(depth, []).append(node)

    def _split(self, depth: int, path_int: int, other: bytes, changed: dict[int, list[int]]) -> int:
        """Push the lone leaf ``other``, met at ``depth``, down to where the paths part.

        Return the depth where the new leaf goes.
        """
        levels = self._levels
        other_int = int.from_bytes(other[1:_PATH_END])
        shared_bits = PATH_BITS - (path_int ^ other_int).bit_length()
        # The nodes from ``depth`` down to the last shared bit become interior; they lie on
        # the new leaf's path, so the rehash after the batch fills in their children's hashes.
        for d in range(depth, shared_bits + 1):
            levels[d][path_int >> (PATH_BITS - d)] = _EMPTY_PAIR
        leaf_depth = shared_bits + 1
        other_node = other_int >> (PATH_BITS - leaf_depth)
        levels[leaf_depth][other_node] = other
        changed.setdefault(leaf_depth, []).append(other_node)
        self._depth_max = max(self._depth_max, leaf_depth)
        return leaf_depth

    def _delete(self, path: bytes, changed: dict[int, list[int]]) -> None:
        """Remove the leaf at ``path`` if there is one; record where it was in ``changed``.

        A subtree left with one leaf must hash as that leaf, so the remaining leaf moves up
        for as long as its sibling is empty.
        """
        found = self._leaf_at(path)
        if found is None:
            return
        levels = self._levels
        depth, node = found
        del levels[depth][node]
        self._leaf_count -= 1
        changed.setdefault(depth, []).append(node)
        occupied = False
        while depth > 0:
            here = levels[depth]
            sibling = here.get(node ^ 1)
            if occupied:
                if sibling is not None:
                    break
                moving = node
            else:
                if sibling is None:
                    raise RuntimeError("state tree corrupt: an interior node held one leaf")
                if sibling[0] != _LEAF_TAG:
                    break
                moving = node ^ 1
            depth, node, occupied = depth - 1, node >> 1, True
            levels[depth][node] = here.pop(moving)

    def _rehash(self, changed: dict[int, list[int]]) -> None:
        """Rewrite every interior ancestor of the ``changed`` nodes once, deepest level first.

        At each depth ``level`` maps the changed prefixes to their new hashes; a node's hash is
        the SHA-256 of its stored preimage, or ZERO_DIGEST once it is empty. A parent that is
        no longer interior (emptied, or a lone leaf moved up into it) only passes its hash on.
        """
        levels = self._levels
        sha, prefix, zero = hashlib.sha256, _NODE_PREFIX, ZERO_DIGEST
        leaf_tag, path_end = _LEAF_TAG, _PATH_END
        level: dict[int, bytes] = {}
        for depth in range(max(changed, default=0), 0, -1):
            get = levels[depth].get
            for node in changed.get(depth, ()):
                # A leaf that a later change in the batch pushed down is now an interior node
                # and already has its hash from the level below.
                if node not in level:
                    preimage = get(node)
                    level[node] = zero if preimage is None else sha(preimage).digest()
            above = levels[depth - 1]
            get = above.get
            parents: dict[int, bytes] = {}
            # Parents with both children changed are rare below the top levels; handle them
            # apart so the common case splices one half of the stored preimage.
            both = {node >> 1 for node in level if not node & 1 and node | 1 in level}
            for node, digest in level.items():
                parent = node >> 1
                if parent in parents:
                    continue
                preimage = get(parent)
                if preimage is None:
                    parents[parent] = zero
                    continue
                if preimage[0] != leaf_tag:
                    if parent in both:
                        preimage = prefix + level[node & ~1] + level[node | 1]
                    elif node & 1:
                        preimage = preimage[:path_end] + digest
                    else:
                        preimage = prefix + digest + preimage[path_end:]
                    above[parent] = preimage
                parents[parent] = sha(preimage).digest()
            level = parents
        root = levels[0].get(0)
        self._root = zero if root is None else sha(root).digest()

    def prove(self, path: bytes) -> StateProof:
        """Return the inclusion proof of ``path``, or its absence proof, at the current root."""
        _check_digest("path", path)
        levels = self._levels
        path_int = int.from_bytes(path)
        siblings: list[bytes] = []
        preimage = levels[0].get(0)
        depth = 0
        while preimage is not None and preimage[0] != _LEAF_TAG:
            depth += 1
            node = path_int >> (PATH_BITS - depth)
            sibling = preimage[1:_PATH_END] if node & 1 else preimage[_PATH_END:]
            siblings.append(b"" if sibling == ZERO_DIGEST else sibling)
            preimage = levels[depth].get(node)
        if preimage is None:
            return StateProof(siblings, None, None)
        return StateProof(siblings, preimage[1:_PATH_END], preimage[_PATH_END:])


def verify_state_proof(
    root: bytes, path: bytes, value_digest: bytes | None, proof: StateProof
) -> bool:
    """Return whether ``proof`` shows ``path -> value_digest`` under ``root``.

    ``value_digest`` None asks to prove that ``path`` is absent. Pure; returns False, never
    raises, on a malformed proof: more than 256 siblings, a sibling neither empty nor 32
    bytes, a leaf that is not two 32-byte strings, a leaf for another path in an inclusion
    proof, or, in an absence proof, a leaf that does not share ``path``'s first
    ``len(siblings)`` bits (it would stand for another subtree).
    """
    if not isinstance(proof, StateProof) or not _is_digest(root) or not _is_digest(path):
        return False
    # Typed as object: a proof built by hand, not decoded by msgspec, may hold anything.
    siblings: object = proof.siblings
    if not isinstance(siblings, list) or len(siblings) > PATH_BITS:
        return False
    node = _terminal_hash(
        path, value_digest, proof.leaf_path, proof.leaf_value_digest, len(siblings)
    )
    if node is None:
        return False
    path_int = int.from_bytes(path)
    sha, prefix, zero = hashlib.sha256, _NODE_PREFIX, ZERO_DIGEST
    for depth in range(len(siblings) - 1, -1, -1):
        sibling: object = siblings[depth]
        if sibling == b"":
            sibling = zero
        elif not _is_digest(sibling):
            return False
        # The node met at depth + 1 is the right child when bit ``depth`` of the path is 1.
        if (path_int >> (PATH_BITS - 1 - depth)) & 1:
            node = sha(prefix + sibling + node).digest()
        else:
            node = sha(prefix + node + sibling).digest()
    return node == root


def _terminal_hash(
    path: bytes, value_digest: bytes | None, leaf_path: object, leaf_value: object, depth: int
) -> bytes | None:
    """Return the hash of the node where a proof's walk ends at ``depth``, None if unfit."""
    if leaf_path is None and leaf_value is None:
        return ZERO_DIGEST if value_digest is None else None
    if not (_is_digest(leaf_path) and _is_digest(leaf_value)):
        return None
    if value_digest is None:
        # Another key's leaf proves absence only if it stands for path's own subtree.
        shared = (int.from_bytes(leaf_path) ^ int.from_bytes(path)) >> (PATH_BITS - depth)
        if leaf_path == path or shared:
            return None
    elif leaf_path != path or leaf_value != value_digest:
        return None
    return hashlib.sha256(_LEAF_PREFIX + leaf_path + leaf_value).digest()


def _is_digest(value: object) -> TypeGuard[bytes]:
    return isinstance(value, bytes) and len(value) == DIGEST_SIZE
