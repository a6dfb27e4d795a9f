"""The supervisor over a real node: alerts recorded from committed blocks, the same after a
restart, residency read from ledger claims, the review workflow with its history, and the
monitors run in a process of their own as ``rantai up`` runs them."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from tests.node.harness import market, new_node, send
from tests.node.test_orphans import alive
from tests.regulated import BASIS, EVIDENCE
from tests.support import GENESIS_MS, key_of

from rantai.core import codes
from rantai.core.actions import AnyAction, GrantRoleAction, TrustIssuers
from rantai.core.ids import account_id
from rantai.core.kinds.claims import IssueClaim
from rantai.core.kinds.governance import Approve, Propose
from rantai.core.kinds.parties import RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import nonce_key
from rantai.core.tx import TxBody, build_envelope
from rantai.node.node import Node
from rantai.store import Store
from rantai.store.base import AlertChange, AlertRecord, StoreError
from rantai.store.sqlite import SqliteStore
from rantai.supervision import (
    HighRiskJurisdiction,
    HighRiskJurisdictionConfig,
    LargeTransfer,
    LargeTransferConfig,
    Monitor,
    RoundTrip,
    Supervisor,
    WorkflowError,
    load_sanctions_list,
)
from rantai.supervision.process import SupervisionProcess

DAY_MS = 86_400_000
AGENCIES = ("SC", "BNM", "MOD")


def monitors() -> Sequence[Monitor]:
    return (
        LargeTransfer(LargeTransferConfig(threshold_minor=500_000)),
        RoundTrip(),
        HighRiskJurisdiction(HighRiskJurisdictionConfig(high_risk_countries=frozenset({"KP"}))),
    )


class ReviewClock:
    def __init__(self) -> None:
        self.now_ms = GENESIS_MS + 30 * DAY_MS

    def __call__(self) -> int:
        self.now_ms += 1
        return self.now_ms


def transfer(sender: str, to: str, amount: int) -> tuple[str, TxBody]:
    return sender, Transfer(account_id(sender), account_id(to), "BOND1", amount, "")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[Node]:
    """The harness market, and inv-2 resident in KP by a trusted KYC provider's claim."""
    built = new_node(tmp_path / "chain")
    try:
        market(built)
        kyc = RegisterParty("kyc", "organisation", "KYC", (key_of("kyc").public_key,), ())
        assert send(built, [("registrar", kyc)]) == [codes.OK]
        for action in (GrantRoleAction("kyc", "claim_issuer"), TrustIssuers("residency", ("kyc",))):
            propose_and_approve(built, action)
        expires = GENESIS_MS + 365 * DAY_MS
        claims: list[tuple[str, TxBody]] = [
            ("kyc", IssueClaim("inv-2", "residency", "KP", EVIDENCE, expires)),
            ("kyc", IssueClaim("inv-1", "residency", "MY", EVIDENCE, expires)),
        ]
        assert send(built, claims) == [codes.OK, codes.OK]
        yield built
    finally:
        built.stop()
        built.store.close()


def propose_and_approve(node: Node, action: AnyAction) -> None:
    chain = node.ledger.chain
    assert chain is not None
    expires = GENESIS_MS + DAY_MS  # within the proposal's longest life
    raw = build_envelope(
        chain.chain_id,
        "SC",
        node.ledger.values.get(nonce_key("SC"), 0),
        key_of("SC"),
        Propose(action, BASIS, "", expires, 0),
    )
    [admitted] = node.submit([raw])
    assert admitted.tx_id is not None
    node.produce_block()
    _, receipt = node.receipt(admitted.tx_id) or (None, None)
    assert receipt is not None and receipt.code == codes.OK, receipt
    assert send(node, [("BNM", Approve(admitted.tx_id.hex(), ""))]) == [codes.OK]


def copy_without_alerts(node: Node, copy: Path) -> Path:
    """A copy of the node's SQLite chain with no alerts and nothing supervised."""
    assert isinstance(node.store, SqliteStore)
    with sqlite3.connect(node.store.path) as source, sqlite3.connect(copy) as target:
        source.backup(target)
        target.execute("DELETE FROM alerts")
        target.execute("DELETE FROM alert_history")
        target.execute("DELETE FROM meta WHERE key = 'supervised_height'")
        target.execute("DELETE FROM supervisor_checkpoint")
    return copy


