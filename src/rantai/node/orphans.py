"""Child processes of the node end when the node does.

The node's helper processes (the verifier pool's workers, the block writer) wait on pipes
from the node. If the node is killed, a pipe stays open as long as any process still holds
its other end, and the verifier workers, forked from the node, hold copies of each other's
and of the writer's: so orphans would wait forever, keeping the database (and, for the
bench, its deleted files) open. Each child therefore watches its parent and exits once the
parent is gone. A write in flight is then cut off like any crash: the transaction commits
whole or not at all.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Final

__all__ = ["exit_with_parent"]

CHECK_INTERVAL_S: Final = 1.0


def exit_with_parent(interval_s: float = CHECK_INTERVAL_S) -> None:
    """Exit this process (status 1) soon after its parent process ends."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval_s)
        os._exit(1)  # no cleanup to wait for: the parent, which this served, is gone

    threading.Thread(target=watch, name="rantai-exit-with-parent", daemon=True).start()
