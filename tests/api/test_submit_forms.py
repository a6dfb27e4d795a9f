"""The submit route's two response forms: JSON, and MessagePack when ``Accept`` asks for it.

Both carry the same results and receipts; the MessagePack receipt is the receipt's canonical
encoding, the bytes the store keeps. Which form an ``Accept`` header gets is defined for
every header, including ones that name neither form or cannot be parsed (JSON, never 406).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from tests.api.support import (
    COUNTERPARTY,
    OTHER,
    OWNER,
    World,
    app_for,
    build_world,
    client_for,
    envelope,
    ledger_fingerprint,
)

from rantai.api import api_context
from rantai.api.submit import PackedResponse
from rantai.core.encoding import encode
from rantai.core.ids import account_id
from rantai.core.jsonform import to_json
from rantai.core.kinds.transfers import Transfer

pytestmark = pytest.mark.anyio

A, B, C = account_id(OWNER), account_id(COUNTERPARTY), account_id(OTHER)
MSGPACK = "application/msgpack"
NOT_AN_ENVELOPE = b"\x00"


async def test_msgpack_and_json_answers_carry_the_same_receipts(tmp_path: Path) -> None:
    # Two identical chains take the same envelopes: one answers in JSON, one in MessagePack.
    worlds = [build_world(tmp_path / "json"), build_world(tmp_path / "msgpack")]
    try:
        assert ledger_fingerprint(worlds[0].node) == ledger_fingerprint(worlds[1].node)
        node = worlds[0].node
        raws = [
            envelope(node, OWNER, Transfer(A, B, "BOND1", 5, "one"), nonce=1),
            envelope(node, OWNER, Transfer(A, C, "BOND1", 10**12, "too much"), nonce=2),
            NOT_AN_ENVELOPE,
        ]
        for world in worlds:
            world.node.start()
        path = "/v1/transactions?wait=true&timeout_ms=30000"
        async with client_for(app_for(worlds[0])) as client:
            as_json = await client.post(path, json={"envelopes": [r.hex() for r in raws]})
        async with client_for(app_for(worlds[1])) as client:
            packed = await client.post(
                path,
                content=msgspec.msgpack.encode(raws),
                headers={"content-type": MSGPACK, "accept": MSGPACK},
            )
        stored_receipts = {
            record.receipt
            for result in packed_ids(packed.content)
            if (record := worlds[1].node.store.get_tx(result)) is not None
        }
    finally:
        for world in worlds:
            world.node.stop()
            world.node.store.close()
    assert as_json.headers["content-type"] == "application/json"
    assert packed.status_code == 200 and packed.headers["content-type"] == MSGPACK
    expected = as_json.json()["results"]
    assert [r["code"] for r in expected] == ["ok", "ok", "malformed"]
    assert [r["receipt"] and r["receipt"]["code"] for r in expected] == [
        "ok",
        "insufficient_balance",
        None,
    ]
    results = msgspec.msgpack.decode(packed.content, type=PackedResponse).results
    assert [_as_json(r) for r in results] == expected
    for result in results:
        if result.receipt is not None:  # canonical: the bytes the block committed to
            assert result.tx_id is not None and encode(result.receipt) in stored_receipts
    generic = msgspec.msgpack.decode(packed.content)
    assert list(generic) == ["results"]
    assert list(generic["results"][0]) == ["code", "height", "message", "receipt", "tx_id"]
    assert isinstance(generic["results"][0]["tx_id"], bytes)
    assert isinstance(generic["results"][0]["receipt"], list)  # a record is an array


def packed_ids(body: bytes) -> list[bytes]:
    results = msgspec.msgpack.decode(body, type=PackedResponse).results
    return [r.tx_id for r in results if r.tx_id is not None]


def _as_json(result: Any) -> dict[str, Any]:
    return {
        "tx_id": None if result.tx_id is None else result.tx_id.hex(),
        "code": result.code,
        "message": result.message,
        "height": result.height,
        "receipt": None if result.receipt is None else to_json(result.receipt),
    }


ACCEPTS = [
    (None, "json"),
    ("", "json"),
    (MSGPACK, "msgpack"),
    ("application/x-msgpack", "msgpack"),
    ("application/vnd.msgpack", "msgpack"),
    ("Application/MsgPack", "msgpack"),
    ("application/msgpack; charset=binary", "msgpack"),
    ("application/json", "json"),
    ("application/json, application/msgpack", "json"),  # equal q: the first named
    ("application/msgpack, application/json", "msgpack"),
    ("application/msgpack;q=0, application/json", "json"),
    ("application/msgpack;q=0", "json"),  # MessagePack refused: the default
    ("application/json;q=0, application/msgpack", "msgpack"),
    ("application/json;q=0.5, application/msgpack", "msgpack"),  # the higher q
    ("application/msgpack;q=0.4, application/json;q=0.5", "json"),
    ("application/msgpack;q=abc", "json"),  # an unreadable q counts as 0
    ("text/html", "json"),  # names neither: the default
    ("*/*", "json"),
    ("application/*", "json"),
    (",;;q=,/", "json"),  # cannot be parsed: the default
]


@pytest.mark.parametrize(("accept", "form"), ACCEPTS)
async def test_the_accept_header_picks_the_form(
    client: httpx.AsyncClient, accept: str | None, form: str
) -> None:
    headers = {"content-type": MSGPACK}
    if accept is not None:
        headers["accept"] = accept
    # A refused envelope: a result per envelope (200), and nothing admitted.
    answer = await client.post(
        "/v1/transactions", content=msgspec.msgpack.encode([NOT_AN_ENVELOPE]), headers=headers
    )
    assert answer.status_code == 200
    if form == "json":
        assert answer.headers["content-type"] == "application/json"
        [result] = answer.json()["results"]
        assert result["code"] == "malformed" and result["tx_id"] is None
    else:
        assert answer.headers["content-type"] == MSGPACK
        [packed] = msgspec.msgpack.decode(answer.content, type=PackedResponse).results
        assert packed.code == "malformed" and packed.tx_id is None and packed.receipt is None


async def test_errors_are_json_whatever_the_accept_header(client: httpx.AsyncClient) -> None:
    answer = await client.post(
        "/v1/transactions",
        content=msgspec.msgpack.encode([]),
        headers={"content-type": MSGPACK, "accept": MSGPACK},
    )
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["code"] == "too_many_items"


async def test_a_wait_ends_with_the_last_admitted_receipt_not_the_timeout(
    client: httpx.AsyncClient, world: World
) -> None:
    """Refused envelopes are not waited for, nor are receipts left behind in the feed."""
    node = world.node
    raws = [
        envelope(node, OWNER, Transfer(A, B, "BOND1", 1, ""), nonce=1),
        NOT_AN_ENVELOPE,
        envelope(node, OWNER, Transfer(A, C, "BOND1", 2, ""), nonce=2),
    ]
    node.start()
    started = time.monotonic()
    answer = await client.post(
        "/v1/transactions?wait=true&timeout_ms=60000",
        content=msgspec.msgpack.encode(raws),
        headers={"content-type": MSGPACK, "accept": MSGPACK},
    )
    elapsed = time.monotonic() - started
    results = msgspec.msgpack.decode(answer.content, type=PackedResponse).results
    assert [r.receipt and r.receipt.code for r in results] == ["ok", None, "ok"]
    assert elapsed < 30  # not the 60 s timeout
    assert api_context(client._transport.app).feed.waiting == 0  # type: ignore[attr-defined]
