"""A helper exits once the process it serves ends, with a pidfd or, without one, by polling
(rantai.node.orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from tests.node.test_orphans import alive

WATCHER = """
import os, sys, time
if sys.argv[2] == "no-pidfd":
    def refuse(pid, flags=0):
        raise OSError(38, "Function not implemented")
    os.pidfd_open = refuse
from rantai.node.orphans import exit_with
exit_with(int(sys.argv[1]))
print("watching", flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("mode", ["pidfd", "no-pidfd"])
def test_the_watcher_exits_soon_after_the_watched_process(mode: str) -> None:
    served = subprocess.Popen(["sleep", "60"])
    watcher = subprocess.Popen(
        [sys.executable, "-c", WATCHER, str(served.pid), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        assert watcher.stdout.readline() == "watching\n"
        time.sleep(1.5)  # past a poll or two: still watching while the process lives
        assert watcher.poll() is None
        served.kill()
        served.wait()
        assert watcher.wait(timeout=5) == 1
    finally:
        for process in (served, watcher):
            if process.poll() is None:
                process.kill()
                process.wait()
        if watcher.stdout is not None:
            watcher.stdout.close()


def test_a_process_gone_already_ends_the_watcher_at_once() -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    watcher = subprocess.run(
        [sys.executable, "-c", WATCHER, str(gone.pid), "pidfd"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert watcher.returncode == 1
    assert watcher.stdout == ""


PARENT = """
import subprocess, sys, os
watcher = subprocess.Popen([sys.executable, "-c", sys.argv[1], "parent", "no-pidfd"])
print(watcher.pid, flush=True)
sys.stdin.readline()
os._exit(0)
"""


def test_without_a_pidfd_a_parent_that_ended_unreaped_still_ends_the_watcher() -> None:
    # The parent exits, and this test does not reap it until the end: it stays a zombie,
    # which a signal 0 still finds; the watcher must go by being reparented.
    watcher_code = WATCHER.replace("exit_with(int(sys.argv[1]))", "exit_with(os.getppid())")
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, watcher_code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert parent.stdin is not None and parent.stdout is not None
    watcher = int(parent.stdout.readline())
    try:
        time.sleep(1.5)
        assert alive(watcher)
        parent.stdin.write("\n")
        parent.stdin.flush()
        deadline = time.monotonic() + 5
        while alive(watcher) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not alive(watcher)
    finally:
        if alive(watcher):
            os.kill(watcher, signal.SIGKILL)
        parent.stdin.close()
        parent.stdout.close()
        parent.wait()