def snapshot(store: Store) -> list[tuple[AlertRecord, tuple[AlertChange, ...]]]:
    """Every alert with its history, as plain tuples."""
    return [
        (record, tuple(store.alert_history(record.alert_id)))
        for record in store.list_alerts(None, 0, 1_000)
    ]


def test_alerts_are_recorded_from_committed_blocks(node: Node) -> None:
    supervisor = Supervisor(node.store, monitors)
    assert supervisor.catch_up() == 0  # the market's mints and claims raise nothing
    assert send(node, [transfer("inv-0", "inv-1", 600_000), transfer("inv-0", "inv-2", 10)]) == [
        codes.OK,
        codes.OK,
    ]
    assert supervisor.catch_up() == 2
    large, risky = supervisor.alerts(None, 0, 10)
    assert (large.record.monitor, large.parties) == ("large_transfer", ("inv-0", "inv-1"))
    assert (risky.record.monitor, risky.parties) == ("high_risk_jurisdiction", ("inv-2",))
    assert risky.facts["destination_country"] == "KP"  # read from the ledger's claim
    assert [r.record.status for r in (large, risky)] == ["open", "open"]
    assert large.history[0].actor == "monitor/large_transfer"
    assert node.store.supervised_height() == node.store.head_height()
    assert supervisor.catch_up() == 0  # nothing new: nothing written twice


def test_a_claim_changed_between_blocks_is_seen_by_the_next_block(node: Node) -> None:
    """The supervisor keeps decoded party facts between blocks; a block that changes them
    must update what the next block's monitors read."""
    supervisor = Supervisor(node.store, monitors)
    supervisor.catch_up()
    assert send(node, [transfer("inv-0", "inv-1", 10)]) == [codes.OK]
    assert supervisor.catch_up() == 0  # inv-1 is resident in MY: read, and kept
    expires = GENESIS_MS + 365 * DAY_MS
    moved = IssueClaim("inv-1", "residency", "KP", EVIDENCE, expires)
    assert send(node, [("kyc", moved)]) == [codes.OK]
    assert send(node, [transfer("inv-0", "inv-1", 10)]) == [codes.OK]
    assert supervisor.catch_up() == 1
    (risky,) = supervisor.alerts(None, 0, 10)
    assert risky.parties == ("inv-1",) and risky.facts["destination_country"] == "KP"


def test_catch_up_after_a_restart_gives_the_same_alerts(node: Node, tmp_path: Path) -> None:
    first = Supervisor(node.store, monitors)
    send(node, [transfer("inv-0", "inv-1", 600_000), transfer("inv-0", "inv-2", 10)])
    assert first.catch_up() == 2
    # Down while these commit; the way back completes a round trip begun before the restart.
    send(node, [transfer("inv-1", "inv-0", 590_000)])
    send(node, [transfer("inv-1", "inv-2", 5)])
    restarted = Supervisor(node.store, monitors)
    assert restarted.catch_up() == 3  # large + round trip, then high risk
    kept = snapshot(node.store)
    assert [r.alert_id for r, _ in kept] == [1, 2, 3, 4, 5]
    assert [r.monitor for r, _ in kept] == [
        "large_transfer",
        "high_risk_jurisdiction",
        "large_transfer",
        "round_trip",
        "high_risk_jurisdiction",
    ]
    # A supervisor that never stopped, over a copy of the chain without alerts, agrees.
    with SqliteStore(copy_without_alerts(node, tmp_path / "copy.db")) as fresh:
        assert Supervisor(fresh, monitors).catch_up() == 5
        assert snapshot(fresh) == kept


