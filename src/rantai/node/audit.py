"""The auditor's replay: rebuild the chain from genesis and compare every stored byte.

``audit(store)`` uses its own fresh ``Ledger``; it trusts nothing in the store but the
order of the rows. For each height it checks, in this order: the block is the next height;
the stored header hash is the hash of the stored header; the header links to the previous
one; every envelope passes the stateless checks and its id is its hash; re-execution gives
the same header, the same receipts and the same state changes; the certificate holds a valid
signature by a genesis executor key. At the end the stored current state must equal the
replayed state, and the access log of agency reads must be an unbroken hash chain
(``rantai.node.accesslog``). The first failure names its height (for the access log: its
entry's ``seq``, at the head height) and what is wrong.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rantai.core.block import BlockSignature, Header, Receipt, header_hash, signature_valid
from rantai.core.encoding import decode
from rantai.core.errors import InvariantError, Malformed
from rantai.core.ledger import Ledger
from rantai.core.tx import SignedTx, check_envelope, decode_envelope
from rantai.crypto.hashing import ZERO_DIGEST
from rantai.node.accesslog import BrokenAccessLog, check_chain
from rantai.node.verifier import Refused, Verifier
from rantai.store.base import BlockRecord, Store

__all__ = ["AuditFailure", "AuditReport", "audit"]


ACCESS_LOG_PAGE_ENTRIES = 10_000
READ_AHEAD_TXS = 2_000
READ_AHEAD_GROUPS = 2
VERIFY_AHEAD_GROUPS = 2

# What _EnvelopeChecker.start returns: the call that waits for a group's checks.
_Ticket = Callable[[], Sequence[SignedTx | Refused]]


class AuditFailure(Exception):
    """The first thing found wrong, and the height it was found at.

    ``seq`` names the access log entry when that is what is wrong (``height`` is then the head).
    """

    def __init__(self, height: int, problem: str, seq: int | None = None) -> None:
        super().__init__(f"height {height}: {problem}")
        self.height = height
        self.problem = problem
        self.seq = seq


@dataclass(slots=True)
class AuditReport:
    """What an audit checked, and the first failure if any."""

    blocks: int = 0
    txs: int = 0
    signatures: int = 0
    state_keys: int = 0
    access_log_entries: int = 0
    head_height: int | None = None
    failure: AuditFailure | None = None
    state_root: bytes = b""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None


def audit(
    store: Store, progress: Callable[[int], None] | None = None, verify_workers: int = 0
) -> AuditReport:
    """Replay ``store``'s chain from genesis and recheck everything. Never raises.

    ``verify_workers`` processes check signatures in parallel (0: in this thread).
    """
    report = AuditReport()
    ledger = Ledger()
    checker = _EnvelopeChecker(verify_workers)
    reader: _GroupReader | None = None
    try:
        report.head_height = store.head_height()
        count = 0 if report.head_height is None else report.head_height + 1
        # A pipeline: groups are read ahead in a thread, and the signatures of the next
        # VERIFY_AHEAD_GROUPS groups are verified in the pool while this group executes
        # here (with one group ahead, the pool idled once it was done with it, until this
        # group's execution ended). A group is at least READ_AHEAD_TXS transactions
        # (genesis alone), so small blocks still keep the pool busy. Failures are still
        # reported in height order.
        reader = _GroupReader(store, count)
        verifying: deque[tuple[list[BlockRecord], _Ticket]] = deque()
        for _ in range(VERIFY_AHEAD_GROUPS):
            upcoming = reader.next()
            verifying.append((upcoming, checker.start(ledger, upcoming)))
        height = 0
        while height < count:
            group, ticket = verifying.popleft()
            if not group:
                raise AuditFailure(height, f"expected block {height}: missing")
            checked = checker.finish(ticket, group, height)
            upcoming = reader.next()
            verifying.append((upcoming, checker.start(ledger, upcoming)))
            for block, txs in zip(group, checked, strict=True):
                header, certificate = _check_header(ledger, block, height)
                if isinstance(txs, AuditFailure):
                    raise txs
                _check_replay(ledger, block, header, certificate, txs, report)
                if progress is not None:
                    progress(height)
                height += 1
        _check_current_state(store, ledger, report)
        problem = store.check_derived()
        if problem is not None:
            raise AuditFailure(_head(ledger), problem)
        report.state_root = ledger.tree.root
        _check_access_log(store, ledger, report)
    except AuditFailure as failure:
        report.failure = failure
    finally:
        if reader is not None:
            reader.close()
        checker.close()
    return report


class _GroupReader:
    """Reads the groups of blocks (``_read_group``) in a thread, up to ``READ_AHEAD_GROUPS``
    ahead of the replay: SQLite reads pages without the GIL, so the replaying thread no
    longer waits for them. Hands out empty groups after the last one, or from a missing
    block on; a read's exception is raised by ``next``, in order."""

    def __init__(self, store: Store, count: int) -> None:
        self._groups: queue.Queue[list[BlockRecord] | BaseException] = queue.Queue(
            READ_AHEAD_GROUPS
        )
        self._stopping = threading.Event()
        self._ended = False
        self._thread = threading.Thread(
            target=self._run, args=(store, count), name="rantai-audit-reader", daemon=True
        )
        self._thread.start()

    def _run(self, store: Store, count: int) -> None:
        first = 0
        try:
            while not self._stopping.is_set():
                group = _read_group(store, first, count)
                self._put(group)
                if not group:
                    return
                first += len(group)
        except BaseException as exc:  # handed to the replaying thread, which raises it
            self._put(exc)

    def _put(self, item: list[BlockRecord] | BaseException) -> None:
        while not self._stopping.is_set():
            try:
                self._groups.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def next(self) -> list[BlockRecord]:
        if self._ended:
            return []
        item = self._groups.get()
        if isinstance(item, BaseException):
            self._ended = True  # the reading thread has stopped: nothing more will come
            raise item
        self._ended = not item
        return item

    def close(self) -> None:
        self._stopping.set()
        self._thread.join()


