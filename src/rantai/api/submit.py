"""Writes: ``POST /v1/transactions``, signed envelopes in, admission results (and receipts) out.

The request is checked in this order; the first failure answers the whole request:

1. the chain has a genesis (503 ``no_genesis``);
2. the body is at most ``BODY_BYTES_MAX``: a larger ``Content-Length`` is refused before
   reading, and a body sent without one is counted as it streams in and refused as soon as
   it passes the limit, so a large body is never buffered (413 ``too_large``);
3. the content type is JSON (default) or ``application/msgpack`` and the body parses as
   ``{"envelopes": [hex, ...]}`` resp. an array of bin (400 ``malformed``);
4. 1 to ``ENVELOPES_MAX`` envelopes (400 ``too_many_items``);
5. the pending pool has room (503 ``pending_full``).

Then each envelope gets its own result from the node's admission (``ok`` or a reason code).
With ``wait=true`` the call returns when every admitted transaction has a receipt or
``timeout_ms`` passed; waiting holds no thread (``BlockFeed``).

The response is JSON unless ``Accept`` asks for MessagePack (``_wants_msgpack``): then the
same results with bytes as bin and each receipt in its canonical encoding (docs/encoding.md:
the bytes the block's receipts root commits to), encoded in one call with no per-receipt
Python; the JSON form converts every receipt to named fields and hex, which at batches of
thousands costs the event loop more than the rest of the request. Errors are always JSON.
"""

from __future__ import annotations

import binascii
import time
from typing import Annotated, Any, Final

import msgspec
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rantai.api.context import ApiContext
from rantai.api.errors import NO_GENESIS, PENDING_FULL, ApiError, JsonResponse
from rantai.api.schemas import SubmitRequest, SubmitResponse, error_responses
from rantai.core import codes
from rantai.core.block import Receipt
from rantai.core.encoding import encode
from rantai.core.jsonform import to_json
from rantai.crypto.hashing import sha256
from rantai.node.node import SubmitResult

__all__ = ["BODY_BYTES_MAX", "ENVELOPES_MAX", "submit_routes"]

BODY_BYTES_MAX: Final = 16 * 1024 * 1024
ENVELOPES_MAX: Final = 10_000
TIMEOUT_MS_MAX: Final = 60_000
MSGPACK_TYPES: Final = ("application/msgpack", "application/x-msgpack", "application/vnd.msgpack")


class _JsonBody(msgspec.Struct, forbid_unknown_fields=True):
    envelopes: list[str]


class PackedResult(msgspec.Struct):
    """One envelope's result in the MessagePack response: ``SubmitResult`` with bytes as
    bin and the receipt as its canonical record (an array), not as named fields."""

    tx_id: bytes | None
    code: str
    message: str
    height: int | None
    receipt: Receipt | None


class PackedResponse(msgspec.Struct):
    """The MessagePack response: a map with ``results``, one per envelope, in order."""

    results: list[PackedResult]


_PACKED_DESCRIPTION: Final = (
    "MessagePack, when Accept prefers application/msgpack (or x-msgpack, vnd.msgpack) to "
    "application/json (a higher q, or the same q and named first): a map {results: "
    "[{tx_id: bin|nil, code: str, message: str, height: int|nil, receipt: nil|the receipt's "
    "canonical encoding (an array [tx_id, code, events], docs/encoding.md)}]}, map keys "
    "sorted. Any other Accept, missing or not understood, gets JSON; errors are always JSON."
)
_RESPONSES: Final = {
    200: {
        "model": SubmitResponse,
        "description": "One result per envelope, in order",
        "content": {
            "application/msgpack": {
                "schema": {"type": "string", "format": "binary", "description": _PACKED_DESCRIPTION}
            }
        },
    },
    **error_responses(400, 413, 503),
}

_REQUEST_BODY: Final = {
    "required": True,
    "content": {
        "application/json": {"schema": SubmitRequest.model_json_schema()},
        "application/msgpack": {
            "schema": {
                "type": "string",
                "format": "binary",
                "description": "MessagePack: an array of 1 to 10,000 bin (the envelopes)",
            }
        },
    },
}


