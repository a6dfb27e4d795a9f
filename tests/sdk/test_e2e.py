"""End to end: the SDK against the real API (``create_app``) over a running node, in-process.

``AsyncClient`` runs over ``httpx.ASGITransport``. ``Client`` is blocking, and the ASGI app is
async, so it runs over ``PortalTransport``: each request is handed to an event loop on
another thread (anyio's blocking portal). No network either way.

The header stream is not tested here: ``ASGITransport`` collects a whole response before it
returns it, and the stream never ends (its parsing is tested in test_async.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
import pytest
from starlette.types import ASGIApp
from tests.sdk.conftest import CHAIN_ID, URL
from tests.support import key_of

from rantai import sdk
from rantai.api import create_app
from rantai.core import codes
from rantai.core.kinds.transfers import TravelTransfer
from rantai.core.tx import build_envelope
from rantai.crypto.hashing import sha256
from rantai.node.node import Node

A, B = "inv-0:main", "inv-1:main"
NONCE_ROUTE = "/v1/parties/{party_id}/nonce"


class PortalTransport(httpx.BaseTransport):
    """A blocking transport that runs an ASGI app on an event loop in another thread."""

    def __init__(self, app: ASGIApp, portal: anyio.from_thread.BlockingPortal) -> None:
        self._asgi = httpx.ASGITransport(app=app)
        self._portal = portal

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            response = await self._asgi.handle_async_request(request)
            content = await response.aread()
            return httpx.Response(response.status_code, headers=response.headers, content=content)

        return self._portal.call(send)


@pytest.fixture
def running(node: Node) -> Node:
    node.start()  # the conftest fixture stops it
    return node


@pytest.fixture
def app(running: Node) -> Any:
    return create_app(running)


@pytest.fixture
def signing_app(app: Any) -> Any:
    """The app, for tests where the SDK signs: they need the nonce route (docs/api.md).

    Looked up in the OpenAPI paths: ``app.routes`` lists an included router's routes only
    nested inside it. The route is part of the API now, so its absence is a failure.
    """
    if "get" not in app.openapi()["paths"].get(NONCE_ROUTE, {}):
        pytest.fail(f"the API does not serve GET {NONCE_ROUTE}; the SDK signs with it")
    return app


@pytest.fixture
def portal() -> Iterator[anyio.from_thread.BlockingPortal]:
    with anyio.from_thread.start_blocking_portal() as portal:
        yield portal


def _client(app: Any, portal: anyio.from_thread.BlockingPortal, party: str | None) -> sdk.Client:
    key = None if party is None else key_of(party)
    return sdk.Client(URL, party=party, key=key, transport=PortalTransport(app, portal))


def _async_client(app: Any, party: str | None) -> sdk.AsyncClient:
    key = None if party is None else key_of(party)
    return sdk.AsyncClient(URL, party=party, key=key, transport=httpx.ASGITransport(app=app))


def test_sync_envelopes_signed_elsewhere_wait_then_proofs(
    app: Any, portal: anyio.from_thread.BlockingPortal, running: Node
) -> None:
    """Needs no nonce route: the envelopes are signed here with the nonces the node holds."""
    bodies = [sdk.transfer(A, B, "BOND1", 300, "e2e"), sdk.transfer(A, B, "BOND1", 200)]
    raws = [build_envelope(CHAIN_ID, "inv-0", n, key_of("inv-0"), b) for n, b in enumerate(bodies)]
    with _client(app, portal, "inv-0") as client:
        done = client.submit_envelopes(raws, wait=True)
        assert [d.code for d in done] == [codes.OK, codes.OK]
        assert all(d.ok and d.height is not None for d in done), done
        balance = client.balance(A, "BOND1")  # checked against the state root, or ProofError
        assert balance.amount == 1_000_000 - 500
        assert done[1].tx_id is not None
        tx = client.transaction(done[1].tx_id)  # both inclusion proofs checked
        assert tx is not None and tx.body == bodies[1] and tx.nonce == 1
        assert tx.receipt == done[1].receipt


def test_sync_submit_wait_then_proven_balance_and_transaction(
    signing_app: Any, portal: anyio.from_thread.BlockingPortal, running: Node
) -> None:
    with _client(signing_app, portal, "inv-0") as client:
        assert client.health().chain_id == CHAIN_ID
        done = client.submit(
            [sdk.transfer(A, B, "BOND1", 300, "e2e"), sdk.transfer(A, B, "BOND1", 200)], wait=True
        )
        assert [d.code for d in done] == [codes.OK, codes.OK]
        assert all(d.ok and d.height is not None for d in done), done

        balance = client.balance(A, "BOND1")  # checked against the state root, or ProofError
        assert balance.amount == 1_000_000 - 500
        assert balance.height >= (done[1].height or 0)

        assert done[0].tx_id is not None
        tx = client.transaction(done[0].tx_id)  # both inclusion proofs checked
        assert tx is not None
        assert tx.tx_id == sha256(done[0].envelope)
        assert (tx.sender, tx.nonce, tx.height) == ("inv-0", 0, done[0].height)
        assert tx.body == sdk.transfer(A, B, "BOND1", 300, "e2e")
        assert tx.receipt == done[0].receipt

        assert client.nonce() == 2
        head = client.header()
        assert head is not None and head.height == running.ledger.head.height  # type: ignore[union-attr]


def test_sync_past_balance_headers_and_instruments(
    signing_app: Any, portal: anyio.from_thread.BlockingPortal
) -> None:
    with _client(signing_app, portal, "inv-0") as client:
        before = client.balance(A, "BOND1")
        assert client.submit(sdk.transfer(A, B, "BOND1", 1), wait=True).ok
        assert client.balance(A, "BOND1").amount == before.amount - 1
        past = client.balance(A, "BOND1", height=before.height)
        assert (past.amount, past.height) == (before.amount, before.height)

        heights = [h.height for h in client.headers(page_size=2)]  # each linked to the last
        assert heights == list(range(len(heights)))
        assert heights[-1] >= before.height + 1

        assert [i.code for i in client.instruments()] == ["BOND1"]
        bond = client.instrument("BOND1")
        assert bond is not None and bond.supply == 3 * 1_000_000
        assert client.instrument("NOPE") is None

        me = client.party("inv-0")
        assert me is not None and me.keys == (key_of("inv-0").public_key,)
        assert client.balances(A).amounts == {"BOND1": before.amount - 1}


def test_sync_reads_outside_scope_and_unsigned(
    app: Any, portal: anyio.from_thread.BlockingPortal
) -> None:
    with _client(app, portal, "inv-0") as client:
        with pytest.raises(sdk.Forbidden) as caught:
            client.balance(B, "BOND1")
        assert caught.value.code == "forbidden"
        with pytest.raises(sdk.Forbidden):
            list(client.holders("BOND1"))
    with _client(app, portal, None) as anonymous:
        with pytest.raises(sdk.Unauthenticated):
            anonymous.balance(A, "BOND1")
        assert anonymous.header(0) is not None  # public reads need no key
    with _client(app, portal, "issuer") as issuer:
        holders = list(issuer.holders("BOND1", page_size=2))
        assert sorted(h.account for h in holders) == ["inv-0:main", "inv-1:main", "inv-2:main"]


def test_async_submit_wait_then_proven_balance_and_transaction(signing_app: Any) -> None:
    async def main() -> None:
        async with _async_client(signing_app, "inv-1") as client:
            done = await client.submit(sdk.transfer(B, A, "BOND1", 250), wait=True)
            assert done.ok, done
            assert (await client.balance(B, "BOND1")).amount == 1_000_000 - 250
            assert done.tx_id is not None
            tx = await client.transaction(done.tx_id)
            assert tx is not None and tx.receipt.code == codes.OK
            assert (await client.wait([done.tx_id], timeout_s=5)).keys() == {done.tx_id}
            rejected = await client.submit(sdk.transfer(B, A, "BOND1", 10**12), wait=True)
            assert rejected.admitted and rejected.receipt is not None
            assert rejected.receipt.code == codes.INSUFFICIENT_BALANCE
            assert await client.nonce() == 2
            heights = [h.height async for h in client.headers()]
            assert heights == list(range(len(heights)))

    asyncio.run(main())


def test_async_envelopes_wait_proofs_and_a_replay_refused(app: Any) -> None:
    raw = build_envelope(CHAIN_ID, "inv-1", 0, key_of("inv-1"), sdk.transfer(B, A, "BOND1", 250))

    async def main() -> None:
        async with _async_client(app, "inv-1") as client:
            (done,) = await client.submit_envelopes([raw], wait=True)
            assert done.ok, done
            assert (await client.balance(B, "BOND1")).amount == 1_000_000 - 250
            assert done.tx_id is not None
            tx = await client.transaction(done.tx_id)
            assert tx is not None and tx.receipt.code == codes.OK
            assert (await client.wait([done.tx_id], timeout_s=5)).keys() == {done.tx_id}
            (again,) = await client.submit_envelopes([raw], wait=True)
            assert again.code == codes.BAD_NONCE and not again.admitted
            heights = [h.height async for h in client.headers()]
            assert heights == list(range(len(heights)))

    asyncio.run(main())


def test_sync_travel_transfer_sealed_to_readers_the_api_names(
    signing_app: Any, portal: anyio.from_thread.BlockingPortal
) -> None:
    """The recipe of docs/sdk.md: readers from /v1/chain and /v1/parties, sealed here, opened
    from the proven transaction by an agency.

    The party records are read by the registrar: an investor may read only its own
    (docs/api.md), so today it needs its institution to name the readers' keys.
    """
    with _client(signing_app, portal, "registrar") as registrar:
        agencies = {a.party for a in registrar.chain().config.agencies}
        owners = [registrar.party(p) for p in ("inv-0", "inv-1")]
        registrars = {o.registered_by for o in owners if o is not None}
        readers = {}
        for reader in sorted(agencies | registrars):
            party = registrar.party(reader)
            assert party is not None
            readers[reader] = party.keys[0]
    with _client(signing_app, portal, "inv-0") as client:
        with pytest.raises(sdk.Forbidden):
            client.party("inv-1")
        payload = sdk.travel_payload(
            originator_name="Investor 0",
            originator_account=A,
            originator_id="900101-14-5678",
            beneficiary_name="Investor 1",
            beneficiary_account=B,
        )
        body = sdk.travel_transfer(A, B, "BOND1", 100, travel=sdk.seal_travel(payload, readers))
        done = client.submit(body, wait=True)
        assert done.ok and done.tx_id is not None, done
        tx = client.transaction(done.tx_id)  # proven
        assert tx is not None and isinstance(tx.body, TravelTransfer)
        agency = sorted(agencies)[0]
        assert sdk.open_travel(tx.body.travel, agency, key_of(agency)) == payload
        with pytest.raises(sdk.TravelError):
            sdk.open_travel(tx.body.travel, "inv-0", key_of("inv-0"))
