"""Alerts over HTTP: agencies only, signed (a status change over its body), 4xx for bad input."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Sequence

import anyio
import httpx
import pytest
from tests.api.conftest import anyio_backend, world
from tests.api.support import (
    OWNER,
    World,
    app_for,
    client_for,
    read_as,
    signed_headers,
)

from rantai.supervision import LargeTransfer, LargeTransferConfig, Monitor, Supervisor

pytestmark = pytest.mark.anyio
__all__ = ["anyio_backend", "world"]  # the API tests' fixtures, shared


def large_bond_transfers() -> Sequence[Monitor]:
    config = LargeTransferConfig(threshold_minor=1_000_000, per_instrument={"BOND1": 5})
    return (LargeTransfer(config),)


@pytest.fixture
async def client(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The world's one BOND1 transfer of 7 is a large transfer here: alert 1."""
    supervisor = Supervisor(world.node.store, large_bond_transfers, clock_ms=world.clock)
    supervisor.catch_up()
    async with client_for(app_for(world, supervisor=supervisor)) as c:
        yield c


async def post_as(
    client: httpx.AsyncClient, world: World, party: str, target: str, payload: object
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = signed_headers(party, target, world.clock.now_ms, method="POST", body=body)
    headers["Content-Type"] = "application/json"
    return await client.post(target, content=body, headers=headers)


async def test_agencies_list_and_read_alerts(client: httpx.AsyncClient, world: World) -> None:
    listed = await read_as(client, world, "SC", "/v1/alerts")
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    assert listed.json()["next"] is None
    assert (item["id"], item["monitor"], item["status"], item["agency"]) == (
        1,
        "large_transfer",
        "open",
        None,
    )
    assert item["parties"] == ["inv-0", "inv-1"] and item["txs"] == [world.transfer_tx]
    assert item["history"][0]["actor"] == "monitor/large_transfer"
    one = await read_as(client, world, "BNM", "/v1/alerts/1")
    assert one.status_code == 200 and one.json() == item
    filtered = await read_as(client, world, "MOD", "/v1/alerts?status=dismissed&limit=5")
    assert filtered.json() == {"items": [], "next": None}
    paged = await read_as(client, world, "SC", "/v1/alerts?after=1")
    assert paged.json() == {"items": [], "next": None}


async def test_the_status_workflow_over_http(client: httpx.AsyncClient, world: World) -> None:
    reviewed = await post_as(client, world, "SC", "/v1/alerts/1/status", {"action": "review"})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["status"] == "under_review"
    assigned = await post_as(
        client, world, "SC", "/v1/alerts/1/status", {"action": "assign", "agency": "BNM"}
    )
    assert assigned.json()["agency"] == "BNM"
    no_reason = await post_as(client, world, "BNM", "/v1/alerts/1/status", {"action": "dismiss"})
    assert (no_reason.status_code, no_reason.json()["code"]) == (400, "reason_required")
    bad_agency = await post_as(
        client, world, "SC", "/v1/alerts/1/status", {"action": "assign", "agency": OWNER}
    )
    assert (bad_agency.status_code, bad_agency.json()["code"]) == (400, "bad_agency")
    dismissed = await post_as(
        client, world, "BNM", "/v1/alerts/1/status", {"action": "dismiss", "reason": "known flow"}
    )
    assert dismissed.json()["status"] == "dismissed"
    again = await post_as(client, world, "SC", "/v1/alerts/1/status", {"action": "escalate"})
    assert (again.status_code, again.json()["code"]) == (409, "bad_transition")
    history = (await read_as(client, world, "MOD", "/v1/alerts/1")).json()["history"]
    assert [(h["actor"], h["status"], h["agency"], h["reason"]) for h in history] == [
        ("monitor/large_transfer", "open", None, "raised"),
        ("SC", "under_review", None, ""),
        ("SC", "under_review", "BNM", ""),
        ("BNM", "dismissed", "BNM", "known flow"),
    ]


@pytest.mark.parametrize("party", [OWNER, "issuer", "registrar"])
async def test_only_agencies_see_alerts(
    client: httpx.AsyncClient, world: World, party: str
) -> None:
    for target in ("/v1/alerts", "/v1/alerts/1"):
        answer = await read_as(client, world, party, target)
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")
    posted = await post_as(client, world, party, "/v1/alerts/1/status", {"action": "review"})
    assert (posted.status_code, posted.json()["code"]) == (403, "forbidden")
    unsigned = await read_as(client, world, None, "/v1/alerts")
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "unauthenticated")


@pytest.mark.parametrize(
    "target",
    [
        "/v1/alerts?status=closed",
        "/v1/alerts?after=-1",
        "/v1/alerts?limit=0",
        "/v1/alerts?limit=1001",
        "/v1/alerts/0",
        "/v1/alerts/abc",
        "/v1/alerts/99999999999999999999",
    ],
)
async def test_bad_queries_are_400(client: httpx.AsyncClient, world: World, target: str) -> None:
    answer = await read_as(client, world, "SC", target)
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_query"), answer.text


@pytest.mark.parametrize(
    "payload",
    [{"action": "close"}, {}, {"action": "dismiss", "reason": "x" * 1_001}, ["review"]],
)
async def test_bad_bodies_are_400(client: httpx.AsyncClient, world: World, payload: object) -> None:
    answer = await post_as(client, world, "SC", "/v1/alerts/1/status", payload)
    assert (answer.status_code, answer.json()["code"]) == (400, "malformed"), answer.text


async def test_a_reason_holding_nul_is_bad_field(client: httpx.AsyncClient, world: World) -> None:
    payload = {"action": "dismiss", "reason": "a\u0000b"}
    answer = await post_as(client, world, "SC", "/v1/alerts/1/status", payload)
    assert (answer.status_code, answer.json()["code"]) == (400, "bad_field"), answer.text


async def test_unknown_alerts_are_404(client: httpx.AsyncClient, world: World) -> None:
    assert (await read_as(client, world, "SC", "/v1/alerts/42")).status_code == 404
    posted = await post_as(client, world, "SC", "/v1/alerts/42/status", {"action": "review"})
    assert (posted.status_code, posted.json()["code"]) == (404, "not_found")


async def test_the_status_body_is_signed(client: httpx.AsyncClient, world: World) -> None:
    body = json.dumps({"action": "review"}).encode()
    headers = signed_headers(
        "SC", "/v1/alerts/1/status", world.clock.now_ms, method="POST", body=body
    )
    headers["Content-Type"] = "application/json"
    altered = json.dumps({"action": "escalate"}).encode()
    answer = await client.post("/v1/alerts/1/status", content=altered, headers=headers)
    assert answer.status_code == 401
    assert (await read_as(client, world, "SC", "/v1/alerts/1")).json()["status"] == "open"


async def test_the_lifespan_runs_the_supervisor_and_metrics_count_alerts(world: World) -> None:
    supervisor = Supervisor(world.node.store, large_bond_transfers, clock_ms=world.clock)
    counted = 'rantai_alerts_total{monitor="large_transfer"} 1.0'
    async with client_for(app_for(world, supervisor=supervisor)) as c:
        deadline = time.monotonic() + 10
        while counted not in (text := (await c.get("/metrics")).text):
            assert time.monotonic() < deadline, text
            await anyio.sleep(0.01)
    assert [a.monitor for a in world.node.store.list_alerts(None, 0, 10)] == ["large_transfer"]
