"""The native value table (``_values.c``) against a plain dict, batch by batch.

After every batch both must hold the same keys and values, whatever the batch does: inserts,
overwrites with longer, shorter and equal values, deletes (of absent keys too), re-inserts,
repeated keys. A malformed batch must leave the table as it was; the layout must follow from
the operations alone; nothing may leak.
"""

from __future__ import annotations

import gc
import random
import resource
import subprocess
import sys
import weakref
from collections.abc import Iterable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rantai.core._values import NativeValueTable

Pair = tuple[str, bytes | None]

SLOT_BYTES = 16  # a 64-bit hash and an entry pointer
ENTRY_HEADER = 8  # the key's and the value's 32-bit lengths


# Keys that share long prefixes, differ in one byte or in length, hold NUL, are non-ASCII or
# hold a lone surrogate (stored with surrogatepass), and the empty key.
KEY_POOL = [
    "",
    "a",
    "b",
    "ab",
    "a\x00",
    "a\x00b",
    "bal/h0000001:main/BENCH-SUKUK",
    "bal/h0000001:main/BENCH-SUKUL",
    "bal/h0000002:main/BENCH-SUKUK",
    "bal/h0000001:main/BENCH-SUKUK/x",
    "claim/h0000001/kyc/kyc-provider",
    "claim/h0000001/kyc/kyc-provideR",
    "é",
    "ключ/значение",
    "\U0001f600",
    "\ud800",
    "\udc80x",
]
keys = st.one_of(st.sampled_from(KEY_POOL), st.text(max_size=4))
values = st.one_of(st.none(), st.binary(max_size=48), st.sampled_from([b"", b"x" * 40]))
batches = st.lists(st.lists(st.tuples(keys, values), max_size=24), max_size=10)


def capacity_for(count: int) -> int:
    """The slot array's size once it has had to hold `count` keys (0 if never any)."""
    if count == 0:
        return 0
    capacity = 8
    while count > capacity // 4 * 3:
        capacity *= 2
    return capacity


def entry_bytes(model: dict[str, bytes]) -> int:
    return sum(
        ENTRY_HEADER + len(key.encode("utf-8", "surrogatepass")) + len(value)
        for key, value in model.items()
    )


def as_form(batch: list[Pair], form: str) -> Iterable[Pair]:
    if form == "list":
        return list(batch)
    if form == "generator":
        return (pair for pair in batch)
    if form == "lists":
        return [[key, value] for key, value in batch]  # type: ignore[misc]
    if form == "tuple":
        return tuple(batch)
    return dict(batch).items()


def assert_same(table: NativeValueTable, model: dict[str, bytes], probes: Iterable[str]) -> None:
    assert len(table) == len(model)
    listed = list(table)
    assert len(listed) == len(model)
    assert set(listed) == set(model)
    for key in probes:
        assert table.get(key) == model.get(key)
        assert (key in table) == (key in model)


@settings(max_examples=300, deadline=None)
@given(
    history=batches,
    forms=st.lists(st.sampled_from(["list", "generator", "lists", "tuple", "items"]), min_size=10),
    absent=st.lists(st.text(max_size=6), max_size=4),
)
def test_matches_a_dict_after_every_batch(
    history: list[list[Pair]], forms: list[str], absent: list[str]
) -> None:
    table, model = NativeValueTable(), dict[str, bytes]()
    seen = set(KEY_POOL) | set(absent)
    peak = 0  # the most keys the table has had to make room for
    assert_same(table, model, seen)
    assert table.memory_bytes() == 0
    for batch, form in zip(history, forms, strict=False):
        final = dict(batch)  # later pairs win
        inserts = sum(1 for k, v in final.items() if v is not None and k not in model)
        peak = max(peak, len(model) + inserts)
        table.update(as_form(batch, form))
        for key, value in batch:
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
        seen |= set(final)
        assert_same(table, model, seen)
        assert table.memory_bytes() == capacity_for(peak) * SLOT_BYTES + entry_bytes(model)


