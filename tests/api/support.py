"""An API over a test node, and a small signed-read client (the SDK has the real one).

The world: the harness market (issuer with bond BOND1; investors inv-0, inv-1, inv-2 holding
it), plus a second issuer with bond BOND2 and a bank licensed by the central bank with cash
token MYR.BANK, held by inv-0. One transfer of BOND1 from inv-0 to inv-1 is the transaction
the authorization tests read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from tests.node.harness import market, new_node, send
from tests.support import CHAIN_ID, GENESIS_MS, key_of

from rantai.api import create_app
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import GrantRole, RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.readauth import read_signing_bytes
from rantai.core.records import nonce_key
from rantai.core.tx import build_envelope
from rantai.crypto.keys import SigningKey
from rantai.node.node import Node

BASE_URL = "http://rantai.test"
OWNER, COUNTERPARTY, OTHER = "inv-0", "inv-1", "inv-2"


class ApiClock:
    """The API's clock, fixed unless a test moves it."""

    def __init__(self, now_ms: int = GENESIS_MS + 3_600_000) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms


@dataclass
class World:
    node: Node
    clock: ApiClock
    transfer_tx: str  # hex id of the BOND1 transfer inv-0 -> inv-1


def build_world(data: Path) -> World:
    node = new_node(data)
    market(node)
    org = "organisation"
    assert set(
        send(
            node,
            [
                (
                    "registrar",
                    RegisterParty("issuer2", org, "Issuer 2", (key_of("issuer2").public_key,), ()),
                ),
                ("registrar", RegisterParty("bank", org, "Bank", (key_of("bank").public_key,), ())),
            ],
        )
    ) == {codes.OK}
    assert set(
        send(
            node,
            [
                ("registrar", GrantRole("issuer2", "issuer")),
                ("BNM", GrantRole("bank", "cash_issuer")),
            ],
        )
    ) == {codes.OK}
    created = send(
        node,
        [
            ("issuer2", CreateInstrument("BOND2", "bond", "Bond 2", 2, 10**12)),
            ("bank", CreateInstrument("MYR.BANK", "cash", "Ringgit deposit", 2, 10**15)),
        ],
    )
    assert set(created) == {codes.OK}
    minted = send(node, [("bank", Mint("MYR.BANK", account_id(OWNER), 50_000, "deposit"))])
    assert minted == [codes.OK]
    tx = envelope(
        node, OWNER, Transfer(account_id(OWNER), account_id(COUNTERPARTY), "BOND1", 7, "")
    )
    admitted = node.submit([tx])
    assert admitted[0].code == codes.OK and admitted[0].tx_id is not None
    node.produce_block()
    return World(node, ApiClock(), admitted[0].tx_id.hex())


def envelope(node: Node, sender: str, body: Any, nonce: int | None = None) -> bytes:
    if nonce is None:
        nonce = node.ledger.values.get(nonce_key(sender), 0)
    return build_envelope(CHAIN_ID, sender, nonce, key_of(sender), body)


@contextlib.asynccontextmanager
async def client_for(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client, with the app's lifespan running around it."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client,
    ):
        yield client


def app_for(world: World, **kwargs: Any) -> FastAPI:
    return create_app(world.node, clock_ms=world.clock, **kwargs)


def signed_headers(
    party: str,
    target: str,
    now_ms: int,
    *,
    method: str = "GET",
    key: SigningKey | None = None,
    nonce: bytes | None = None,
    chain_id: str = CHAIN_ID,
    timestamp_ms: int | None = None,
    body: bytes = b"",
) -> dict[str, str]:
    """The ``Rantai-*`` headers for reading ``target`` (path and query) as ``party``."""
    url = httpx.URL(BASE_URL + target)
    path = url.raw_path.split(b"?", 1)[0].decode()
    query = url.query.decode()
    key = key or key_of(party)
    nonce = nonce or os.urandom(16)
    stamp = now_ms if timestamp_ms is None else timestamp_ms
    message = read_signing_bytes(chain_id, method, path, query, body, stamp, nonce, party)
    return {
        "Rantai-Party": party,
        "Rantai-Key": key.public_key.hex(),
        "Rantai-Timestamp": str(stamp),
        "Rantai-Nonce": nonce.hex(),
        "Rantai-Signature": key.sign(message).hex(),
    }


async def read_as(
    client: httpx.AsyncClient, world: World, party: str | None, target: str
) -> httpx.Response:
    """GET ``target`` signed by ``party`` (``None``: unsigned)."""
    headers = {} if party is None else signed_headers(party, target, world.clock.now_ms)
    return await client.get(target, headers=headers)


def ledger_fingerprint(node: Node) -> tuple[bytes, bytes, int]:
    """Head hash, state root and pending count: unchanged by anything a bad request does."""
    return node.ledger.head_hash, node.ledger.tree.root, node.pending_count


# --- Server-Sent Events, driven over ASGI directly ----------------------------------------


class SseClient:
    """Runs one GET of the stream against the app; collects the body as it comes."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.body = b""
        self.status = 0
        self.start_headers: list[tuple[bytes, bytes]] = []
        self.more = asyncio.Event()
        self._disconnect = asyncio.Event()
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        self.scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/stream/headers",
            "raw_path": b"/v1/stream/headers",
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 1),
            "server": ("rantai.test", 80),
        }

    async def receive(self) -> dict[str, Any]:
        await self._disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.start_headers = [(bytes(k), bytes(v)) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            self.body += message.get("body", b"")
            self.more.set()

    async def until(self, text: bytes, timeout_s: float = 5.0) -> None:
        async with asyncio.timeout(timeout_s):
            while text not in self.body:
                self.more.clear()
                await self.more.wait()

    def events(self) -> list[tuple[int, dict[str, Any]]]:
        found = []
        for block in self.body.split(b"\n\n"):
            lines = dict(line.split(b": ", 1) for line in block.split(b"\n") if line[:1].isalpha())
            if lines.get(b"event") == b"header":
                found.append((int(lines[b"id"]), json.loads(lines[b"data"])))
        return found

    def disconnect(self) -> None:
        self._disconnect.set()
