"""Dry runs: "would this pass?" and "who would stop complying?", without a transaction.

Both are signed POST reads over committed state at the head (``rantai.core.explain``):

* ``POST /v1/explain``: every reason a transfer, travel transfer, batch transfer, mint or
  burn sent by ``sender`` would be refused now, in the order execution checks them. The
  sender itself may ask, and every agency.
* ``POST /v1/instruments/{code}/what-if``: which current holders would fail a proposed rule
  set and terms (the fields of a ``set_rules`` body). The instrument's issuer may ask, and
  agencies whose scope covers it.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field
from starlette.responses import Response

from rantai.api.errors import BAD_QUERY, STATUS_BY_CODE, ApiError, JsonResponse
from rantai.api.schemas import error_responses
from rantai.api.signed import CodeParam, Ctx, SignedReader, instrument_or_404, require
from rantai.core.errors import Malformed
from rantai.core.explain import explain, what_if
from rantai.core.jsonform import body_from_json, to_json
from rantai.core.kinds.policies import SetRules
from rantai.core.records import balance_key, party_key

__all__ = ["router"]

DRY_RUN_KINDS: Final = ("transfer", "travel_transfer", "batch_transfer", "mint", "burn")

router = APIRouter(tags=["dry runs"])


class ExplainRequest(BaseModel):
    """A transaction body in its JSON form (``kind`` and fields) and who would send it."""

    sender: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    body: dict[str, Any]


class FindingInfo(BaseModel):
    check: str
    code: str
    reason: str


class ExplainAnswer(BaseModel):
    passes: bool
    height: int
    findings: list[FindingInfo]


class WhatIfAnswer(BaseModel):
    instrument: str
    height: int
    holders: int
    findings: list[dict[str, str]]


def _refused(exc: Malformed) -> ApiError:
    """A body the core refused, as a 400 with the core's code when the table knows it."""
    code = exc.code if STATUS_BY_CODE.get(exc.code) == 400 else BAD_QUERY
    return ApiError(code, exc.message or exc.code)


def _docs(model: type) -> dict[int | str, dict[str, Any]]:
    return {200: {"model": model}, **error_responses(400, 401, 403, 404, 503)}


@router.post("/v1/explain", response_model=None, responses=_docs(ExplainAnswer))
def explain_route(
    who: SignedReader, ctx: Ctx, request: Annotated[ExplainRequest, Body()]
) -> Response:
    """Would this movement pass now? Every failing check, or none."""
    require(who.party == request.sender or who.agency)
    kind = request.body.get("kind")
    if kind not in DRY_RUN_KINDS:
        raise ApiError(BAD_QUERY, f"body.kind: one of {', '.join(DRY_RUN_KINDS)}")
    fields = {k: v for k, v in request.body.items() if k != "kind"}
    try:
        body = body_from_json(str(kind), fields)
    except Malformed as exc:
        raise _refused(exc) from None
    node = ctx.node
    with node.block_lock:
        head = node.ledger.head
        if head is None or node.ledger.values.get(party_key(request.sender)) is None:
            raise ApiError("not_found", f"no party {request.sender}")
        found = explain(node.ledger.values, head.timestamp_ms, request.sender, body)
        height = head.height
    return JsonResponse({"passes": not found, "height": height, "findings": to_json(list(found))})


@router.post("/v1/instruments/{code}/what-if", response_model=None, responses=_docs(WhatIfAnswer))
def what_if_route(
    who: SignedReader, ctx: Ctx, code: CodeParam, proposal: Annotated[dict[str, Any], Body()]
) -> Response:
    """Which current holders would fail these rules and terms (a ``set_rules`` body's)?"""
    record = instrument_or_404(ctx, code)
    require(record.issuer == who.party or who.covers(record.kind))
    try:
        body = body_from_json("set_rules", {**proposal, "instrument": code})
        body.check_form()
    except Malformed as exc:
        raise _refused(exc) from None
    if not isinstance(body, SetRules):  # body_from_json("set_rules") always gives one
        raise ApiError(BAD_QUERY, "not a rule set")
    node = ctx.node
    with node.block_lock:
        head = node.ledger.head
        values = node.ledger.values
        holdings = [
            (account, values[balance_key(account, code)])
            for account in node.ledger.index.accounts_holding(code)
        ]
        height = head.height if head else 0
        timestamp_ms = head.timestamp_ms if head else 0
        found = what_if(values, timestamp_ms, code, body.rules, body.terms, holdings)
    holders = len({account.rsplit(":", 1)[0] for account, _ in holdings})
    return JsonResponse(
        {"instrument": code, "height": height, "holders": holders, "findings": to_json(list(found))}
    )
