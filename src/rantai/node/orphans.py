"""Child processes of the node end when the node does.

The node's helper processes (the verifier pool's workers, the block writer) wait on pipes
from the node. If the node is killed, a pipe stays open as long as any process still holds
its other end: the verifier workers hold their pool's pipes and the forkserver's liveness
pipe, which keeps the forkserver (their parent) waiting too. So orphans would wait forever,
keeping the database (and, for the bench, its deleted files) open. Each helper therefore
watches the node and exits once it is gone. A write in flight is then cut off like any
crash: the transaction commits whole or not at all.

The watch is a pidfd (Linux 5.3), which becomes readable when its process ends: no polling,
and a pid reused by a later process cannot be mistaken for the node. Where pidfds are not
to be had (an older kernel, a sandbox that forbids them) the helper asks every second
whether the pid still exists.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Final

__all__ = ["exit_with", "exit_with_parent"]

POLL_S: Final = 1.0  # without a pidfd: how often to ask whether the process still exists


def exit_with(pid: int) -> None:
    """Exit this process (status 1) as soon as process ``pid`` ends."""
    wait: Callable[[], object]
    try:
        ended = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)  # gone already
    except OSError:
        wait = partial(_poll_until_gone, pid, was_parent=pid == os.getppid())
    else:
        wait = partial(select.select, [ended], [], [])

    def watch() -> None:
        wait()
        os._exit(1)  # no cleanup to wait for: the process this served is gone

    threading.Thread(target=watch, name="rantai-exit-with", daemon=True).start()


def exit_with_parent() -> None:
    """Exit this process (status 1) as soon as its parent process ends."""
    exit_with(os.getppid())


def _poll_until_gone(pid: int, *, was_parent: bool) -> None:
    while True:
        time.sleep(POLL_S)
        if was_parent and os.getppid() != pid:
            return  # reparented: the parent ended, even if nobody has reaped it yet
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        except PermissionError:
            pass  # it exists, under another user