def test_values_of_every_size_and_fresh_bytes() -> None:
    table = NativeValueTable()
    table.update([("k", b"x" * 40), ("e", b"")])
    first, second = table.get("k"), table.get("k")
    assert first == second == b"x" * 40
    assert first is not second
    assert table.get("e") == b""
    # Longer (a new entry), shorter (realloc), equal (in place), then the empty value.
    for value in (b"y" * 100, b"z" * 3, b"w" * 3, b""):
        table.update([("k", value)])
        assert table.get("k") == value
        assert table.memory_bytes() == 8 * SLOT_BYTES + 2 * ENTRY_HEADER + 2 + len(value)
    assert first == b"x" * 40  # a value handed out is a copy


def test_later_pairs_win_and_absent_deletes_change_nothing() -> None:
    table = NativeValueTable()
    table.update([("a", b"1"), ("a", None), ("b", b"2"), ("a", b"3"), ("b", None), ("c", None)])
    assert sorted(table) == ["a"]
    assert table.get("a") == b"3"
    table.update([("a", None), ("a", None), ("zz", None)])
    assert len(table) == 0
    assert list(table) == []
    table.update([])
    assert len(table) == 0


def test_growth_and_backward_shift_deletion_at_scale() -> None:
    rng = random.Random(17)
    keys = [f"bal/h{i:07d}:main/BENCH-SUKUK" for i in range(100_000)]
    values = {key: rng.randbytes(rng.choice((0, 8, 40))) for key in keys}
    table = NativeValueTable()
    for start in range(0, len(keys), 10_000):
        table.update((key, values[key]) for key in keys[start : start + 10_000])
    assert len(table) == len(keys)
    assert all(table.get(key) == values[key] for key in keys)
    gone = keys[::2]
    rng.shuffle(gone)
    for start in range(0, len(gone), 5_000):
        table.update((key, None) for key in gone[start : start + 5_000])
    gone_set = set(gone)
    assert len(table) == len(keys) - len(gone)
    for key in keys:
        assert table.get(key) == (None if key in gone_set else values[key])
    assert set(table) == set(keys) - gone_set
    table.update((key, b"back" + key.encode()) for key in gone)
    assert len(table) == len(keys)
    for key in keys:
        assert table.get(key) == (b"back" + key.encode() if key in gone_set else values[key])
    assert not any(f"bal/h{i:07d}:main/BENCH-SUKUK" in table for i in range(100_000, 100_500))


def _operations() -> list[list[Pair]]:
    rng = random.Random(3)
    pool = [f"claim/h{i:07d}/kyc/kyc-provider" for i in range(3_000)]
    return [
        [(rng.choice(pool), None if rng.random() < 0.3 else rng.randbytes(8)) for _ in range(500)]
        for _ in range(12)
    ]


def test_layout_depends_only_on_the_operations() -> None:
    first, second = NativeValueTable(), NativeValueTable()
    for batch in _operations():
        first.update(batch)
        second.update(iter(batch))
    assert list(first) == list(second)
    assert len(first) > 1_000


def test_layout_is_the_same_in_another_process() -> None:
    # Other str hash seeds in the children: the order must not follow Python's str hash.
    code = (
        "import ast, sys\n"
        "from rantai.core._values import NativeValueTable\n"
        "t = NativeValueTable()\n"
        "for batch in ast.literal_eval(sys.stdin.read()):\n"
        "    t.update(batch)\n"
        "print('\\n'.join(t))\n"
    )
    operations = _operations()
    table = NativeValueTable()
    for batch in operations:
        table.update(batch)
    for seed in ("1", "2"):
        child = subprocess.run(
            [sys.executable, "-c", code],
            input=repr(operations),
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": seed},
        )
        assert child.stdout.split("\n")[:-1] == list(table)


BAD_BATCHES: list[tuple[str, object, str]] = [
    ("int-key", [("ok", b"1"), (7, b"v")], "item 1"),
    ("bytes-key", [("ok", b"1"), (b"k", b"v")], "item 1"),
    ("str-value", [("ok", b"1"), ("x", b"2"), ("k", "v")], "item 2"),
    ("int-value", [("k", 7)], "item 0"),
    ("bytearray-value", [("ok", None), ("k", bytearray(b"v"))], "item 1"),
    ("triple", [("ok", b"1"), ("k", b"v", b"w")], "item 1"),
    ("single", [("k",)], "item 0"),
    ("bare-str", [("ok", b"1"), "kv"], "item 1"),
    ("none-item", [None], "item 0"),
    ("non-iterable", 7, "iterable"),
    ("none", None, "iterable"),
    ("dict", {"k": b"v"}, "item 0"),  # iterating a dict gives its keys, not pairs
    ("items-view", {"ok": b"1", "k": 2}.items(), "item 1"),
]


