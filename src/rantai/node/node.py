"""The node: admits envelopes, orders them, cuts and executes blocks, commits and signs them.

```
submit(raws) -> Verifier (stateless, process pool) -> admission (stale nonce) -> pending log
executor thread: cut at block_txs_max or block_wait_ms -> Ledger.stage_block -> sign header
              -> the write queue
writer thread:   every queued block -> Store.commit_blocks (one transaction; in a writer
              process with ``write_process``) -> per block, in height order:
              Ledger.apply_staged -> indexes -> receipts to waiters -> subscribers
```
The local orderer is the in-process pending log: its order is the order of admission. Block
N+1 executes while block N is being written (with ``write_process`` the database work runs
in another process, beside the executor; see rantai.node.writer), and the writer commits
every block that is queued when it starts, so that under load one transaction and one fsync
serve several blocks (docs/decisions/pipelined-commit.md). A block counts as committed only once
that transaction is durable: receipts, ``ledger.values``, ``ledger.head`` and subscribers
see nothing before, so no reader ever sees what a crash could take back. Until then a crash
loses it and the client resubmits (its nonce makes that safe). The clock is injected so
tests can fix time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import msgspec

from rantai.core import codes
from rantai.core.block import BlockSignature, Header, Receipt, sign_header
from rantai.core.encoding import decode, encode
from rantai.core.errors import InvariantError
from rantai.core.ledger import BlockOutcome, Ledger
from rantai.core.records import nonce_key
from rantai.core.tx import SignedTx, decode_envelope
from rantai.core.values import StateValues
from rantai.crypto.keys import SigningKey
from rantai.node.held import HeldTxs
from rantai.node.indexes import Indexes
from rantai.node.verifier import Refused, Verifier
from rantai.node.writer import WriterProcess
from rantai.store.base import BlockRecord, Store, TxRecord

log = logging.getLogger(__name__)

__all__ = [
    "BlockListener",
    "CommittedBlock",
    "Node",
    "NodeConfig",
    "SubmitResult",
    "wall_clock_ms",
]


def wall_clock_ms() -> int:
    """Milliseconds since the Unix epoch, from the system clock."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class NodeConfig:
    """Limits and timings of one node."""

    block_txs_max: int = 2_000
    block_wait_ms: int = 10
    pending_txs_max: int = 200_000
    verify_workers: int = 0
    # Receipts kept in memory for lookups and waiters (~400 B each); older ones are read
    # from the store. 100,000 is most of a minute at full load.
    recent_receipts_max: int = 100_000
    # Executed blocks waiting for the writer; the executor waits when this many are queued.
    staged_blocks_max: int = 4
    # An envelope ahead of its sender's next nonce waits this long for the ones before it
    # (rantai.node.held); at most held_txs_max wait.
    nonce_gap_wait_ms: int = 2_000
    held_txs_max: int = 50_000
    # Write blocks from a child process (rantai.node.writer) while the node runs (``start``);
    # needs the node's ``store_target``. Off: the writer is a thread of this process.
    write_process: bool = False


class SubmitResult(msgspec.Struct, frozen=True):
    """The fate of one submitted envelope at admission: ``code`` is ``ok`` when ordered.
    (A struct: one is built per envelope, ten times cheaper than a frozen dataclass.)"""

    tx_id: bytes | None
    code: str
    message: str = ""


@dataclass(frozen=True, slots=True)
class CommittedBlock:
    """A block as committed, as subscribers are told of it."""

    outcome: BlockOutcome
    certificate: tuple[BlockSignature, ...]
    commit_s: float  # from the start of execution to the durable commit


BlockListener = Callable[[CommittedBlock], None]


