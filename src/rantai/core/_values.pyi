"""Types of the native value table (``_values.c``): str keys -> encoded bytes values."""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Self

class NativeValueTable:
    """Map of str keys -> bytes values, stored compactly in C.

    Not a dict: iteration order is deterministic (a fixed, unseeded hash) but otherwise
    unspecified. Every call holds the GIL throughout, so each is atomic across threads.
    """

    def __init__(self) -> None: ...
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def get(self, key: str) -> bytes | None: ...
    def update(self, items: Iterable[tuple[str, bytes | None]]) -> None: ...
    def update_inserted(self, items: Iterable[tuple[str, bytes | None]]) -> list[str]:
        """As ``update``; the keys it inserted (absent before), in the pairs' order."""
    def __iter__(self) -> Iterator[str]: ...
    def memory_bytes(self) -> int: ...
    def to_bytes(self) -> bytes:
        """Every entry in iteration order, one bytes object (format: ``_values.c``)."""

    @classmethod
    def from_bytes(cls, data: bytes | bytearray | memoryview) -> Self:
        """A new table of ``data``'s entries; ValueError if it is malformed."""

class DecodedReader:
    """Decoded, cached reads of ``table``'s records (see ``_values.c``)."""

    def __init__(
        self,
        table: NativeValueTable,
        cache: dict[str, Any],
        find_decoder: Callable[[str], Callable[[bytes], Any]],
        cache_max: int,
        *,
        doorkeeper: bool = True,
    ) -> None: ...
    def get(self, key: str, default: Any = None) -> Any: ...
    def refresh(self, decoded: dict[str, Any], deleted: object) -> None: ...

class OverlayReads:
    """The base of ``StateView``: ``get`` through the layers, then ``_base_get``."""

    _tx: dict[str, Any]
    _block: dict[str, Any]
    _pending: Mapping[str, Any]
    _base_get: Callable[[str], Any]
    _deleted: object
    def get(self, key: str) -> Any: ...
