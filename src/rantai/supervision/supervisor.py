"""The supervisor: feeds committed blocks to the monitors and keeps the alerts.

```
Node.subscribe -> the block, after its durable commit -> catch_up(): every block above the
    last one fed, as the node announced it or else from the store, in height order
    -> movements_of(receipts) -> each monitor, in order -> alerts
    -> Store.record_alerts (alerts, their first history entry, the supervised height)
review, escalate, dismiss, assign -> workflow.next_state -> Store.change_alert
```
It reads committed blocks only and writes only its own tables (``alerts``,
``alert_history``, and ``supervised_height`` in ``meta``); it never changes ledger state.

Catch-up and determinism: monitors keep their windows in memory. On start the supervisor
restores them from the store's checkpoint (``supervisor_checkpoint``: what every monitor
remembered after some supervised height, saved every ``checkpoint_interval_s`` and when the
thread stops) and feeds the blocks after it; without a usable checkpoint (none yet, a
monitor that cannot checkpoint, or one taken under another config) it feeds every block
from genesis. Alerts of heights already supervised (recorded before a restart) are not
written again; from the next height on they are. Monitors are pure functions of the
movements and of the ledger state at each movement's height (read from the store's state
log), and a checkpoint is exactly what they remembered, so the rebuilt windows, and the
alerts that follow, are the same as without the restart
(docs/decisions/supervision-checkpoints.md). Alert ids are dense, in order of raising; the
first history entry of an alert is stamped with its block's time, so a replay writes
identical rows.

Threads: the node's listener only sets an event; one thread of the supervisor's own does the
work, so a block's commit never waits for the monitors. ``catch_up`` may also be called
directly (tests, tools); a lock keeps one caller at a time.

Writes: ``catch_up`` writes what it fed before it returns. The thread instead writes at most
every ``write_interval_s`` (and before it stops): the alerts and the supervised height of
every block fed since, in one database transaction. Writing after every block would cost a
transaction and an fsync per block, under the store's write lock, which the node's block
commits wait for; under load that is one extra fsync per block on the ledger's critical path.
Nothing is lost by waiting: blocks are fed in order and alerts are a function of the blocks,
so after a crash the blocks above the supervised height are fed again and raise the same
alerts, with the same ids (module docstring above). Alerts reach the store (and the API) at
most ``write_interval_s`` after their block was fed.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

import msgspec

from rantai.core.block import Header, Receipt
from rantai.core.claims import Claim, find_claim
from rantai.core.encoding import decode, known_decoder
from rantai.core.errors import invariant
from rantai.core.records import Party, party_key
from rantai.core.state import StateView, namespace_of, namespace_type
from rantai.node.node import CommittedBlock, Node, wall_clock_ms
from rantai.store.base import AlertChange, AlertRecord, Store, StoreError
from rantai.supervision.events import movements_of
from rantai.supervision.monitors import Alert, Checkpointed, Monitor
from rantai.supervision.workflow import OPEN, REASON_CHARS_MAX, WorkflowError, next_state

__all__ = ["AlertView", "BlockMonitors", "StoreContext", "Supervisor"]

BLOCKS_PER_COMMIT: Final = 1_000  # supervised blocks written per database transaction
POLL_S: Final = 1.0  # the thread also looks for new blocks this often without a wake-up
WRITE_INTERVAL_S: Final = 0.5  # the thread writes alerts and the supervised height this often
# Blocks kept from the node's announcements until fed: a full block's receipts and changes
# are ~3.5 MB. A thread further behind reads the blocks past these from the store.
ANNOUNCED_MAX: Final = 16
STATE_CACHE_MAX: Final = 200_000  # decoded state entries the monitors keep between blocks
# The monitors' memory is saved this often: a restart replays at most this long a stretch.
# With full LRUs a checkpoint is ~80 MB and its SQLite write holds the database's write lock
# (block commits wait) for about a second: measured at a million accounts, so not a minute.
CHECKPOINT_INTERVAL_S: Final = 300.0

log = logging.getLogger(__name__)
_decode_receipt: Final = known_decoder(Receipt)
_UNREAD: Final = object()  # a key the state cache has not read yet
# What a monitor reads of the ledger state (``StoreContext``): parties' names, claims and the
# issuers trusted for each topic. Blocks are read from the store with these namespaces'
# changes only: a block's other changes (balances, holdings, nonces: all of a transfer's)
# could not touch the state cache.
READ_NAMESPACES: Final = frozenset({"claim", "party", "trust"})


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as read back: the stored record, its detail decoded, and its history."""

    record: AlertRecord
    parties: tuple[str, ...]
    txs: tuple[str, ...]
    facts: Mapping[str, str | int]
    history: tuple[AlertChange, ...]

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {
            "id": r.alert_id,
            "monitor": r.monitor,
            "height": r.height,
            "at_ms": r.at_ms,
            "score": r.score,
            "status": r.status,
            "agency": r.agency or None,
            "parties": list(self.parties),
            "txs": list(self.txs),
            "facts": dict(self.facts),
            "history": [
                {
                    "seq": c.seq,
                    "at_ms": c.at_ms,
                    "actor": c.actor,
                    "status": c.status,
                    "agency": c.agency or None,
                    "reason": c.reason,
                }
                for c in self.history
            ],
        }


