"""A node's data directory: its database, its configuration and the key files it made.

```
DIR/ledger.db        the SQLite store (absent when the node runs on PostgreSQL)
DIR/ledger.state.db  its current state, folded from ledger.db (rebuilt when deleted)
DIR/chain.json       chain id, the executor key file, and the store URL
DIR/keys/<name>.key  one JSON key file per party key and node key, mode 0600
```
Key files hold the private seed in hex. They are for a single machine's demo and test
chains; an agency's production keys stay on its own machine (see docs/operations.md).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rantai.core.kinds.genesis import Genesis, GenesisAgency, GenesisParty
from rantai.core.tx import build_envelope
from rantai.crypto.keys import SigningKey
from rantai.node.node import Node, NodeConfig, wall_clock_ms
from rantai.store import open_store
from rantai.store.base import Store

__all__ = [
    "ChainFiles",
    "KeyFile",
    "init_chain",
    "load_key",
    "open_node",
    "save_key",
]

KEY_FILE_MODE = 0o600


@dataclass(frozen=True, slots=True)
class KeyFile:
    """A party (or node) and one of its signing keys."""

    party: str
    key: SigningKey


def save_key(path: Path, party: str, key: SigningKey) -> None:
    """Write a key file readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps({"party": party, "public_key": key.public_key.hex(), "seed": key.seed.hex()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    with os.fdopen(fd, "w") as handle:
        handle.write(data + "\n")


def load_key(path: Path) -> KeyFile:
    """Read a key file written by ``save_key``."""
    data = json.loads(path.read_text())
    key = SigningKey(bytes.fromhex(data["seed"]))
    if key.public_key.hex() != data["public_key"]:
        raise ValueError(f"{path}: public key does not match the seed")
    return KeyFile(str(data["party"]), key)


@dataclass(frozen=True, slots=True)
class ChainFiles:
    """Paths inside a data directory."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "chain.json"

    @property
    def keys(self) -> Path:
        return self.root / "keys"

    def key(self, name: str) -> Path:
        return self.keys / f"{name}.key"

    def store_target(self) -> str:
        if self.config.exists():
            return str(json.loads(self.config.read_text()).get("store", self.root))
        return str(self.root)


DEFAULT_AGENCIES = (
    ("SC", "Securities Commission", ("bond", "equity", "fund", "other", "sukuk")),
    ("BNM", "Central Bank", ("cash",)),
    ("MOD", "Ministry of Digital", ()),
)


def init_chain(
    root: Path,
    chain_id: str,
    store_target: str | None = None,
    clock_ms: Callable[[], int] = wall_clock_ms,
    config: NodeConfig | None = None,
    make_key: Callable[[str], SigningKey] | None = None,
) -> Node:
    """Create a new chain in ``root``: keys for every genesis party, genesis, block 0.

    ``make_key(name)`` gives each genesis key (default: fresh random keys); tests pass a
    deterministic one.
    """
    files = ChainFiles(root)
    if files.config.exists():
        raise FileExistsError(f"{files.config} exists: {root} holds a chain already")
    root.mkdir(parents=True, exist_ok=True)
    keys: dict[str, SigningKey] = {}

    def new_key(name: str) -> SigningKey:
        key = make_key(name) if make_key is not None else SigningKey.generate()
        save_key(files.key(name), name if name != "node" else "operator", key)
        keys[name] = key
        return key

    node_key = new_key("node")
    operator = GenesisParty(
        "operator", "organisation", "Platform operator", (new_key("operator").public_key,), ()
    )
    agencies = tuple(
        GenesisAgency(GenesisParty(pid, "agency", name, (new_key(pid).public_key,), ()), scope)
        for pid, name, scope in DEFAULT_AGENCIES
    )
    registrar = GenesisParty(
        "registrar", "organisation", "Registrar", (new_key("registrar").public_key,), ("registrar",)
    )
    genesis = Genesis(
        chain_id=chain_id,
        operator=operator,
        agencies=agencies,
        parties=(registrar,),
        thresholds=(),
        executors=(node_key.public_key,),
    )
    envelope = build_envelope(chain_id, "operator", 0, keys["operator"], genesis)
    target = store_target or str(root)
    files.config.write_text(
        json.dumps(
            {"chain_id": chain_id, "store": target, "executor_key": "keys/node.key"}, indent=2
        )
        + "\n"
    )
    store = open_store(target)
    node = Node(store, node_key, config, clock_ms=clock_ms, store_target=target)
    node.create_genesis(envelope)
    return node


def open_node(
    root: Path, config: NodeConfig | None = None, store_target: str | None = None
) -> Node:
    """Open the node whose data directory is ``root``."""
    files = ChainFiles(root)
    if not files.config.exists():
        raise FileNotFoundError(f"{root} holds no chain; run `rantai init --data {root}`")
    target = store_target or files.store_target()
    store: Store = open_store(target)
    executor = load_key(files.key("node"))
    return Node(store, executor.key, config, store_target=target)
