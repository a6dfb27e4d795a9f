"""Child process for the crash test: commits blocks forever, printing each acknowledged height.

Run as: python crash_child.py DATA_DIR. The parent SIGKILLs it at random moments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.support import key_of

from rantai.core.ids import account_id
from rantai.core.kinds.parties import RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.records import nonce_key
from rantai.core.tx import build_envelope
from rantai.node.datadir import open_node
from rantai.node.node import NodeConfig


def main(data: Path) -> None:
    node = open_node(data, NodeConfig(block_txs_max=200))
    chain = node.ledger.chain
    assert chain is not None
    print("ready", node.ledger.next_height, flush=True)
    while True:
        values = node.ledger.values
        registrar_nonce = values.get(nonce_key("registrar"), 0)
        a_nonce = values.get(nonce_key("inv-a"), 0)
        raws = [
            build_envelope(
                chain.chain_id,
                "registrar",
                registrar_nonce + i,
                key_of("registrar"),
                RegisterParty(
                    f"p-{registrar_nonce + i}",
                    "person",
                    "p",
                    (key_of(f"p-{registrar_nonce + i}").public_key,),
                    (),
                ),
            )
            for i in range(20)
        ] + [
            build_envelope(
                chain.chain_id,
                "inv-a",
                a_nonce + i,
                key_of("inv-a"),
                Transfer(account_id("inv-a"), account_id("inv-b"), "BOND1", 1, "tick"),
            )
            for i in range(100)
        ]
        node.submit(raws)
        outcome = node.produce_block()
        assert outcome is not None
        print("acked", outcome.header.height, flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
