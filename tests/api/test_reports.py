"""Report routes: the issuer and agencies in scope read registers and concentration."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from tests.api.support import COUNTERPARTY, OTHER, OWNER, World, read_as

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
