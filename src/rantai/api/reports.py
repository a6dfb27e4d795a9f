"""Report routes (signed reads, issuer or agencies in scope): an instrument's holder register as
CSV and its concentration, at the head or a past height (a record date)."""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query
from pydantic import BaseModel
from starlette.responses import PlainTextResponse, Response

from rantai.api.errors import NOT_FOUND, ApiError, JsonResponse
from rantai.api.policy import may_read_holders
from rantai.api.public import resolve_height
from rantai.api.schemas import error_responses
from rantai.api.signed import CodeParam, Ctx, PastHeight, SignedReader, instrument_or_404, require
from rantai.supervision.reports import TOP_MAX, concentration, register_csv

__all__ = ["router"]

REGISTER_ROWS_MAX: Final = 1_000_000  # one response; larger registers page through /holders

router = APIRouter(tags=["reports"])


class ConcentrationInfo(BaseModel):
    instrument: str
    height: int
    holders: int
    supply: int
    hhi: int
    top: list[dict[str, Any]]


def _register(
    ctx: Ctx, who: SignedReader, code: str, height: int | None
) -> tuple[int, list[tuple[str, int]]]:
    record = instrument_or_404(ctx, code)
    if height is not None:
        resolve_height(ctx, str(height))
    require(may_read_holders(who, record))
    page = ctx.reader.holders(code, None, REGISTER_ROWS_MAX, height)
    if page is None:
        raise ApiError(NOT_FOUND, f"no block at height {height}")
    return page.height, list(page.items)


@router.get(
    "/v1/instruments/{code}/concentration",
    response_model=None,
    responses={200: {"model": ConcentrationInfo}, **error_responses(400, 401, 403, 404, 503)},
)
def concentration_route(
    who: SignedReader,
    ctx: Ctx,
    code: CodeParam,
    height: PastHeight = None,
    top: Annotated[int, Query(ge=1, le=TOP_MAX)] = 10,
) -> Response:
    """Holders (parties), supply, the Herfindahl-Hirschman index (0 to 10,000), top holders."""
    at, rows = _register(ctx, who, code, height)
    found = concentration(rows, top)
    return JsonResponse(
        {
            "instrument": code,
            "height": at,
            "holders": found.holders,
            "supply": found.supply,
            "hhi": found.hhi,
            "top": [{"party": p, "units": u} for p, u in found.top],
        }
    )


@router.get(
    "/v1/instruments/{code}/register.csv",
    response_model=None,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, 404, 503),
    },
)
def register_route(
    who: SignedReader, ctx: Ctx, code: CodeParam, height: PastHeight = None
) -> Response:
    """The holder register as CSV (account, units in minor units) at the head or a past height."""
    at, rows = _register(ctx, who, code, height)
    return PlainTextResponse(
        register_csv(code, at, rows),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{code}-{at}.csv"'},
    )