def submit_routes(ctx: ApiContext) -> APIRouter:
    """The submit route over ``ctx``."""
    router = APIRouter(tags=["writes"])

    @router.post(
        "/v1/transactions",
        response_model=None,
        responses=_RESPONSES,
        openapi_extra={"requestBody": _REQUEST_BODY},
    )
    async def submit(
        request: Request,
        wait: Annotated[bool, Query(description="return receipts")] = False,
        timeout_ms: Annotated[int, Query(ge=0, le=TIMEOUT_MS_MAX)] = 10_000,
    ) -> Response:
        """Submit signed envelopes; one result per envelope, in order."""
        arrived_s = time.perf_counter()
        node = ctx.node
        if node.ledger.chain is None:
            raise ApiError(NO_GENESIS, "the chain has no genesis yet")
        raws = _parse(await _read_body(request), request.headers.get("content-type", ""))
        if node.pending_count >= node.config.pending_txs_max:
            raise ApiError(PENDING_FULL, "the node is busy; retry")
        waiter = ctx.feed.watch([sha256(raw) for raw in raws]) if wait else None
        receipts: dict[bytes, tuple[int, Receipt]] = {}
        try:
            results = await run_in_threadpool(node.submit, raws)
            ctx.metrics.observe_admissions(r.code for r in results)
            if waiter is not None:
                receipts = await ctx.feed.wait(waiter, _admitted(results), timeout_ms / 1000)
                ctx.metrics.wait_seconds.observe(time.perf_counter() - arrived_s)
        finally:
            if waiter is not None:
                ctx.feed.forget(waiter)
        if _wants_msgpack(request.headers.get("accept", "")):
            packed = PackedResponse([_packed(r, receipts) for r in results])
            return Response(encode(packed), media_type=MSGPACK_TYPES[0])
        return JsonResponse({"results": [_result(r, receipts) for r in results]})

    return router


def _wants_msgpack(accept: str) -> bool:
    """Whether ``accept`` prefers a MessagePack type to JSON: the higher ``q`` wins, the
    first named of equal ``q``. An Accept that refuses both (``q=0``), names neither, or
    cannot be parsed gets the default, JSON (never a 406)."""
    best_q, msgpack = 0.0, False
    for media_range in accept.split(","):
        media, *parameters = (part.strip().lower() for part in media_range.split(";"))
        if media in MSGPACK_TYPES or media == "application/json":
            q = _quality(parameters)
            if q > best_q:
                best_q, msgpack = q, media in MSGPACK_TYPES
    return msgpack


def _quality(parameters: list[str]) -> float:
    """A media range's ``q``: 1 when absent, 0 (not acceptable) when not a number."""
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip() == "q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


async def _read_body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isascii() or not declared.isdigit():
            raise ApiError(codes.MALFORMED, "Content-Length: a number")
        if int(declared) > BODY_BYTES_MAX:
            raise ApiError(codes.TOO_LARGE, f"body is over {BODY_BYTES_MAX} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > BODY_BYTES_MAX:
            raise ApiError(codes.TOO_LARGE, f"body is over {BODY_BYTES_MAX} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(body: bytes, content_type: str) -> list[bytes]:
    media = content_type.split(";", 1)[0].strip().lower()
    if media in MSGPACK_TYPES:
        try:
            raws = msgspec.msgpack.decode(body, type=list[bytes])
        except msgspec.DecodeError as exc:
            raise ApiError(codes.MALFORMED, f"MessagePack: an array of bin: {exc}") from None
    elif media in ("", "application/json"):
        try:
            hexes = msgspec.json.decode(body, type=_JsonBody).envelopes
        except msgspec.DecodeError as exc:
            raise ApiError(codes.MALFORMED, f'JSON: {{"envelopes": [hex, ...]}}: {exc}') from None
        raws = _unhex(hexes)
    else:
        raise ApiError(codes.MALFORMED, "Content-Type: application/json or application/msgpack")
    if not 1 <= len(raws) <= ENVELOPES_MAX:
        raise ApiError(codes.TOO_MANY_ITEMS, f"1 to {ENVELOPES_MAX} envelopes")
    return raws


def _unhex(hexes: list[str]) -> list[bytes]:
    if len(hexes) > ENVELOPES_MAX:
        raise ApiError(codes.TOO_MANY_ITEMS, f"1 to {ENVELOPES_MAX} envelopes")
    raws = []
    for i, text in enumerate(hexes):
        try:
            raws.append(binascii.unhexlify(text))
        except (binascii.Error, ValueError):
            raise ApiError(codes.MALFORMED, f"envelopes[{i}]: not hex") from None
    return raws


def _admitted(results: list[SubmitResult]) -> list[bytes]:
    return [r.tx_id for r in results if r.code == codes.OK and r.tx_id is not None]


def _result(result: SubmitResult, receipts: dict[bytes, tuple[int, Receipt]]) -> Any:
    found = None
    if result.code == codes.OK and result.tx_id is not None:
        found = receipts.get(result.tx_id)
    return {
        "tx_id": None if result.tx_id is None else result.tx_id.hex(),
        "code": result.code,
        "message": result.message,
        "height": None if found is None else found[0],
        "receipt": None if found is None else to_json(found[1]),
    }


def _packed(result: SubmitResult, receipts: dict[bytes, tuple[int, Receipt]]) -> PackedResult:
    found = None
    if result.code == codes.OK and result.tx_id is not None:
        found = receipts.get(result.tx_id)
    return PackedResult(
        result.tx_id,
        result.code,
        result.message,
        None if found is None else found[0],
        None if found is None else found[1],
    )
