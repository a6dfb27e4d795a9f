"""The AML monitors in a process of their own, beside the node's.

In the node's process the monitors held its one interpreter lock for ~10 µs a transfer,
where that lock can bind before the cores do (at a million accounts on session 9's machine;
docs/decisions/supervision-process.md). The ``Supervisor`` already reads committed blocks
from the store when it was not handed them, and writes only its own tables, so it runs here
unchanged on a store connection of its own; the node's process keeps a ``Supervisor`` that
is never started, for reading and reviewing alerts.

The child is ``python -m rantai.supervision.process TARGET LOG_FORMAT POLL_S``, a plain
child process (as the block writer: ``multiprocessing`` would import the parent's main
module again). Its stdin: first one message (``rantai.node.framing``) with the sanctions list
or ``None``; then single wake-up bytes, one per committed block (lost ones cost nothing: the
supervisor also looks for new blocks every POLL_S, a second by default). End of input makes
it write what it fed, save a checkpoint and exit. Its stdout: a first message, ``None`` once
the store is open or the ``StoreError`` text; then one message per write of alerts (a list
of ``AlertRecord``), which the parent hands to its listeners (the API's metrics).
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Final, cast

import msgspec

from rantai.logs import configure_logging
from rantai.node.collector import quiet_collector
from rantai.node.framing import (
    open_store_answering,
    receive_answer,
    receive_message,
    send_message,
)
from rantai.node.node import CommittedBlock, Node
from rantai.node.orphans import exit_with_parent
from rantai.store.base import AlertRecord, StoreError
from rantai.supervision.monitors import default_monitors
from rantai.supervision.sanctions import SanctionsList
from rantai.supervision.supervisor import POLL_S, Supervisor

__all__ = ["SupervisionProcess"]

# Stopping writes the alerts fed and a checkpoint: ~80 MB and about a second at a million
# accounts (rantai.supervision.supervisor), so allow for a slow disk.
STOP_TIMEOUT_S: Final = 120.0
RESTART_WAIT_S: Final = 1.0  # after the child ended unasked, before starting another
_WAKE: Final = b"\x01"
_READ_BYTES: Final = 4_096
_ALERTS: Final = msgspec.msgpack.Decoder(list[AlertRecord])
_SANCTIONS: Final = msgspec.msgpack.Decoder(SanctionsList | None)

log = logging.getLogger(__name__)

AlertListener = Callable[[Sequence[AlertRecord]], None]


class SupervisionProcess:
    """Runs the default monitors (with ``sanctions``) over the store at ``target`` in a child
    process. The same calls as a ``Supervisor``'s own thread: ``attach``, ``start``,
    ``stop``, ``on_alerts``.

    If the child ends while not asked to (killed, out of memory), it is started again: it
    resumes from what the store says was supervised, as after a restart of the node.
    """

    def __init__(
        self,
        target: str,
        sanctions: SanctionsList | None,
        log_format: str,
        poll_s: float = POLL_S,
    ) -> None:
        # poll_s: how often the child looks for blocks without a wake-up (tests lengthen it).
        self._command = [sys.executable, "-m", __name__, target, log_format, str(poll_s)]
        self._sanctions = msgspec.msgpack.encode(sanctions)
        self._listeners: list[AlertListener] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._wake_fd = -1  # the child's stdin, while it runs (under _wake_lock)
        self._wake_lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def pid(self) -> int | None:
        """The child's process id while it runs."""
        return None if self._process is None else self._process.pid

    def on_alerts(self, listener: AlertListener) -> None:
        """Call ``listener`` with the alerts of each write (on a thread of this process)."""
        self._listeners.append(listener)

    def attach(self, node: Node) -> Callable[[], None]:
        """Wake the child after each block ``node`` commits; return a function that detaches."""

        def committed(_: CommittedBlock) -> None:
            # Under the node's block lock: never wait. A full pipe holds wake-ups enough.
            with self._wake_lock:
                if self._wake_fd >= 0:
                    with contextlib.suppress(BlockingIOError, BrokenPipeError):
                        os.write(self._wake_fd, _WAKE)

        return node.subscribe(committed)

    def start(self) -> None:
        """Start the child and wait until its store is open.

        Raises:
            StoreError: the child could not open the store.
        """
        if self._reader is not None:
            return
        self._stopping.clear()
        self._spawn()
        self._reader = threading.Thread(
            target=self._read_alerts, name="rantai-supervision", daemon=True
        )
        self._reader.start()

    def _spawn(self) -> None:
        process = subprocess.Popen(self._command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert process.stdin is not None and process.stdout is not None
        try:
            with contextlib.suppress(BrokenPipeError):  # it ended: its answer says so
                send_message(process.stdin, self._sanctions)
            receive_answer(process.stdout, "supervision process")
        except StoreError:
            _close(process)
            process.stdout.close()
            raise
        os.set_blocking(process.stdin.fileno(), False)
        with self._wake_lock:
            self._process, self._wake_fd = process, process.stdin.fileno()

    def _end_child(self) -> None:
        """Close the child's stdin, so that it finishes and exits, and wait for it."""
        with self._wake_lock:  # no wake-up may write to the fd once closed (or reused)
            process, self._process, self._wake_fd = self._process, None, -1
        if process is not None:
            _close(process)

    def _read_alerts(self) -> None:
        while True:
            process = self._process
            assert process is not None and process.stdout is not None
            while (message := receive_message(process.stdout)) is not None:
                alerts = _ALERTS.decode(message)
                for listener in self._listeners:
                    listener(alerts)
            process.stdout.close()
            if self._stopping.is_set():
                return
            self._end_child()
            log.error("the supervision process ended; starting it again",
                      extra={"exit_code": process.returncode})  # fmt: skip
            if not self._respawn():
                return

    def _respawn(self) -> bool:
        """Start another child, retrying every ``RESTART_WAIT_S``; False once stopping."""
        while not self._stopping.wait(RESTART_WAIT_S):
            try:
                self._spawn()
            except StoreError:
                log.exception("the supervision process could not start; retrying")
                continue
            if self._stopping.is_set():  # stop() ran meanwhile and missed this child
                self._end_child()
                return False
            return True
        return False

    def stop(self) -> None:
        """End the child after it wrote what it fed and saved a checkpoint."""
        reader, self._reader = self._reader, None
        if reader is None:
            return
        self._stopping.set()
        self._end_child()
        reader.join()


def _close(process: subprocess.Popen[bytes]) -> None:
    """Close the child's stdin (it finishes and exits); kill it if it hangs."""
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        log.error("the supervision process did not stop in time; killed")
        process.kill()
        process.wait()


def _serve(target: str, log_format: str, poll_s: float) -> None:
    # Ctrl-C reaches the whole process group; the node stops the supervision in order.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    exit_with_parent()
    configure_logging(log_format)
    requests = cast(io.BufferedReader, sys.stdin.buffer)  # its read1 returns what is there
    replies = sys.stdout.buffer
    first = receive_message(requests)
    if first is None:
        return
    sanctions = _SANCTIONS.decode(first)
    store = open_store_answering(target, replies)
    if store is None:
        return
    encoder = msgspec.msgpack.Encoder()
    try:
        supervisor = Supervisor(store, lambda: default_monitors(sanctions))
        # On the supervisor's thread, the only one writing replies after the answer.
        supervisor.on_alerts(lambda alerts: send_message(replies, encoder.encode(list(alerts))))
        with quiet_collector():
            supervisor.start(poll_s)
            try:
                while requests.read1(_READ_BYTES):
                    supervisor.notify()
            finally:
                supervisor.stop()
    finally:
        store.close()


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2], float(sys.argv[3]))
