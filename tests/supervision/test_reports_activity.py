"""Activity reports over a market built through a real node: exact flows, daily volume,
settlement fails and travel records, in JSON form and CSV; the pure functions' edges."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.supervision.activity_market import (
    ANON,
    DAY2_MS,
    HOUR_MS,
    INST_MY,
    RET_MY,
    RET_SG,
    ActivityMarket,
    at,
    build_market,
    claims,
    move,
    run,
)
from tests.support import GENESIS_MS

from rantai.store.base import AccessLogRecord
from rantai.supervision.activity import (
    PartyGroups,
    access_log_report,
    category_group,
    daily_volume,
    daily_volume_csv,
    day_of,
    fails_csv,
    fails_report,
    flow_report,
    flows_csv,
    residency_group,
    travel_csv,
)
from rantai.supervision.scan import (
    RangeTooLong,
    read_fails,
    read_flows,
    read_movements,
    read_travel,
    resolve_range,
)


@pytest.fixture(scope="module")
def market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActivityMarket]:
    built = build_market(tmp_path_factory.mktemp("activity") / "chain")
    yield built
    built.node.stop()
    built.node.store.close()


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def _everything(market: ActivityMarket) -> tuple[int, int]:
    return resolve_range(market.node.store)


def test_flows_between_investor_groups_from_claims_at_the_time(market: ActivityMarket) -> None:
    store = market.node.store
    first, last = _everything(market)
    found = flow_report("BOND1", first, last, read_flows(store, first, last, "MY"))
    by_category = {(c.from_group, c.to_group): (c.amount, c.count) for c in found.by_category}
    # t4 (day 1) is anon's, unclassified then; t9 (day 2, after its claims) is retail.
    assert by_category == {
        ("retail", "retail"): (233, 3),  # t2 200, s1 leg 30, t9 3
        ("retail", "institutional"): (900, 3),  # t1 100, t5 300, t7 500
        ("institutional", "retail"): (450, 2),  # t3 50, t6 400
        ("unclassified", "retail"): (10, 1),  # t4
    }
    by_residency = {(c.from_group, c.to_group): (c.amount, c.count) for c in found.by_residency}
    assert by_residency == {
        ("resident", "resident"): (653, 4),
        ("resident", "non_resident"): (630, 3),
        ("non_resident", "resident"): (300, 1),
        ("unclassified", "resident"): (10, 1),
    }
    rows = _rows(flows_csv(found))
    assert rows[0][-2:] == ["amount_minor", "count"]
    assert ["BOND1", str(first), str(last), "category", "retail", "institutional", "900", "3"] in (
        rows
    )
    assert sum(int(r[6]) for r in rows[1:] if r[3] == "residency") == 1_593
    # with SG as home, the residency groups swap and nothing else changes
    sg = flow_report("BOND1", first, last, read_flows(store, first, last, "SG"))
    swapped = {(c.from_group, c.to_group): (c.amount, c.count) for c in sg.by_residency}
    assert swapped[("non_resident", "non_resident")] == (653, 4)
    assert swapped[("resident", "non_resident")] == (300, 1)
    assert sg.by_category == found.by_category


def test_daily_volume_in_utc_plus_8_days(market: ActivityMarket) -> None:
    store = market.node.store
    first, last = _everything(market)
    days = daily_volume("BOND1", read_movements(store, first, last))
    # t5 at 23:30 (+08) is day 1 and t6 at 00:30 day 2, though both are 2026-01-01 in UTC.
    assert [d.to_json() for d in days] == [
        {"day": "2026-01-01", "amount": 660, "count": 5, "parties": 4},
        {"day": "2026-01-02", "amount": 933, "count": 4, "parties": 4},
    ]
    assert _rows(daily_volume_csv("BOND1", days))[1:] == [
        ["BOND1", "2026-01-01", "660", "5", "4"],
        ["BOND1", "2026-01-02", "933", "4", "4"],
    ]
    # a time range: day 2 only, by block time
    first2, last2 = resolve_range(store, from_ms=DAY2_MS)
    assert first2 == market.day2_first_height and last2 == last
    assert [d.day for d in daily_volume("BOND1", read_movements(store, first2, last2))] == [
        "2026-01-02"
    ]
    assert daily_volume("OTHER", read_movements(store, first, last)) == ()


def test_settlement_fails_per_day_and_party(market: ActivityMarket) -> None:
    first, last = _everything(market)
    found = fails_report(read_fails(market.node.store, first, last))
    outcomes = [(f.outcome, f.instruction, f.leg, f.code, f.parties) for f in found.items]
    assert outcomes == [
        ("failed", market.failed, 0, "paused", (INST_MY, RET_MY)),
        ("cancelled", market.cancelled, None, "", (ANON, RET_SG)),
        ("expired", market.expired, None, "", (ANON, RET_MY)),
    ]
    expired = found.items[2]
    assert expired.at_ms == market.expired_deadline_ms and expired.tx_id == ""
    assert expired.height == market.expired_height
    assert found.to_json()["by_day"] == [
        {"day": "2026-01-02", "failed": 1, "cancelled": 1, "expired": 1}
    ]
    assert found.to_json()["by_party"] == [
        {"party": ANON, "failed": 0, "cancelled": 1, "expired": 1},
        {"party": INST_MY, "failed": 1, "cancelled": 0, "expired": 0},
        {"party": RET_MY, "failed": 1, "cancelled": 0, "expired": 1},
        {"party": RET_SG, "failed": 0, "cancelled": 1, "expired": 0},
    ]
    rows = _rows(fails_csv(found))
    assert rows[1][:1] + rows[1][5:9] == ["failed", market.failed, "0", "paused", "inst-my ret-my"]
    # a range that ends before the deadline's block does not see the expiry
    early = fails_report(read_fails(market.node.store, first, market.expired_height - 1))
    assert [f.outcome for f in early.items] == ["failed", "cancelled"]


def test_travel_records_carry_the_digest_never_the_payload(market: ActivityMarket) -> None:
    first, last = _everything(market)
    (record,) = read_travel(market.node.store, first, last)
    assert record.to_json() == {
        "tx_id": market.travel_tx,
        "height": market.travel_height,
        "at_ms": record.at_ms,
        "instrument": "BOND1",
        "amount": 500,
        "originator": RET_MY,
        "beneficiary": INST_MY,
        "source": f"{RET_MY}:main",
        "destination": f"{INST_MY}:main",
        "commitment": market.commitment,
        "readers": ["BNM", "MOD", "SC", "registrar"],
    }
    text = travel_csv([record])
    assert market.commitment in text and "Jalan" not in text and "Ret My" not in text
    assert read_travel(market.node.store, first, market.travel_height - 1) == []


def test_ranges_are_bounded_and_empty_ranges_are_empty(market: ActivityMarket) -> None:
    store = market.node.store
    head = market.node.ledger.head
    assert head is not None
    assert resolve_range(store, to_ms=GENESIS_MS) == (0, -1)  # nothing before genesis
    assert resolve_range(store, from_ms=head.timestamp_ms + 1) == (head.height + 1, head.height)
    assert resolve_range(store, from_height=3, to_height=10**9) == (3, head.height)
    assert read_movements(store, 5, 4) == []
    assert resolve_range(store, from_height=3, to_height=7, blocks_max=5) == (3, 7)
    with pytest.raises(RangeTooLong, match="6 blocks; at most 5"):
        resolve_range(store, from_height=3, to_height=8, blocks_max=5)


def test_groups_and_days() -> None:
    assert [category_group(c) for c in ("retail", "accredited", "institutional", None)] == [
        "retail", "institutional", "institutional", "unclassified",
    ]  # fmt: skip
    assert [residency_group(c, "MY") for c in ("MY", "SG", None)] == [
        "resident", "non_resident", "unclassified",
    ]  # fmt: skip
    eight_hours = 8 * 3_600_000
    assert day_of(GENESIS_MS + 16 * 3_600_000 - 1) == "2026-01-01"
    assert day_of(GENESIS_MS + 16 * 3_600_000) == "2026-01-02"
    assert day_of(-eight_hours) == "1970-01-01"


def test_access_log_report_filters_by_agency_and_time() -> None:
    def entry(seq: int, at_ms: int, party: str) -> AccessLogRecord:
        return AccessLogRecord(seq, at_ms, party, "GET", "/v1/alerts", "", 200, bytes(32))

    rows = [entry(1, 100, "SC"), entry(2, 200, "BNM"), entry(3, 300, "SC"), entry(4, 400, "SC")]
    everything = access_log_report(rows)
    assert everything.by_agency == (("BNM", 1), ("SC", 3))
    window = access_log_report(rows, agency="SC", from_ms=200, to_ms=400)
    assert [r.seq for r in window.items] == [3] and window.by_agency == (("SC", 1),)


def _reports(market: ActivityMarket) -> list[object]:
    store = market.node.store
    first, last = resolve_range(store)
    movements = read_movements(store, first, last)
    return [
        flow_report("BOND1", first, last, read_flows(store, first, last, "MY")).to_json(),
        [d.to_json() for d in daily_volume("BOND1", movements)],
        fails_report(read_fails(store, first, last)).to_json(),
        # sealing is randomized, so the travel transfer's id differs from chain to chain
        [{**r.to_json(), "tx_id": None} for r in read_travel(store, first, last)],
    ]


@pytest.mark.postgres
def test_postgres_gives_the_same_reports(
    market: ActivityMarket, tmp_path: Path, postgres_dsn: str
) -> None:
    on_postgres = build_market(tmp_path / "pg", store=postgres_dsn)
    try:
        assert _reports(on_postgres) == _reports(market)
    finally:
        on_postgres.node.stop()
        on_postgres.node.store.close()


def test_a_claim_that_expires_reclassifies_later_movements(tmp_path: Path) -> None:
    built = build_market(tmp_path / "chain")
    node, clock = built.node, built.clock
    try:
        soon = clock.now_ms + 2 * HOUR_MS
        run(node, claims({RET_SG: ("retail", "SG")}, soon))  # replaces both claims
        run(node, [(RET_SG, move(RET_SG, RET_MY, 11))])
        at(clock, soon + HOUR_MS)  # no block changes a claim: they just expire
        run(node, [(RET_SG, move(RET_SG, RET_MY, 13))])
        head = node.ledger.head
        assert head is not None
        flows = read_flows(node.store, head.height - 1, head.height, "MY")
        groups = [(f.movement.amount, f.source) for f in flows]
        assert groups == [
            (11, PartyGroups("retail", "non_resident")),
            (13, PartyGroups("unclassified", "unclassified")),
        ]
    finally:
        node.stop()
        node.store.close()