def test_announced_blocks_are_fed_without_reading_them_back(
    node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = Supervisor(node.store, monitors)
    supervisor.catch_up()
    detach = supervisor.attach(node)
    read_back: list[int] = []
    get_outcome = node.store.get_outcome
    monkeypatch.setattr(
        node.store, "get_outcome", lambda h, ns=None: read_back.append(h) or get_outcome(h, ns)
    )
    try:
        send(node, [transfer("inv-0", "inv-1", 600_000), transfer("inv-0", "inv-2", 10)])
        send(node, [transfer("inv-1", "inv-0", 590_000)])
        assert supervisor.catch_up() == 4
        assert read_back == []  # every block came from the node's announcement
    finally:
        detach()
    send(node, [transfer("inv-0", "inv-1", 600_000)])  # not announced: read from the store
    assert supervisor.catch_up() == 1
    assert read_back == [node.store.head_height()]
    kept = snapshot(node.store)
    # The same alerts as a supervisor that reads every block from the store.
    with SqliteStore(copy_without_alerts(node, tmp_path / "copy.db")) as fresh:
        assert Supervisor(fresh, monitors).catch_up() == 5
        assert snapshot(fresh) == kept


def test_a_second_writer_is_refused_and_the_supervisor_rebuilds(node: Node) -> None:
    one, two = Supervisor(node.store, monitors), Supervisor(node.store, monitors)
    one.catch_up()
    two.catch_up()
    send(node, [transfer("inv-0", "inv-1", 600_000)])
    assert one.catch_up() == 1
    with pytest.raises(StoreError):
        two.catch_up()  # it would write height h again
    assert two.catch_up() == 0  # rebuilt from genesis: it now knows h is recorded
    assert len(node.store.list_alerts(None, 0, 10)) == 1


def test_the_thread_follows_the_node(node: Node) -> None:
    supervisor = Supervisor(node.store, monitors)
    detach = supervisor.attach(node)
    supervisor.start(poll_s=5.0)
    try:
        send(node, [transfer("inv-0", "inv-1", 700_000)])
        deadline = time.monotonic() + 10
        while not node.store.list_alerts(None, 0, 10) and time.monotonic() < deadline:
            time.sleep(0.01)
        [alert] = node.store.list_alerts(None, 0, 10)
        assert alert.monitor == "large_transfer"
    finally:
        detach()
        supervisor.stop()


def test_the_review_workflow_records_every_change(node: Node) -> None:
    clock = ReviewClock()
    supervisor = Supervisor(node.store, monitors, clock_ms=clock)
    send(node, [transfer("inv-0", "inv-1", 500_000), transfer("inv-0", "inv-1", 500_000)])
    supervisor.catch_up()
    first, second = (v.record.alert_id for v in supervisor.alerts(None, 0, 10))

    def act(alert_id: int, action: str, actor: str = "SC", **kw: str) -> str:
        view = supervisor.change(alert_id, action, actor, agencies=AGENCIES, **kw)
        assert view is not None
        return view.record.status

    assert act(first, "review") == "under_review"
    assert act(first, "assign", to_agency="BNM") == "under_review"
    assert act(first, "escalate", "BNM") == "escalated"
    view = supervisor.alert(first)
    assert view is not None and view.record.agency == "BNM"
    assert [(c.seq, c.actor, c.status, c.agency) for c in view.history] == [
        (1, "monitor/large_transfer", "open", ""),
        (2, "SC", "under_review", ""),
        (3, "SC", "under_review", "BNM"),
        (4, "BNM", "escalated", "BNM"),
    ]
    assert [c.at_ms for c in view.history[1:]] == sorted(c.at_ms for c in view.history[1:])

    refusals = [
        (first, "dismiss", {"reason": "late"}, "bad_transition"),  # escalated is final
        (second, "dismiss", {}, "reason_required"),
        (second, "assign", {"to_agency": "inv-0"}, "bad_agency"),
        (second, "close", {}, "bad_action"),
        (second, "dismiss", {"reason": "x" * 1_001}, "bad_field"),
    ]
    for alert_id, action, kw, code in refusals:
        with pytest.raises(WorkflowError) as refused:
            act(alert_id, action, **kw)
        assert refused.value.code == code
    assert act(second, "dismiss", reason="a treasury move between own accounts") == "dismissed"
    dismissed = supervisor.alert(second)
    assert dismissed is not None
    assert dismissed.history[-1].reason == "a treasury move between own accounts"
    assert [v.record.alert_id for v in supervisor.alerts("dismissed", 0, 10)] == [second]
    assert supervisor.change(999, "review", "SC") is None


def test_the_thread_writes_what_it_fed_at_its_interval_and_when_it_stops(node: Node) -> None:
    """Between writes the thread keeps alerts in memory; nothing it fed is lost on stop."""
    supervisor = Supervisor(node.store, monitors, write_interval_s=3_600)
    supervisor.start(poll_s=0.01)
    try:
        deadline = time.monotonic() + 10
        while node.store.supervised_height() != node.store.head_height():
            assert time.monotonic() < deadline  # the first round writes at once
            time.sleep(0.01)
        start_height = node.store.head_height()
        sent = [transfer("inv-0", "inv-1", 600_000), transfer("inv-0", "inv-2", 10)]
        assert send(node, sent) == [codes.OK, codes.OK]
        time.sleep(0.3)  # fed by now, but not written: the interval is an hour
        assert node.store.supervised_height() == start_height
        assert node.store.list_alerts(None, 0, 10) == []
    finally:
        supervisor.stop()
    assert node.store.supervised_height() == node.store.head_height()
    written = [(a.monitor, a.height) for a in node.store.list_alerts(None, 0, 10)]
    head = node.store.head_height()
    assert written == [("large_transfer", head), ("high_risk_jurisdiction", head)]
    assert supervisor.catch_up() == 0  # nothing left over, nothing written twice


SANCTIONS_SAMPLE = Path(__file__).parent / "data" / "un_consolidated_sample.xml"


def wait_for_alerts(store: Store, count: int) -> list[AlertRecord]:
    deadline = time.monotonic() + 20
    while len(found := store.list_alerts(None, 0, 100)) < count:
        assert time.monotonic() < deadline, found
        time.sleep(0.02)
    return found


def test_the_process_runs_the_default_monitors_with_the_sanctions_list(node: Node) -> None:
    """The child gets the list (inv-2 lives in KP, which it names), is woken by the commit
    (it would not poll for a minute), records the alert in the store, reports it to this
    process, and writes a checkpoint when it stops."""
    assert node.store_target is not None
    sanctions = load_sanctions_list(SANCTIONS_SAMPLE)
    supervision = SupervisionProcess(node.store_target, sanctions, "json", poll_s=60)
    reported: list[AlertRecord] = []
    supervision.on_alerts(reported.extend)
    detach = supervision.attach(node)
    supervision.start()
    pid = supervision.pid
    assert pid is not None
    try:
        assert send(node, [transfer("inv-0", "inv-2", 10)]) == [codes.OK]
        [alert] = wait_for_alerts(node.store, 1)
        assert (alert.monitor, alert.height) == ("high_risk_jurisdiction", node.store.head_height())
        deadline = time.monotonic() + 10
        while not reported:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert reported == [alert]
        time.sleep(0.3)  # a child that failed after its write would have ended by now
        assert supervision.pid == pid  # not a crash and a restart
    finally:
        detach()
        supervision.stop()
    assert not Path(f"/proc/{pid}").exists()
    saved = node.store.supervisor_checkpoint()
    assert saved is not None and saved[0] == node.store.head_height()


def test_a_killed_process_is_started_again_and_misses_nothing(node: Node) -> None:
    assert node.store_target is not None
    sanctions = load_sanctions_list(SANCTIONS_SAMPLE)
    supervision = SupervisionProcess(node.store_target, sanctions, "json")
    detach = supervision.attach(node)
    supervision.start()
    try:
        first = supervision.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while supervision.pid == first:  # until the reader thread has seen it end
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # Committed while no child runs (the next starts a second later): it reads the store.
        assert supervision.pid is None and not alive(first)
        assert send(node, [transfer("inv-0", "inv-2", 10)]) == [codes.OK]
        [alert] = wait_for_alerts(node.store, 1)
        assert (alert.monitor, alert.height) == ("high_risk_jurisdiction", node.store.head_height())
        assert supervision.pid not in (None, first)
    finally:
        detach()
        supervision.stop()


def test_a_store_the_process_cannot_open_is_refused() -> None:
    supervision = SupervisionProcess("postgresql://127.0.0.1:1/none", None, "json")
    with pytest.raises(StoreError):
        supervision.start()
    assert supervision.pid is None
