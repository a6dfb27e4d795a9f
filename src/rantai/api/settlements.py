"""Settlement instructions over HTTP, and their ISO 20022 messages (docs/api.md, "Settlement").

| route | answers |
|---|---|
| ``GET /v1/settlements/{id}`` | one instruction (signed) |
| ``GET /v1/settlements?party=&state=&after=&limit=`` | a page of those the reader may see |
| ``GET /v1/settlements/{id}/sese.025`` | its sese.025 confirmation (XML; settled DvP only) |
| ``GET /v1/settlements/{id}/pacs.009`` | its cash leg as a pacs.009 (XML; settled DvP only) |
| ``POST /v1/iso20022/sese.023`` | a sese.023 (XML body) as an unsigned ``propose_settlement`` |

Who may read an instruction (``may_read_instruction``): the owners of the accounts on any
leg, its affirmers (payers and mandatory mediators), and agencies whose scope covers the kind
of an instrument it moves. The order of answers is that of every signed read
(``rantai.api.signed``): 401, 400, 404 for an unknown instruction, 403, then 409
(``instruction_closed``: not settled; ``not_dvp``) for an export. The import is not signed:
it reads only public instrument terms and changes nothing.

Listings page through the node's settlement indexes (``rantai.node.indexes``) in id order:
a non-agency reader walks the instructions it is on, an agency those moving the kinds in its
scope (and those it is on). ``party`` and ``state`` filter as the walk goes; a page stops
after ``SCAN_MAX`` instructions examined, so a sparse filter costs bounded work per request
and the client follows ``next``.

Mapping for ISO 20022 (``rantai.iso20022.IsoMapping``) comes in the query string, repeated
as needed: ``instrument=<ISIN or id>:<code>``, ``currency=<ISO 4217>:<cash code>``,
``account=<id in messages>:<account id>`` (the first ``:`` separates).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Annotated, Any, Final, Literal

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rantai.api.errors import BAD_QUERY, NOT_FOUND, ApiError, JsonResponse
from rantai.api.policy import Who
from rantai.api.public import LIMIT_DEFAULT, Limit
from rantai.api.schemas import error_responses
from rantai.api.signed import Ctx, SignedReader, require
from rantai.core import codes
from rantai.core.encoding import decode
from rantai.core.errors import InvariantError
from rantai.core.ids import account_owner
from rantai.core.jsonform import to_json
from rantai.core.records import Instrument, instrument_key
from rantai.core.settlement import NO_LEG, SETTLED, Instruction, instruction_key, status
from rantai.iso20022 import (
    XML_BYTES_MAX,
    Iso20022Error,
    IsoMapping,
    dvp_of,
    export_pacs009,
    export_sese025,
    import_sese023,
)

__all__ = ["router"]

SCAN_MAX: Final = 10_000  # instructions examined for one listing page
MAPPING_PAIRS_MAX: Final = 64  # per query parameter
XML_MEDIA_TYPE: Final = "application/xml"
# Export refusals that are states of the instruction, not faults of the request. They are
# answered here, not through STATUS_BY_CODE (rantai.api.errors), in the same error shape.

InstructionParam = Annotated[str, Path(pattern="^[0-9a-f]{64}$", description="instruction id")]
StateParam = Literal["proposed", "affirmed", "settled", "failed", "cancelled", "expired"]
Pairs = Annotated[list[str], Query(max_length=200)]

router = APIRouter(tags=["settlements"])


# --- who may read ----------------------------------------------------------------------


def _parties_of(record: Instruction) -> set[str]:
    parties = set(record.affirmers)
    for leg in record.legs:
        parties.add(account_owner(leg.source))
        parties.add(account_owner(leg.destination))
    return parties


def may_read_instruction(who: Who, record: Instruction, values: AbcMapping[str, Any]) -> bool:
    """The owners of accounts on its legs, its affirmers (payers, mediators), and agencies
    whose scope covers the kind of an instrument it moves."""
    if who.party in _parties_of(record):
        return True
    for leg in record.legs:
        instrument: Instrument | None = values.get(instrument_key(leg.instrument))
        if instrument is not None and who.covers(instrument.kind):
            return True
    return False


@dataclass(frozen=True, slots=True)
class _Read:
    """An instruction with the head it was read at (under the block lock, so the head's
    block is committed and the store's history up to it is final)."""

    record: Instruction
    height: int
    time_ms: int


def _readable(ctx: Ctx, who: Who, instruction_id: str) -> _Read:
    """The instruction at the head, or 404 (unknown) then 403 (not the reader's)."""
    with ctx.node.block_lock:
        values = ctx.node.ledger.values
        record: Instruction | None = values.get(instruction_key(instruction_id))
        read = None if record is None else _Read(record, ctx.head_height(), _head_time_ms(ctx))
    if read is None:
        raise ApiError(NOT_FOUND, f"no instruction {instruction_id}")
    require(may_read_instruction(who, read.record, values))
    return read


# --- JSON form -------------------------------------------------------------------------


def _head_time_ms(ctx: Ctx) -> int:
    head = ctx.node.ledger.head
    return 0 if head is None else head.timestamp_ms


def instruction_info(record: Instruction, now_ms: int) -> dict[str, Any]:
    """SettlementInfo: the record, its state read at block time ``now_ms`` (``expired``
    included), and the failing leg and code (``null`` unless it failed)."""
    failed = record.failed_leg != NO_LEG
    return {
        "id": record.id,
        "proposer": record.proposer,
        "legs": to_json(list(record.legs)),
        "deadline_ms": record.deadline_ms,
        "cycle": record.cycle,
        "state": status(record, now_ms),
        "affirmers": list(record.affirmers),
        "affirmed_by": list(record.affirmed_by),
        "failed_leg": record.failed_leg if failed else None,
        "failed_code": record.failed_code if failed else None,
        "proposed_height": record.proposed_height,
    }


def settled_height(ctx: Ctx, record: Instruction, head: int) -> int:
    """The height of the block that settled ``record`` (settled at height ``head``): a binary
    search of its key's history in the state log between its proposal and ``head`` (settled
    is final, so the state is monotone), about log2(height) store reads."""
    key = instruction_key(record.id)
    low, high = record.proposed_height, head
    while low < high:
        middle = (low + high) // 2
        raw = ctx.node.store.get_state_at(key, middle)
        if raw is not None and decode(raw, Instruction).state == SETTLED:
            high = middle
        else:
            low = middle + 1
    return low


def _settled_ms(ctx: Ctx, read: _Read) -> int:
    height = settled_height(ctx, read.record, read.height)
    header = ctx.reader.header(height)
    if header is None:
        raise InvariantError(f"no stored header at {height}")
    return header.timestamp_ms


# --- reads -----------------------------------------------------------------------------


def _docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        200: {"description": "the instruction (see docs/api.md)"},
        **error_responses(400, 401, *statuses, 503),
    }


