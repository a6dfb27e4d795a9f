"""Length-prefixed messages over a byte stream: how the node talks to its child processes.

Each message is an 8-byte big-endian length, then that many bytes (MessagePack, for the
callers here). A stream that ends, or ends inside a message, reads as the end.

The children that open the store (the block writer, the AML monitors' process) answer first
whether it opened: ``None``, or the ``StoreError`` text (``open_store_answering`` in the
child, ``receive_answer`` in the parent).
"""

from __future__ import annotations

from typing import IO, Final

import msgspec

from rantai.store import open_store
from rantai.store.base import Store, StoreError

__all__ = [
    "open_store_answering",
    "receive_answer",
    "receive_message",
    "send_answer",
    "send_message",
]

_LENGTH_BYTES: Final = 8
_ANSWER: Final = msgspec.msgpack.Decoder(str | None)


def send_message(stream: IO[bytes], payload: bytes | bytearray) -> None:
    """Write one message and flush it."""
    # Two writes, not one of the two joined: a block's message is megabytes at a million
    # accounts, and the joined copy took fresh pages from the kernel at every block.
    stream.write(len(payload).to_bytes(_LENGTH_BYTES, "big"))
    stream.write(payload)
    stream.flush()


def receive_message(stream: IO[bytes]) -> bytes | None:
    """The next message, or None at the end of the stream (a message cut short counts as end)."""
    header = stream.read(_LENGTH_BYTES)
    if len(header) < _LENGTH_BYTES:
        return None
    length = int.from_bytes(header, "big")
    payload = stream.read(length)
    return payload if len(payload) == length else None


def send_answer(stream: IO[bytes], error: str | None) -> None:
    """Answer the parent: ``None`` for done, else what went wrong."""
    send_message(stream, msgspec.msgpack.encode(error))


def receive_answer(stream: IO[bytes], child: str) -> None:
    """Read a child's answer.

    Raises:
        StoreError: the child answered with an error, or ended (``child`` names it).
    """
    message = receive_message(stream)
    if message is None:
        raise StoreError(f"the {child} stopped")
    error = _ANSWER.decode(message)
    if error is not None:
        raise StoreError(error)


def open_store_answering(target: str, replies: IO[bytes]) -> Store | None:
    """In a child: open the store at ``target`` and answer the parent whether it opened;
    the store, or None when it did not."""
    try:
        store = open_store(target)
    except StoreError as exc:
        send_answer(replies, str(exc))
        return None
    send_answer(replies, None)
    return store
