"""The ordered indexes over committed state (``rantai.core.registers``)."""

from __future__ import annotations

import random

import rantai.core.records  # noqa: F401  (declares account/ scannable)
from rantai.core.registers import StateIndex


def _incremental(keys: list[str]) -> StateIndex:
    index = StateIndex()
    for key in keys:
        index.update(key, present=True)
    return index


def _plain(index: StateIndex) -> tuple[dict[str, list[str]], list[str]]:
    holders = {i: list(index.accounts_holding(i)) for i in sorted(index.held_instruments())}
    return holders, list(index.keys_with_prefix("account/"))


def test_a_built_index_equals_one_kept_key_by_key() -> None:
    rng = random.Random(3)
    keys = [f"bal/p{n}:main/{i}" for n in range(300) for i in ("A", "B") if rng.random() < 0.6]
    keys += [f"account/p{n}:main" for n in range(300)] + [f"party/p{n}" for n in range(300)]
    rng.shuffle(keys)
    built = StateIndex.build(keys)
    assert _plain(built) == _plain(_incremental(keys))
    holders, accounts = _plain(built)
    assert holders["A"] == sorted(k.split("/")[1] for k in keys if k.endswith("/A"))
    assert accounts == sorted(k for k in keys if k.startswith("account/"))
    # The built index goes on being kept key by key.
    built.update("bal/p1:main/C", present=True)
    built.update(keys[0], present=False)
    kept = _incremental([*keys[1:], "bal/p1:main/C"])
    assert _plain(built) == _plain(kept)
