"""The state a block executes against: committed values, a block overlay and a tx overlay.

State is a map from string keys to decoded records. A key's first path segment names its
namespace, and each namespace has one record type (``register_namespace``), so a stored
value decodes to exactly one type. Transactions write into a tx overlay that is dropped on
rejection; an accepted transaction's writes move into the block overlay, which becomes the
block's state changes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from rantai.core._values import OverlayReads
from rantai.core.errors import invariant
from rantai.core.registers import BALANCE_PREFIX, StateIndex, balance_parts, prefix_end

__all__ = [
    "DELETED",
    "StateView",
    "namespace_of",
    "namespace_type",
    "register_namespace",
]


class _Deleted:
    __slots__ = ()

    def __repr__(self) -> str:
        return "DELETED"


DELETED: Final = _Deleted()
"""Marks a key deleted in an overlay (``None`` could be a value)."""

_NAMESPACE_TYPES: dict[str, Any] = {}


def register_namespace(namespace: str, value_type: Any) -> None:
    """Declare that keys ``namespace/...`` hold values of ``value_type``."""
    known = _NAMESPACE_TYPES.get(namespace)
    invariant(known is None or known is value_type, f"namespace {namespace!r} registered twice")
    _NAMESPACE_TYPES[namespace] = value_type


def namespace_of(key: str) -> str:
    """Return the namespace of ``key``: the text before its first ``/``."""
    return key.split("/", 1)[0]


def namespace_type(key: str) -> Any:
    """Return the value type of ``key``'s namespace."""
    value_type = _NAMESPACE_TYPES.get(namespace_of(key))
    invariant(value_type is not None, f"no namespace registered for key {key!r}")
    return value_type


class StateView(OverlayReads):
    """Reads through the tx overlay, the block overlay, the pending changes, then ``base``.

    ``pending`` holds the changes of earlier blocks that executed but are not yet in
    ``base`` (the node writes block N while N+1 executes), with ``DELETED`` for removals.
    ``index`` orders ``base`` for the few reads that enumerate (``rantai.core.registers``);
    without one those reads scan ``base``, which is right but slow, and fine for dry runs
    and tests. ``height`` is the block being executed, when there is one.

    ``get``, the read every rule and kind makes, is ``OverlayReads.get``, in C
    (``rantai.core._values``); it calls ``base.direct_get`` where ``base`` has one (a
    ``StateValues``), so a read of committed state runs no Python at all.
    """

    __slots__ = ("_base", "_index", "height")

    def __init__(
        self,
        base: Mapping[str, Any],
        index: StateIndex | None = None,
        height: int | None = None,
        pending: Mapping[str, Any] | None = None,
    ) -> None:
        self._base = base
        self._base_get = getattr(base, "direct_get", None) or base.get
        self._deleted = DELETED
        self._pending = {} if pending is None else pending
        self._block = {}
        self._tx = {}
        self._index = index
        self.height = height

    def put(self, key: str, value: Any) -> None:
        """Write ``value`` at ``key`` in the current transaction."""
        invariant(value is not None, f"put None at {key!r}; use delete")
        self._tx[key] = value

    def delete(self, key: str) -> None:
        """Delete ``key`` in the current transaction."""
        self._tx[key] = DELETED

    def accounts_holding(self, instrument: str) -> list[str]:
        """Every account with a non-zero balance of ``instrument`` here, in sorted order.

        Costs the committed holders plus one pass over this block's writes so far.
        """
        suffix = "/" + instrument
        if self._index is not None:
            found = set(self._index.accounts_holding(instrument))
        else:
            found = {
                balance_parts(k)[0]
                for k in self._base
                if k.startswith(BALANCE_PREFIX) and k.endswith(suffix)
            }
        for overlay in (self._pending, self._block, self._tx):
            for key, value in overlay.items():
                if key.startswith(BALANCE_PREFIX) and key.endswith(suffix):
                    account = balance_parts(key)[0]  # ids hold no "/": the suffix is the code
                    if value is DELETED:
                        found.discard(account)
                    else:
                        found.add(account)
        return sorted(found)

    def keys_with_prefix(self, prefix: str) -> list[str]:
        """Every key here that starts with ``prefix`` (in a scannable namespace), sorted."""
        end = prefix_end(prefix)
        if self._index is not None:
            found = set(self._index.keys_with_prefix(prefix))
        else:
            found = {k for k in self._base if prefix <= k < end}
        for overlay in (self._pending, self._block, self._tx):
            for key, value in overlay.items():
                if prefix <= key < end:
                    if value is DELETED:
                        found.discard(key)
                    else:
                        found.add(key)
        return sorted(found)

    def put_direct(self, key: str, value: Any) -> None:
        """Write ``value`` into the block overlay, surviving a rejection of the current tx.

        Only the nonce uses this: a transaction past the nonce check uses its nonce up.
        """
        self._block[key] = value

    def mark(self) -> dict[str, Any]:
        """A copy of the current transaction's writes, to roll back to with ``restore``.

        Settlement uses it: a failing leg undoes every leg while the transaction, which
        records the failure, is kept.
        """
        return dict(self._tx)

    def restore(self, mark: dict[str, Any]) -> None:
        """Drop the current transaction's writes made since ``mark``."""
        self._tx = dict(mark)

    def accept_tx(self) -> None:
        """Keep the current transaction's writes."""
        self._block.update(self._tx)
        self._tx.clear()

    def reject_tx(self) -> None:
        """Drop the current transaction's writes."""
        self._tx.clear()

    def block_changes(self) -> Iterator[tuple[str, Any]]:
        """Each key the block changed, in sorted order, with its value or ``DELETED``.

        Deleting a key that was absent before the block is no change, and is left out.
        """
        invariant(not self._tx, "block_changes with an open transaction")
        base, pending = self._base, self._pending
        for key in sorted(self._block):
            value = self._block[key]
            if value is DELETED:
                before = pending.get(key, self)
                if before is DELETED or (before is self and key not in base):
                    continue
            yield key, value
