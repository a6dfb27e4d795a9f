"""Report routes (signed reads, issuer or agencies in scope): an instrument's holder register as
CSV and its concentration, at the head or a past height (a record date); the activity reports
of ``rantai.supervision.activity`` over a height or time range, as JSON or CSV.

| route | who |
|---|---|
| ``/v1/instruments/{code}/flows``, ``/volume`` | the issuer, an agency in scope |
| ``/v1/reports/settlement-fails``, ``/travel`` | agencies, issuers: what they may read |
| ``/v1/reports/access-log`` | agencies: every agency's reads (docs/decisions/activity-reports.md) |

CSV when ``?format=csv`` or when ``Accept`` names ``text/csv`` and not JSON first. A range is
``from_height``/``to_height`` (inclusive) and ``from_ms``/``to_ms`` (block time, ``to_ms``
excluded), all optional; an instruction is shown when any of its legs' instruments may be
read. At most ``REPORT_BLOCKS_MAX`` blocks, else 400 ``bad_query``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import PlainTextResponse, Response

from rantai.api.errors import BAD_QUERY, ApiError, JsonResponse
from rantai.api.policy import ISSUING_ROLES, Who, may_read_access_log, may_read_holders
from rantai.api.schemas import error_responses
from rantai.api.signed import (
    CodeParam,
    Ctx,
    PastHeight,
    SignedReader,
    holders_page,
    instrument_or_404,
    require,
)
from rantai.core.ids import PARTY_ID_PATTERN
from rantai.core.records import Instrument, instrument_key
from rantai.store.base import INT64_MAX
from rantai.supervision.activity import (
    access_log_csv,
    access_log_report,
    daily_volume,
    daily_volume_csv,
    fails_csv,
    fails_report,
    flow_report,
    flows_csv,
    travel_csv,
)
from rantai.supervision.reports import TOP_MAX, concentration, register_csv
from rantai.supervision.scan import (
    RangeTooLong,
    read_fails,
    read_flows,
    read_movements,
    read_travel,
    resolve_range,
)

__all__ = ["router"]

REGISTER_ROWS_MAX: Final = 1_000_000  # one response; larger registers page through /holders
ACCESS_LOG_ROWS_MAX: Final = 100_000  # entries one access-log report reads; page with ``after``
HOME_COUNTRY: Final = "MY"

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
    page = holders_page(ctx, who, code, None, REGISTER_ROWS_MAX, height)
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


# -- activity reports ----------------------------------------------------------------------

Height = Annotated[int | None, Query(ge=0, le=INT64_MAX)]
TimeMs = Annotated[int | None, Query(ge=0, le=INT64_MAX, description="block time, ms")]
Format = Annotated[Literal["json", "csv"] | None, Query(description="default: from Accept")]
_RANGE_DOCS: Final = {
    200: {"content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}}},
    **error_responses(400, 401, 403, 404, 503),
}


@dataclass(frozen=True, slots=True)
class Range:
    """The range query parameters of an activity report."""

    from_height: int | None
    to_height: int | None
    from_ms: int | None
    to_ms: int | None
    format: Literal["json", "csv"] | None


def range_params(
    from_height: Height = None,
    to_height: Height = None,
    from_ms: TimeMs = None,
    to_ms: TimeMs = None,
    format: Format = None,
) -> Range:
    return Range(from_height, to_height, from_ms, to_ms, format)


RangeQuery = Annotated[Range, Depends(range_params)]


def _heights(ctx: Ctx, asked: Range) -> tuple[int, int]:
    try:
        return resolve_range(
            ctx.node.store,
            from_height=asked.from_height,
            to_height=asked.to_height,
            from_ms=asked.from_ms,
            to_ms=asked.to_ms,
        )
    except RangeTooLong as exc:
        raise ApiError(BAD_QUERY, str(exc)) from None


def _wants_csv(request: Request, asked: Literal["json", "csv"] | None) -> bool:
    if asked is not None:
        return asked == "csv"
    accept = request.headers.get("accept", "")
    csv_at, json_at = accept.find("text/csv"), accept.find("application/json")
    return csv_at >= 0 and (json_at < 0 or csv_at < json_at)


def _answer(
    request: Request, asked: Range, body: Callable[[], Any], text: Callable[[], str], name: str
) -> Response:
    if _wants_csv(request, asked.format):
        return PlainTextResponse(
            text(),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return JsonResponse(body())


def _visible(ctx: Ctx, who: Who) -> Callable[[str], bool]:
    """Whether ``who`` may read reports of an instrument (as it may read its holders)."""
    values = ctx.node.ledger.values

    def visible(code: str) -> bool:
        record: Instrument | None = values.get(instrument_key(code))
        return record is not None and may_read_holders(who, record)

    return visible


@router.get("/v1/instruments/{code}/flows", response_model=None, responses=_RANGE_DOCS)
def flows_route(
    who: SignedReader,
    ctx: Ctx,
    request: Request,
    code: CodeParam,
    asked: RangeQuery,
    home: Annotated[str, Query(pattern="^[A-Z]{2}$", description="residents' country")] = (
        HOME_COUNTRY
    ),
) -> Response:
    """Flows of the instrument between investor groups (retail/institutional,
    resident/non-resident, from each party's claims at the movement's height): amount and
    count per (from group, to group)."""
    require(may_read_holders(who, instrument_or_404(ctx, code)))
    first, last = _heights(ctx, asked)
    store = ctx.node.store
    report = flow_report(code, first, last, read_flows(store, first, last, home, code))
    name = f"{code}-flows-{first}-{last}"
    return _answer(request, asked, report.to_json, lambda: flows_csv(report), name)


@router.get("/v1/instruments/{code}/volume", response_model=None, responses=_RANGE_DOCS)
def volume_route(
    who: SignedReader, ctx: Ctx, request: Request, code: CodeParam, asked: RangeQuery
) -> Response:
    """Daily volume of the instrument (UTC+8 days): amount, movements, distinct parties."""
    require(may_read_holders(who, instrument_or_404(ctx, code)))
    first, last = _heights(ctx, asked)
    days = daily_volume(code, read_movements(ctx.node.store, first, last, code))
    body = {
        "instrument": code,
        "from_height": first,
        "to_height": last,
        "days": [d.to_json() for d in days],
    }
    name = f"{code}-volume-{first}-{last}"
    return _answer(request, asked, lambda: body, lambda: daily_volume_csv(code, days), name)


@router.get("/v1/reports/settlement-fails", response_model=None, responses=_RANGE_DOCS)
def settlement_fails_route(
    who: SignedReader, ctx: Ctx, request: Request, asked: RangeQuery
) -> Response:
    """Settlement instructions that failed (leg, reason code), were cancelled or expired,
    with counts per day and per party."""
    require(who.agency or bool(who.roles & ISSUING_ROLES))
    first, last = _heights(ctx, asked)
    visible = _visible(ctx, who)
    found = fails_report(
        f for f in read_fails(ctx.node.store, first, last) if any(map(visible, f.instruments))
    )

    def body() -> dict[str, Any]:
        return {"from_height": first, "to_height": last, **found.to_json()}

    name = f"settlement-fails-{first}-{last}"
    return _answer(request, asked, body, lambda: fails_csv(found), name)


@router.get("/v1/reports/travel", response_model=None, responses=_RANGE_DOCS)
def travel_route(
    who: SignedReader,
    ctx: Ctx,
    request: Request,
    asked: RangeQuery,
    instrument: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """Transfers that carried travel-rule data: parties, amount, the sealed payload's
    digest (never the payload)."""
    require(who.agency or bool(who.roles & ISSUING_ROLES))
    first, last = _heights(ctx, asked)
    visible = _visible(ctx, who)
    records = [
        r
        for r in read_travel(ctx.node.store, first, last)
        if visible(r.instrument) and instrument in (None, r.instrument)
    ]

    def body() -> dict[str, Any]:
        return {"from_height": first, "to_height": last, "items": [r.to_json() for r in records]}

    return _answer(request, asked, body, lambda: travel_csv(records), f"travel-{first}-{last}")


@router.get("/v1/reports/access-log", response_model=None, responses=_RANGE_DOCS)
def access_log_route(
    who: SignedReader,
    ctx: Ctx,
    request: Request,
    agency: Annotated[str | None, Query(pattern=PARTY_ID_PATTERN)] = None,
    from_ms: TimeMs = None,
    to_ms: TimeMs = None,
    after: Annotated[int, Query(ge=0, le=INT64_MAX - 1)] = 0,
    format: Format = None,
) -> Response:
    """Agencies' reads (of ``agency``, if given) with ``from_ms <= at_ms < to_ms``, and the
    count per agency; entries after seq ``after``, at most ``ACCESS_LOG_ROWS_MAX`` read
    (``next`` is where to go on)."""
    require(may_read_access_log(who))
    ctx.access_log.flush()  # every read recorded so far, this one's included once answered
    rows = list(ctx.node.store.iter_access_log(after, ACCESS_LOG_ROWS_MAX + 1))
    more = len(rows) > ACCESS_LOG_ROWS_MAX
    rows = rows[:ACCESS_LOG_ROWS_MAX]
    report = access_log_report(rows, agency=agency, from_ms=from_ms, to_ms=to_ms)

    def body() -> dict[str, Any]:
        return {**report.to_json(), "next": rows[-1].seq if more else None}

    asked = Range(None, None, from_ms, to_ms, format)
    return _answer(request, asked, body, lambda: access_log_csv(report), "access-log")
