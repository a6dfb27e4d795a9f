"""Public lifecycle reads: a bond's or sukuk's terms, schedule and state; record dates;
distributions; ballots (docs/lifecycle.md).

These are what a prospectus and a paying agent's notices publish, so they need no signature
(docs/decisions/read-access.md): who holds what, and who was paid what, stay signed reads
(balances, transactions and their receipts).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel
from starlette.responses import Response

from rantai.api.context import ApiContext
from rantai.api.errors import NOT_FOUND, ApiError, JsonResponse
from rantai.api.schemas import error_responses
from rantai.api.views import bond_schedule
from rantai.core.ballots import Ballot, ballot_key
from rantai.core.distributions import Distribution, distribution_key
from rantai.core.ids import INSTRUMENT_CODE_PATTERN
from rantai.core.jsonform import to_json
from rantai.core.record_dates import RecordDate, record_key

__all__ = ["lifecycle_routes"]

CodeParam = Annotated[str, Path(pattern=INSTRUMENT_CODE_PATTERN)]
NameParam = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,31}$")]
TxIdParam = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


class PeriodInfo(BaseModel):
    index: int
    start: str
    end: str
    payment_date: str
    record_date: str
    paid: bool


class RedemptionInfo(BaseModel):
    date: str
    price_bp: int


class ScheduleInfo(BaseModel):
    instrument: str
    payment_kind: str  # coupon, rental or profit: never interest for a sukuk
    terms: dict[str, Any]
    state: dict[str, Any]
    certification: dict[str, Any] | None
    periods: list[PeriodInfo]
    redemption: RedemptionInfo  # the call's date and price if called, else maturity's


class RecordInfo(BaseModel):
    instrument: str
    name: str
    height: int
    timestamp_ms: int
    purpose: str
    status: str
    open_ballots: int
    taken_by: str


class DistributionInfo(BaseModel):
    id: str
    instrument: str
    record: str
    kind: str
    pay_instrument: str
    source: str
    holders: int
    units: int
    due: int
    paid: int
    owed: int
    residue: int
    residue_account: str
    height: int


class BallotInfo(BaseModel):
    instrument: str
    id: str
    record: str
    question: str
    options: list[str]
    closes_ms: int
    tallies: list[int]
    voters: int
    eligible_units: int
    status: str
    opened_by: str


def lifecycle_routes(ctx: ApiContext) -> APIRouter:
    router = APIRouter(tags=["lifecycle"])
    values = ctx.node.ledger.values

    def found(key: str, what: str) -> Any:
        value = values.get(key)
        if value is None:
            raise ApiError(NOT_FOUND, f"no {what}")
        return value

    @router.get(
        "/v1/instruments/{code}/schedule",
        response_model=None,
        responses={200: {"model": ScheduleInfo}, **error_responses(400, 404)},
    )
    def schedule_route(code: CodeParam) -> Response:
        """A bond's or sukuk's terms, its payment schedule and what has been paid."""
        schedule = bond_schedule(values, code)
        if schedule is None:
            raise ApiError(NOT_FOUND, f"no bond or sukuk terms for {code}")
        return JsonResponse(schedule)

    @router.get(
        "/v1/instruments/{code}/records/{name}",
        response_model=None,
        responses={200: {"model": RecordInfo}, **error_responses(400, 404)},
    )
    def record_route(code: CodeParam, name: NameParam) -> Response:
        """A record date: the block whose end fixed the register, and its status."""
        record: RecordDate = found(record_key(code, name), f"record date {name} on {code}")
        return JsonResponse(to_json(record))

    @router.get(
        "/v1/instruments/{code}/ballots/{ballot}",
        response_model=None,
        responses={200: {"model": BallotInfo}, **error_responses(400, 404)},
    )
    def ballot_route(code: CodeParam, ballot: NameParam) -> Response:
        """A ballot: its question, options and the tally so far."""
        record: Ballot = found(ballot_key(code, ballot), f"ballot {ballot} on {code}")
        return JsonResponse(to_json(record))

    @router.get(
        "/v1/distributions/{distribution_id}",
        response_model=None,
        responses={200: {"model": DistributionInfo}, **error_responses(400, 404)},
    )
    def distribution_route(distribution_id: TxIdParam) -> Response:
        """A distribution's totals: holders, units, due, paid, still owed, residue."""
        record: Distribution = found(distribution_key(distribution_id), "such distribution")
        return JsonResponse(to_json(record))

    return router