@router.get("/v1/settlements/{instruction_id}", response_model=None, responses=_docs(403, 404))
def settlement(who: SignedReader, ctx: Ctx, instruction_id: InstructionParam) -> Response:
    """One instruction, with ``settled_height`` once settled and the head ``height``."""
    read = _readable(ctx, who, instruction_id)
    record = read.record
    info = instruction_info(record, read.time_ms)
    settled = record.state == SETTLED
    info["settled_height"] = settled_height(ctx, record, read.height) if settled else None
    info["height"] = read.height
    return JsonResponse(info)


@router.get("/v1/settlements", response_model=None, responses=_docs())
def settlements(
    who: SignedReader,
    ctx: Ctx,
    party: Annotated[str | None, Query(pattern="^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")] = None,
    state: StateParam | None = None,
    after: Annotated[str | None, Query(pattern="^[0-9a-f]{64}$")] = None,
    limit: Limit = LIMIT_DEFAULT,
) -> Response:
    """Instructions the reader may see, in id order, ``limit`` after ``after``."""
    node = ctx.node
    with node.block_lock:
        now_ms, values = _head_time_ms(ctx), node.ledger.values
        indexes = node.indexes
        sources = [indexes.settlements_by_party.get(who.party)]
        if who.scope is not None:
            sources += [indexes.settlements_by_kind.get(kind) for kind in sorted(who.scope)]
        with_party = None if party is None else indexes.settlements_by_party.get(party)
        items: list[dict[str, Any]] = []
        examined: str | None = None
        more = False
        for count, instruction_id in enumerate(_merged(sources, after)):
            if len(items) == limit or count == SCAN_MAX:
                more = True
                break
            examined = instruction_id
            if party is not None and (with_party is None or instruction_id not in with_party):
                continue
            record: Instruction = values[instruction_key(instruction_id)]
            if state is not None and status(record, now_ms) != state:
                continue
            items.append(instruction_info(record, now_ms))
        height = ctx.head_height()
    return JsonResponse({"items": items, "next": examined if more else None, "height": height})


def _merged(sources: list[Any], after: str | None) -> Iterator[str]:
    """The ids of several sorted sets after ``after``, merged in order, each once."""
    walks = [s.irange(minimum=after, inclusive=(False, True)) for s in sources if s is not None]
    previous = None
    for instruction_id in heapq.merge(*walks):
        if instruction_id != previous:
            previous = instruction_id
            yield instruction_id


# --- ISO 20022 -------------------------------------------------------------------------


class _LedgerDecimals(AbcMapping[str, int]):
    """Instruments' decimals read from the head state as they are asked for."""

    def __init__(self, ctx: Ctx) -> None:
        self._values = ctx.node.ledger.values
        self._codes = ctx.node.indexes.instruments

    def __getitem__(self, code: str) -> int:
        record: Instrument | None = self._values.get(instrument_key(code))
        if record is None:
            raise KeyError(code)
        return record.decimals

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._codes))

    def __len__(self) -> int:
        return len(self._codes)


