"""Dry runs over HTTP: "would this transfer pass?" and "which holders would fail these rules?"."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.api.support import COUNTERPARTY, OTHER, OWNER, World, ledger_fingerprint, signed_headers

from rantai.core.ids import account_id

pytestmark = pytest.mark.anyio


async def post_as(
    client: httpx.AsyncClient, world: World, party: str, target: str, payload: object
) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = signed_headers(party, target, world.clock.now_ms, method="POST", body=body)
    headers["Content-Type"] = "application/json"
    return await client.post(target, content=body, headers=headers)


def transfer(amount: int) -> dict[str, object]:
    return {
        "kind": "transfer", "source": account_id(OWNER), "destination": account_id(COUNTERPARTY),
        "instrument": "BOND1", "amount": amount, "memo": "",
    }  # fmt: skip


async def test_explain_names_every_failing_check_and_changes_nothing(
    client: httpx.AsyncClient, world: World
) -> None:
    before = ledger_fingerprint(world.node)
    ok = await post_as(client, world, OWNER, "/v1/explain", {"sender": OWNER, "body": transfer(5)})
    assert ok.status_code == 200, ok.text
    assert ok.json()["passes"] is True and ok.json()["findings"] == []

    too_much = {"sender": OWNER, "body": transfer(10**12)}
    refused = await post_as(client, world, "SC", "/v1/explain", too_much)
    assert refused.status_code == 200, refused.text
    assert refused.json()["passes"] is False
    assert [f["code"] for f in refused.json()["findings"]] == ["insufficient_balance"]
    assert ledger_fingerprint(world.node) == before


async def test_explain_is_for_the_sender_or_an_agency(
    client: httpx.AsyncClient, world: World
) -> None:
    answer = await post_as(
        client, world, OTHER, "/v1/explain", {"sender": OWNER, "body": transfer(1)}
    )
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"


async def test_explain_bad_bodies_are_400(client: httpx.AsyncClient, world: World) -> None:
    for body in ({"kind": "register_party"}, {"kind": "transfer"}, {"kind": "steal"}):
        answer = await post_as(client, world, OWNER, "/v1/explain", {"sender": OWNER, "body": body})
        assert answer.status_code == 400, (body, answer.text)
    zero = {"sender": OWNER, "body": transfer(0)}  # well formed JSON: the form check is a finding
    answer = await post_as(client, world, OWNER, "/v1/explain", zero)
    assert [f["code"] for f in answer.json()["findings"]] == ["bad_amount"]


async def test_the_body_is_signed(client: httpx.AsyncClient, world: World) -> None:
    body = json.dumps({"sender": OWNER, "body": transfer(5)}).encode()
    headers = signed_headers(OWNER, "/v1/explain", world.clock.now_ms, method="POST", body=body)
    headers["Content-Type"] = "application/json"
    altered = body.replace(b'"amount": 5', b'"amount": 6')
    answer = await client.post("/v1/explain", content=altered, headers=headers)
    assert answer.status_code == 401 and answer.json()["code"] == "unauthenticated"


async def test_what_if_lists_holders_who_would_fail(
    client: httpx.AsyncClient, world: World
) -> None:
    rules = {
        "rules": [{"kind": "eligibility", "topics": ["kyc"], "kyc_level_min": 1,
                   "sender": True, "receiver": True}],
        "terms": {"shariah_certified": False, "issuer_freeze": False, "issuers": []},
    }  # fmt: skip
    before = ledger_fingerprint(world.node)
    answer = await post_as(client, world, "issuer", "/v1/instruments/BOND1/what-if", rules)
    assert answer.status_code == 200, answer.text
    failing = {f["party"] for f in answer.json()["findings"]}
    assert {OWNER, COUNTERPARTY, OTHER} <= failing  # nobody holds a kyc claim
    assert ledger_fingerprint(world.node) == before
    refused = await post_as(client, world, "issuer2", "/v1/instruments/BOND1/what-if", rules)
    assert refused.status_code == 403
    unknown = await post_as(client, world, "SC", "/v1/instruments/NOPE/what-if", rules)
    assert unknown.status_code == 404
