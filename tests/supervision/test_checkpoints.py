"""Monitor checkpoints: a monitor restored from a checkpoint goes on exactly as one that never
stopped, and a supervisor resumes from the store's checkpoint instead of from genesis."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.node.harness import market, new_node, send
from tests.supervision.test_supervisor import copy_without_alerts, snapshot, transfer

from rantai.node.node import Node
from rantai.store.base import OutcomeRecord
from rantai.store.sqlite import SqliteStore
from rantai.supervision import Monitor, RoundTrip, Supervisor
from rantai.supervision.events import CommittedMovement
from rantai.supervision.monitors import (
    DAY_MS,
    DormantAccount,
    DormantAccountConfig,
    LargeTransfer,
    LargeTransferConfig,
    RoundTripConfig,
    Structuring,
    StructuringConfig,
    Velocity,
    VelocityConfig,
)

THRESHOLD = 1_000


def stateful_monitors() -> list[Monitor]:
    """Every monitor that remembers, configured so that short runs make them fire."""
    return [
        Structuring(StructuringConfig(threshold_minor=THRESHOLD, count_min=2, parties_max=3)),
        Velocity(VelocityConfig(window_ms=DAY_MS, history_windows=3, history_windows_min=1)),
        RoundTrip(RoundTripConfig(window_ms=3 * DAY_MS, legs_max=2, pairs_max=4)),
        DormantAccount(DormantAccountConfig(dormant_ms=2 * DAY_MS)),
        LargeTransfer(LargeTransferConfig(threshold_minor=THRESHOLD)),
    ]


PARTIES = ("a", "b", "c", "d")
movement_steps = st.lists(
    st.tuples(
        st.sampled_from(("transfer", "transfer", "transfer", "mint")),
        st.sampled_from(PARTIES),
        st.sampled_from(PARTIES),
        st.sampled_from(("X", "Y")),
        st.sampled_from((5, 880, 950, 990, 1_000, 4_000)),
        st.sampled_from((0, 1, DAY_MS // 2, DAY_MS, 3 * DAY_MS)),  # time since the last one
    ),
    max_size=40,
)


def movements(steps: list[tuple[str, str, str, str, int, int]]) -> list[CommittedMovement]:
    out, at_ms = [], DAY_MS
    for i, (kind, source, destination, instrument, amount, gap_ms) in enumerate(steps):
        at_ms += gap_ms
        src = f"{source}:main" if kind == "transfer" else ""
        out.append(
            CommittedMovement(
                kind, i, at_ms, f"{i:064x}", 0, src, f"{destination}:main", instrument, amount
            )
        )
    return out


class NoParty:
    def residency(self, party: str) -> str | None:
        return None

    def party_name(self, party: str) -> str | None:
        return None


def observe_all(monitor: Monitor, feed: Sequence[CommittedMovement]) -> list[object]:
    return [alert for m in feed for alert in monitor.observe(m, NoParty())]


@settings(max_examples=150, deadline=None)
@given(movement_steps, st.integers(min_value=0, max_value=40))
def test_a_restored_monitor_goes_on_as_one_that_never_stopped(
    steps: list[tuple[str, str, str, str, int, int]], cut: int
) -> None:
    feed = movements(steps)
    cut = min(cut, len(feed))
    for never_stopped, stopped, restored in zip(
        stateful_monitors(), stateful_monitors(), stateful_monitors(), strict=True
    ):
        observe_all(never_stopped, feed[:cut])
        observe_all(stopped, feed[:cut])
        assert restored.restore(stopped.checkpoint())  # type: ignore[attr-defined]
        assert observe_all(restored, feed[cut:]) == observe_all(never_stopped, feed[cut:])
        assert remembered(restored) == remembered(never_stopped)


def remembered(monitor: Monitor) -> object:
    """What ``monitor`` remembers: its checkpoint's bytes, which hold LRU order; for the
    dormancy monitor, whose table order carries no meaning, its entries."""
    if isinstance(monitor, DormantAccount):
        table = monitor._last_ms
        return sorted((account, table.get(account)) for account in table)
    return monitor.checkpoint()  # type: ignore[attr-defined]


def test_the_monitors_fire_on_these_movements_at_all() -> None:
    """The property above means little if nothing fires: one sequence that fires each."""
    steps = [
        ("transfer", "a", "b", "X", 950, 0),  # structuring: two just under the threshold
        ("transfer", "a", "c", "X", 990, 1),
        ("transfer", "b", "a", "X", 950, 1),  # round trip of a -> b
        ("transfer", "c", "d", "X", 5, 3 * DAY_MS),  # dormant: c moved 3 days ago
        ("transfer", "d", "a", "X", 4_000, DAY_MS),  # large; velocity: d's first outflow
    ]
    fired = {a.monitor for m in stateful_monitors() for a in observe_all(m, movements(steps))}  # type: ignore[attr-defined]
    assert fired == {"structuring", "round_trip", "dormant_account", "large_transfer"}


def test_a_checkpoint_under_another_config_is_refused_and_changes_nothing() -> None:
    taken = RoundTrip(RoundTripConfig(window_ms=DAY_MS))
    observe_all(taken, movements([("transfer", "a", "b", "X", 10, 0)]))
    other = RoundTrip(RoundTripConfig(window_ms=2 * DAY_MS))
    before = other.checkpoint()
    assert not other.restore(taken.checkpoint())
    assert not other.restore(b"\xc1 not msgpack")
    assert other.checkpoint() == before
    assert RoundTrip(RoundTripConfig(window_ms=DAY_MS)).restore(taken.checkpoint())


# -- the supervisor ------------------------------------------------------------------------


class CountingStore(SqliteStore):
    """The real SQLite store, counting the blocks read back from it."""

    blocks_read = 0

    def get_outcome(
        self, height: int, namespaces: Collection[str] | None = None
    ) -> OutcomeRecord | None:
        self.blocks_read += 1
        return super().get_outcome(height, namespaces)


def make_monitors(window_ms: int = 7 * DAY_MS) -> Callable[[], Sequence[Monitor]]:
    return lambda: (
        LargeTransfer(LargeTransferConfig(threshold_minor=500_000)),
        RoundTrip(RoundTripConfig(window_ms=window_ms)),
        DormantAccount(),
    )


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    built = new_node(tmp_path / "chain")
    try:
        market(built)
        yield built
    finally:
        built.stop()
        built.store.close()


def test_a_restarted_supervisor_resumes_at_its_checkpoint(node: Node, tmp_path: Path) -> None:
    first = Supervisor(node.store, make_monitors(), checkpoint_interval_s=0)
    send(node, [transfer("inv-0", "inv-1", 600_000)])
    assert first.catch_up() == 1  # large
    saved = node.store.supervisor_checkpoint()
    assert saved is not None and saved[0] == node.store.head_height()
    # Down while these commit; the way back completes a round trip the checkpoint holds.
    send(node, [transfer("inv-1", "inv-0", 590_000)])
    send(node, [transfer("inv-1", "inv-2", 5)])
    assert isinstance(node.store, SqliteStore)
    with CountingStore(node.store.path) as store:
        restarted = Supervisor(store, make_monitors(), checkpoint_interval_s=0)
        assert restarted.catch_up() == 2  # large + round trip
        assert store.blocks_read == 2  # the blocks after the checkpoint, none before
        moved = store.supervisor_checkpoint()
        assert moved is not None and moved[0] == store.head_height() and moved[1] != saved[1]
    kept = snapshot(node.store)
    assert [r.monitor for r, _ in kept] == ["large_transfer", "large_transfer", "round_trip"]
    # A supervisor that never stopped, over a copy without alerts or checkpoint, agrees.
    with SqliteStore(copy_without_alerts(node, tmp_path / "copy.db")) as fresh:
        assert Supervisor(fresh, make_monitors()).catch_up() == 3
        assert snapshot(fresh) == kept


def test_monitors_under_another_config_replay_from_genesis(node: Node, tmp_path: Path) -> None:
    send(node, [transfer("inv-0", "inv-1", 600_000)])
    assert Supervisor(node.store, make_monitors(), checkpoint_interval_s=0).catch_up() == 1
    send(node, [transfer("inv-1", "inv-0", 590_000)])
    assert isinstance(node.store, SqliteStore)
    head = node.store.head_height()
    assert head is not None
    with CountingStore(node.store.path) as store:
        # A shorter round-trip window: the checkpoint's legs were kept under the longer one.
        restarted = Supervisor(store, make_monitors(window_ms=DAY_MS), checkpoint_interval_s=0)
        assert restarted.catch_up() == 2  # large + round trip, found again from genesis
        assert store.blocks_read == head + 1


def test_the_thread_saves_a_checkpoint_when_it_stops(node: Node) -> None:
    supervisor = Supervisor(node.store, make_monitors())  # the default interval: a minute
    detach = supervisor.attach(node)
    supervisor.start()
    try:
        send(node, [transfer("inv-0", "inv-1", 600_000)])
        send(node, [transfer("inv-0", "inv-2", 10)])
    finally:
        detach()
        supervisor.stop()
    saved = node.store.supervisor_checkpoint()
    assert saved is not None and saved[0] == node.store.head_height()


def test_save_checkpoint_saves_at_the_height_fed_now(node: Node) -> None:
    """Under the default interval catch_up saves one at its first write, then none for
    minutes; save_checkpoint saves at the head."""
    supervisor = Supervisor(node.store, make_monitors())
    for amount in (600_000, 10, 20):
        send(node, [transfer("inv-0", "inv-1", amount)])
    supervisor.catch_up()
    early = node.store.supervisor_checkpoint()
    assert early is None or early[0] < (node.store.head_height() or 0)
    supervisor.save_checkpoint()
    saved = node.store.supervisor_checkpoint()
    assert saved is not None and saved[0] == node.store.head_height()


def test_a_checkpoint_above_the_supervised_height_is_not_used(node: Node, tmp_path: Path) -> None:
    send(node, [transfer("inv-0", "inv-1", 600_000)])
    assert Supervisor(node.store, make_monitors(), checkpoint_interval_s=0).catch_up() == 1
    assert isinstance(node.store, SqliteStore)
    copy = tmp_path / "edited.db"
    with sqlite3.connect(node.store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("DELETE FROM alerts")
        target.execute("DELETE FROM alert_history")
        target.execute("UPDATE meta SET value = '0' WHERE key = 'supervised_height'")
    with SqliteStore(copy) as edited:
        assert Supervisor(edited, make_monitors()).catch_up() == 1  # found again
