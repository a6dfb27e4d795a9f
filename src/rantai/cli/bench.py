"""``rantai bench``: the command over ``rantai.bench`` (docs/performance.md).

Progress goes to stderr; the last line on stdout is always one JSON object of figures.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any, Final

import typer
from rich.console import Console
from rich.table import Table

from rantai.bench import BenchConfig, run_bench
from rantai.bench.distribution import run_distribution_bench

__all__ = ["bench"]

QUICK: Final = BenchConfig(accounts=500, txs=10_000, seconds=5.0)
SCALE_ACCOUNTS: Final = (1_000, 100_000, 1_000_000)

console = Console(stderr=True)


def bench(
    accounts: Annotated[int, typer.Option(min=2, max=10_000_000, help="Funded holders.")] = 10_000,
    txs: Annotated[
        int, typer.Option(min=1, max=10_000_000, help="Transfers per phase (core, e2e).")
    ] = 200_000,
    seconds: Annotated[
        float, typer.Option(min=1, max=3_600, help="Length of the latency phase.")
    ] = 60.0,
    quick: Annotated[
        bool, typer.Option("--quick", help="A small run for CI smoke use (under a minute).")
    ] = False,
    scale: Annotated[
        bool, typer.Option("--scale", help="Also e2e at 1,000, 100,000 and 1,000,000 accounts.")
    ] = False,
    distribution: Annotated[
        int,
        typer.Option(
            min=0,
            max=10_000_000,
            help="Instead: time one distribution paying this many holders (e.g. 100000).",
        ),
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the JSON line.")] = False,
) -> None:
    """Measure throughput and latency on a new regulated chain; print the figures."""
    workers = os.cpu_count() or 1
    if distribution:
        with console.status(f"distribution to {distribution} holders"):
            paid = run_distribution_bench(distribution, workers)
        _print(paid, as_json)
        return
    config = QUICK if quick else BenchConfig(accounts, txs, seconds, workers)
    config = BenchConfig(config.accounts, config.txs, config.seconds, workers)
    with console.status("bench") as status:
        figures: dict[str, Any] = run_bench(config, progress=status.update)
        if scale:
            figures["scale"] = {}
            for count in SCALE_ACCOUNTS:
                status.update(f"scale: {count} accounts")
                scaled = run_bench(BenchConfig(count, config.txs, config.seconds, workers, True))
                figures["scale"][str(count)] = {
                    "e2e_tx_per_s": scaled["e2e_tx_per_s"],
                    "e2e_cpu_us_per_tx": scaled["e2e_cpu_us_per_tx"],
                    "e2e_cpu_us_per_tx_by_process": scaled["e2e_cpu_us_per_tx_by_process"],
                    "setup_s": scaled["setup_s"],
                    "rss_mb_max": scaled["rss_mb_max"],
                    "supervision_rss_mb_max": scaled["supervision_rss_mb_max"],
                    "node_start_s": scaled["node_start_s"],
                }
    _print(figures, as_json)


def _print(figures: dict[str, Any], as_json: bool) -> None:
    if not as_json:
        table = Table(title="rantai bench")
        table.add_column("figure")
        table.add_column("value", justify="right")
        for name, value in figures.items():
            if not isinstance(value, dict | list):
                table.add_row(name, str(value))
        Console().print(table)
    typer.echo(json.dumps(figures, sort_keys=True))
