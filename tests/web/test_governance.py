"""Approving a proposal from the dashboard: the server drafts, the party signs, the server
submits. In process; the node's executor runs so that the approval commits."""

from __future__ import annotations

import httpx
import pytest
from tests.api.support import World
from tests.node.harness import send
from tests.support import GENESIS_MS, key_of
from tests.web.support import log_in

from rantai.core import codes
from rantai.core.actions import FreezeAccount, Proposal
from rantai.core.governance import LegalBasis, proposal_key
from rantai.core.ids import account_id
from rantai.core.kinds.governance import Approve, Propose
from rantai.core.tx import decode_envelope
from rantai.crypto.hashing import sha256

pytestmark = pytest.mark.anyio


def _propose(world: World) -> str:
    basis = LegalBasis("court_order", "HC-1", sha256(b"order"))
    body = Propose(FreezeAccount(account_id("inv-2")), basis, "", GENESIS_MS + 10**9, 0)
    assert send(world.node, [("SC", body)]) == [codes.OK]
    found = [k for k in world.node.ledger.values if k.startswith("proposal/")]
    assert len(found) == 1
    return found[0].removeprefix("proposal/")


async def _draft(client: httpx.AsyncClient, proposal: str) -> dict[str, str]:
    answer = await client.post("/governance/drafts", json={"proposal": proposal, "note": "ok"})
    assert answer.status_code == 200, answer.text
    data: dict[str, str] = answer.json()
    return data


async def test_an_agency_approves_with_its_own_signature(
    client: httpx.AsyncClient, world: World
) -> None:
    proposal = _propose(world)
    world.node.start()
    await log_in(client, "BNM")
    page = (await client.get("/governance")).text
    assert f'data-proposal="{proposal}"' in page and "1 of 2: SC" in page

    draft = await _draft(client, proposal)
    signature = key_of("BNM").sign(bytes.fromhex(draft["signing_bytes"]))
    done = await client.post(
        "/governance/submit", json={"draft": draft["draft"], "signature": signature.hex()}
    )
    assert done.status_code == 200 and done.json()["code"] == codes.OK, done.text
    record = world.node.store.get_tx(bytes.fromhex(done.json()["tx_id"]))
    assert record is not None
    envelope, body = decode_envelope(record.envelope)
    assert envelope.sender == "BNM" and envelope.public_key == key_of("BNM").public_key
    assert body == Approve(proposal, "ok")
    executed: Proposal = world.node.ledger.values[proposal_key(proposal)]
    assert executed.status == "executed" and executed.approvals == ("SC", "BNM")

    # A draft is submitted once.
    again = await client.post(
        "/governance/submit", json={"draft": draft["draft"], "signature": signature.hex()}
    )
    assert again.status_code == 404


async def test_a_wrong_signature_is_refused_before_submission(
    client: httpx.AsyncClient, world: World
) -> None:
    proposal = _propose(world)
    await log_in(client, "BNM")
    draft = await _draft(client, proposal)
    forged = key_of("SC").sign(bytes.fromhex(draft["signing_bytes"]))
    pending = world.node.pending_count
    answer = await client.post(
        "/governance/submit", json={"draft": draft["draft"], "signature": forged.hex()}
    )
    assert answer.status_code == 422 and answer.json()["code"] == "bad_signature"
    assert world.node.pending_count == pending


@pytest.mark.parametrize("party", ["inv-0", "issuer"])
async def test_only_agencies_draft_approvals(
    client: httpx.AsyncClient, world: World, party: str
) -> None:
    proposal = _propose(world)
    await log_in(client, party)
    answer = await client.post("/governance/drafts", json={"proposal": proposal})
    assert answer.status_code == 403
    assert (await client.get("/governance")).status_code == 403


async def test_drafting_needs_a_session_and_a_proposal(client: httpx.AsyncClient) -> None:
    assert (
        await client.post("/governance/drafts", json={"proposal": "ab" * 32})
    ).status_code == 401
    await log_in(client, "SC")
    answer = await client.post("/governance/drafts", json={"proposal": "ab" * 32})
    assert answer.status_code == 404
