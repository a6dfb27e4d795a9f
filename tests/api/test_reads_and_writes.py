"""The API doing its job: submit and wait for receipts, page through lists, get proofs that
verify against the header, read past heights, stream headers, count in /metrics."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import msgspec
import pytest
from tests.api.support import (
    COUNTERPARTY,
    OTHER,
    OWNER,
    SseClient,
    World,
    app_for,
    envelope,
    read_as,
)

from rantai.core.block import Header
from rantai.core.ids import account_id
from rantai.core.jsonform import body_from_json
from rantai.core.kinds.instruments import Mint
from rantai.core.kinds.transfers import Transfer
from rantai.core.proofs import verify_receipt, verify_state_value, verify_tx
from rantai.core.records import balance_key
from rantai.crypto.smt import StateProof

pytestmark = pytest.mark.anyio

A, B, C = account_id(OWNER), account_id(COUNTERPARTY), account_id(OTHER)


def _header(info: dict[str, Any]) -> Header:
    fields = info["header"]
    return Header(
        **{k: bytes.fromhex(v) if k.endswith(("hash", "root")) else v for k, v in fields.items()}
    )


def _proof(data: dict[str, Any]) -> StateProof:
    return StateProof(
        [bytes.fromhex(s) for s in data["siblings"]],
        None if data["leaf_path"] is None else bytes.fromhex(data["leaf_path"]),
        None if data["leaf_value_digest"] is None else bytes.fromhex(data["leaf_value_digest"]),
    )


async def test_submit_and_wait_for_receipts(client: httpx.AsyncClient, world: World) -> None:
    node = world.node
    node.start()
    raws = [
        envelope(node, OWNER, Transfer(A, B, "BOND1", 5, "one"), nonce=1),
        envelope(node, OWNER, Transfer(A, B, "BOND1", 10**12, "too much"), nonce=2),
    ]
    response = await client.post(
        "/v1/transactions?wait=true&timeout_ms=10000", json={"envelopes": [r.hex() for r in raws]}
    )
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["code"] for r in results] == ["ok", "ok"]  # both admitted
    assert [r["receipt"]["code"] for r in results] == ["ok", "insufficient_balance"]
    assert all(isinstance(r["height"], int) for r in results)
    assert results[0]["receipt"]["events"][0]["attrs"]["amount"] == 5
    assert node.ledger.values[balance_key(B, "BOND1")] == 1_000_000 + 7 + 5


async def test_submit_msgpack_without_waiting(client: httpx.AsyncClient, world: World) -> None:
    raw = envelope(world.node, OWNER, Transfer(A, C, "BOND1", 3, ""), nonce=1)
    response = await client.post(
        "/v1/transactions",
        content=msgspec.msgpack.encode([raw]),
        headers={"content-type": "application/msgpack"},
    )
    result = response.json()["results"][0]
    assert result["code"] == "ok" and result["height"] is None and result["receipt"] is None
    assert world.node.pending_count == 1
    world.node.produce_block()
    assert world.node.ledger.values[balance_key(C, "BOND1")] == 1_000_003


async def test_wait_gives_up_after_the_timeout(client: httpx.AsyncClient, world: World) -> None:
    raw = envelope(world.node, OWNER, Transfer(A, C, "BOND1", 3, ""), nonce=1)
    response = await client.post(
        "/v1/transactions?wait=true&timeout_ms=50", json={"envelopes": [raw.hex()]}
    )
    result = response.json()["results"][0]
    assert result["code"] == "ok" and result["receipt"] is None  # the executor is not running
    from rantai.api import api_context

    assert api_context(client._transport.app).feed.waiting == 0  # type: ignore[attr-defined]


async def test_headers_page_and_link(client: httpx.AsyncClient, world: World) -> None:
    head = (await client.get("/health")).json()["height"]
    seen: list[dict[str, Any]] = []
    start: int | None = 0
    while start is not None:
        page = (await client.get(f"/v1/headers?from={start}&limit=3")).json()
        seen.extend(page["items"])
        start = page["next"]
    assert [h["height"] for h in seen] == list(range(head + 1))
    for previous, current in itertools.pairwise(seen):
        assert current["header"]["prev_hash"] == previous["hash"]
    assert (await client.get("/v1/headers/head")).json() == seen[-1]
    assert (await client.get(f"/v1/headers?from={head + 5}")).json() == {"items": [], "next": None}


async def test_instruments_page(client: httpx.AsyncClient) -> None:
    codes: list[str] = []
    after = ""
    while True:
        page = (await client.get(f"/v1/instruments?limit=2{after}")).json()
        codes.extend(i["code"] for i in page["items"])
        if page["next"] is None:
            break
        after = f"&after={page['next']}"
    assert codes == ["BOND1", "BOND2", "MYR.BANK"]
    bond = (await client.get("/v1/instruments/BOND1")).json()
    assert bond["supply"] == 3_000_000 and bond["issuer"] == "issuer"


async def test_party_nonce_counts_committed_transactions(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = (await read_as(client, world, OWNER, f"/v1/parties/{OWNER}/nonce")).json()
    assert answer == {"party": OWNER, "nonce": 1, "height": world.node.ledger.head.height}  # type: ignore[union-attr]
    fresh = (await read_as(client, world, "registrar", f"/v1/parties/{OTHER}/nonce")).json()
    assert fresh["nonce"] == 0


async def test_parties_page(client: httpx.AsyncClient, world: World) -> None:
    ids: list[str] = []
    target = "/v1/parties?limit=4"
    while True:
        page = (await read_as(client, world, "registrar", target)).json()
        ids.extend(p["id"] for p in page["items"])
        if page["next"] is None:
            break
        target = f"/v1/parties?limit=4&after={page['next']}"
    assert ids == sorted(ids)
    assert {"BNM", "MOD", "SC", "bank", "inv-0", "issuer", "operator", "registrar"} <= set(ids)


async def test_balance_with_a_proof_that_verifies(client: httpx.AsyncClient, world: World) -> None:
    answer = (await read_as(client, world, OWNER, f"/v1/balances/{A}/BOND1")).json()
    assert answer["amount"] == 1_000_000 - 7
    header = _header(answer["header"])
    assert answer["header"]["height"] == header.height == answer["height"]
    key = balance_key(A, "BOND1")
    assert verify_state_value(header, key, bytes.fromhex(answer["value"]), _proof(answer["proof"]))
    # A balance never held is zero, with a proof of absence.
    zero = (await read_as(client, world, OWNER, f"/v1/balances/{A}/BOND2")).json()
    assert zero["amount"] == 0 and zero["value"] is None
    assert verify_state_value(
        _header(zero["header"]), balance_key(A, "BOND2"), None, _proof(zero["proof"])
    )


async def test_balance_and_holders_at_a_past_height(
    client: httpx.AsyncClient, world: World
) -> None:
    before_transfer = world.node.ledger.head.height - 1  # type: ignore[union-attr]
    past = (
        await read_as(client, world, "SC", f"/v1/balances/{A}/BOND1?height={before_transfer}")
    ).json()
    assert past["amount"] == 1_000_000 and past["height"] == before_transfer
    assert verify_state_value(
        _header(past["header"]),
        balance_key(A, "BOND1"),
        bytes.fromhex(past["value"]),
        _proof(past["proof"]),
    )
    holders = (
        await read_as(
            client, world, "issuer", f"/v1/instruments/BOND1/holders?height={before_transfer}"
        )
    ).json()
    assert holders["items"] == [{"account": a, "amount": 1_000_000} for a in (A, B, C)]
    at_genesis = (
        await read_as(client, world, "issuer", "/v1/instruments/BOND1/holders?height=0")
    ).json()
    assert at_genesis == {"instrument": "BOND1", "items": [], "next": None, "height": 0}


async def test_holders_page_follow_every_block(client: httpx.AsyncClient, world: World) -> None:
    node = world.node
    raws = [
        envelope(node, "issuer", Mint("BOND1", account_id("bank"), 11, ""), nonce=None),
        envelope(node, OWNER, Transfer(A, C, "BOND1", 1_000_000 - 7, "all"), nonce=1),
    ]
    node.submit(raws)
    node.produce_block()
    items: list[dict[str, Any]] = []
    target = "/v1/instruments/BOND1/holders?limit=1"
    while True:
        page = (await read_as(client, world, "SC", target)).json()
        items.extend(page["items"])
        if page["next"] is None:
            break
        target = f"/v1/instruments/BOND1/holders?limit=1&after={page['next']}"
    assert items == [
        {"account": "bank:main", "amount": 11},
        {"account": B, "amount": 1_000_007},
        {"account": C, "amount": 2_000_000 - 7},
    ]  # inv-0 sold everything: no longer a holder
    stats = (await read_as(client, world, "MOD", "/v1/instruments/BOND1/stats")).json()
    assert stats["holders"] == 3 and stats["supply"] == 3_000_011


async def test_transaction_with_inclusion_proofs(client: httpx.AsyncClient, world: World) -> None:
    tx = (await read_as(client, world, OWNER, f"/v1/transactions/{world.transfer_tx}")).json()
    header = _header(tx["header"])
    envelope_bytes = bytes.fromhex(tx["envelope"])
    path = [bytes.fromhex(p) for p in tx["tx_proof"]]
    assert verify_tx(header, envelope_bytes, tx["index"], path)
    receipt = msgspec.msgpack.encode(
        [bytes.fromhex(tx["receipt"]["tx_id"]), tx["receipt"]["code"], _events(tx)]
    )
    receipt_path = [bytes.fromhex(p) for p in tx["receipt_proof"]]
    assert verify_receipt(header, receipt, tx["index"], receipt_path)
    body = dict(tx["body"])
    assert body_from_json(body.pop("kind"), body) == Transfer(A, B, "BOND1", 7, "")


def _events(tx: dict[str, Any]) -> list[Any]:
    return [[e["name"], dict(sorted(e["attrs"].items()))] for e in tx["receipt"]["events"]]


async def test_block_lists_txs_and_codes(client: httpx.AsyncClient, world: World) -> None:
    block = (await read_as(client, world, "operator", "/v1/blocks/head")).json()
    assert block["txs"] == [{"tx_id": world.transfer_tx, "code": "ok"}]
    assert block["certificate"][0]["public_key"]


async def test_metrics_count_submissions_and_blocks(
    client: httpx.AsyncClient, world: World
) -> None:
    world.node.start()
    raw = envelope(world.node, OWNER, Transfer(A, C, "BOND1", 1, ""), nonce=1)
    await client.post("/v1/transactions?wait=true", json={"envelopes": [raw.hex(), "00"]})
    text = (await client.get("/metrics")).text
    assert 'rantai_admissions_total{code="ok"} 1.0' in text
    assert 'rantai_admissions_total{code="malformed"} 1.0' in text
    assert "rantai_envelopes_submitted_total 2.0" in text
    assert "rantai_blocks_total 1.0" in text
    assert f"rantai_head_height {float(world.node.ledger.head.height)}" in text  # type: ignore[union-attr]
    assert "rantai_submit_wait_seconds_count 1.0" in text


# --- Server-Sent Events, driven over ASGI directly ----------------------------------------


async def test_stream_sends_each_committed_header(world: World) -> None:
    node = world.node
    app = app_for(world)
    async with app.router.lifespan_context(app):
        sse = SseClient(app)
        task = asyncio.create_task(app(sse.scope, sse.receive, sse.send))
        await sse.until(b": connected")
        node.submit([envelope(node, OWNER, Transfer(A, C, "BOND1", 1, ""))])
        await asyncio.to_thread(node.produce_block)
        head = node.ledger.head
        assert head is not None
        await sse.until(b"id: %d\n" % head.height)
        sse.disconnect()
        await asyncio.wait_for(task, 5)
    assert sse.status == 200
    [(height, info)] = sse.events()
    assert height == head.height and info["header"]["state_root"] == head.state_root.hex()
    assert info["certificate"][0]["signature"]


async def test_stream_resumes_from_last_event_id(world: World) -> None:
    app = app_for(world)
    head = world.node.ledger.head
    assert head is not None
    async with app.router.lifespan_context(app):
        sse = SseClient(app, {"Last-Event-ID": str(head.height - 2)})
        task = asyncio.create_task(app(sse.scope, sse.receive, sse.send))
        await sse.until(b"id: %d\n" % head.height)
        sse.disconnect()
        await asyncio.wait_for(task, 5)
    assert [h for h, _ in sse.events()] == [head.height - 1, head.height]


async def test_shutdown_ends_open_streams(world: World) -> None:
    app = app_for(world)
    async with app.router.lifespan_context(app):
        sse = SseClient(app)
        task = asyncio.create_task(app(sse.scope, sse.receive, sse.send))
        await sse.until(b": connected")
        from rantai.api import api_context

        api_context(app).feed.close_streams()
        await asyncio.wait_for(task, 5)  # ends by itself, no disconnect needed
