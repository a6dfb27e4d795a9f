"""The block writer process: commits groups of blocks to the store outside the node's GIL.

Python's sqlite3 module releases the GIL around every row it steps and takes it back after,
so a writer *thread* in the node process hands the GIL to and fro with the executor for each
of the ~12 rows a transfer writes, and under load the executor and the writer mostly wait
for each other (measured: docs/decisions/pipelined-commit.md). In a process of its own the
writer's database work runs beside the executor, and the node process pays only for
encoding the blocks (MessagePack, a few hundred nanoseconds a row) and one pipe round trip
per group.

The protocol over the pipe is MessagePack: the node sends a list of ``BlockRecord``; the
writer answers ``None`` once they are durable, or the ``StoreError`` text with nothing
written. An empty message asks it to close the store and exit. If the node process dies
the pipe closes and the writer exits after the group in hand (which commits whole or not
at all, as any transaction).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Final

import msgspec

from rantai.store import open_store
from rantai.store.base import BlockRecord, StoreError

__all__ = ["WriterProcess"]

START_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 30.0
_REPLY: Final = msgspec.msgpack.Decoder(str | None)
_GROUP: Final = msgspec.msgpack.Decoder(list[BlockRecord])


class WriterProcess:
    """Commits block groups to the store at ``target`` in a child process.

    ``commit_blocks`` has the store's contract (all or none, durable on return, StoreError
    when refused); one caller at a time.
    """

    def __init__(self, target: str) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(target, child), name="rantai-writer", daemon=True
        )
        self._process.start()
        child.close()
        self._encoder = msgspec.msgpack.Encoder()
        if not self._conn.poll(START_TIMEOUT_S):
            self.close()
            raise StoreError(f"the writer process did not open the store in {START_TIMEOUT_S} s")
        self._answer()

    def commit_blocks(self, blocks: Sequence[BlockRecord]) -> None:
        """Commit ``blocks`` in one transaction in the writer; see ``Store.commit_blocks``."""
        try:
            self._conn.send_bytes(self._encoder.encode(list(blocks)))
        except OSError as exc:
            raise StoreError(f"the writer process is gone: {exc}") from exc
        self._answer()

    def _answer(self) -> None:
        try:
            error = _REPLY.decode(self._conn.recv_bytes())
        except (EOFError, OSError) as exc:
            raise StoreError("the writer process stopped") from exc
        if error is not None:
            raise StoreError(error)

    def close(self) -> None:
        """Ask the writer to exit after the group in hand; kill it if it does not."""
        if self._process.is_alive():
            with contextlib.suppress(OSError):  # already gone: the join below returns
                self._conn.send_bytes(b"")
            self._process.join(STOP_TIMEOUT_S)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self._conn.close()


def _serve(target: str, conn: Connection) -> None:
    # Ctrl-C reaches the whole process group; the node closes the writer in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    encoder = msgspec.msgpack.Encoder()
    try:
        store = open_store(target)
    except StoreError as exc:
        conn.send_bytes(encoder.encode(str(exc)))
        return
    try:
        conn.send_bytes(encoder.encode(None))
        while True:
            try:
                message = conn.recv_bytes()
            except EOFError:
                return
            if not message:
                return
            try:
                store.commit_blocks(_GROUP.decode(message))
            except StoreError as exc:
                conn.send_bytes(encoder.encode(str(exc)))
            else:
                conn.send_bytes(encoder.encode(None))
    finally:
        store.close()