def _pairs(values: list[str], name: str) -> dict[str, str]:
    if len(values) > MAPPING_PAIRS_MAX:
        raise ApiError(BAD_QUERY, f"{name}: at most {MAPPING_PAIRS_MAX}")
    pairs: dict[str, str] = {}
    for value in values:
        outside, sep, inside = value.partition(":")
        if not sep or not outside or not inside or outside in pairs:
            raise ApiError(BAD_QUERY, f"{name}: one <id>:<ledger id> per id, not {value[:80]!r}")
        pairs[outside] = inside
    return pairs


def _mapping(
    ctx: Ctx, instrument: list[str], currency: list[str], account: list[str]
) -> IsoMapping:
    try:
        return IsoMapping(
            instruments=_pairs(instrument, "instrument"),
            currencies=_pairs(currency, "currency"),
            accounts=_pairs(account, "account"),
            decimals=_LedgerDecimals(ctx),
        )
    except ValueError as exc:
        raise ApiError(BAD_QUERY, str(exc)) from None


def _xml_docs() -> dict[int | str, dict[str, Any]]:
    return {
        200: {"content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}}},
        **error_responses(400, 401, 403, 404, 409, 503),
    }


def _export(ctx: Ctx, who: Who, instruction_id: str, mapping: IsoMapping) -> Any:
    read = _readable(ctx, who, instruction_id)
    record = read.record
    if record.state != SETTLED:
        raise Iso20022Error(codes.INSTRUCTION_CLOSED, "instruction", f"is {record.state}")
    values = ctx.node.ledger.values
    instruments = {leg.instrument: values[instrument_key(leg.instrument)] for leg in record.legs}
    return dvp_of(record, instruments, _settled_ms(ctx, read))


@router.get("/v1/settlements/{instruction_id}/sese.025", response_model=None, responses=_xml_docs())
def sese025_route(
    who: SignedReader,
    ctx: Ctx,
    instruction_id: InstructionParam,
    side: Literal["DELI", "RECE"] = "DELI",
    instrument: Pairs = [],  # noqa: B006 (FastAPI copies defaults)
    currency: Pairs = [],  # noqa: B006
    account: Pairs = [],  # noqa: B006
) -> Response:
    """The sese.025.001.11 confirmation of a settled DvP, for its deliverer or receiver."""
    mapping = _mapping(ctx, instrument, currency, account)
    try:
        xml = export_sese025(_export(ctx, who, instruction_id, mapping), mapping, side)
    except Iso20022Error as exc:
        raise ApiError(exc.code, exc.message) from None  # status: STATUS_BY_CODE
    return Response(xml, media_type=XML_MEDIA_TYPE)


@router.get("/v1/settlements/{instruction_id}/pacs.009", response_model=None, responses=_xml_docs())
def pacs009_route(
    who: SignedReader,
    ctx: Ctx,
    instruction_id: InstructionParam,
    instrument: Pairs = [],  # noqa: B006
    currency: Pairs = [],  # noqa: B006
    account: Pairs = [],  # noqa: B006
) -> Response:
    """The cash leg of a settled DvP as a pacs.009.001.11 credit transfer."""
    mapping = _mapping(ctx, instrument, currency, account)
    try:
        xml = export_pacs009(_export(ctx, who, instruction_id, mapping), mapping)
    except Iso20022Error as exc:
        raise ApiError(exc.code, exc.message) from None  # status: STATUS_BY_CODE
    return Response(xml, media_type=XML_MEDIA_TYPE)


@router.post(
    "/v1/iso20022/sese.023",
    response_model=None,
    responses={
        200: {"description": "the unsigned propose_settlement body, in its JSON form"},
        **error_responses(400, 413, 503),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def sese023_route(
    request: Request,
    ctx: Ctx,
    cycle: Annotated[str, Query(max_length=64)] = "",
    instrument: Pairs = [],  # noqa: B006
    currency: Pairs = [],  # noqa: B006
    account: Pairs = [],  # noqa: B006
) -> Response:
    """A sese.023.001.11 DvP instruction as the ``propose_settlement`` body it describes,
    unsigned, in the JSON form the SDK signs (``rantai.core.jsonform``)."""
    if ctx.node.ledger.chain is None:
        raise ApiError("no_genesis", "the chain has no genesis yet")
    mapping = _mapping(ctx, instrument, currency, account)
    raw = await _body(request)
    try:
        # Off the event loop: parsing and validating up to 256 KiB takes milliseconds.
        body = await run_in_threadpool(import_sese023, raw, mapping, cycle)
    except Iso20022Error as exc:
        raise ApiError(exc.code, exc.message) from None
    return JsonResponse(to_json(body))


async def _body(request: Request) -> bytes:
    """The request body, refused with ``too_large`` as soon as it passes the bound."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > XML_BYTES_MAX:
            raise ApiError(codes.TOO_LARGE, f"more than {XML_BYTES_MAX} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
