"""State reads in C: ``StateValues``' decoded cache (``_values.DecodedReader``) and
``StateView``'s layers (``_values.OverlayReads``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

from rantai.core._values import DecodedReader, NativeValueTable, OverlayReads
from rantai.core.encoding import encode
from rantai.core.errors import InvariantError
from rantai.core.ledger import Ledger  # noqa: F401 -- registers the namespaces
from rantai.core.records import nonce_key
from rantai.core.state import DELETED, StateView
from rantai.core.values import StateValues


def int_decoder(key: str) -> Callable[[bytes], Any]:
    return lambda raw: int.from_bytes(raw, "big")


def test_a_miss_decodes_and_caches_and_a_hit_is_the_same_object() -> None:
    values = StateValues()
    values.load([(nonce_key("alice"), encode(7))])
    first = values.get(nonce_key("alice"))
    assert first == 7
    values.apply({nonce_key("bob"): encode(2**40)}, {nonce_key("bob"): 2**40})
    big = values.get(nonce_key("bob"))
    assert big == 2**40
    assert values.get(nonce_key("bob")) is big  # from the cache, not decoded again


def test_absent_keys_give_the_default_and_are_not_cached() -> None:
    cache: dict[str, Any] = {}
    reader = DecodedReader(NativeValueTable(), cache, int_decoder, 8)
    marker = object()
    assert reader.get("nonce/x") is None
    assert reader.get("nonce/x", marker) is marker
    assert cache == {}


def test_the_cache_keeps_at_most_its_bound_and_drops_the_oldest_half() -> None:
    table = NativeValueTable()
    table.update((f"n/{i}", bytes([i])) for i in range(10))
    cache: dict[str, Any] = {}
    reader = DecodedReader(table, cache, int_decoder, 4)
    for i in range(4):
        assert reader.get(f"n/{i}") == i
    assert list(cache) == ["n/0", "n/1", "n/2", "n/3"]
    assert reader.get("n/4") == 4  # full: a key missed for the first time stays out
    assert list(cache) == ["n/0", "n/1", "n/2", "n/3"]
    assert reader.get("n/4") == 4  # missed again: it comes in, and n/0 and n/1 go first
    assert list(cache) == ["n/2", "n/3", "n/4"]
    for i in range(5, 10):
        assert reader.get(f"n/{i}") == reader.get(f"n/{i}") == i
        assert len(cache) <= 4
    assert "n/9" in cache


def test_once_full_the_cache_takes_only_keys_missed_again() -> None:
    # Keys read once (most reads at a million accounts) would each cost an insert and an
    # eviction for no hit: once the cache has filled, only a second miss admits a key.
    table = NativeValueTable()
    table.update((f"n/{i}", i.to_bytes(3, "big")) for i in range(50_000))
    cache: dict[str, Any] = {}
    reader = DecodedReader(table, cache, lambda key: lambda raw: int.from_bytes(raw, "big"), 1_024)
    for i in range(1_024):
        assert reader.get(f"n/{i}") == i
    assert len(cache) == 1_024  # not full before: every key came in
    once = range(1_024, 20_000)
    assert all(reader.get(f"n/{i}") == i for i in once)
    assert not any(f"n/{i}" in cache for i in once)
    assert list(cache) == [f"n/{i}" for i in range(1_024)]  # nothing evicted either
    twice = range(30_000, 30_100)
    for i in twice:
        assert reader.get(f"n/{i}") == reader.get(f"n/{i}") == i
    assert all(f"n/{i}" in cache for i in twice)  # the first of these evicted the oldest half
    assert len(cache) == 512 + len(twice)
    assert reader.get("n/30000") is cache["n/30000"]  # a hit now


def test_one_decoder_per_namespace_looked_up_once() -> None:
    table = NativeValueTable()
    table.update([("a/1", b"\x01"), ("a/2", b"\x02"), ("b", b"\x03")])
    asked: list[str] = []

    def find(key: str) -> Callable[[bytes], Any]:
        asked.append(key)
        return lambda raw: (key.split("/", maxsplit=1)[0], raw[0])

    reader = DecodedReader(table, {}, find, 16)
    assert reader.get("a/1") == ("a", 1)
    assert reader.get("a/2") == ("a", 2)  # a's decoder, found for a/1
    assert reader.get("b") == ("b", 3)  # a key without "/" is its own namespace
    assert asked == ["a/1", "b"]


def test_an_unknown_namespace_is_an_invariant_error_and_nothing_is_cached() -> None:
    values = StateValues()
    values.load([("no-such-namespace/x", b"\x01")])
    with pytest.raises(InvariantError, match="no namespace registered"):
        values.get("no-such-namespace/x")
    with pytest.raises(InvariantError):
        values.get("no-such-namespace/x")  # asked again: not cached as anything


def test_a_record_decoded_across_an_update_is_returned_but_not_cached() -> None:
    table = NativeValueTable()
    table.update([("n/k", b"\x01")])
    cache: dict[str, Any] = {}

    def decode_while_a_block_applies(raw: bytes) -> int:
        table.update([("n/k", b"\x02")])  # what another thread's apply could do meanwhile
        return raw[0]

    reader = DecodedReader(table, cache, lambda key: decode_while_a_block_applies, 8)
    assert reader.get("n/k") == 1  # the value as read
    assert cache == {}  # but never cached: the table holds 2 now


def test_decoder_errors_reach_the_caller() -> None:
    table = NativeValueTable()
    table.update([("n/k", b"\x01")])

    def broken(raw: bytes) -> int:
        raise ValueError("corrupt")

    reader = DecodedReader(table, {}, lambda key: broken, 8)
    with pytest.raises(ValueError, match="corrupt"):
        reader.get("n/k")
    with pytest.raises(TypeError):
        reader.get(b"n/k")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        DecodedReader(table, {}, int_decoder, 1)


class _Finder:
    def __init__(self) -> None:
        self.reader: DecodedReader | None = None

    def __call__(self, key: str) -> Callable[[bytes], Any]:
        return int_decoder(key)


def test_a_reader_cycle_is_collected() -> None:
    finder = _Finder()
    finder.reader = DecodedReader(NativeValueTable(), {}, finder, 8)  # finder <-> reader
    ref = weakref.ref(finder)
    del finder
    gc.collect()
    assert ref() is None


class _Layer(Mapping[str, Any]):
    """A layer that is not a dict: read by subscription."""

    def __init__(self, items: dict[str, Any]) -> None:
        self._items = items

    def __getitem__(self, key: str) -> Any:
        return self._items[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


@pytest.mark.parametrize("pending_type", [dict, _Layer])
def test_a_view_reads_tx_then_block_then_pending_then_base(pending_type: Any) -> None:
    base = {"k/a": 1, "k/b": 1, "k/c": 1, "k/d": 1, "k/gone": 1}
    pending = pending_type({"k/b": 2, "k/c": 2, "k/d": 2, "k/gone": DELETED})
    view = StateView(base, pending=pending)
    view.put_direct("k/c", 3)
    view.put_direct("k/d", 3)
    view.put("k/d", 4)
    assert [view.get(k) for k in ("k/a", "k/b", "k/c", "k/d")] == [1, 2, 3, 4]
    assert view.get("k/gone") is None
    assert view.get("k/none") is None
    view.delete("k/a")
    assert view.get("k/a") is None
    view.reject_tx()
    assert view.get("k/a") == 1 and view.get("k/d") == 3
    mark = view.mark()
    view.put("k/a", 5)
    view.restore(mark)  # replaces the tx layer: reads must follow the new dict
    assert view.get("k/a") == 1


def test_a_view_over_state_values_reads_them_in_c() -> None:
    values = StateValues()
    values.load([(nonce_key("alice"), encode(3))])
    view = StateView(values)
    assert view._base_get == values.direct_get
    assert view.get(nonce_key("alice")) == 3
    assert view.get(nonce_key("nobody")) is None


def test_a_bare_overlay_refuses_to_read() -> None:
    with pytest.raises(RuntimeError, match="set up"):
        OverlayReads().get("k")


def test_refresh_replaces_and_drops_only_what_the_cache_holds() -> None:
    table = NativeValueTable()
    table.update([("n/a", b"\x01"), ("n/b", b"\x02"), ("n/c", b"\x03")])
    cache: dict[str, Any] = {}
    reader = DecodedReader(table, cache, int_decoder, 8)
    reader.get("n/a")
    reader.get("n/b")
    table.update([("n/a", b"\x0a"), ("n/b", None), ("n/c", b"\x0c")])
    reader.refresh({"n/a": 10, "n/b": DELETED, "n/c": 12}, DELETED)
    assert cache == {"n/a": 10}  # n/b dropped; n/c, not held, left to be decoded when read
    assert reader.get("n/c") == 12 and reader.get("n/b") is None
    with pytest.raises(TypeError):
        reader.refresh([("n/a", 1)], DELETED)  # type: ignore[arg-type]


def test_a_block_applied_to_state_values_replaces_cached_records() -> None:
    values = StateValues()
    alice, bob = nonce_key("alice"), nonce_key("bob")
    values.load([(alice, encode(1)), (bob, encode(2))])
    assert values.get(alice) == 1
    values.apply({alice: encode(5), bob: None}, {alice: 5, bob: DELETED})
    assert values.get(alice) == 5 and values.get(bob) is None
    assert bob not in values
