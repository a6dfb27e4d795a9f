"""One distribution paying every holder of the bench sukuk, timed (docs/performance.md).

The chain comes from ``build_chain``: ``holders`` accounts hold the sukuk under its rules, and
the issuer holds ringgit. A record date is taken in one block; the next carries a single
``distribute`` transaction paying profit pro rata to every holder. The time is from submitting
that transaction to its receipt: execution (one checked payment per holder), the state tree
update, and the durable commit of the block.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from rantai import sdk
from rantai.bench.chain import CASH, INSTRUMENT, ISSUER, SetupSender, build_chain
from rantai.core.ids import account_id

__all__ = ["run_distribution_bench"]

PROFIT_PER_HOLDER_SEN = 1_234  # RM 12.34 a holder, so no payment rounds to zero


def run_distribution_bench(holders: int, workers: int) -> dict[str, Any]:
    """Build a chain with ``holders`` holders, pay them all in one transaction, time it."""
    figures: dict[str, Any] = {"distribution_holders": holders}
    with tempfile.TemporaryDirectory(prefix="rantai-bench-dist-") as tmp:
        started = time.perf_counter()
        node = build_chain(Path(tmp) / "chain", holders, workers, time.time_ns() // 1_000_000)
        figures["distribution_setup_s"] = time.perf_counter() - started
        try:
            sender = SetupSender(node, workers)
            sender.send([(ISSUER, sdk.take_record(INSTRUMENT, "bench", "bench distribution"))])
            body = sdk.distribute(
                INSTRUMENT,
                "bench",
                "profit",
                CASH,
                account_id(ISSUER),
                total=PROFIT_PER_HOLDER_SEN * holders,
                residue_account=account_id(ISSUER),
            )
            started = time.perf_counter()
            [tx_id] = sender.send([(ISSUER, body)])
            figures["distribution_s"] = round(time.perf_counter() - started, 2)
            found = node.wait([tx_id], 60.0)
            receipt = found[tx_id][1]
            paid = sum(1 for event in receipt.events if event.name == "distribution_paid")
            figures["distribution_paid"] = paid
            figures["distribution_us_per_holder"] = round(
                figures["distribution_s"] * 1e6 / max(paid, 1), 1
            )
        finally:
            node.stop()
            node.store.close()
    figures["distribution_setup_s"] = round(figures["distribution_setup_s"], 1)
    return figures
