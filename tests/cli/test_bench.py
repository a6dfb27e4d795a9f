"""``rantai bench --quick --json`` as CI runs it: every figure there and positive.

Throughput targets are the bench's to report, never a test's to assert: this machine's
speed is not what is tested.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from rantai.bench.run import PROCESS_KINDS, child_pids, cpu_by_process, process_tree_cpu_s

FIGURES = (
    "e2e_tx_per_s",
    "e2e_cpu_us_per_tx",
    "core_tx_per_s",
    "core_cpu_us_per_tx",
    "verify_per_s",
    "replay_tx_per_s",
    "p50_ms",
    "p99_ms",
    "offered_tx_per_s",
    "rss_mb_max",
    "supervision_rss_mb_max",
    "supervise_s",
)


@pytest.mark.slow
def test_quick_bench_prints_every_figure_as_the_last_json_line() -> None:
    command = [sys.executable, "-c", "from rantai.cli.main import app; app()"]
    done = subprocess.run(
        [*command, "bench", "--quick", "--json"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2_000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    for name in FIGURES:
        assert isinstance(figures[name], int | float), name
        assert figures[name] > 0, (name, figures[name])
    assert figures["cpus"] >= 1
    by_process = figures["e2e_cpu_us_per_tx_by_process"]
    assert set(by_process) == set(PROCESS_KINDS)
    # Every transfer is executed, committed and verified: those parts cannot read zero.
    assert by_process["node"] > 0 and by_process["writer"] > 0 and by_process["verifiers"] > 0
    assert sum(by_process.values()) == pytest.approx(figures["e2e_cpu_us_per_tx"], abs=0.5)
    assert set(figures["targets"]) == {
        "e2e_tx_per_s",
        "core_tx_per_s",
        "replay_tx_per_s",
        "p99_ms",
        "rss_mb_max",
    }


def test_process_tree_cpu_counts_a_living_grandchild() -> None:
    """A child whose own child burns ~0.5 s of CPU and then waits: a reading taken while
    both live counts the grandchild's CPU."""
    burn = (
        "import time\nend = time.process_time() + 0.5\n"
        "while time.process_time() < end: pass\nprint('burnt', flush=True)\ntime.sleep(30)"
    )
    script = f"import subprocess, sys\nsubprocess.run([sys.executable, '-c', {burn!r}])"
    started = process_tree_cpu_s(os.getpid())
    with subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "burnt\n"
            assert process_tree_cpu_s(os.getpid()) - started >= 0.4
        finally:
            for grandchild in child_pids(child.pid):
                os.kill(grandchild, 9)
            child.kill()


def test_cpu_by_process_tells_the_block_writer_from_the_rest() -> None:
    """A child whose command line names the block writer's module burns ~0.3 s: counted as
    the writer's, not the node's or the verifiers'."""
    burn = (
        "# rantai.node.writer\nimport time\nend = time.process_time() + 0.3\n"
        "while time.process_time() < end: pass\nprint('burnt', flush=True)\ntime.sleep(30)"
    )
    before = cpu_by_process(os.getpid())
    with subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "burnt\n"
            after = cpu_by_process(os.getpid())
        finally:
            child.kill()
    assert after["writer"] - before["writer"] >= 0.2
    assert after["verifiers"] - before["verifiers"] < 0.1
    assert after["monitors"] == before["monitors"]
