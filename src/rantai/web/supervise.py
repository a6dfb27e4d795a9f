"""The agencies' pages: the alerts queue and governance.

Alerts are reviewed through the supervisor's workflow, the same call ``POST
/v1/alerts/{id}/status`` makes, with the same refusals. Governance approvals are
transactions, and the dashboard never signs for anybody: the server builds the unsigned
``approve`` body and the exact bytes to sign (``rantai.core.tx.signing_bytes``), keeps them
as a draft of the session, the browser signs with the key it holds in ``sessionStorage``, and
the server puts the envelope together from the draft and the signature and submits it like
any other (the node checks the signature again at admission).
"""

from __future__ import annotations

import binascii
from typing import Annotated, Any, Final
from urllib.parse import parse_qs, urlencode

import msgspec
from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from rantai.api.errors import FORBIDDEN, NOT_FOUND, ApiError, JsonResponse
from rantai.core import codes
from rantai.core.actions import Proposal
from rantai.core.encoding import encode
from rantai.core.governance import threshold_of
from rantai.core.jsonform import to_json
from rantai.core.kinds.governance import Approve
from rantai.core.records import nonce_key
from rantai.core.state import StateView
from rantai.core.tx import Envelope, signing_bytes
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import verify
from rantai.store.base import INT64_MAX
from rantai.supervision import WorkflowError
from rantai.supervision.workflow import REASON_CHARS_MAX
from rantai.web.context import LoggedIn, PageError, Viewer, Web, WebContext

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

STATUSES: Final = ("open", "under_review", "escalated", "dismissed")
ACTIONS: Final = ("review", "escalate", "dismiss")
ALERTS_PER_PAGE: Final = 50
FORM_BYTES_MAX: Final = 8_192
PROPOSALS_MAX: Final = 500
WAIT_S: Final = 10.0
PROPOSAL_PREFIX: Final = "proposal/"


def _agency(viewer: Viewer) -> None:
    if not viewer.who.agency:
        raise PageError(403, "error.forbidden")