class _Detail(msgspec.Struct, frozen=True):
    parties: tuple[str, ...]
    txs: tuple[str, ...]
    facts: dict[str, str | int]


@dataclass(frozen=True, slots=True)
class _Block:
    """What the monitors need of one committed block."""

    header: Header
    receipts: Sequence[Receipt]
    changes: Mapping[str, bytes | None]  # those of READ_NAMESPACES, at least


class _StateAt(Mapping[str, Any]):
    """Decoded ledger state after block ``height``, read key by key from the state log.

    ``cache`` may be shared across blocks by a reader that moves forward block by block and
    applies each block's changes to it (``Supervisor``): then a party's name and claims are
    read from the store once, not once per block.
    """

    def __init__(self, store: Store, height: int, cache: dict[str, Any] | None = None) -> None:
        self._store = store
        self._height = height
        self._cache: dict[str, Any] = {} if cache is None else cache

    def __getitem__(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        # Mapping.get would go through __getitem__ and a KeyError for every absent key:
        # most of what the monitors read (an untrusted topic, a claim not issued) is absent.
        value = self._cache.get(key, _UNREAD)
        if value is _UNREAD:
            invariant(namespace_of(key) in READ_NAMESPACES, f"monitors read {key!r}")
            raw = self._store.get_state_at(key, self._height)
            value = self._cache[key] = None if raw is None else decode(raw, namespace_type(key))
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:  # only lookups are needed
        return iter(())

    def __len__(self) -> int:
        return 0


class StoreContext:
    """``MonitorContext`` over the store: party facts as of one committed height."""

    def __init__(
        self, store: Store, height: int, at_ms: int, cache: dict[str, Any] | None = None
    ) -> None:
        self._state = _StateAt(store, height, cache)
        self._view = StateView(self._state)
        self._at_ms = at_ms

    def residency(self, party: str) -> str | None:
        return self.claim_value(party, "residency")

    def claim_value(self, party: str, topic: str) -> str | None:
        """The value of ``party``'s counting claim on ``topic`` (``find_claim``), or ``None``."""
        found = self.counting_claim(party, topic)
        return None if found is None else found.value

    def counting_claim(self, party: str, topic: str) -> Claim | None:
        """``party``'s claim on ``topic`` that counts (``find_claim``), or ``None``."""
        found = find_claim(self._view, party, topic, self._at_ms)
        return found if isinstance(found, Claim) else None

    def party_name(self, party: str) -> str | None:
        record: Party | None = self._state.get(party_key(party))
        return None if record is None else record.name


class BlockMonitors:
    """The monitors, fed committed blocks in height order from genesis, and the ledger state
    they read: decoded once, kept between blocks, and brought forward by each block's changes.
    """

    def __init__(self, store: Store, monitors: Sequence[Monitor]) -> None:
        self._store = store
        self._monitors = tuple(monitors)
        # State after the last block fed, as far as the monitors asked for it (``_StateAt``).
        self._state_cache: dict[str, Any] = {}

    def feed(
        self, header: Header, receipts: Sequence[Receipt], changes: Mapping[str, bytes | None]
    ) -> list[Alert]:
        """The alerts of the block after the last one fed, whose ``changes`` these are."""
        self._advance_cache(changes)
        ctx = StoreContext(self._store, header.height, header.timestamp_ms, self._state_cache)
        return [
            alert
            for movement in movements_of(header.height, header.timestamp_ms, receipts)
            for monitor in self._monitors
            for alert in monitor.observe(movement, ctx)
        ]

    def checkpoint(self) -> bytes | None:
        """What every monitor remembers, or None when one of them cannot checkpoint."""
        monitors = self._monitors
        checkpointed = [m for m in monitors if isinstance(m, Checkpointed)]
        if len(checkpointed) != len(monitors):
            return None
        return msgspec.msgpack.encode(
            [(m.name, c.checkpoint()) for m, c in zip(monitors, checkpointed, strict=True)]
        )

    def restore(self, checkpoint: bytes) -> bool:
        """Take back every monitor's memory from ``checkpoint``; False when it does not fit
        these monitors (then some may have been restored: start again with fresh ones)."""
        try:
            # Raw: the parts are copied out one monitor at a time, not all at once.
            parts = msgspec.msgpack.decode(checkpoint, type=list[tuple[str, msgspec.Raw]])
        except (msgspec.DecodeError, msgspec.ValidationError):
            return False
        monitors = self._monitors
        if [name for name, _ in parts] != [m.name for m in monitors]:
            return False
        for monitor, (_, part) in zip(monitors, parts, strict=True):
            try:
                state = msgspec.msgpack.decode(part, type=bytes)
            except (msgspec.DecodeError, msgspec.ValidationError):
                return False
            if not (isinstance(monitor, Checkpointed) and monitor.restore(state)):
                return False
        return True

    def _advance_cache(self, changes: Mapping[str, bytes | None]) -> None:
        """Bring the state cache to the block whose ``changes`` these are."""
        cache = self._state_cache
        if len(cache) > STATE_CACHE_MAX:
            cache.clear()
        for key, raw in changes.items():
            if key in cache:
                cache[key] = None if raw is None else decode(raw, namespace_type(key))


class Supervisor:
    """AML monitors over one store's committed blocks, and the alerts they raise.

    Parameters:
        store: the node's store (blocks are read from it, alerts written to it).
        monitors: makes a fresh set of monitors (called again whenever the supervisor has to
            rebuild them from genesis).
        clock_ms: the time stamped on status changes.
    """

    def __init__(
        self,
        store: Store,
        monitors: Callable[[], Sequence[Monitor]],
        *,
        clock_ms: Callable[[], int] = wall_clock_ms,
        blocks_per_commit: int = BLOCKS_PER_COMMIT,
        write_interval_s: float = WRITE_INTERVAL_S,
        checkpoint_interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        self.store = store
        self._make_monitors = monitors
        self._clock_ms = clock_ms
        self._blocks_per_commit = blocks_per_commit
        self._write_interval_s = write_interval_s
        self._checkpoint_interval_s = checkpoint_interval_s
        self._checkpointed_at = -math.inf  # time.monotonic() of the last checkpoint saved
        self._checkpoint_height = -1  # the height of the checkpoint in the store
        self._lock = threading.Lock()
        self._monitors = BlockMonitors(store, ())
        self._fed: int | None = None  # the last height fed to the monitors; None: not started
        # Blocks the node announced after their durable commit, not yet fed: the same data
        # the store holds, without reading it back (``attach``). A gap is read from the store.
        self._announced: dict[int, _Block] = {}
        self._announced_lock = threading.Lock()
        self._stored = -1  # the last height whose alerts are in the store
        # Fed above ``_stored`` and not written yet: their alerts, and how many blocks.
        self._unwritten_alerts: list[AlertRecord] = []
        self._unwritten_blocks = 0
        self._written_at = -math.inf  # time.monotonic() of the thread's last write
        self._next_id = 1
        self._listeners: list[Callable[[Sequence[AlertRecord]], None]] = []
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- feeding the monitors ------------------------------------------------------------------

    def catch_up(self) -> int:
        """Feed every committed block not yet fed and write their alerts; return how many
        alerts were recorded (with those fed earlier by the thread and not yet written).

        Raises:
            StoreError: the store failed or refused the alerts (another supervisor wrote
                them first); the monitors are rebuilt from genesis on the next call.
        """
        return self._catch_up_locked(write=True)

    def save_checkpoint(self) -> None:
        """Save what the monitors remember at the height fed, now (after ``catch_up``), so
        that the next supervisor of this store resumes there."""
        with self._lock:
            self._checkpoint_if_due(now=True)

    def _catch_up_locked(self, *, write: bool) -> int:
        with self._lock:
            try:
                return self._catch_up(write)
            except BaseException:
                self._fed = None
                raise

    def _catch_up(self, write: bool) -> int:
        if self._fed is None:
            self._fed = self._start_monitors()
        recorded = 0
        for block in self._blocks_from(self._fed + 1):
            found = self._monitors.feed(block.header, block.receipts, block.changes)
            self._fed = block.header.height
            if block.header.height <= self._stored:
                self._checkpoint_if_due()  # replaying what was recorded before a restart
                continue
            self._unwritten_alerts.extend(self._record_of(alert) for alert in found)
            self._unwritten_blocks += 1
            if self._unwritten_blocks >= self._blocks_per_commit:
                recorded += self._write_unwritten(block.header.height)
                self._checkpoint_if_due()
        if write and self._unwritten_blocks:
            recorded += self._write_unwritten(self._fed)
        if write:
            self._checkpoint_if_due(now=self._stopping.is_set())
        return recorded

    def _start_monitors(self) -> int:
        """Fresh monitors, resumed from the store's checkpoint when it fits them; the height
        they have seen (-1: none)."""
        supervised = self.store.supervised_height()
        self._stored = -1 if supervised is None else supervised
        self._unwritten_alerts, self._unwritten_blocks = [], 0
        self._next_id = self.store.last_alert_id() + 1
        self._monitors = BlockMonitors(self.store, self._make_monitors())
        self._checkpoint_height = -1
        # The next checkpoint is an interval away: right after one is restored, or while a
        # replay from genesis has barely begun, another would cost a write and save nothing.
        self._checkpointed_at = time.monotonic()
        saved = self.store.supervisor_checkpoint()
        if saved is None:
            return -1
        height, state = saved
        # Alerts up to a checkpoint are stored before it is: one above the supervised height
        # (a database restored or edited by hand) would skip recording the blocks between.
        if height > self._stored:
            why = "it is above the supervised height"
        elif self._monitors.restore(state):
            self._checkpoint_height = height
            log.info("supervision resumed from its checkpoint", extra={"height": height})
            return height
        else:
            why = "it does not fit these monitors or their configs"
        self._monitors = BlockMonitors(self.store, self._make_monitors())
        log.warning(
            "supervision checkpoint not used: %s; replaying from genesis",
            why,
            extra={"height": height},
        )
        return -1

    def _checkpoint_if_due(self, *, now: bool = False) -> None:
        """Save the monitors' memory at the height fed, if that height's alerts are stored
        and the last checkpoint is older than the interval (or ``now``)."""
        fed = self._fed
        if fed is None or fed > self._stored or fed <= self._checkpoint_height:
            return
        if not now and time.monotonic() - self._checkpointed_at < self._checkpoint_interval_s:
            return
        state = self._monitors.checkpoint()
        if state is None:
            return
        self.store.save_supervisor_checkpoint(fed, state)
        self._checkpoint_height = fed
        self._checkpointed_at = time.monotonic()

    def _write_unwritten(self, height: int) -> int:
        recorded = self._write(self._unwritten_alerts, height)
        self._unwritten_alerts, self._unwritten_blocks = [], 0
        return recorded

    def _blocks_from(self, start: int) -> Iterator[_Block]:
        """Every committed block from ``start`` to the store's head, in order: as announced
        by the node where it was, else read from the store."""
        head = self.store.head_height()
        if head is None:
            return
        for height in range(start, head + 1):
            with self._announced_lock:
                block = self._announced.pop(height, None)
            if block is None:
                stored = self.store.get_outcome(height, READ_NAMESPACES)
                if stored is None:
                    raise StoreError(f"block {height} is missing below head {head}")
                # The node's own canonical bytes: the re-encoding check would only pass
                # (`rantai verify` is what checks stored bytes).
                block = _Block(
                    decode(stored.header, Header),
                    tuple(map(_decode_receipt, stored.receipts)),
                    stored.state_changes,
                )
            yield block

    def _announce(self, block: _Block) -> None:
        with self._announced_lock:
            announced = self._announced
            if len(announced) >= ANNOUNCED_MAX:
                # Drop what the thread fed already (it read those from the store); if it is
                # still far behind, keep the oldest, which it feeds next, and let it read
                # this one from the store.
                fed = self._fed if self._fed is not None else -1
                for height in [h for h in announced if h <= fed]:
                    del announced[height]
            if len(announced) < ANNOUNCED_MAX:
                announced[block.header.height] = block
        self._wake.set()

    def _record_of(self, alert: Alert) -> AlertRecord:
        detail = _Detail(alert.parties, alert.txs, dict(alert.facts))
        record = AlertRecord(
            self._next_id,
            alert.monitor,
            alert.height,
            alert.at_ms,
            alert.score,
            OPEN,
            "",
            msgspec.json.encode(detail, order="sorted"),
        )
        self._next_id += 1
        return record

    def _write(self, alerts: list[AlertRecord], height: int) -> int:
        changes = [
            AlertChange(a.alert_id, 1, a.at_ms, f"monitor/{a.monitor}", OPEN, "", "raised")
            for a in alerts
        ]
        self.store.record_alerts(alerts, changes, height)
        self._stored = height
        if alerts:
            monitors = sorted({a.monitor for a in alerts})
            log.info(
                "alerts recorded",
                extra={"height": height, "alert_count": len(alerts), "monitors": monitors,
                       "alert_ids": [a.alert_id for a in alerts][:100]},
            )  # fmt: skip
        for listener in self._listeners:
            listener(alerts)
        return len(alerts)

    def on_alerts(self, listener: Callable[[Sequence[AlertRecord]], None]) -> None:
        """Call ``listener`` with the alerts of each write (on the supervisor's thread)."""
        self._listeners.append(listener)

    # -- running beside a node -----------------------------------------------------------------

    def attach(self, node: Node) -> Callable[[], None]:
        """Take each block ``node`` commits, as it announces it after the durable commit, and
        wake up; return a function that detaches."""

        def announced(committed: CommittedBlock) -> None:
            outcome = committed.outcome
            self._announce(_Block(outcome.header, outcome.receipts, outcome.changes))

        return node.subscribe(announced)

    def notify(self) -> None:
        """Look for committed blocks now rather than at the next poll (for a supervisor not
        attached to the node: it reads them from the store)."""
        self._wake.set()

    def start(self, poll_s: float = POLL_S) -> None:
        """Catch up and follow new blocks on a thread of its own, until ``stop``."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, args=(poll_s,), name="rantai-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (after the block it is feeding, if any)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        self._wake.set()
        thread.join()

    def _run(self, poll_s: float) -> None:
        while True:
            stopping = self._stopping.is_set()
            self._wake.clear()
            write = stopping or time.monotonic() - self._written_at >= self._write_interval_s
            try:
                self._catch_up_locked(write=write)
            except StoreError:
                log.exception("supervision: catch-up failed; retrying")
            else:
                if write:
                    self._written_at = time.monotonic()
            if stopping:
                return
            # Wake for the next block, or in time to write what this round left unwritten.
            self._wake.wait(poll_s if write else min(poll_s, self._write_interval_s))

    # -- reading and reviewing alerts ----------------------------------------------------------

    def alert(self, alert_id: int) -> AlertView | None:
        """The alert ``alert_id`` with its history, or ``None``."""
        record = self.store.get_alert(alert_id)
        if record is None:
            return None
        return _view(record, self.store.alert_history(alert_id))

    def alerts(self, status: str | None, after_id: int, limit: int) -> list[AlertView]:
        """Up to ``limit`` alerts after ``after_id`` in id order (with ``status``, if given)."""
        return [
            _view(record, self.store.alert_history(record.alert_id))
            for record in self.store.list_alerts(status, after_id, limit)
        ]

    def change(
        self,
        alert_id: int,
        action: str,
        actor: str,
        *,
        reason: str = "",
        to_agency: str = "",
        agencies: Collection[str] = (),
    ) -> AlertView | None:
        """Apply a workflow action (``rantai.supervision.workflow``) as ``actor``; the alert
        with its history after it, or ``None`` for an unknown alert.

        Raises:
            WorkflowError: the action is refused (``bad_field`` for a reason that is too long
                or holds NUL, then the workflow's codes).
            StoreError: the store failed, or another change was written first.
        """
        if len(reason) > REASON_CHARS_MAX or "\x00" in reason:
            raise WorkflowError("bad_field", f"reason: at most {REASON_CHARS_MAX} characters")
        with self._lock:
            record = self.store.get_alert(alert_id)
            if record is None:
                return None
            history = self.store.alert_history(alert_id)
            status, agency = next_state(
                record.status,
                record.agency,
                action,
                reason=reason,
                to_agency=to_agency,
                agencies=agencies,
            )
            changed = replace(record, status=status, agency=agency)
            entry = AlertChange(
                alert_id, len(history) + 1, self._clock_ms(), actor, status, agency, reason
            )
            self.store.change_alert(changed, entry)
        return _view(changed, (*history, entry))


def _view(record: AlertRecord, history: Sequence[AlertChange]) -> AlertView:
    detail = msgspec.json.decode(record.detail, type=_Detail)
    return AlertView(record, detail.parties, detail.txs, detail.facts, tuple(history))
