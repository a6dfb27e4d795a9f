"""Prometheus metrics of one node's API, in a registry of its own (one per app).

| metric | type | what |
|---|---|---|
| ``rantai_envelopes_submitted_total`` | counter | envelopes received by ``POST /v1/transactions`` |
| ``rantai_admissions_total{code}`` | counter | admission outcome per envelope: ``ok`` or the code |
| ``rantai_blocks_total`` | counter | blocks committed |
| ``rantai_block_txs`` | histogram | transactions per block |
| ``rantai_block_commit_seconds`` | histogram | from the start of execution to the durable commit |
| ``rantai_submit_wait_seconds`` | histogram | ``wait=true`` submissions, from arrival to receipts |
| ``rantai_head_height`` | gauge | height of the head block |
| ``rantai_pending_txs`` | gauge | admitted transactions not yet in a block |
| ``rantai_access_log_pending`` | gauge | agency reads recorded, not yet written |
| ``rantai_alerts_total{monitor}`` | counter | AML alerts recorded since this node started |
| ``rantai_txs_committed_total`` | counter | transactions in committed blocks (``rate()``: tx/s) |
| ``rantai_txs_ok_total`` | counter | ... of them with receipt code ``ok`` |
| ``rantai_rejections_total{code}`` | counter | committed transactions rejected, per reason code |
| ``rantai_block_interval_seconds`` | histogram | block time between consecutive blocks |

Block counters move on the executor's thread, as each block commits (``BlockFeed``); the
interval is between headers' timestamps, so it is the chain's own block time, not the wall
clock of this process.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from rantai.core import codes
from rantai.node.node import CommittedBlock, Node
from rantai.store.base import AlertRecord

__all__ = ["CONTENT_TYPE", "Metrics"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
BLOCK_TXS_BUCKETS = (1, 10, 50, 100, 250, 500, 1_000, 2_000, 5_000, 10_000)
SECONDS_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INTERVAL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """The counters, histograms and gauges of the module table."""

    def __init__(self, node: Node, access_log_pending: Callable[[], int]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.envelopes = Counter(
            "rantai_envelopes_submitted", "Envelopes received for submission", registry=r
        )
        self.admissions = Counter(
            "rantai_admissions", "Admission outcomes per envelope", ["code"], registry=r
        )
        self.blocks = Counter("rantai_blocks", "Blocks committed", registry=r)
        self.block_txs = Histogram(
            "rantai_block_txs", "Transactions per block", buckets=BLOCK_TXS_BUCKETS, registry=r
        )
        self.commit_seconds = Histogram(
            "rantai_block_commit_seconds",
            "Block execution and durable commit",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        self.wait_seconds = Histogram(
            "rantai_submit_wait_seconds",
            "Submissions with wait=true, arrival to receipts",
            buckets=SECONDS_BUCKETS,
            registry=r,
        )
        head = Gauge("rantai_head_height", "Height of the head block", registry=r)
        head.set_function(lambda: _head_height(node))
        pending = Gauge("rantai_pending_txs", "Admitted, not yet in a block", registry=r)
        pending.set_function(lambda: node.pending_count)
        logged = Gauge("rantai_access_log_pending", "Agency reads not yet written", registry=r)
        logged.set_function(access_log_pending)
        self.alerts = Counter("rantai_alerts", "AML alerts recorded", ["monitor"], registry=r)
        self.txs = Counter("rantai_txs_committed", "Transactions in committed blocks", registry=r)
        self.txs_ok = Counter("rantai_txs_ok", "Committed transactions with code ok", registry=r)
        self.rejections = Counter(
            "rantai_rejections", "Committed transactions rejected", ["code"], registry=r
        )
        self.block_interval = Histogram(
            "rantai_block_interval_seconds",
            "Block time between consecutive blocks",
            buckets=INTERVAL_BUCKETS,
            registry=r,
        )
        last = node.ledger.head
        self._last_block_ms: int | None = None if last is None else last.timestamp_ms

    def observe_admissions(self, admission_codes: Iterable[str]) -> None:
        count = 0
        for code in admission_codes:
            self.admissions.labels(code).inc()
            count += 1
        self.envelopes.inc(count)

    def observe_block(self, block: CommittedBlock) -> None:
        header = block.outcome.header
        self.blocks.inc()
        self.block_txs.observe(header.tx_count)
        self.commit_seconds.observe(block.commit_s)
        self.txs.inc(header.tx_count)
        ok = 0
        for receipt in block.outcome.receipts:
            if receipt.code == codes.OK:
                ok += 1
            else:
                self.rejections.labels(receipt.code).inc()
        self.txs_ok.inc(ok)
        if self._last_block_ms is not None:
            self.block_interval.observe((header.timestamp_ms - self._last_block_ms) / 1000)
        self._last_block_ms = header.timestamp_ms

    def observe_alerts(self, alerts: Iterable[AlertRecord]) -> None:
        for alert in alerts:
            self.alerts.labels(alert.monitor).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


def _head_height(node: Node) -> float:
    head = node.ledger.head
    return -1 if head is None else head.height
