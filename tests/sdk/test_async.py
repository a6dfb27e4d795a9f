"""``AsyncClient``: the same operations, awaited; and the header stream (SSE) of both clients."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import httpx
import msgspec
import pytest
from tests.node.harness import send
from tests.sdk.conftest import CHAIN_ID, URL, ClientFactory
from tests.sdk.fake import FakeApi, header_info
from tests.support import key_of

from rantai import sdk
from rantai.core import codes
from rantai.core.kinds.transfers import Transfer
from rantai.node.node import Node

A, B = "inv-0:main", "inv-1:main"
T = TypeVar("T")


def run(make: Callable[[sdk.AsyncClient], Coroutine[Any, Any, T]], fake: FakeApi, **kw: Any) -> T:
    """Run ``make(client)`` with an AsyncClient over ``fake``, closing it after."""

    async def main() -> T:
        async with sdk.AsyncClient(
            URL, party="inv-0", key=key_of("inv-0"), transport=httpx.MockTransport(fake), **kw
        ) as client:
            return await make(client)

    return asyncio.run(main())


def test_async_submit_wait_balance_transaction(fake: FakeApi) -> None:
    async def scenario(client: sdk.AsyncClient) -> None:
        assert (await client.health()).chain_id == CHAIN_ID
        done = await client.submit([sdk.transfer(A, B, "BOND1", n) for n in (10, 20)], wait=True)
        assert [d.ok for d in done] == [True, True]
        balance = await client.balance(B, "BOND1")
        assert balance.amount == 1_000_030
        assert done[1].tx_id is not None
        tx = await client.transaction(done[1].tx_id)
        assert tx is not None and tx.nonce == 1 and tx.receipt.code == codes.OK
        assert await client.receipt(done[1].tx_id) == tx.receipt
        assert await client.wait([done[0].tx_id or b""], timeout_s=1) != {}
        assert await client.nonce() == 2
        head = await client.header()
        assert head is not None and head.height == balance.height

    run(scenario, fake)


def test_async_proof_errors(fake: FakeApi) -> None:
    def tamper(name: str, body: Any) -> Any:
        if name == "balance":
            body["amount"] += 1
            body["value"] = None
        return body

    fake.tamper = tamper

    async def scenario(client: sdk.AsyncClient) -> None:
        with pytest.raises(sdk.ProofError):
            await client.balance(A, "BOND1")

    run(scenario, fake)


def test_async_errors_and_nonce_give_back() -> None:
    sent: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/nonce"):
            return httpx.Response(200, json={"party": "inv-0", "nonce": 7})
        envelopes = msgspec.json.decode(request.content)["envelopes"]
        sent.extend(msgspec.msgpack.decode(bytes.fromhex(e))[2] for e in envelopes)
        if len(sent) == 1:  # the first submit: the node is busy
            return httpx.Response(503, json={"code": "pending_full", "message": "busy"})
        results = [{"tx_id": None, "code": "ok", "message": ""} for _ in envelopes]
        return httpx.Response(200, json={"results": results})

    async def main() -> None:
        async with sdk.AsyncClient(
            URL,
            party="inv-0",
            key=key_of("inv-0"),
            chain_id=CHAIN_ID,
            transport=httpx.MockTransport(handler),
        ) as client:
            with pytest.raises(sdk.Unavailable) as caught:
                await client.submit(sdk.transfer(A, B, "BOND1", 1))
            assert caught.value.code == "pending_full"
            done = await client.submit(sdk.transfer(A, B, "BOND1", 1))
            assert done.admitted

    asyncio.run(main())
    assert sent == [7, 7]


def _sse(node: Node, heights: list[int], extra: str = "") -> bytes:
    events = [
        f"event: header\nid: {h}\ndata: {msgspec.json.encode(header_info(node, h)).decode()}\n\n"
        for h in heights
    ]
    return (": keep-alive\n\n" + extra + "".join(events)).encode()


def _stream_transport(node: Node, content: bytes, fake: FakeApi) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/stream/headers":
            assert request.headers["accept"] == "text/event-stream"
            return httpx.Response(
                200, content=content, headers={"content-type": "text/event-stream"}
            )
        return fake(request)

    return httpx.MockTransport(handler)


@pytest.fixture
def three_blocks(node: Node) -> list[int]:
    for n in (1, 2, 3):
        send(node, [("inv-0", Transfer(A, B, "BOND1", n, ""))])
    assert node.ledger.head is not None
    head = node.ledger.head.height
    return [head - 2, head - 1, head]


def test_stream_headers_sync(node: Node, fake: FakeApi, three_blocks: list[int]) -> None:
    content = _sse(node, three_blocks, extra="event: other\ndata: {}\n\n")
    transport = _stream_transport(node, content, fake)
    with sdk.Client(URL, transport=transport) as client, client.stream_headers() as headers:
        got = [h.height for h in headers]
    assert got == three_blocks


def test_stream_headers_async(node: Node, fake: FakeApi, three_blocks: list[int]) -> None:
    content = _sse(node, three_blocks)

    async def main() -> list[int]:
        transport = _stream_transport(node, content, fake)
        async with (
            sdk.AsyncClient(URL, transport=transport) as client,
            client.stream_headers() as headers,
        ):
            return [h.height async for h in headers]

    assert asyncio.run(main()) == three_blocks


def test_stream_refuses_headers_that_do_not_link(
    node: Node, fake: FakeApi, three_blocks: list[int]
) -> None:
    first, _, last = three_blocks
    gap = _sse(node, [first, last])  # not consecutive: nothing to link, accepted
    broken = _sse(node, [first]) + _sse(node, [first + 1]).replace(
        header_info(node, first + 1)["header"]["prev_hash"].encode(), b"00" * 32
    )
    transport = _stream_transport(node, gap, fake)
    with sdk.Client(URL, transport=transport) as client, client.stream_headers() as headers:
        assert [h.height for h in headers] == [first, last]
    transport = _stream_transport(node, broken, fake)
    with (
        sdk.Client(URL, transport=transport) as client,
        client.stream_headers() as headers,
        pytest.raises(sdk.ProofError),
    ):
        list(headers)


def test_async_iterators_page(fake: FakeApi, node: Node, client_for: ClientFactory) -> None:
    # headers() pages through /v1/headers; the fake has no list routes, so serve them here.
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/headers":
            start = int(request.url.params["from"])
            limit = int(request.url.params["limit"])
            assert node.ledger.head is not None
            head = node.ledger.head.height
            stop = min(start + limit, head + 1)
            items = [header_info(node, h) for h in range(start, stop)]
            return httpx.Response(
                200, json={"items": items, "next": stop if stop <= head else None}
            )
        return fake(request)

    async def main() -> list[int]:
        async with sdk.AsyncClient(URL, transport=httpx.MockTransport(handler)) as client:
            return [h.height async for h in client.headers(page_size=2)]

    assert node.ledger.head is not None
    assert asyncio.run(main()) == list(range(node.ledger.head.height + 1))
    with sdk.Client(URL, transport=httpx.MockTransport(handler)) as client:
        assert [h.height for h in client.headers(1, page_size=3)] == list(
            range(1, node.ledger.head.height + 1)
        )


def test_tasks_sharing_a_client_submit_in_nonce_order(fake: FakeApi, node: Node) -> None:
    async def slow_then_fast(request: httpx.Request) -> httpx.Response:
        # Later nonces travel faster: without the sender's lock they would overtake.
        if request.method == "POST":
            raw = bytes.fromhex(msgspec.json.decode(request.content)["envelopes"][0])
            await asyncio.sleep(0.001 * (20 - msgspec.msgpack.decode(raw)[2]))
        return fake(request)

    async def main() -> list[sdk.Submission]:
        async with sdk.AsyncClient(
            URL, party="inv-0", key=key_of("inv-0"), transport=httpx.MockTransport(slow_then_fast)
        ) as client:
            bodies = [sdk.transfer(A, B, "BOND1", n) for n in range(1, 21)]
            return list(await asyncio.gather(*(client.submit(b) for b in bodies)))

    submitted = asyncio.run(main())
    while node.pending_count:
        node.produce_block()
    receipts = [node.receipt(s.tx_id) for s in submitted if s.tx_id]
    assert [r[1].code for r in receipts if r] == [codes.OK] * 20


def test_a_stream_left_part_way_is_closed(
    node: Node, fake: FakeApi, three_blocks: list[int]
) -> None:
    content = _sse(node, three_blocks)
    transport = _stream_transport(node, content, fake)
    with sdk.Client(URL, transport=transport) as client, client.stream_headers() as headers:
        assert next(iter(headers)).height == three_blocks[0]

    async def main() -> int:
        async with (
            sdk.AsyncClient(URL, transport=_stream_transport(node, content, fake)) as client,
            client.stream_headers() as headers,
        ):
            async for info in headers:
                return info.height
        raise AssertionError("no header")

    assert asyncio.run(main()) == three_blocks[0]
