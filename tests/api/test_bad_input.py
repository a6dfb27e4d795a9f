"""Bad input on every route: a 4xx JSON error with the right code, never a 500, and the
ledger unchanged (head hash, state root, nothing pending)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from tests.api.support import (
    OTHER,
    OWNER,
    World,
    app_for,
    client_for,
    envelope,
    ledger_fingerprint,
    read_as,
    signed_headers,
)
from tests.support import key_of

from rantai.api import create_app
from rantai.api.submit import BODY_BYTES_MAX
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.core.tx import build_envelope
from rantai.node.node import Node, NodeConfig
from rantai.store.sqlite import SqliteStore

pytestmark = pytest.mark.anyio

A, B = account_id(OWNER), account_id(OTHER)


@pytest.fixture
def unchanged(world: World) -> Any:
    """Fails the test if the ledger changed."""
    before = ledger_fingerprint(world.node)
    yield
    assert ledger_fingerprint(world.node) == before


def _error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"} and body["code"] == code, body


PUBLIC_CASES = [
    ("GET", "/v1/headers?from=-1", 400, "bad_query"),
    ("GET", "/v1/headers?from=abc", 400, "bad_query"),
    ("GET", "/v1/headers?from=99999999999999999999", 400, "bad_query"),
    ("GET", "/v1/headers?limit=0", 400, "bad_query"),
    ("GET", "/v1/headers?limit=1001", 400, "bad_query"),
    ("GET", "/v1/headers?limit=1.5", 400, "bad_query"),
    ("GET", "/v1/headers/999", 404, "not_found"),
    ("GET", "/v1/headers/9223372036854775807", 404, "not_found"),
    ("GET", "/v1/headers/9999999999999999999", 404, "not_found"),
    ("GET", "/v1/headers/-1", 400, "bad_query"),
    ("GET", "/v1/headers/tail", 400, "bad_query"),
    ("GET", "/v1/instruments?limit=-3", 400, "bad_query"),
    ("GET", "/v1/instruments?after=" + "X" * 33, 400, "bad_query"),
    ("GET", "/v1/instruments/NOPE", 404, "not_found"),
    ("GET", "/v1/instruments/lower", 400, "bad_query"),
    ("GET", "/v1/instruments/%00", 400, "bad_query"),
    ("GET", "/v1/nothing-here", 404, "not_found"),
    ("POST", "/health", 405, "method_not_allowed"),
    ("DELETE", "/v1/transactions", 405, "method_not_allowed"),
]


@pytest.mark.parametrize(("method", "target", "status", "code"), PUBLIC_CASES)
async def test_public_routes_refuse_bad_input(
    client: httpx.AsyncClient, unchanged: None, method: str, target: str, status: int, code: str
) -> None:
    _error(await client.request(method, target), status, code)


async def test_stream_refuses_a_bad_last_event_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/stream/headers", headers={"Last-Event-ID": "abc"})
    _error(response, 400, "bad_query")


BODY_CASES: list[tuple[str, bytes, str, int, str]] = [
    ("not json", b"{nope", "application/json", 400, "malformed"),
    ("wrong type", b'{"envelopes": "00"}', "application/json", 400, "malformed"),
    ("wrong item type", b'{"envelopes": [1]}', "application/json", 400, "malformed"),
    ("missing field", b"{}", "application/json", 400, "malformed"),
    ("extra field", b'{"envelopes": ["00"], "x": 1}', "application/json", 400, "malformed"),
    ("not an object", b"[]", "application/json", 400, "malformed"),
    ("empty body", b"", "application/json", 400, "malformed"),
    ("no envelopes", b'{"envelopes": []}', "application/json", 400, "too_many_items"),
    ("not hex", b'{"envelopes": ["zz"]}', "application/json", 400, "malformed"),
    ("odd hex", b'{"envelopes": ["abc"]}', "application/json", 400, "malformed"),
    ("hex with spaces", b'{"envelopes": ["ab cd"]}', "application/json", 400, "malformed"),
    ("non-ascii", '{"envelopes": ["é"]}'.encode(), "application/json", 400, "malformed"),
    ("text/plain", b'{"envelopes": ["00"]}', "text/plain", 400, "malformed"),
    ("msgpack garbage", b"\xc1", "application/msgpack", 400, "malformed"),
    ("msgpack of str", msgspec.msgpack.encode(["00"]), "application/msgpack", 400, "malformed"),
    ("msgpack map", msgspec.msgpack.encode({"a": b"0"}), "application/msgpack", 400, "malformed"),
    ("msgpack empty", msgspec.msgpack.encode([]), "application/msgpack", 400, "too_many_items"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [case[1:] for case in BODY_CASES],
    ids=[case[0] for case in BODY_CASES],
)
async def test_submit_refuses_bad_bodies(
    client: httpx.AsyncClient,
    unchanged: None,
    body: bytes,
    content_type: str,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        "/v1/transactions", content=body, headers={"content-type": content_type}
    )
    _error(response, status, code)


@pytest.mark.parametrize(
    "query", ["wait=maybe", "timeout_ms=-1", "timeout_ms=60001", "timeout_ms=x"]
)
async def test_submit_refuses_bad_query(
    client: httpx.AsyncClient, unchanged: None, query: str
) -> None:
    response = await client.post(f"/v1/transactions?{query}", json={"envelopes": ["00"]})
    _error(response, 400, "bad_query")


async def test_submit_refuses_too_many_envelopes(
    client: httpx.AsyncClient, unchanged: None
) -> None:
    response = await client.post("/v1/transactions", json={"envelopes": ["00"] * 10_001})
    _error(response, 400, "too_many_items")
    packed = msgspec.msgpack.encode([b"\x00"] * 10_001)
    response = await client.post(
        "/v1/transactions", content=packed, headers={"content-type": "application/msgpack"}
    )
    _error(response, 400, "too_many_items")


async def test_submit_refuses_an_oversize_body_by_its_length(
    client: httpx.AsyncClient, unchanged: None
) -> None:
    body = b'{"envelopes": ["' + b"00" * (BODY_BYTES_MAX // 2) + b'"]}'
    _error(await client.post("/v1/transactions", content=body), 413, "too_large")


async def test_submit_refuses_an_oversize_body_streamed_without_length(
    client: httpx.AsyncClient, unchanged: None
) -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"envelopes": ["'
        for _ in range(BODY_BYTES_MAX // 65_536 + 2):
            sent += 65_536
            yield b"00" * 32_768
        yield b'"]}'

    response = await client.post("/v1/transactions", content=chunks())
    _error(response, 413, "too_large")


async def test_submit_refuses_bad_envelopes_one_by_one(
    client: httpx.AsyncClient, world: World, unchanged: None
) -> None:
    node = world.node
    transfer = Transfer(A, B, "BOND1", 1, "")
    good = envelope(node, OWNER, transfer)
    other_chain = build_envelope("elsewhere", OWNER, 0, key_of(OWNER), transfer)
    flipped = bytearray(good)
    flipped[-1] ^= 1
    used = envelope(node, OWNER, transfer, nonce=0)
    raws = [b"\x00", b"\x93\x01\x02\x03", other_chain, bytes(flipped), used]
    response = await client.post("/v1/transactions", json={"envelopes": [r.hex() for r in raws]})
    assert response.status_code == 200
    got = [r["code"] for r in response.json()["results"]]
    assert got == ["malformed", "malformed", "wrong_chain", "bad_signature", "bad_nonce"]
    assert [r["tx_id"] is None for r in response.json()["results"]] == [True] * 4 + [False]


async def test_submit_with_no_room_is_refused(world: World, unchanged: None) -> None:
    world.node.config = NodeConfig(pending_txs_max=0)
    async with client_for(app_for(world)) as client:
        transfer = Transfer(A, B, "BOND1", 1, "")
        raw = envelope(world.node, OWNER, transfer)
        response = await client.post("/v1/transactions", json={"envelopes": [raw.hex()]})
    _error(response, 503, "pending_full")


# --- signed reads -----------------------------------------------------------------------

SIGNED_ROUTES = [
    f"/v1/parties/{OWNER}",
    f"/v1/parties/{OWNER}/nonce",
    "/v1/parties",
    f"/v1/accounts/{A}/balances",
    f"/v1/balances/{A}/BOND1",
    "/v1/instruments/BOND1/holders",
    "/v1/instruments/BOND1/stats",
    "/v1/transactions/" + "ab" * 32,
    "/v1/blocks/head",
    "/v1/access-log",
]


def _tamper(headers: dict[str, str], name: str, value: str | None) -> dict[str, str]:
    changed = dict(headers)
    if value is None:
        del changed[name]
    else:
        changed[name] = value
    return changed


@pytest.mark.parametrize("route", SIGNED_ROUTES)
async def test_signed_reads_refuse_bad_signatures(
    client: httpx.AsyncClient, world: World, unchanged: None, route: str
) -> None:
    now = world.clock.now_ms
    good = signed_headers("SC", route, now)
    cases: list[tuple[dict[str, str], int, str]] = [
        ({}, 401, "unauthenticated"),
        (_tamper(good, "Rantai-Signature", None), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Signature", "00" * 64), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Signature", "zz"), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Key", "00" * 31), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Key", key_of("BNM").public_key.hex()), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Party", "nobody"), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Party", "x" * 300), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Nonce", "00" * 8), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Timestamp", "soon"), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Timestamp", "1" * 40), 401, "unauthenticated"),
        (_tamper(good, "Rantai-Timestamp", str(now + 1)), 401, "unauthenticated"),
        (signed_headers("SC", route + "x", now), 401, "unauthenticated"),
        (signed_headers("SC", route, now, method="POST"), 401, "unauthenticated"),
        (signed_headers("SC", route, now, chain_id="elsewhere"), 401, "unauthenticated"),
        (signed_headers("SC", route, now, key=key_of("BNM")), 401, "unauthenticated"),
        (signed_headers("SC", route, now, timestamp_ms=now - 60_001), 401, "stale_request"),
        (signed_headers("SC", route, now, timestamp_ms=now + 60_001), 401, "stale_request"),
    ]
    for headers, status, code in cases:
        _error(await client.get(route, headers=headers), status, code)
    first = await client.get(route, headers=good)
    assert first.status_code in (200, 404), first.text
    _error(await client.get(route, headers=good), 401, "replayed_request")


async def test_a_signature_at_the_edge_of_the_window_is_accepted(
    client: httpx.AsyncClient, world: World
) -> None:
    now = world.clock.now_ms
    for stamp in (now - 60_000, now + 60_000):
        headers = signed_headers("SC", "/v1/parties", now, timestamp_ms=stamp)
        assert (await client.get("/v1/parties", headers=headers)).status_code == 200


UNKNOWN_CASES = [
    ("registrar", "/v1/parties/nobody", 404, "not_found"),
    ("registrar", "/v1/parties/nobody/nonce", 404, "not_found"),
    ("registrar", "/v1/parties/bad%20id", 400, "bad_query"),
    ("registrar", "/v1/parties?limit=0", 400, "bad_query"),
    ("registrar", "/v1/parties?after=" + "x" * 65, 400, "bad_query"),
    ("SC", "/v1/accounts/nobody:main/balances", 404, "not_found"),
    ("SC", "/v1/accounts/no-colon/balances", 400, "bad_query"),
    ("SC", f"/v1/accounts/{A}/balances?limit=abc", 400, "bad_query"),
    ("SC", "/v1/balances/nobody:main/BOND1", 404, "not_found"),
    ("SC", f"/v1/balances/{A}/NOPE", 404, "not_found"),
    ("SC", f"/v1/balances/{A}/BOND1?height=999", 404, "not_found"),
    ("SC", f"/v1/balances/{A}/BOND1?height=-1", 400, "bad_query"),
    ("SC", f"/v1/balances/{A}/BOND1?height=99999999999999999999", 400, "bad_query"),
    ("SC", "/v1/instruments/NOPE/holders", 404, "not_found"),
    ("SC", "/v1/instruments/BOND1/holders?height=999", 404, "not_found"),
    ("SC", "/v1/instruments/BOND1/holders?limit=2000", 400, "bad_query"),
    ("SC", "/v1/instruments/NOPE/stats", 404, "not_found"),
    ("SC", "/v1/transactions/" + "ab" * 32, 404, "not_found"),
    ("SC", "/v1/transactions/abc", 400, "bad_query"),
    ("SC", "/v1/blocks/999", 404, "not_found"),
    ("SC", "/v1/blocks/latest", 400, "bad_query"),
    ("SC", "/v1/access-log?after=-1", 400, "bad_query"),
    ("SC", "/v1/access-log?after=x", 400, "bad_query"),
    # A refusal does not tell a stranger whether a private thing exists.
    (OTHER, "/v1/parties/nobody", 403, "forbidden"),
    (OTHER, "/v1/accounts/nobody:main/balances", 403, "forbidden"),
]


@pytest.mark.parametrize(("reader", "target", "status", "code"), UNKNOWN_CASES)
async def test_signed_reads_refuse_unknown_ids_and_bad_queries(
    client: httpx.AsyncClient,
    world: World,
    unchanged: None,
    reader: str,
    target: str,
    status: int,
    code: str,
) -> None:
    _error(await read_as(client, world, reader, target), status, code)


async def test_a_full_replay_cache_refuses_with_503(world: World) -> None:
    async with client_for(app_for(world, nonces_max=2)) as client:
        for _ in range(2):
            assert (await read_as(client, world, "SC", "/v1/parties")).status_code == 200
        _error(await read_as(client, world, "SC", "/v1/parties"), 503, "overloaded")
        world.clock.now_ms += 60_001  # the first two expire
        assert (await read_as(client, world, "SC", "/v1/parties")).status_code == 200


async def test_too_many_waiters_are_refused_with_503(world: World, unchanged: None) -> None:
    async with client_for(app_for(world, waiting_max=1)) as client:
        raws = [
            envelope(world.node, OWNER, Transfer(A, B, "BOND1", 1, ""), nonce=n) for n in (0, 1)
        ]
        response = await client.post(
            "/v1/transactions?wait=true", json={"envelopes": [r.hex() for r in raws]}
        )
    _error(response, 503, "overloaded")


async def test_a_node_without_genesis_answers_503(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "empty.db")
    node = Node(store, key_of("node"))
    try:
        async with client_for(create_app(node)) as client:
            for target in ("/health", "/v1/chain", "/v1/headers/head"):
                _error(await client.get(target), 503, "no_genesis")
            response = await client.post("/v1/transactions", json={"envelopes": ["00"]})
            _error(response, 503, "no_genesis")
            headers = signed_headers("SC", "/v1/parties", 0)
            _error(await client.get("/v1/parties", headers=headers), 503, "no_genesis")
            assert (await client.get("/v1/headers")).json() == {"items": [], "next": None}
    finally:
        node.stop()
        store.close()


async def test_a_revoked_key_stops_reading(client: httpx.AsyncClient, world: World) -> None:
    from rantai.core.kinds.parties import AddKey, RevokeKey
    from rantai.crypto.keys import SigningKey

    node = world.node
    spare = SigningKey(os.urandom(32))
    for body in (AddKey(spare.public_key), RevokeKey(key_of(OWNER).public_key)):
        assert node.submit([envelope(node, OWNER, body)])[0].code == "ok"
        node.produce_block()
    target = f"/v1/parties/{OWNER}"
    old = signed_headers(OWNER, target, world.clock.now_ms)
    _error(await client.get(target, headers=old), 401, "unauthenticated")
    new = signed_headers(OWNER, target, world.clock.now_ms, key=spare)
    assert (await client.get(target, headers=new)).status_code == 200
