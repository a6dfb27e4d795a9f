"""The HTTP details both clients share, free of I/O: read-signature headers and SSE parsing."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Final

from rantai.core.readauth import read_signing_bytes
from rantai.sdk._keys import PartyKey

__all__ = ["READ_NONCE_BYTES", "ServerSentEvent", "SseParser", "read_headers"]

READ_NONCE_BYTES: Final = 16
# One event's data; a header event is about a kilobyte. Past this the stream is refused.
_SSE_EVENT_CHARS_MAX: Final = 1 << 20


def read_headers(
    signer: PartyKey,
    chain_id: str,
    method: str,
    path: str,
    query: str,
    body: bytes,
    *,
    timestamp_ms: int | None = None,
    nonce: bytes | None = None,
) -> dict[str, str]:
    """The ``Rantai-*`` headers that sign one read (``rantai.core.readauth``).

    ``path`` and ``query`` must be exactly as sent: percent-encoded, no ``?``. The timestamp
    is the wall clock and the nonce fresh random bytes unless given (tests give them).
    """
    if timestamp_ms is None:
        timestamp_ms = time.time_ns() // 1_000_000
    if nonce is None:
        nonce = os.urandom(READ_NONCE_BYTES)
    message = read_signing_bytes(
        chain_id, method, path, query, body, timestamp_ms, nonce, signer.party
    )
    return {
        "Rantai-Party": signer.party,
        "Rantai-Key": signer.key.public_key.hex(),
        "Rantai-Timestamp": str(timestamp_ms),
        "Rantai-Nonce": nonce.hex(),
        "Rantai-Signature": signer.key.sign(message).hex(),
    }


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    """One event of a ``text/event-stream``."""

    event: str
    data: str
    id: str | None = None


@dataclass(slots=True)
class SseParser:
    """Turns the lines of a ``text/event-stream`` into events (the WHATWG parsing rules,
    without ``retry``, which the clients do not use)."""

    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _data_chars: int = 0
    _id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its line break); return the event a blank line completes."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment, used as a keep-alive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data_chars += len(value) + 1
            if self._data_chars > _SSE_EVENT_CHARS_MAX:
                raise ValueError("a server-sent event larger than any header")
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not self._data:
            self._event = ""
            return None
        event = ServerSentEvent(self._event or "message", "\n".join(self._data), self._id)
        self._event, self._data, self._data_chars = "", [], 0
        return event