@router.get("/alerts")
def alerts(
    web: Web,
    request: Request,
    viewer: LoggedIn,
    status: Annotated[
        str | None, Query(pattern="^(open|under_review|escalated|dismissed)$")
    ] = None,
    after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> Response:
    """The AML alerts, filtered by status, with review actions: agencies."""
    _agency(viewer)
    found = web.supervisor.alerts(status, after, ALERTS_PER_PAGE + 1)
    page = found[:ALERTS_PER_PAGE]
    more = page[-1].record.alert_id if len(found) > ALERTS_PER_PAGE else None
    return web.render(
        request,
        "alerts.html",
        viewer,
        alerts=[view.to_json() for view in page],
        status=status,
        statuses=STATUSES,
        actions=ACTIONS,
        more=more,
        reason_max=REASON_CHARS_MAX,
        done=request.query_params.get("done"),
        refused=request.query_params.get("refused"),
    )


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > FORM_BYTES_MAX:
        raise PageError(413, "error.too_large")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise PageError(400, "error.bad_form") from None
    return {name: items[0] for name, items in fields.items()}


@router.post("/alerts/{alert_id}")
async def review(
    web: Web, request: Request, viewer: LoggedIn, alert_id: Annotated[int, Path(ge=1)]
) -> Response:
    """One workflow step from the queue's form; back to the queue with the outcome."""
    _agency(viewer)
    form = await _form(request)
    action = form.get("action", "")
    if action not in ACTIONS:
        raise PageError(400, "error.bad_form")
    agencies = [a.party for a in web.chain.agencies]
    back = {k: v for k, v in (("status", form.get("status", "")),) if v in STATUSES}
    try:
        view = web.supervisor.change(
            alert_id, action, viewer.party.id, reason=form.get("reason", ""), agencies=agencies
        )
    except WorkflowError as exc:
        back["refused"] = exc.code
        return RedirectResponse("/alerts?" + urlencode(back), status_code=303)
    if view is None:
        raise PageError(404, "error.not_found")
    back["done"] = str(alert_id)
    return RedirectResponse("/alerts?" + urlencode(back), status_code=303)


def _proposals(web: WebContext) -> list[Proposal]:
    """Every proposal, open ones first, newest first within each group (from the ledger's
    ordered index of proposal keys: no scan of all state)."""
    node = web.api.node
    with node.block_lock:
        values = node.ledger.values
        found: list[Proposal] = [
            values[key] for key in node.ledger.index.keys_with_prefix(PROPOSAL_PREFIX)
        ]
    found.sort(key=lambda p: (p.status != "open", -p.created_ms, p.id))
    return found[:PROPOSALS_MAX]


@router.get("/governance")
def governance(web: Web, request: Request, viewer: LoggedIn) -> Response:
    """Proposals with their approvals; open ones can be approved by the other agencies."""
    _agency(viewer)
    view = StateView(web.api.node.ledger.values)
    rows: list[dict[str, Any]] = []
    for proposal in _proposals(web):
        action = to_json(proposal.action)
        rows.append(
            {
                "proposal": proposal,
                "action": action,
                "needed": threshold_of(view, type(proposal.action).action_class),
                "may_approve": proposal.status == "open"
                and viewer.party.id not in proposal.approvals,
            }
        )
    return web.render(request, "governance.html", viewer, rows=rows)


class DraftRequest(BaseModel):
    proposal: str = Field(pattern="^[0-9a-f]{64}$")
    note: str = Field(default="", max_length=1_000)


class SignedDraft(BaseModel):
    draft: str = Field(min_length=1, max_length=64)
    signature: str = Field(pattern="^[0-9a-f]{128}$")


@router.post("/governance/drafts")
def draft_approval(web: Web, viewer: LoggedIn, asked: Annotated[DraftRequest, Body()]) -> Response:
    """The bytes the agency signs to approve a proposal (hex), and the draft they belong to."""
    if not viewer.who.agency:
        raise ApiError(FORBIDDEN, "only an agency approves proposals")
    values = web.api.node.ledger.values
    if values.get(PROPOSAL_PREFIX + asked.proposal) is None:
        raise ApiError(NOT_FOUND, f"no proposal {asked.proposal}")
    body = encode(Approve(asked.proposal, asked.note))
    nonce: int = values.get(nonce_key(viewer.party.id)) or 0
    draft = web.sessions.add_draft(viewer.session, nonce, body)
    message = signing_bytes(
        web.chain.chain_id, viewer.party.id, nonce, viewer.session.public_key, body
    )
    return JsonResponse({"draft": draft, "nonce": nonce, "signing_bytes": message.hex()})


@router.post("/governance/submit")
def submit_approval(web: Web, viewer: LoggedIn, signed: Annotated[SignedDraft, Body()]) -> Response:
    """Assemble the envelope from a draft and the browser's signature, submit it and wait
    for its receipt: ``{"tx_id", "code", "height"}``."""
    found = web.sessions.take_draft(viewer.session, signed.draft)
    if found is None:
        raise ApiError(NOT_FOUND, "no such draft (each is submitted once)")
    nonce, body = found
    chain_id, party, key = web.chain.chain_id, viewer.party.id, viewer.session.public_key
    try:
        signature = bytes.fromhex(signed.signature)
    except (ValueError, binascii.Error):
        raise ApiError(codes.MALFORMED, "signature: hex") from None
    # Checked here too, so that a wrong key in the browser gets a clear answer at once.
    if not verify(key, signing_bytes(chain_id, party, nonce, key, body), signature):
        raise ApiError(codes.BAD_SIGNATURE, "the signature does not verify")
    raw = encode(Envelope(chain_id, party, nonce, key, msgspec.Raw(body), signature))
    node = web.api.node
    result = node.submit([raw])[0]
    tx_id = sha256(raw)
    if result.code != codes.OK:
        return JsonResponse({"tx_id": tx_id.hex(), "code": result.code, "height": None})
    done = node.wait([tx_id], WAIT_S).get(tx_id)
    if done is None:
        return JsonResponse({"tx_id": tx_id.hex(), "code": "pending", "height": None})
    height, receipt = done
    return JsonResponse({"tx_id": tx_id.hex(), "code": receipt.code, "height": height})