def _read_group(store: Store, first: int, count: int) -> list[BlockRecord]:
    """Blocks from ``first`` on, up to ``READ_AHEAD_TXS`` transactions (genesis alone, as
    the chain id to check against comes from executing it); empty when block ``first`` is
    missing, and short of a missing block (reported when the replay reaches it)."""
    group: list[BlockRecord] = []
    txs = 0
    for height in range(first, count):
        block = store.get_block(height)
        if block is None:
            break
        group.append(block)
        txs += len(block.txs)
        if height == 0 or txs >= READ_AHEAD_TXS:
            break
    return group


def _check_header(
    ledger: Ledger, block: BlockRecord, height: int
) -> tuple[Header, tuple[BlockSignature, ...]]:
    """The stored header and certificate of ``block``, once they read and link up."""
    if block.height != height:
        raise AuditFailure(
            height, f"expected block {height}, found {block.height}: missing or out of order"
        )
    try:
        header = decode(block.header, Header)
        certificate = decode(block.certificate, tuple[BlockSignature, ...])
    except Malformed as exc:
        raise AuditFailure(height, f"stored header or certificate unreadable: {exc}") from None
    if header_hash(header) != block.header_hash:
        raise AuditFailure(height, "stored header hash is not the hash of the stored header")
    if header.height != height or header.prev_hash != ledger.head_hash:
        raise AuditFailure(height, "header does not link to the previous block")
    return header, certificate


def _check_replay(
    ledger: Ledger,
    block: BlockRecord,
    header: Header,
    certificate: tuple[BlockSignature, ...],
    txs: list[SignedTx],
    report: AuditReport,
) -> None:
    """Execute ``block``'s checked transactions ``txs`` and compare with what is stored."""
    height = header.height
    if [r.index for r in block.txs] != list(range(len(block.txs))):
        raise AuditFailure(height, "transactions out of order in the block")
    try:
        outcome = ledger.execute_block(txs, header.timestamp_ms)
    except InvariantError as exc:
        raise AuditFailure(height, f"replay broke an invariant: {exc}") from None
    _compare_headers(outcome.header, header, height)
    for i, (record, replayed) in enumerate(zip(block.txs, outcome.receipt_bytes, strict=True)):
        if record.receipt != replayed:
            raise AuditFailure(
                height, f"receipt {i} differs from replay: {_receipt_text(record.receipt)}"
            )
    if dict(block.state_changes) != outcome.changes:
        keys = sorted(set(block.state_changes) ^ set(outcome.changes)) or sorted(
            k for k in outcome.changes if block.state_changes.get(k) != outcome.changes[k]
        )
        raise AuditFailure(height, f"stored state changes differ from replay at {keys[:3]}")
    chain = ledger.chain
    executors = set(chain.executors) if chain else set()
    if not any(
        s.public_key in executors and signature_valid(s, block.header_hash) for s in certificate
    ):
        raise AuditFailure(height, "no valid executor signature on the header")
    report.blocks += 1
    report.txs += len(txs)
    report.signatures += len(txs) + len(certificate)


