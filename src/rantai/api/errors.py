"""Errors of the HTTP API: one table from reason code to HTTP status, one JSON shape.

Every error response is ``{"code": "<reason code>", "message": "<text>"}`` with the status
``STATUS_BY_CODE[code]``. Routes raise ``ApiError(code, message)``; the handlers installed by
``install_handlers`` turn it, FastAPI's validation errors, Starlette's routing errors and
store failures into that shape, so a client never sees a 500 for anything it sent.

Validation errors: a missing or ill-formed ``Rantai-*`` header is ``unauthenticated`` (401),
checked first; a bad body is ``malformed``; a bad path or query parameter is ``bad_query``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Final, cast

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from rantai.core import codes
from rantai.iso20022.errors import NOT_DVP
from rantai.store.base import StoreError

__all__ = [
    "BAD_AGENCY",
    "BAD_QUERY",
    "BAD_TRANSITION",
    "FORBIDDEN",
    "INTERNAL",
    "METHOD_NOT_ALLOWED",
    "NOT_FOUND",
    "NO_GENESIS",
    "OVERLOADED",
    "PENDING_FULL",
    "REASON_REQUIRED",
    "REPLAYED_REQUEST",
    "STALE_REQUEST",
    "STATUS_BY_CODE",
    "UNAUTHENTICATED",
    "UNAVAILABLE",
    "ApiError",
    "JsonResponse",
    "error_response",
    "install_handlers",
]

# Codes of the API itself; the ledger's reason codes are in rantai.core.codes.
BAD_QUERY: Final = "bad_query"
UNAUTHENTICATED: Final = "unauthenticated"
STALE_REQUEST: Final = "stale_request"
REPLAYED_REQUEST: Final = "replayed_request"
FORBIDDEN: Final = "forbidden"
NOT_FOUND: Final = "not_found"
METHOD_NOT_ALLOWED: Final = "method_not_allowed"
PENDING_FULL: Final = "pending_full"
NO_GENESIS: Final = "no_genesis"
OVERLOADED: Final = "overloaded"  # a bounded table (waiters, nonces) is full: retry later
UNAVAILABLE: Final = "unavailable"  # the database failed
INTERNAL: Final = "internal"  # a bug: never caused by what a client sent
# The alert workflow's refusals (rantai.supervision.workflow).
REASON_REQUIRED: Final = "reason_required"
BAD_AGENCY: Final = "bad_agency"
BAD_TRANSITION: Final = "bad_transition"

STATUS_BY_CODE: Final[Mapping[str, int]] = {
    codes.MALFORMED: 400,
    codes.BAD_FIELD: 400,
    codes.BAD_AMOUNT: 400,
    codes.TOO_MANY_ITEMS: 400,
    codes.UNKNOWN_KIND: 400,
    codes.NON_CANONICAL: 400,
    BAD_QUERY: 400,
    REASON_REQUIRED: 400,
    BAD_AGENCY: 400,
    UNAUTHENTICATED: 401,
    STALE_REQUEST: 401,
    REPLAYED_REQUEST: 401,
    FORBIDDEN: 403,
    NOT_FOUND: 404,
    METHOD_NOT_ALLOWED: 405,
    codes.BAD_NONCE: 409,
    BAD_TRANSITION: 409,
    codes.INSTRUCTION_CLOSED: 409,  # an ISO 20022 export of an instruction not settled
    NOT_DVP: 409,  # an ISO 20022 export of an instruction that is not a two-leg DvP
    codes.TOO_LARGE: 413,
    codes.WRONG_CHAIN: 422,
    codes.BAD_SIGNATURE: 422,
    INTERNAL: 500,
    PENDING_FULL: 503,
    NO_GENESIS: 503,
    OVERLOADED: 503,
    UNAVAILABLE: 503,
}

MESSAGE_CHARS_MAX: Final = 500
_AUTH_HEADER_PREFIX: Final = "rantai-"

log = logging.getLogger(__name__)


class JsonResponse(JSONResponse):
    """JSON encoded by msgspec: faster than the standard library, same output for our data."""

    def render(self, content: Any) -> bytes:
        return msgspec.json.encode(content)


class ApiError(Exception):
    """A request refused with a reason code from ``STATUS_BY_CODE``."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]


def error_response(code: str, message: str) -> JsonResponse:
    """The error body for ``code``, with its status from the table."""
    return JsonResponse(
        {"code": code, "message": message[:MESSAGE_CHARS_MAX]}, status_code=STATUS_BY_CODE[code]
    )


async def _api_error(request: Request, exc: Exception) -> Response:
    error = cast(ApiError, exc)  # registered for ApiError only
    return error_response(error.code, error.message)


async def _validation_error(request: Request, exc: Exception) -> Response:
    errors: list[dict[str, Any]] = list(cast(RequestValidationError, exc).errors())
    auth = [e for e in errors if _is_auth_header(e.get("loc", ()))]
    if auth:
        return error_response(UNAUTHENTICATED, f"read signature headers: {_describe(auth)}")
    in_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    return error_response(codes.MALFORMED if in_body else BAD_QUERY, _describe(errors))


def _is_auth_header(loc: Any) -> bool:
    loc = tuple(loc)
    return len(loc) >= 2 and loc[0] == "header" and str(loc[1]).lower().startswith("rantai-")


def _describe(errors: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}"
        for e in errors[:5]
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    exc = cast(StarletteHTTPException, exc)
    if exc.status_code == 404:
        return error_response(NOT_FOUND, "no such route")
    if exc.status_code == 405:
        response = error_response(METHOD_NOT_ALLOWED, "method not allowed on this route")
        if exc.headers:
            response.headers.update(exc.headers)
        return response
    if 400 <= exc.status_code < 500:
        return error_response(codes.MALFORMED, str(exc.detail))
    return error_response(INTERNAL, str(exc.detail))


async def _store_error(request: Request, exc: Exception) -> Response:
    log.error("store failure serving %s: %s", request.url.path, exc)
    return error_response(UNAVAILABLE, "the database is unavailable; retry")


async def _unexpected(request: Request, exc: Exception) -> Response:
    # The top-level shell: a bug, not a client's doing. Logged with its traceback by the server.
    return error_response(INTERNAL, "internal error")


def install_handlers(app: FastAPI) -> None:
    """Map every exception a route can raise to the JSON error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(StoreError, _store_error)
    app.add_exception_handler(Exception, _unexpected)
