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

SLOT_BYTES = 8  # an entry's address and 16 bits of its key's hash
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
        inserted = [k for k, v in final.items() if v is not None and k not in model]
        peak = max(peak, len(model) + len(inserted))
        reported = table.update_inserted(as_form(batch, form))
        assert sorted(reported) == sorted(inserted)  # each once, however often it came
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


def test_update_inserted_reports_the_keys_that_were_absent_in_order() -> None:
    table = NativeValueTable()
    table.update([("kept", b"1"), ("gone", b"2")])
    reported = table.update_inserted(
        [
            ("new2", b"a"),
            ("kept", b"b"),
            ("gone", None),
            ("new1", b"c"),
            ("never", None),
            ("new2", b"d"),
            ("brief", b"e"),
            ("brief", None),
        ]
    )
    # A key set twice counts at its last pair; one set then deleted in the batch is not new.
    assert reported == ["new1", "new2"]
    assert sorted(table) == ["kept", "new1", "new2"]
    assert table.update_inserted([("kept", b"z"), ("new1", None)]) == []
    assert table.update([("x", b"1")]) is None
    with pytest.raises(TypeError, match="item 1"):
        table.update_inserted([("y", b"1"), ("z", 2)])  # type: ignore[list-item]
    assert sorted(table) == ["kept", "new2", "x"]


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


_MASK64 = 2**64 - 1


def key_hash(key: str) -> int:
    """``hash_key`` of ``_values.c`` in Python: what decides a key's home slot and tag."""
    data = key.encode()
    state = 0xCBF29CE484222325 ^ (len(data) * 0xFF51AFD7ED558CCD & _MASK64)
    for start in range(0, len(data), 8):
        state = (state ^ int.from_bytes(data[start : start + 8], "little")) * 0x9E3779B97F4A7C15
        state &= _MASK64
        state ^= state >> 32
    state = (state ^ state >> 30) * 0xBF58476D1CE4E5B9 & _MASK64
    state = (state ^ state >> 27) * 0x94D049BB133111EB & _MASK64
    return state ^ state >> 31


def test_keys_sharing_a_home_slot_and_a_hash_tag_stay_apart() -> None:
    # A slot keeps only the top 16 bits of its key's hash: two keys with the same home slot
    # (the low bits) and the same tag are told apart by their entries' keys.
    homes_of_8 = {}
    for i in range(200_000):
        key = f"k{i}"
        digest = key_hash(key)
        first = homes_of_8.setdefault((digest & 7, digest >> 48), key)
        if first != key:
            second = key
            break
    else:
        pytest.fail("no two keys share a home slot and a tag")
    table = NativeValueTable()
    table.update([(first, b"1")])
    assert table.get(second) is None and second not in table  # the tag matches, the key not
    table.update([(second, b"2")])
    assert (table.get(first), table.get(second)) == (b"1", b"2")
    assert list(table) == [first, second]  # linear probing: the second in the next slot
    table.update([(first, None)])  # the second shifts back: its home found from its key
    assert (table.get(first), table.get(second)) == (None, b"2")
    assert list(table) == [second]
    table.update([(first, b"3")])
    assert (table.get(first), table.get(second)) == (b"3", b"2")


def test_the_hash_in_python_is_the_tables() -> None:
    # Six keys with distinct home slots in the first array (8 slots): iteration follows them.
    keys: dict[int, str] = {}
    for i in range(1_000):
        keys.setdefault(key_hash(f"k{i}") & 7, f"k{i}")
        if len(keys) == 6:
            break
    table = NativeValueTable()
    table.update((key, b"") for key in keys.values())
    assert list(table) == [keys[home] for home in sorted(keys)]


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


# ---- to_bytes / from_bytes ----

MAGIC = b"RVT\x00"


def serialized(
    entries: Iterable[tuple[bytes, bytes]],
    *,
    count: int | None = None,
    lead: int = 0,
    magic: bytes = MAGIC,
    version: int = 1,
) -> bytes:
    """The format by hand: header, then per entry u32 LE key and value lengths, key, value."""
    listed = list(entries)
    header = magic + version.to_bytes(4, "little")
    header += (len(listed) if count is None else count).to_bytes(8, "little")
    header += lead.to_bytes(8, "little")
    body = b"".join(
        len(key).to_bytes(4, "little") + len(value).to_bytes(4, "little") + key + value
        for key, value in listed
    )
    return header + body


def contents(table: NativeValueTable) -> list[tuple[str, bytes | None]]:
    return [(key, table.get(key)) for key in table]


def assert_round_trip(table: NativeValueTable) -> NativeValueTable:
    data = table.to_bytes()
    restored = NativeValueTable.from_bytes(data)
    assert len(restored) == len(table)
    assert sorted(contents(restored)) == sorted(contents(table))
    # The copy's own round trip is exact: same order, same bytes.
    again = NativeValueTable.from_bytes(restored.to_bytes())
    assert contents(again) == contents(restored)
    assert again.to_bytes() == restored.to_bytes()
    return restored


