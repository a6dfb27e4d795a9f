"""The block writer process: commits groups of blocks to the store outside the node's GIL.

Python's sqlite3 module releases the GIL around every row it steps and takes it back after,
so a writer *thread* in the node process hands the GIL to and fro with the executor for each
of the ~12 rows a transfer writes, and under load the executor and the writer mostly wait
for each other (measured: docs/decisions/pipelined-commit.md). In a process of its own the
writer's database work runs beside the executor, and the node process pays only for
encoding the blocks (MessagePack, a few hundred nanoseconds a row) and one pipe round trip
per group.

The writer is ``python -m rantai.node.writer TARGET``, a plain child process (not
``multiprocessing``, which would import the parent's main module again), talking over its
stdin and stdout: each message is an 8-byte big-endian length and MessagePack
(``rantai.node.framing``). The node sends a list of ``BlockRecord``; the writer answers
``None`` once they are durable, or the ``StoreError`` text with nothing written; its first
answer says whether the store opened. End of input (the node closed the pipe, or died)
makes it close the store and exit, after the group in hand, which commits whole or not at
all as any transaction does.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Final

import msgspec

from rantai.node.collector import quiet_collector
from rantai.node.framing import (
    open_store_answering,
    receive_answer,
    receive_message,
    send_answer,
    send_message,
)
from rantai.node.orphans import exit_with_parent
from rantai.store.base import BlockRecord, StoreError

__all__ = ["WriterProcess"]

STOP_TIMEOUT_S: Final = 30.0
_GROUP: Final = msgspec.msgpack.Decoder(list[BlockRecord])


class WriterProcess:
    """Commits block groups to the store at ``target`` in a child process.

    ``commit_blocks`` has the store's contract (all or none, durable on return, StoreError
    when refused); one caller at a time. Raises StoreError when the child cannot open the
    store.
    """

    def __init__(self, target: str) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "rantai.node.writer", target],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._encoder = msgspec.msgpack.Encoder()
        # Encoded into one buffer, reused: a group is megabytes at a million accounts, and a
        # new buffer each time took fresh pages from the kernel for every group.
        self._buffer = bytearray()
        try:
            self._answer()
        except StoreError:
            self.close()
            raise

    def commit_blocks(self, blocks: Sequence[BlockRecord]) -> None:
        """Commit ``blocks`` in one transaction in the writer; see ``Store.commit_blocks``."""
        stdin = self._process.stdin
        if stdin is None:
            raise StoreError("the writer process is closed")
        try:
            self._encoder.encode_into(list(blocks), self._buffer)
            send_message(stdin, self._buffer)
        except OSError as exc:
            raise StoreError(f"the writer process is gone: {exc}") from exc
        self._answer()

    def _answer(self) -> None:
        stdout = self._process.stdout
        if stdout is None:
            raise StoreError("the writer process is closed")
        receive_answer(stdout, "writer process")

    def close(self) -> None:
        """Close the pipe (the writer exits after the group in hand); kill it if it hangs."""
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):  # already broken: the process is gone
                    stream.close()
        try:
            self._process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def _serve(target: str) -> None:
    # Ctrl-C reaches the whole process group; the node closes the writer in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    store = open_store_answering(target, replies)
    if store is None:
        return
    try:
        with quiet_collector():
            while (message := receive_message(requests)) is not None:
                try:
                    store.commit_blocks(_GROUP.decode(message))
                except StoreError as exc:
                    send_answer(replies, str(exc))
                else:
                    send_answer(replies, None)
    finally:
        store.close()


if __name__ == "__main__":
    _serve(sys.argv[1])
