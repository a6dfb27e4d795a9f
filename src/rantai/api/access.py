"""Recording agency reads: an ASGI middleware around the whole app.

The signed-read dependency marks a request as an agency's (``mark_agency``) as soon as the
reader is authenticated. When the response starts, this middleware appends an entry (who,
method, path, raw query, status, when) to the access log, before the status line goes out,
so every agency read, allowed or refused, is on the record before its answer leaves. If the
entry cannot be kept (the database fails and the buffer is full), the read is answered 503
``unavailable`` instead. A request that fails before answering is recorded with status 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rantai.api.errors import STATUS_BY_CODE, UNAVAILABLE
from rantai.node.accesslog import AccessLog
from rantai.store.base import StoreError

__all__ = ["AccessLogMiddleware", "mark_agency", "request_target"]

_SCOPE_KEY: Final = "rantai.access"


@dataclass(slots=True)
class _Slot:
    party: str | None = None


def request_target(scope: Scope) -> tuple[str, str]:
    """``(path, query)`` exactly as the client sent them: percent-encoding kept, no ``?``."""
    raw = scope.get("raw_path") or scope["path"].encode()
    path = raw.split(b"?", 1)[0].decode("ascii", "backslashreplace")
    query = bytes(scope.get("query_string", b"")).decode("ascii", "backslashreplace")
    return path, query


def mark_agency(scope: Scope, party: str) -> None:
    """Note that this request is a read by agency ``party``, to be logged."""
    slot = scope.get(_SCOPE_KEY)
    if isinstance(slot, _Slot):
        slot.party = party


class AccessLogMiddleware:
    """Appends an access log entry for every request marked by ``mark_agency``."""

    def __init__(self, app: ASGIApp, access_log: AccessLog) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot = _Slot()
        scope[_SCOPE_KEY] = slot
        started = False
        refused = False

        async def send_logged(message: Message) -> None:
            nonlocal started, refused
            if refused:
                return
            if message["type"] == "http.response.start" and not started:
                started = True
                if slot.party is not None and not self._record(scope, slot.party, message):
                    refused = True
                    await _send_unavailable(send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, send_logged)
        except BaseException:
            if slot.party is not None and not started:
                self._record(scope, slot.party, {"status": 500})
            raise

    def _record(self, scope: Scope, party: str, start: Message) -> bool:
        path, query = request_target(scope)
        try:
            self.access_log.record(party, scope["method"], path, query, int(start["status"]))
        except StoreError:
            return False
        return True


async def _send_unavailable(send: Send) -> None:
    body = msgspec.json.encode(
        {"code": UNAVAILABLE, "message": "the read could not be recorded; retry"}
    )
    await send(
        {
            "type": "http.response.start",
            "status": STATUS_BY_CODE[UNAVAILABLE],
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
