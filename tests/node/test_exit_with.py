"""A helper exits once the process it serves ends, with a pidfd or, without one, by polling
(rantai.node.orphans)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

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
