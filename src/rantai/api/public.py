"""Public reads: health, metrics, chain configuration, headers, instruments, header stream.

Nothing here needs a signature: headers and instrument terms are what anyone needs to check
a proof or read a price sheet (docs/decisions/read-access.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final

import msgspec
from fastapi import APIRouter, Header, Path, Query
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from rantai.api.context import ApiContext
from rantai.api.errors import BAD_QUERY, NO_GENESIS, NOT_FOUND, ApiError, JsonResponse
from rantai.api.metrics import CONTENT_TYPE
from rantai.api.schemas import (
    ChainInfo,
    HeaderInfo,
    HeaderPage,
    Health,
    InstrumentInfo,
    InstrumentPage,
    error_responses,
)
from rantai.api.views import stored_header_info
from rantai.core.errors import InvariantError
from rantai.core.ids import INSTRUMENT_CODE_PATTERN
from rantai.core.jsonform import to_json
from rantai.core.records import Instrument, instrument_key
from rantai.store.base import INT64_MAX

__all__ = [
    "HEIGHT_PATTERN",
    "KEEPALIVE_S",
    "LIMIT_DEFAULT",
    "LIMIT_MAX",
    "Limit",
    "public_routes",
    "resolve_height",
]

LIMIT_DEFAULT: Final = 100
LIMIT_MAX: Final = 1_000
HEIGHT_PATTERN: Final = r"^(head|[0-9]{1,19})$"
KEEPALIVE_S: Final = 15.0
STREAM_BACKLOG_MAX: Final = 1_000

Limit = Annotated[int, Query(ge=1, le=LIMIT_MAX, description="items per page")]
HeightParam = Annotated[str, Path(pattern=HEIGHT_PATTERN, description="a height, or `head`")]


def resolve_height(ctx: ApiContext, height: str) -> int:
    """The height named by ``head`` or a number; ``not_found`` above the head."""
    head = ctx.head_height()
    if head < 0:
        raise ApiError(NO_GENESIS, "the chain has no genesis yet")
    wanted = head if height == "head" else int(height)
    if wanted > head:
        raise ApiError(NOT_FOUND, f"no block at height {height}")
    return wanted


def public_routes(ctx: ApiContext) -> APIRouter:
    """The routes of the module docstring over ``ctx``."""
    router = APIRouter(tags=["public reads"])
    node = ctx.node

    def header_at(height: int) -> object:
        info = stored_header_info(node.store, height)
        if info is None:
            raise InvariantError(f"no stored header at {height}, below the head")
        return info

    @router.get("/health", response_model=None, responses={200: {"model": Health}})
    async def health() -> Response:
        """Liveness, with the head height and chain id."""
        chain = node.ledger.chain
        head = ctx.head_height()
        if chain is None or head < 0:
            raise ApiError(NO_GENESIS, "the chain has no genesis yet")
        return JsonResponse({"status": "ok", "height": head, "chain_id": chain.chain_id})

    @router.get(
        "/metrics",
        response_model=None,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        """Prometheus metrics (text exposition format)."""
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE)

    @router.get("/v1/chain", response_model=None, responses={200: {"model": ChainInfo}, **_e(503)})
    async def chain_info() -> Response:
        """Chain id, operator, agencies and their scopes, thresholds, executor keys, head."""
        chain = node.ledger.chain
        if chain is None:
            raise ApiError(NO_GENESIS, "the chain has no genesis yet")
        return JsonResponse({**to_json(chain), "height": ctx.head_height()})

    @router.get(
        "/v1/headers", response_model=None, responses={200: {"model": HeaderPage}, **_e(400, 503)}
    )
    def headers(
        start: Annotated[int, Query(alias="from", ge=0, le=INT64_MAX)] = 0,
        limit: Limit = LIMIT_DEFAULT,
    ) -> Response:
        """Headers from height ``from`` upwards; ``next`` is the ``from`` of the next page."""
        head = ctx.head_height()
        last = min(start + limit - 1, head)
        items = [header_at(h) for h in range(start, last + 1)]
        return JsonResponse({"items": items, "next": last + 1 if start <= last < head else None})

    @router.get(
        "/v1/headers/{height}",
        response_model=None,
        responses={200: {"model": HeaderInfo}, **_e(400, 404, 503)},
    )
    def header(height: HeightParam) -> Response:
        """One header with its certificate; ``head`` for the head."""
        return JsonResponse(header_at(resolve_height(ctx, height)))

    @router.get(
        "/v1/instruments",
        response_model=None,
        responses={200: {"model": InstrumentPage}, **_e(400)},
    )
    def instruments(
        after: Annotated[str | None, Query(max_length=32)] = None, limit: Limit = LIMIT_DEFAULT
    ) -> Response:
        """Instruments in code order, after the code ``after``."""
        page = ctx.reader.instruments(after, limit)
        return JsonResponse(
            {"items": to_json(page.items), "next": page.next, "height": page.height}
        )

    @router.get(
        "/v1/instruments/{code}",
        response_model=None,
        responses={200: {"model": InstrumentInfo}, **_e(400, 404)},
    )
    async def instrument(code: Annotated[str, Path(pattern=INSTRUMENT_CODE_PATTERN)]) -> Response:
        """An instrument's terms and supply."""
        record: Instrument | None = node.ledger.values.get(instrument_key(code))
        if record is None:
            raise ApiError(NOT_FOUND, f"no instrument {code}")
        return JsonResponse(to_json(record))

    @router.get(
        "/v1/stream/headers",
        response_model=None,
        responses={
            200: {
                "description": "one `header` event (HeaderInfo JSON, id = height) per block",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            **_e(400, 503),
        },
    )
    async def stream_headers(
        last_event_id: Annotated[
            str | None, Header(alias="Last-Event-ID", pattern="^[0-9]{1,19}$")
        ] = None,
    ) -> Response:
        """Server-Sent Events: each committed header. With ``Last-Event-ID`` (a height), the
        headers after it come first (up to 1,000; page ``/v1/headers`` for more)."""
        if last_event_id is not None and int(last_event_id) > INT64_MAX:
            raise ApiError(BAD_QUERY, "Last-Event-ID: a height")
        resume = None if last_event_id is None else int(last_event_id) + 1
        ctx.feed.check_room()
        return StreamingResponse(
            _events(ctx, resume),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return router


async def _events(ctx: ApiContext, resume: int | None) -> AsyncIterator[bytes]:
    """The SSE body: backlog from the store if resuming, then live headers, keep-alives.

    The stream is opened here, inside the body, so that whatever ends the body (the end,
    a disconnect, a cancellation) closes it. It is open before ``: connected`` is sent and
    before the backlog is read, so no block falls between backlog and live headers.
    """
    stream = ctx.feed.open_stream()
    sent = -1
    try:
        yield b"retry: 2000\n: connected\n\n"
        if resume is not None:
            head = ctx.head_height()
            last = min(head, resume + STREAM_BACKLOG_MAX - 1)
            for height in range(resume, last + 1):
                info = await run_in_threadpool(stored_header_info, ctx.node.store, height)
                if info is not None:
                    yield _event(height, msgspec.json.encode(info))
                    sent = height
        while True:
            batch = await stream.next_batch(KEEPALIVE_S)
            if batch is None:
                return
            if not batch:
                yield b": keep-alive\n\n"
            for height, data in batch:
                if height > sent:  # the backlog may have sent it already
                    yield _event(height, data)
                    sent = height
    finally:
        ctx.feed.close_stream(stream)


def _event(height: int, data: bytes) -> bytes:
    return b"event: header\nid: %d\ndata: %s\n\n" % (height, data)


def _e(*statuses: int) -> dict[int | str, dict[str, object]]:
    return error_responses(*statuses)