class Node:
    """One ledger node over one store. Thread-safe: submit from any thread."""

    def __init__(
        self,
        store: Store,
        executor_key: SigningKey,
        config: NodeConfig | None = None,
        clock_ms: Callable[[], int] = wall_clock_ms,
        store_target: str | None = None,
    ) -> None:
        self.store = store
        self.store_target = store_target  # where a writer process opens the same store
        self.config = config or NodeConfig()
        self._key = executor_key
        self._clock_ms = clock_ms
        self.block_lock = threading.Lock()  # one block at a time; readers of head state too
        self._pending: deque[SignedTx] = deque()
        self._held = HeldTxs(self.config.nonce_gap_wait_ms / 1000, self.config.held_txs_max)
        self._pending_cv = threading.Condition()
        # The recent receipts by tx id, as their canonical bytes: half a million decoded
        # receipts (with their events) would be millions of objects for the collector to walk.
        self._receipts: OrderedDict[bytes, tuple[int, bytes]] = OrderedDict()
        self._remembered = 0  # receipts ever added to _receipts
        self._committed_cv = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        # Blocks executed and signed, waiting to be written, oldest first.
        self._to_write: deque[_StagedBlock] = deque()
        self._write_cv = threading.Condition()
        self._writing = threading.Lock()  # one group at a time, in height order
        self._writer_process: WriterProcess | None = None
        self._writer: threading.Thread | None = None
        self._write_failure: BaseException | None = None
        self._listeners: tuple[BlockListener, ...] = ()
        self._listeners_lock = threading.Lock()
        self.ledger = self._load()
        self.indexes = Indexes.build(self.ledger.values)
        chain = self.ledger.chain
        self._verifier: Verifier | None = (
            Verifier(chain.chain_id, self.config.verify_workers) if chain else None
        )

    def _load(self) -> Ledger:
        # API threads read the values while the writer thread applies blocks.
        values = StateValues(threading.Lock())
        height = self.store.head_height()
        if height is None:
            return Ledger(values)
        stored = self.store.get_header(height)
        if stored is None:
            raise InvariantError(f"store head {height} has no header")
        return Ledger.load(self.store.iter_state(), decode(stored[1], Header), values)

    # --- genesis ------------------------------------------------------------------------
    def create_genesis(self, genesis_envelope: bytes) -> BlockOutcome:
        """Execute and commit block 0 holding the genesis transaction."""
        if self.ledger.tip is not None:
            raise InvariantError("the chain has a genesis already")
        envelope, _ = decode_envelope(genesis_envelope)
        verifier = Verifier(envelope.chain_id)
        checked = verifier.check([genesis_envelope])[0]
        if isinstance(checked, Refused):
            raise InvariantError(f"genesis refused: {checked.code}: {checked.message}")
        outcome = self._execute([checked])
        self.await_committed(outcome.header.height)
        if outcome.receipts[0].code != codes.OK:
            raise InvariantError(f"genesis rejected: {outcome.receipts[0].code}")
        self._verifier = Verifier(envelope.chain_id, self.config.verify_workers)
        return outcome

    # --- admission --------------------------------------------------------------------
    def submit(self, raws: Sequence[bytes]) -> list[SubmitResult]:
        """Check envelopes statelessly and queue those that pass, in the given order."""
        if self._verifier is None:
            return [SubmitResult(None, codes.GENESIS_ONLY, "no genesis yet") for _ in raws]
        results: list[SubmitResult] = []
        admitted: list[SignedTx] = []
        values = self.ledger.values
        for item in self._verifier.check(raws):
            if isinstance(item, Refused):
                results.append(SubmitResult(None, item.code, item.message))
                continue
            committed_nonce: int = values.get(nonce_key(item.sender)) or 0
            if item.nonce < committed_nonce:
                # Already used: ordering it again would only fill blocks with replays.
                results.append(SubmitResult(item.tx_id, codes.BAD_NONCE, "nonce already used"))
                continue
            admitted.append(item)
            results.append(SubmitResult(item.tx_id, codes.OK))
        with self._pending_cv:
            room = self.config.pending_txs_max - len(self._pending) - len(self._held)
            if len(admitted) > room:
                refused = {tx.tx_id for tx in admitted[room:]}
                admitted = admitted[:room]
                results = [
                    SubmitResult(r.tx_id, "pending_full", "the node is busy; retry")
                    if r.tx_id in refused and r.code == codes.OK
                    else r
                    for r in results
                ]
            self._pending.extend(admitted)
            self._pending_cv.notify()
        return results

    # --- blocks -----------------------------------------------------------------------
    def produce_block(self) -> BlockOutcome | None:
        """Cut a block from what is pending (up to block_txs_max); return once it is durable."""
        outcome = self._produce()
        if outcome is not None:
            self.await_committed(outcome.header.height)
        return outcome

    def _produce(self) -> BlockOutcome | None:
        self._raise_if_write_failed()
        with self.block_lock, self._pending_cv:
            batch = self._cut()
        if not batch:
            return None
        return self._execute(batch)

    def _cut(self) -> list[SignedTx]:
        """The next block's transactions, in admission order, except that one ahead of its
        sender's next nonce is held and placed right after its predecessor (HeldTxs)."""
        limit = self.config.block_txs_max
        held = self._held
        now_s = time.monotonic()
        # Their predecessors did not come in time: ordered now, they get bad_nonce.
        batch = held.expired(now_s, limit)
        next_nonce: dict[str, int] = {}

        def expected(sender: str) -> int:
            nonce = next_nonce.get(sender)
            if nonce is None:
                nonce = next_nonce[sender] = self.ledger.tip_get(nonce_key(sender)) or 0
            return nonce

        def release(sender: str) -> None:
            """Add the held successors of ``sender``'s next nonce, while there is room."""
            nonce = expected(sender)
            while len(batch) < limit:
                successor = held.take(sender, nonce)
                if successor is None:
                    return
                batch.append(successor)
                nonce = next_nonce[sender] = nonce + 1
            held.due_senders.add(sender)  # full: the rest go first into the next block

        due, held.due_senders = held.due_senders, set()
        for sender in sorted(due):
            release(sender)
        pending = self._pending
        while len(batch) < limit and pending:
            tx = pending.popleft()
            nonce = expected(tx.sender)
            if tx.nonce > nonce and held.hold(tx, now_s):
                continue
            batch.append(tx)
            if tx.nonce == nonce:
                next_nonce[tx.sender] = nonce + 1
                release(tx.sender)
        return batch

    def _held_due(self) -> bool:
        deadline = self._held.next_deadline()
        return bool(self._held.due_senders) or (
            deadline is not None and deadline <= time.monotonic()
        )

    def _execute(self, batch: Sequence[SignedTx]) -> BlockOutcome:
        """Execute and sign ``batch`` as the next block and queue it for the writer."""
        with self._write_cv:
            while len(self._to_write) >= self.config.staged_blocks_max:
                self._raise_if_write_failed()
                self._write_cv.wait(0.1)
            self._raise_if_write_failed()
        with self.block_lock:
            started_s = time.perf_counter()
            tip = self.ledger.tip
            timestamp_ms = self._clock_ms()
            if tip is not None:
                timestamp_ms = max(timestamp_ms, tip.timestamp_ms)
            outcome = self.ledger.stage_block(batch, timestamp_ms)
        certificate = (sign_header(self._key, outcome.header_hash),)
        record = _block_record(outcome, certificate, batch)
        with self._write_cv:
            self._to_write.append(_StagedBlock(outcome, certificate, record, started_s))
            self._write_cv.notify_all()
        if self._writer is None:  # no writer thread: write here, as the caller expects
            self._write_queued()
        return outcome

    def _raise_if_write_failed(self) -> None:
        if self._write_failure is not None:
            raise InvariantError("the node stopped: a block could not be written") from (
                self._write_failure
            )

    def await_committed(self, height: int) -> None:
        """Wait until block ``height`` is durable and applied (``ledger.head`` has reached it).

        Raises InvariantError when the writer failed, as nothing can commit after that.
        """
        with self._write_cv:
            while self._applied_height() < height:
                self._raise_if_write_failed()
                self._write_cv.wait(0.1)

    def _applied_height(self) -> int:
        head = self.ledger.head
        return -1 if head is None else head.height

    def _write_queued(self) -> None:
        """Commit every queued block in one store transaction, then apply and announce each."""
        with self._writing:
            self._write_group()

    def _write_group(self) -> None:
        with self._write_cv:
            group = list(self._to_write)
        if not group:
            return
        try:
            writer = self._writer_process or self.store
            writer.commit_blocks([staged.record for staged in group])
            for staged in group:
                with self.block_lock:
                    self.ledger.apply_staged()
                    self.indexes.apply(staged.outcome.changes, self.ledger.values)
                    self._remember(staged.outcome)
                    # Under the block lock: a subscriber reading the ledger sees this block.
                    committed = CommittedBlock(
                        staged.outcome, staged.certificate, time.perf_counter() - staged.started_s
                    )
                    _log_block(committed)
                    for listener in self._listeners:
                        listener(committed)
        except BaseException as exc:
            # Memory is now ahead of the store, or the store of memory: nothing more may be
            # executed or written. A restart reloads the last durable block.
            log.critical("a block could not be written or applied; the node stops", exc_info=exc)
            with self._write_cv:
                self._write_failure = exc
                self._write_cv.notify_all()
            raise
        with self._write_cv:
            for _ in group:
                self._to_write.popleft()
            self._write_cv.notify_all()

    def _write_loop(self) -> None:
        while True:
            with self._write_cv:
                while not self._to_write and not self._stopping:
                    self._write_cv.wait(0.1)
                if not self._to_write:
                    return
            try:
                self._write_queued()
            except BaseException:
                return

    def subscribe(self, listener: BlockListener) -> Callable[[], None]:
        """Call ``listener`` after each block commits; return a function that unsubscribes.

        The listener runs on the writing thread (the writer's, or the caller of
        ``produce_block``), under the block lock, in height order, once the block is durable
        and applied. It must return quickly and must not raise: it holds up the next blocks,
        and an exception stops the node. Hand work to another thread or event loop.
        """
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                self._listeners = tuple(x for x in self._listeners if x is not listener)

        return unsubscribe

    def _remember(self, outcome: BlockOutcome) -> None:
        height = outcome.header.height
        with self._committed_cv:
            for receipt, raw in zip(outcome.receipts, outcome.receipt_bytes, strict=True):
                self._receipts[receipt.tx_id] = (height, raw)
            self._remembered += len(outcome.receipts)
            while len(self._receipts) > self.config.recent_receipts_max:
                self._receipts.popitem(last=False)
            self._committed_cv.notify_all()

    def receipt(self, tx_id: bytes) -> tuple[int, Receipt] | None:
        """``(height, receipt)`` of a committed transaction, or ``None``."""
        found: dict[bytes, tuple[int, Receipt]] = {}
        self._look_up([tx_id], found, in_store=True)
        return found.get(tx_id)

    def wait(self, tx_ids: Sequence[bytes], timeout_s: float) -> dict[bytes, tuple[int, Receipt]]:
        """Wait until every id has a receipt or ``timeout_s`` passes; return those found.

        What commits meanwhile shows in the recent receipts, so the store is asked only at
        the start, at the end, and whenever half the recent receipts have been replaced since
        it was last asked (a receipt could otherwise leave them unseen): a store lookup of an
        id not committed yet seeks every block its id index has not reached."""
        deadline = time.monotonic() + timeout_s
        found: dict[bytes, tuple[int, Receipt]] = {}
        asked_at = self._remembered
        missing = self._look_up(tx_ids, found, in_store=True)
        while missing:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._look_up(missing, found, in_store=True)
                return found
            with self._committed_cv:
                self._committed_cv.wait(min(remaining, 0.05))
                remembered = self._remembered
            in_store = remembered - asked_at >= self.config.recent_receipts_max // 2
            if in_store:
                asked_at = remembered
            missing = self._look_up(missing, found, in_store=in_store)
        return found

    def _look_up(
        self, tx_ids: Sequence[bytes], found: dict[bytes, tuple[int, Receipt]], *, in_store: bool
    ) -> list[bytes]:
        """Add the receipts of ``tx_ids`` to ``found``; return the ids still missing."""
        with self._committed_cv:  # once, not per id: the writer thread takes it every block
            recents = [(tx_id, self._receipts.get(tx_id)) for tx_id in tx_ids]
        missing = []
        for tx_id, recent in recents:
            if recent is not None:
                found[tx_id] = recent[0], decode(recent[1], Receipt)
                continue
            # Not among the recent ones when looked: committed before them, or not yet (a
            # commit since then is in the store too: it is durable before it is remembered).
            record = self.store.get_tx(tx_id) if in_store else None
            if record is None:
                missing.append(tx_id)
            else:
                found[tx_id] = record.height, decode(record.receipt, Receipt)
        return missing

    # --- the executor thread ---------------------------------------------------------
    def start(self) -> None:
        """Run the executor and the writer in background threads."""
        if self._thread is None:
            self._stopping = False
            if self.config.write_process:
                if self.store_target is None:
                    raise InvariantError("write_process needs the node's store_target")
                self._writer_process = WriterProcess(self.store_target)
            self._writer = threading.Thread(
                target=self._write_loop, name="rantai-writer", daemon=True
            )
            self._writer.start()
            self._thread = threading.Thread(target=self._run, name="rantai-executor", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        wait_s = self.config.block_wait_ms / 1000
        while not self._stopping:
            with self._pending_cv:
                if not self._pending and not self._held_due():
                    self._pending_cv.wait(0.1)
                    continue
                deadline = time.monotonic() + wait_s
                while len(self._pending) < self.config.block_txs_max and not self._stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self._pending_cv.wait(remaining)
            try:
                self._produce()
            except InvariantError:
                if self._write_failure is None:
                    raise
                return  # the writer failed and logged why; nothing more can commit

    def stop(self) -> None:
        """Stop the executor after the block in progress, the writer once every executed block
        is durable, and the verifier pool."""
        self._stopping = True
        if self._thread is not None:
            with self._pending_cv:
                self._pending_cv.notify_all()
            self._thread.join()
            self._thread = None
        if self._writer is not None:  # it writes what is queued, then returns
            with self._write_cv:
                self._write_cv.notify_all()
            self._writer.join()
            self._writer = None
        if self._writer_process is not None:
            self._writer_process.close()
            self._writer_process = None
        if self._verifier is not None:
            self._verifier.close()

    @property
    def pending_count(self) -> int:
        """Admitted transactions not yet in a block (held ones included)."""
        return len(self._pending) + len(self._held)


@dataclass(frozen=True, slots=True)
class _StagedBlock:
    """A block executed and signed, waiting for the writer."""

    outcome: BlockOutcome
    certificate: tuple[BlockSignature, ...]
    record: BlockRecord
    started_s: float  # when its execution started, for CommittedBlock.commit_s


def _block_record(
    outcome: BlockOutcome, certificate: tuple[BlockSignature, ...], batch: Sequence[SignedTx]
) -> BlockRecord:
    height = outcome.header.height
    return BlockRecord(
        height=height,
        header_hash=outcome.header_hash,
        header=encode(outcome.header),
        certificate=encode(certificate),
        txs=[
            TxRecord(tx.tx_id, height, i, tx.raw, receipt)
            for i, (tx, receipt) in enumerate(zip(batch, outcome.receipt_bytes, strict=True))
        ],
        state_changes=outcome.changes,
    )


def _log_block(block: CommittedBlock) -> None:
    """One log line per committed block, with its rejections counted by reason code."""
    if not log.isEnabledFor(logging.INFO):
        return
    header = block.outcome.header
    rejections = Counter(r.code for r in block.outcome.receipts if r.code != codes.OK)
    log.info(
        "block committed",
        extra={
            "height": header.height,
            "tx_count": header.tx_count,
            "ok_count": header.tx_count - rejections.total(),
            "rejections": dict(sorted(rejections.items())),
            "duration_ms": round(block.commit_s * 1000, 3),
        },
    )
