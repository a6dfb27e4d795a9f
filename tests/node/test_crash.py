"""Crash safety: a node committing blocks is SIGKILLed at random moments, over and over.

After every kill, every block the child acknowledged (printed after ``commit_block``
returned) must be in the store; the restarted node must load and check its state root; and
at the end the whole chain must pass the audit.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from tests.node.harness import market, new_node, send
from tests.support import key_of

from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Mint
from rantai.core.kinds.parties import RegisterParty
from rantai.node.audit import audit
from rantai.store import open_store

KILLS = 24
ROOT = Path(__file__).resolve().parents[2]


def _run_child(data: Path, kill_after_s: float) -> list[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/node/crash_child.py"), str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    acked: list[int] = []
    ready = threading.Event()

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            if not line.endswith("\n"):
                break  # killed mid-line: that height was not acknowledged
            word, _, number = line.partition(" ")
            if word == "ready":
                ready.set()
            elif word == "acked":
                acked.append(int(number))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    if not ready.wait(180):  # generous: a loaded CI machine starts Python slowly
        child.kill()
        raise AssertionError(f"child did not start: {child.stderr.read() if child.stderr else ''}")
    time.sleep(kill_after_s)
    child.send_signal(signal.SIGKILL)
    child.wait()
    reader.join(10)
    errors = child.stderr.read() if child.stderr else ""
    for stream in (child.stdout, child.stderr):
        if stream is not None:
            stream.close()
    assert child.returncode == -signal.SIGKILL, errors
    return acked


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_acknowledged_block(tmp_path: Path) -> None:
    seed = int(os.environ.get("RANTAI_TEST_SEED", random.randrange(2**32)))
    print(f"seed {seed}")  # replay with RANTAI_TEST_SEED
    rng = random.Random(seed)
    node = new_node(tmp_path)
    market(node, investors=0)
    send(
        node,
        [
            ("registrar", RegisterParty(p, "person", p, (key_of(p).public_key,), ("investor",)))
            for p in ("inv-a", "inv-b")
        ],
    )
    send(node, [("issuer", Mint("BOND1", account_id("inv-a"), 10**12, ""))])
    node.store.close()

    all_acked = 0
    for _ in range(KILLS):
        acked = _run_child(tmp_path, rng.uniform(0.0, 0.4))
        store = open_store(str(tmp_path))
        head = store.head_height()
        store.close()
        assert head is not None
        if acked:
            assert head >= max(acked), f"acknowledged block {max(acked)} lost; head {head}"
        all_acked += len(acked)
    assert all_acked > 0
    store = open_store(str(tmp_path))
    report = audit(store)
    store.close()
    assert report.ok, report.failure
    assert report.blocks > all_acked