ROUND_TRIPS: list[tuple[str, list[tuple[str, bytes]]]] = [
    ("empty", []),
    ("one", [("k", b"v")]),
    ("empty-key-and-value", [("", b"")]),
    (
        "mixed",
        [(key, key.encode("utf-8", "surrogatepass") * 3) for key in KEY_POOL]
        + [("leer", b""), ("\ud800\udc00", b"pair of lone surrogates"), ("\udfff", b"\x00")],
    ),
    (
        "many",
        [(f"bal/h{i:07d}:main/BENCH-SUKUK", bytes([i % 256]) * (i % 50)) for i in range(5_000)],
    ),
]


@pytest.mark.parametrize(
    "pairs", [pairs for _, pairs in ROUND_TRIPS], ids=[n for n, _ in ROUND_TRIPS]
)
def test_round_trip_keeps_entries_and_order(pairs: list[tuple[str, bytes]]) -> None:
    table = NativeValueTable()
    table.update(pairs)
    restored = assert_round_trip(table)
    assert contents(restored) == contents(table)  # never deleted from: same array, same order
    assert restored.to_bytes() == table.to_bytes()
    assert restored.memory_bytes() == table.memory_bytes()


def test_the_format_is_the_documented_one() -> None:
    table = NativeValueTable()
    pairs = [("é", b"xyz"), ("a", b"1"), ("\ud800", b"")]
    table.update(pairs)
    values = dict(pairs)
    expected = serialized((key.encode("utf-8", "surrogatepass"), values[key]) for key in table)
    assert table.to_bytes() == expected  # lead 0: this table's first slot is empty
    assert NativeValueTable().to_bytes() == serialized([])


def test_runs_that_wrap_around_the_array_come_back_in_place() -> None:
    # Re-inserting the keys in iteration order does not give the same order when a run of
    # occupied slots wraps past the array's end; from_bytes must, always.
    naive_differs = 0
    for seed in range(400):
        rng = random.Random(seed)
        table = NativeValueTable()
        table.update((f"k{rng.random()}", rng.randbytes(3)) for _ in range(rng.randint(1, 24)))
        naive = NativeValueTable()
        naive.update((key, b"") for key in table)
        naive_differs += list(naive) != list(table)
        restored = NativeValueTable.from_bytes(table.to_bytes())
        assert contents(restored) == contents(table)
    assert naive_differs > 10  # the case is exercised


def test_a_table_left_oversized_by_deletes_comes_back_compacted() -> None:
    table = NativeValueTable()
    table.update((f"k{i}", b"v") for i in range(1_000))
    table.update((f"k{i}", None) for i in range(10, 1_000))
    restored = assert_round_trip(table)
    assert restored.memory_bytes() == capacity_for(10) * SLOT_BYTES + entry_bytes(
        {f"k{i}": b"v" for i in range(10)}
    )
    assert restored.memory_bytes() < table.memory_bytes()
    emptied = NativeValueTable()
    emptied.update([("k", b"v")])
    emptied.update([("k", None)])
    assert emptied.to_bytes() == serialized([])
    assert NativeValueTable.from_bytes(emptied.to_bytes()).memory_bytes() == 0


@settings(max_examples=200, deadline=None)
@given(history=batches)
def test_round_trip_after_any_history(history: list[list[Pair]]) -> None:
    table, model = NativeValueTable(), dict[str, bytes]()
    for batch in history:
        table.update(batch)
        for key, value in batch:
            if value is None:
                model.pop(key, None)
            else:
                model[key] = value
    restored = assert_round_trip(table)
    assert dict(contents(restored)) == model
    if restored.memory_bytes() == table.memory_bytes():  # same array size: same layout
        assert list(restored) == list(table)
        assert restored.to_bytes() == table.to_bytes()


@settings(max_examples=500, deadline=None)
@given(key=st.one_of(st.binary(max_size=8), st.text(max_size=4).map(lambda s: s.encode())))
def test_keys_are_accepted_exactly_when_surrogatepass_decodes_them(key: bytes) -> None:
    data = serialized([(key, b"v")])
    try:
        text = key.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        with pytest.raises(ValueError, match="not valid UTF-8"):
            NativeValueTable.from_bytes(data)
        return
    table = NativeValueTable.from_bytes(data)
    assert list(table) == [text]
    assert table.get(text) == b"v"
    assert table.to_bytes()[24:] == data[24:]


def test_any_bytes_like_object_and_subclasses() -> None:
    table = NativeValueTable()
    table.update([("a", b"1"), ("b", b"2")])
    data = table.to_bytes()
    for form in (bytearray(data), memoryview(data)):
        assert contents(NativeValueTable.from_bytes(form)) == contents(table)

    class Sub(NativeValueTable):
        pass

    copy = Sub.from_bytes(data)
    assert type(copy) is Sub
    assert contents(copy) == contents(table)
    for bad in ("text", None, 7):
        with pytest.raises(TypeError):
            NativeValueTable.from_bytes(bad)  # type: ignore[arg-type]


def lengths(key: int, value: int) -> bytes:
    return key.to_bytes(4, "little") + value.to_bytes(4, "little")


