"""Every signed-read route against every kind of reader, exactly as docs/api.md says; and
every agency read on the hash-chained access log."""

from __future__ import annotations

import itertools

import httpx
import pytest
from tests.api.support import COUNTERPARTY, OTHER, OWNER, World, read_as

from rantai.node.accesslog import check_chain
from rantai.node.audit import audit
from rantai.store.base import AccessLogRecord

pytestmark = pytest.mark.anyio

# The readers: investor owner, other investor, issuer of BOND1, other issuer, registrar,
# each agency, the operator, and nobody (no signature).
READERS = (OWNER, OTHER, "issuer", "issuer2", "registrar", "SC", "BNM", "MOD", "operator", None)
AGENCIES = {"SC", "BNM", "MOD"}

# route -> the readers allowed; everyone else gets 403, the unsigned 401.
MATRIX: dict[str, set[str]] = {
    f"/v1/parties/{OWNER}": {OWNER, "registrar", "SC", "BNM", "MOD"},
    f"/v1/parties/{OWNER}/nonce": {OWNER, "registrar", "SC", "BNM", "MOD"},
    "/v1/parties?limit=5": {"registrar", "SC", "BNM", "MOD"},
    # issuers may list; they see only their own instruments (checked below)
    f"/v1/accounts/{OWNER}:main/balances": {OWNER, "issuer", "issuer2", "SC", "BNM", "MOD"},
    f"/v1/balances/{OWNER}:main/BOND1": {OWNER, "issuer", "SC"},
    f"/v1/balances/{OWNER}:main/MYR.BANK": {OWNER, "BNM"},
    "/v1/instruments/BOND1/holders": {"issuer", "SC"},
    "/v1/instruments/MYR.BANK/holders": {"BNM"},
    "/v1/instruments/BOND1/stats": {"SC", "BNM", "MOD"},
    "/v1/transactions/{transfer}": {OWNER, "issuer", "SC"},
    "/v1/blocks/head": {"SC", "BNM", "MOD", "operator"},
    "/v1/access-log": {"SC", "BNM", "MOD"},
}

# What each allowed reader sees in inv-0's balances (inv-0 holds BOND1 and MYR.BANK).
VISIBLE_POSITIONS = {
    OWNER: {"BOND1", "MYR.BANK"},
    "issuer": {"BOND1"},
    "issuer2": set(),
    "SC": {"BOND1"},
    "BNM": {"MYR.BANK"},
    "MOD": set(),
}


def _target(route: str, world: World) -> str:
    return route.replace("{transfer}", world.transfer_tx)


def _expected(route: str, reader: str | None) -> tuple[int, str | None]:
    if reader is None:
        return 401, "unauthenticated"
    return (200, None) if reader in MATRIX[route] else (403, "forbidden")


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_authorization_matrix(client: httpx.AsyncClient, world: World, route: str) -> None:
    wrong = []
    for reader in READERS:
        response = await read_as(client, world, reader, _target(route, world))
        status, code = _expected(route, reader)
        got_code = response.json().get("code") if response.status_code != 200 else None
        if (response.status_code, got_code) != (status, code):
            wrong.append(f"{reader}: expected {status} {code}, got {response.text[:200]}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("reader", sorted(VISIBLE_POSITIONS))
async def test_balances_listing_hides_what_is_out_of_scope(
    client: httpx.AsyncClient, world: World, reader: str
) -> None:
    response = await read_as(client, world, reader, f"/v1/accounts/{OWNER}:main/balances")
    seen = {item["instrument"] for item in response.json()["items"]}
    assert seen == VISIBLE_POSITIONS[reader]


async def test_counterparty_named_in_events_reads_the_transaction(
    client: httpx.AsyncClient, world: World
) -> None:
    response = await read_as(client, world, COUNTERPARTY, f"/v1/transactions/{world.transfer_tx}")
    assert response.status_code == 200
    assert response.json()["receipt"]["events"][0]["name"] == "transfer"


async def test_identity_transactions_are_visible_to_agencies_with_a_scope(
    client: httpx.AsyncClient, world: World
) -> None:
    # Block 1 registers the investors: it names no instrument.
    block = (await read_as(client, world, "SC", "/v1/blocks/1")).json()
    tx = f"/v1/transactions/{block['txs'][0]['tx_id']}"
    assert (await read_as(client, world, "SC", tx)).status_code == 200
    assert (await read_as(client, world, "BNM", tx)).status_code == 200
    assert (await read_as(client, world, "MOD", tx)).status_code == 403
    assert (await read_as(client, world, "registrar", tx)).status_code == 200  # the sender
    assert (await read_as(client, world, OWNER, tx)).status_code == 200  # named: registered
    assert (await read_as(client, world, OTHER, tx)).status_code == 403


async def test_every_agency_read_is_on_the_access_log_with_an_intact_chain(
    client: httpx.AsyncClient, world: World
) -> None:
    expected: list[tuple[str, str, int]] = []
    for route in sorted(MATRIX):
        target = _target(route, world)
        path = target.partition("?")[0]
        for reader in READERS:
            response = await read_as(client, world, reader, target)
            if reader in AGENCIES and path != "/v1/access-log":
                expected.append((reader, path, response.status_code))
    # One more agency read, refused: still logged.
    refused = await read_as(client, world, "MOD", "/v1/instruments/BOND1/holders")
    assert refused.status_code == 403
    expected.append(("MOD", "/v1/instruments/BOND1/holders", 403))

    items: list[dict[str, object]] = []
    after = 0
    while True:
        page = (await read_as(client, world, "SC", f"/v1/access-log?after={after}&limit=7")).json()
        items.extend(page["items"])
        if page["next"] is None:
            break
        after = page["next"]
    # The access-log reads themselves are logged too, after their own answers.
    logged = [(i["party"], i["path"], i["status"]) for i in items if i["path"] != "/v1/access-log"]
    assert logged == expected
    assert {i["party"] for i in items} <= AGENCIES
    records = [
        AccessLogRecord(
            int(i["seq"]),  # type: ignore[arg-type]
            int(i["at_ms"]),  # type: ignore[arg-type]
            str(i["party"]),
            str(i["method"]),
            str(i["path"]),
            str(i["query"]),
            int(i["status"]),  # type: ignore[arg-type]
            bytes.fromhex(str(i["hash"])),
        )
        for i in items
    ]
    assert check_chain(records)[0] == len(records)
    for previous, item in itertools.pairwise(items):
        assert item["prev_hash"] == previous["hash"]
    # The store's own copy passes the auditor's check.
    report = audit(world.node.store)
    assert report.ok, report.failure
    assert report.access_log_entries >= len(records)
