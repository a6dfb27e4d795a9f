"""Report routes: the issuer and agencies in scope read registers and concentration."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from tests.api.support import (
    COUNTERPARTY,
    OTHER,
    OWNER,
    ApiClock,
    World,
    client_for,
    read_as,
    signed_headers,
)
from tests.supervision.activity_market import DAY2_MS, RET_MY, ActivityMarket, build_market

from rantai.api import create_app

pytestmark = pytest.mark.anyio


async def test_report_routes_for_the_issuer_and_agencies_in_scope(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await read_as(client, world, "issuer", "/v1/instruments/BOND1/concentration?top=2")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["holders"] == 3 and len(body["top"]) == 2
    assert body["supply"] == 3_000_000  # three investors minted 1,000,000 each
    register = await read_as(client, world, "SC", "/v1/instruments/BOND1/register.csv")
    assert register.status_code == 200 and register.headers["content-type"].startswith("text/csv")
    accounts = {row[2] for row in csv.reader(io.StringIO(register.text))}
    assert {f"{p}:main" for p in (OWNER, COUNTERPARTY, OTHER)} <= accounts
    past = await read_as(client, world, "SC", "/v1/instruments/BOND1/concentration?height=1")
    assert past.status_code == 200 and past.json()["height"] == 1
    for reader in ("issuer2", "BNM", OWNER, None):
        refused = await read_as(client, world, reader, "/v1/instruments/BOND1/register.csv")
        assert refused.status_code in (401, 403), (reader, refused.status_code)
    missing = await read_as(client, world, "SC", "/v1/instruments/NOPE/concentration")
    assert missing.status_code == 404


# -- activity reports over the market of tests/supervision/activity_market.py ---------------


@pytest.fixture
async def activity(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, ActivityMarket]]:
    built = build_market(tmp_path / "chain")
    clock = ApiClock()
    try:
        async with client_for(create_app(built.node, clock_ms=clock)) as c:
            c.headers["x-test-now"] = str(clock.now_ms)
            yield c, built
    finally:
        built.node.stop()
        built.node.store.close()


async def _get(
    client: httpx.AsyncClient, party: str | None, target: str, accept: str | None = None
) -> httpx.Response:
    now = int(client.headers["x-test-now"])
    headers = {} if party is None else signed_headers(party, target, now)
    if accept is not None:
        headers["Accept"] = accept
    return await client.get(target, headers=headers)


async def test_flows_and_volume_as_json_and_csv(
    activity: tuple[httpx.AsyncClient, ActivityMarket],
) -> None:
    client, market = activity
    flows = await _get(client, "SC", "/v1/instruments/BOND1/flows")
    assert flows.status_code == 200, flows.text
    cells = {(c["from"], c["to"]): (c["amount"], c["count"]) for c in flows.json()["by_category"]}
    assert cells[("retail", "institutional")] == (900, 3)
    assert cells[("unclassified", "retail")] == (10, 1)
    assert flows.json()["to_height"] == market.expired_height
    as_csv = await _get(client, "issuer", "/v1/instruments/BOND1/flows?format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(as_csv.text)))
    assert ["residency", "resident", "resident", "653", "4"] in [r[3:] for r in rows]
    day2 = f"/v1/instruments/BOND1/volume?from_ms={DAY2_MS}"
    volume = await _get(client, "SC", day2)
    assert volume.json()["days"] == [{"day": "2026-01-02", "amount": 933, "count": 4, "parties": 4}]
    assert volume.json()["from_height"] == market.day2_first_height
    by_accept = await _get(client, "SC", "/v1/instruments/BOND1/volume", accept="text/csv")
    assert by_accept.text.splitlines()[1:] == [
        "BOND1,2026-01-01,660,5,4",
        "BOND1,2026-01-02,933,4,4",
    ]


async def test_fails_and_travel_reports_follow_scope(
    activity: tuple[httpx.AsyncClient, ActivityMarket],
) -> None:
    client, market = activity
    fails = await _get(client, "SC", "/v1/reports/settlement-fails")
    assert fails.status_code == 200, fails.text
    body = fails.json()
    assert [(i["outcome"], i["instruction"]) for i in body["items"]] == [
        ("failed", market.failed),
        ("cancelled", market.cancelled),
        ("expired", market.expired),
    ]
    assert body["items"][0]["code"] == "paused" and body["items"][0]["leg"] == 0
    assert body["by_day"] == [{"day": "2026-01-02", "failed": 1, "cancelled": 1, "expired": 1}]
    travel = await _get(client, "SC", "/v1/reports/travel?format=csv")
    rows = list(csv.reader(io.StringIO(travel.text)))
    assert len(rows) == 2 and rows[1][0] == market.travel_tx and rows[1][-1] == market.commitment
    # BNM's scope is cash: it is an agency, but sees no BOND1 item
    for target in ("/v1/reports/settlement-fails", "/v1/reports/travel"):
        answer = await _get(client, "BNM", target)
        assert answer.status_code == 200 and answer.json()["items"] == [], target
    for reader in ("BNM", "MOD", RET_MY, None):
        refused = await _get(client, reader, "/v1/instruments/BOND1/flows")
        assert refused.status_code in (401, 403), (reader, refused.status_code)
    investor = await _get(client, RET_MY, "/v1/reports/travel")
    assert investor.status_code == 403
    beyond = await _get(client, "SC", "/v1/instruments/BOND1/volume?to_height=200000")
    assert beyond.json()["to_height"] == market.expired_height  # clamped to the head
    bad = await _get(client, "SC", "/v1/instruments/BOND1/volume?from_ms=-1")
    assert bad.status_code == 400
    missing = await _get(client, "SC", "/v1/instruments/NOPE/flows")
    assert missing.status_code == 404


async def test_access_log_report_by_agency_and_time(
    activity: tuple[httpx.AsyncClient, ActivityMarket],
) -> None:
    client, _ = activity
    for reader in ("SC", "BNM", "SC"):
        assert (await _get(client, reader, "/v1/reports/travel")).status_code == 200
    every = await _get(client, "BNM", "/v1/reports/access-log")
    assert every.status_code == 200, every.text
    # every agency sees every agency's reads (docs/decisions/activity-reports.md)
    assert {"agency": "SC", "reads": 2} in every.json()["by_agency"]
    assert {"agency": "BNM", "reads": 1} in every.json()["by_agency"]
    mine = await _get(client, "SC", "/v1/reports/access-log?agency=BNM&format=csv")
    rows = list(csv.reader(io.StringIO(mine.text)))
    assert {r[2] for r in rows[1:]} == {"BNM"} and len(rows) == 3  # two reads by BNM so far
    now = int(client.headers["x-test-now"])
    later = await _get(client, "SC", f"/v1/reports/access-log?from_ms={now + 1}")
    assert later.json()["items"] == []
    refused = await _get(client, "issuer", "/v1/reports/access-log")
    assert refused.status_code == 403
