"""Child process for the orphan test: a node with a writer process, a verifier pool and its
AML monitors' process, as ``rantai up`` runs it.

Run as: python orphan_child.py DATA_DIR. Prints the pids of the processes it started, and of
theirs (the verifier workers are forked by the pool's forkserver), then waits to be killed.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from tests.node.test_held import envelope

from rantai.bench.run import descendant_pids
from rantai.node.datadir import open_node
from rantai.node.node import NodeConfig
from rantai.supervision.process import SupervisionProcess


def main(data: Path) -> None:
    node = open_node(data, NodeConfig(verify_workers=2, write_process=True, block_wait_ms=1))
    node.start()
    assert node.store_target is not None
    supervision = SupervisionProcess(node.store_target, None, "json")
    supervision.attach(node)
    supervision.start()
    ids = [r.tx_id for r in node.submit([envelope(n) for n in range(100)]) if r.tx_id]
    node.wait(ids, timeout_s=30)
    print(" ".join(map(str, descendant_pids(os.getpid()))), flush=True)
    time.sleep(600)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
