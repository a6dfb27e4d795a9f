"""``rantai bench --quick --json`` as CI runs it: every figure there and positive.

Throughput targets are the bench's to report, never a test's to assert: this machine's
speed is not what is tested.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

FIGURES = (
    "e2e_tx_per_s",
    "core_tx_per_s",
    "verify_per_s",
    "replay_tx_per_s",
    "p50_ms",
    "p99_ms",
    "offered_tx_per_s",
    "rss_mb_max",
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
    assert set(figures["targets"]) == {
        "e2e_tx_per_s",
        "core_tx_per_s",
        "replay_tx_per_s",
        "p99_ms",
        "rss_mb_max",
    }
