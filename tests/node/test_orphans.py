"""The node's helper processes end soon after the node is killed (rantai.node.orphans)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.node.harness import market, new_node

ROOT = Path(__file__).resolve().parents[2]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_the_writer_supervision_and_verifier_workers_exit_when_the_node_is_killed(
    tmp_path: Path,
) -> None:
    node = new_node(tmp_path)
    market(node)
    node.stop()
    node.store.close()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/node/orphan_child.py"), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert child.stdout is not None
        helpers = [int(pid) for pid in child.stdout.readline().split()]
        assert all(alive(pid) for pid in helpers)
        # The writer, the supervision process, the pool's forkserver and resource tracker,
        # and below the forkserver the verifier workers: the ones whose parent is gone when
        # the node is killed.
        workers = [pid for pid in helpers if parent(pid) != child.pid]
        assert len(workers) >= 1 and len(helpers) >= len(workers) + 4, helpers
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(pid) for pid in helpers):
        time.sleep(0.1)
    assert [pid for pid in helpers if alive(pid)] == []
