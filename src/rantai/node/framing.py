"""Length-prefixed messages over a byte stream: how the node talks to its child processes.

Each message is an 8-byte big-endian length, then that many bytes (MessagePack, for the
callers here). A stream that ends, or ends inside a message, reads as the end.
"""

from __future__ import annotations

from typing import IO, Final

__all__ = ["receive_message", "send_message"]

_LENGTH_BYTES: Final = 8


def send_message(stream: IO[bytes], payload: bytes) -> None:
    """Write one message and flush it."""
    stream.write(len(payload).to_bytes(_LENGTH_BYTES, "big") + payload)
    stream.flush()


def receive_message(stream: IO[bytes]) -> bytes | None:
    """The next message, or None at the end of the stream (a message cut short counts as end)."""
    header = stream.read(_LENGTH_BYTES)
    if len(header) < _LENGTH_BYTES:
        return None
    length = int.from_bytes(header, "big")
    payload = stream.read(length)
    return payload if len(payload) == length else None
