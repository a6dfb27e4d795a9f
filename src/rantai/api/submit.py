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
"""

from __future__ import annotations

import asyncio
import binascii
import time
from typing import Annotated, Any, Final

import msgspec
from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from rantai.api.context import ApiContext
from rantai.api.errors import NO_GENESIS, PENDING_FULL, ApiError, JsonResponse
from rantai.api.feed import ReceiptFuture
from rantai.api.schemas import SubmitRequest, SubmitResponse, error_responses
from rantai.core import codes
from rantai.core.block import Receipt
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
        responses={200: {"model": SubmitResponse}, **error_responses(400, 413, 503)},
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
        futures = ctx.feed.watch([sha256(raw) for raw in raws]) if wait else {}
        try:
            results = await run_in_threadpool(node.submit, raws)
            ctx.metrics.observe_admissions(r.code for r in results)
            receipts = await _receipts(futures, results, timeout_ms / 1000) if wait else {}
        finally:
            ctx.feed.forget(futures)
        if wait:
            ctx.metrics.wait_seconds.observe(time.perf_counter() - arrived_s)
        return JsonResponse({"results": [_result(r, receipts) for r in results]})

    return router


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


async def _receipts(
    futures: dict[bytes, ReceiptFuture], results: list[SubmitResult], timeout_s: float
) -> dict[bytes, tuple[int, Receipt]]:
    admitted = {r.tx_id for r in results if r.code == codes.OK and r.tx_id is not None}
    waiting = [f for tx_id, f in futures.items() if tx_id in admitted]
    if waiting:
        await asyncio.wait(waiting, timeout=timeout_s)
    return {
        tx_id: f.result()
        for tx_id, f in futures.items()
        if tx_id in admitted and f.done() and not f.cancelled()
    }


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
