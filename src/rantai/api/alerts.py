"""Alerts of the AML monitors (``rantai.supervision``): signed, for agencies only.

* ``GET /v1/alerts?status=&after=&limit=``: alerts in id order, with their history.
* ``GET /v1/alerts/{id}``: one alert with its history.
* ``POST /v1/alerts/{id}/status`` with ``{"action": "review|escalate|dismiss|assign",
  "reason": "...", "agency": "..."}``: one workflow step, recorded with who and when; the
  signature covers the body, as for dry runs.

Order of answers: 401, 400 (path, query, body), 403 (not an agency), 404 (no such alert),
then the workflow's refusals: 400 ``bad_field`` (a reason holding NUL), ``reason_required``,
``bad_agency``, 409 ``bad_transition``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from rantai.api.errors import NOT_FOUND, STATUS_BY_CODE, ApiError, JsonResponse
from rantai.api.public import LIMIT_DEFAULT, Limit
from rantai.api.schemas import error_responses
from rantai.api.signed import Ctx, SignedReader, require
from rantai.core.codes import MALFORMED
from rantai.store.base import INT64_MAX
from rantai.supervision import Supervisor, WorkflowError
from rantai.supervision.workflow import REASON_CHARS_MAX

__all__ = ["router", "supervisor_of"]

router = APIRouter(tags=["supervision"])

AlertId = Annotated[int, Path(ge=1, le=INT64_MAX)]
StatusFilter = Annotated[
    str | None, Query(pattern="^(open|under_review|escalated|dismissed)$", description="status")
]


class StatusChange(BaseModel):
    """One workflow step: a reason is required to dismiss, an agency to assign."""

    action: Literal["review", "escalate", "dismiss", "assign"]
    reason: str = Field(default="", max_length=REASON_CHARS_MAX)
    agency: str = Field(default="", max_length=64)


class AlertInfo(BaseModel):
    id: int
    monitor: str
    height: int
    at_ms: int
    score: int
    status: str
    agency: str | None
    parties: list[str]
    txs: list[str]
    facts: dict[str, str | int]
    history: list[dict[str, Any]]


class AlertPage(BaseModel):
    items: list[AlertInfo]
    next: int | None


def supervisor_of(request: Request) -> Supervisor:
    """The supervisor of the app serving ``request``."""
    supervisor = request.app.state.supervisor
    if not isinstance(supervisor, Supervisor):
        raise TypeError("not an app made by create_app")
    return supervisor


def _docs(model: type, *statuses: int) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}, **error_responses(400, 401, 403, *statuses, 503)}


@router.get("/v1/alerts", response_model=None, responses=_docs(AlertPage))
def alerts(
    who: SignedReader,
    request: Request,
    status: StatusFilter = None,
    after: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    """Alerts with id above ``after`` (and ``status``), oldest first: agencies."""
    require(who.agency)
    found = supervisor_of(request).alerts(status, after, limit + 1)
    page = found[:limit]
    more = len(found) > limit
    return JsonResponse(
        {
            "items": [view.to_json() for view in page],
            "next": page[-1].record.alert_id if more else None,
        }
    )


@router.get("/v1/alerts/{alert_id}", response_model=None, responses=_docs(AlertInfo, 404))
def alert(who: SignedReader, request: Request, alert_id: AlertId) -> Response:
    """One alert with its history: agencies."""
    require(who.agency)
    view = supervisor_of(request).alert(alert_id)
    if view is None:
        raise ApiError(NOT_FOUND, f"no alert {alert_id}")
    return JsonResponse(view.to_json())


@router.post(
    "/v1/alerts/{alert_id}/status", response_model=None, responses=_docs(AlertInfo, 404, 409)
)
def change_status(
    who: SignedReader,
    ctx: Ctx,
    request: Request,
    alert_id: AlertId,
    change: Annotated[StatusChange, Body()],
) -> Response:
    """Review, escalate (a suspicious transaction report), dismiss or assign: agencies."""
    require(who.agency)
    chain = ctx.node.ledger.chain
    agencies = [a.party for a in chain.agencies] if chain else []
    try:
        view = supervisor_of(request).change(
            alert_id,
            change.action,
            who.party,
            reason=change.reason,
            to_agency=change.agency,
            agencies=agencies,
        )
    except WorkflowError as exc:
        # The body's schema already refuses unknown actions; any code the table lacks is 400.
        code = exc.code if exc.code in STATUS_BY_CODE else MALFORMED
        raise ApiError(code, exc.message) from None
    if view is None:
        raise ApiError(NOT_FOUND, f"no alert {alert_id}")
    return JsonResponse(view.to_json())