@pytest.mark.parametrize(
    ("bad", "where"),
    [(bad, where) for _, bad, where in BAD_BATCHES],
    ids=[name for name, _, _ in BAD_BATCHES],
)
def test_a_malformed_batch_changes_nothing(bad: object, where: str) -> None:
    table = NativeValueTable()
    table.update([("ok", b"0"), ("k", b"old"), ("x", b"keep")])
    before = {key: table.get(key) for key in table}
    order, size = list(table), table.memory_bytes()
    with pytest.raises(TypeError, match=where):
        table.update(bad)  # type: ignore[arg-type]
    assert len(table) == 3
    assert {key: table.get(key) for key in table} == before
    assert (list(table), table.memory_bytes()) == (order, size)


def test_bad_arguments() -> None:
    table = NativeValueTable()
    table.update([("k", b"v")])
    with pytest.raises(TypeError):
        table.get(b"k")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.get(None)  # type: ignore[arg-type]
    assert b"k" not in table
    assert 1 not in table
    assert None not in table
    with pytest.raises(TypeError):
        NativeValueTable({"k": b"v"})  # type: ignore[call-arg]


def test_a_generator_that_raises_changes_nothing() -> None:
    table = NativeValueTable()
    table.update([("k", b"v")])

    def pairs() -> Iterator[Pair]:
        yield ("a", b"1")
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        table.update(pairs())

    def bad_pairs() -> Iterator[Pair]:
        yield ("a", b"1")
        raise TypeError("from inside")

    with pytest.raises(TypeError, match="from inside"):  # passed on as raised, not reworded
        table.update(bad_pairs())
    assert list(table) == ["k"]


def test_changing_the_keys_during_iteration_raises() -> None:
    table = NativeValueTable()
    table.update((f"k{i}", b"v") for i in range(10))
    for change in ([("new", b"v")], [("k3", None)]):
        iterator = iter(table)
        next(iterator)
        table.update(change)
        with pytest.raises(RuntimeError):
            next(iterator)
        with pytest.raises(RuntimeError):  # and stays raised
            next(iterator)
    # Replacing values, deleting absent keys or a rejected batch move no key: iteration goes on.
    iterator = iter(table)
    first = next(iterator)
    table.update([("k5", b"a much longer value than before"), ("k6", b""), ("absent", None)])
    with pytest.raises(TypeError):
        table.update([("k7", 1)])  # type: ignore[list-item]
    assert sorted([first, *iterator]) == sorted(table)
    # A live iterator over an emptied table.
    iterator = iter(table)
    table.update((key, None) for key in list(table))
    with pytest.raises(RuntimeError):
        next(iterator)


def test_an_iterator_cycle_through_a_subclass_is_collected() -> None:
    class Holder(NativeValueTable):
        iterator: Iterator[str]

    holder = Holder()
    holder.update([("k", b"v")])
    holder.iterator = iter(holder)
    alive = weakref.ref(holder)
    del holder
    gc.collect()
    assert alive() is None


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_repeated_inserts_and_deletes_keep_memory_flat() -> None:
    keys = [f"bal/h{i:07d}:main/BENCH-SUKUK" for i in range(200_000)]
    inserts: list[Pair] = [(key, bytes(40)) for key in keys]
    longer: list[Pair] = [(key, bytes(72)) for key in keys[::4]]
    deletes: list[Pair] = [(key, None) for key in keys]
    bad: list[object] = [*inserts[:1_000], ("bad", 1)]
    table = NativeValueTable()

    def cycle() -> None:
        table.update(inserts)
        table.update(longer)
        with pytest.raises(TypeError):
            table.update(bad)  # type: ignore[arg-type]
        for key in keys[:200]:
            table.get(key)
        assert sum(1 for _ in table) == len(keys)
        table.update(deletes)

    cycle()
    slots_only = table.memory_bytes()
    assert slots_only == capacity_for(len(keys)) * SLOT_BYTES
    before = _rss_bytes()
    for _ in range(6):
        cycle()
    # A leak of the entries alone would add over 15 MiB a round.
    assert _rss_bytes() - before < 8 * 2**20
    assert len(table) == 0
    assert table.memory_bytes() == slots_only