GOOD = [(b"a", b"1"), (b"bb", b""), ("é".encode(), b"xyz")]
FULL = serialized(GOOD)
MALFORMED: list[tuple[str, bytes, str]] = [
    ("empty", b"", "shorter than the 24-byte header"),
    ("short-header", FULL[:23], "shorter than the 24-byte header"),
    ("bad-magic", b"RVT\x01" + FULL[4:], "bad magic"),
    ("pickle", b"\x80\x04" + FULL[2:], "bad magic"),
    ("version-0", serialized(GOOD, version=0), "format version 0"),
    ("version-2", serialized(GOOD, version=2), "format version 2"),
    ("huge-count", serialized(GOOD, count=2**64 - 1), "more than 57 bytes can hold"),
    ("count-past-data", serialized(GOOD, count=5), "more than 57 bytes can hold"),
    ("count-too-high", serialized(GOOD, count=4), "counts 4 entries, the data holds 3"),
    ("count-too-low", serialized(GOOD, count=2), "trailing bytes after the 2 entries"),
    ("count-zero", serialized(GOOD, count=0), "trailing bytes after the 0 entries"),
    ("trailing-byte", FULL + b"\x00", "1 trailing bytes"),
    ("lead-past-count", serialized(GOOD, lead=4), r"lead \(4\) exceeds its count \(3\)"),
    ("truncated-value", FULL[:-1], "entry 2 .* runs past the end"),
    ("truncated-lengths", FULL[:-8], "entry 2 is truncated"),
    (
        "key-length-past-end",
        serialized([])[:8] + serialized([(b"a", b"1")])[8:24] + lengths(9, 1) + b"a1",
        r"entry 0 \(key 9 bytes, value 1 bytes\) runs past the end",
    ),
    (
        "value-length-past-end",
        serialized([(b"a", b"1"), (b"b", b"")])[:-9] + lengths(1, 2) + b"b",
        r"entry 1 \(key 1 bytes, value 2 bytes\) runs past the end",
    ),
    (
        "huge-lengths",
        serialized([(b"", b"")])[:24] + b"\xff" * 8 + b"xyz",
        "entry 0 .* runs past the end",
    ),
    ("bare-continuation", serialized([(b"ab\x80", b"")]), r"entry 0: .*UTF-8 \(byte 2\)"),
    ("overlong-nul", serialized([(b"a", b""), (b"\xc0\x80", b"")]), r"entry 1: .*UTF-8 \(byte 0\)"),
    ("overlong-3", serialized([(b"\xe0\x80\xaf", b"")]), "not valid UTF-8"),
    ("past-max", serialized([(b"\xf4\x90\x80\x80", b"")]), "not valid UTF-8"),
    ("f5", serialized([(b"\xf5\x80\x80\x80", b"")]), "not valid UTF-8"),
    ("cut-sequence", serialized([(b"x\xe2\x82", b"")]), r"UTF-8 \(byte 1\)"),
    ("cut-surrogate", serialized([(b"\xed\xa0", b"v")]), "not valid UTF-8"),
    ("duplicate", serialized([*GOOD, (b"bb", b"again")]), "entry 3 repeats the key 'bb'"),
    (
        "duplicate-surrogate",
        serialized([(b"\xed\xa0\x80", b""), (b"\xed\xa0\x80", b"")]),
        r"entry 1 repeats the key '\\ud800'",
    ),
]


@pytest.mark.parametrize(
    ("data", "message"),
    [(data, message) for _, data, message in MALFORMED],
    ids=[name for name, _, _ in MALFORMED],
)
def test_malformed_data_is_refused(data: bytes, message: str) -> None:
    good = NativeValueTable.from_bytes(FULL)  # the unaltered form is good
    assert sorted(contents(good)) == [("a", b"1"), ("bb", b""), ("é", b"xyz")]
    with pytest.raises(ValueError, match=message):
        NativeValueTable.from_bytes(data)


def test_a_duplicate_in_the_lead_is_refused_too() -> None:
    # The lead is inserted last: a repeat of an earlier-stored key is found then.
    data = serialized([(b"a", b"1"), (b"b", b"2"), (b"a", b"3")], lead=1)
    with pytest.raises(ValueError, match="entry 0 repeats the key 'a'"):
        NativeValueTable.from_bytes(data)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_refused_and_dropped_copies_leak_nothing() -> None:
    table = NativeValueTable()
    table.update((f"bal/h{i:07d}:main/BENCH-SUKUK", bytes(40)) for i in range(100_000))
    data = table.to_bytes()
    first = data[24 : 24 + 8 + 29 + 40]
    duplicated = bytearray(data + first)  # the last entry repeats the first
    duplicated[8:16] = (len(table) + 1).to_bytes(8, "little")
    bad = bytes(duplicated)

    def cycle() -> None:
        with pytest.raises(ValueError, match="repeats the key"):
            NativeValueTable.from_bytes(bad)
        assert len(NativeValueTable.from_bytes(data)) == len(table)

    cycle()
    before = _rss_bytes()
    for _ in range(8):
        cycle()
    # A leak of the entries alone would add about 10 MiB a round.
    assert _rss_bytes() - before < 8 * 2**20