class _EnvelopeChecker:
    """Stateless checks of a block's envelopes, signatures in a process pool when asked."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._verifier: Verifier | None = None

    def start(self, ledger: Ledger, group: Sequence[BlockRecord]) -> _Ticket:
        """Start the checks of the envelopes of ``group``'s blocks; ``finish`` takes their
        answer.

        Until genesis has executed there is no chain id to check against, so those checks
        wait until the answer is asked for (after the previous block executed)."""
        if not group:
            return list
        raws = [r.envelope for block in group for r in block.txs]
        if self._verifier is None:
            return lambda: self._check_now(ledger, raws)
        return self._verifier.check_later(raws)

    def _check_now(self, ledger: Ledger, raws: list[bytes]) -> Sequence[SignedTx | Refused]:
        if self._verifier is None:
            chain = ledger.chain
            if chain is None:  # genesis: the chain id is the one genesis declares
                return [self._check_genesis(raw) for raw in raws]
            self._verifier = Verifier(chain.chain_id, self.workers)
        return self._verifier.check(raws)

    def finish(
        self,
        ticket: _Ticket,
        group: Sequence[BlockRecord],
        first: int,
    ) -> list[list[SignedTx] | AuditFailure]:
        """Per block of ``group`` (the first at height ``first``), its checked transactions,
        or the failure of the first that fails: raised by the caller when the replay reaches
        that block, so failures stay in height order."""
        checked = iter(ticket())
        out: list[list[SignedTx] | AuditFailure] = []
        for height, block in enumerate(group, first):
            items = [next(checked) for _ in block.txs]
            out.append(_block_txs(block, items, height))
        return out

    @staticmethod
    def _check_genesis(raw: bytes) -> SignedTx | Refused:
        try:
            return check_envelope(raw, decode_envelope(raw)[0].chain_id)
        except Malformed as exc:
            return Refused(exc.code, exc.message)

    def close(self) -> None:
        if self._verifier is not None:
            self._verifier.close()


def _block_txs(
    block: BlockRecord, items: Sequence[SignedTx | Refused], height: int
) -> list[SignedTx] | AuditFailure:
    txs: list[SignedTx] = []
    for index, (record, item) in enumerate(zip(block.txs, items, strict=True)):
        if isinstance(item, Refused):
            return AuditFailure(
                height, f"transaction {index} fails the stateless checks: {item.code}"
            )
        if item.tx_id != record.tx_id:
            problem = f"transaction {index}: stored id is not the envelope's hash"
            return AuditFailure(height, problem)
        txs.append(item)
    return txs


def _compare_headers(replayed: Header, stored: Header, height: int) -> None:
    for name in Header.__struct_fields__:
        if getattr(replayed, name) != getattr(stored, name):
            raise AuditFailure(height, f"header {name} differs from replay")


def _receipt_text(raw: bytes) -> str:
    try:
        return repr(decode(raw, Receipt).code)
    except Malformed:
        return "unreadable"


def _check_current_state(store: Store, ledger: Ledger, report: AuditReport) -> None:
    expected = ledger.values
    seen = 0
    for key, raw in store.iter_state():
        replayed = expected.raw(key)
        if replayed is None:
            raise AuditFailure(_head(ledger), f"stored state has key {key!r} that replay does not")
        if replayed != raw:
            raise AuditFailure(_head(ledger), f"stored state of {key!r} differs from replay")
        seen += 1
    if seen != len(expected):
        raise AuditFailure(
            _head(ledger), f"stored state lacks {len(expected) - seen} replayed keys"
        )
    report.state_keys = seen


def _head(ledger: Ledger) -> int:
    return ledger.head.height if ledger.head else 0


def _check_access_log(store: Store, ledger: Ledger, report: AuditReport) -> None:
    seq, digest = 0, ZERO_DIGEST
    try:
        while page := list(store.iter_access_log(seq, ACCESS_LOG_PAGE_ENTRIES)):
            seq, digest = check_chain(page, seq, digest)
    except BrokenAccessLog as broken:
        raise AuditFailure(_head(ledger), str(broken), seq=broken.seq) from None
    report.access_log_entries = seq
