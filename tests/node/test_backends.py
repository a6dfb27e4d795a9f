"""The same ordered transactions give the same chain on SQLite and on PostgreSQL."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import fresh_database
from tests.node.harness import market, new_node, send

from rantai.core.ids import account_id
from rantai.core.kinds.instruments import Burn, Mint
from rantai.core.kinds.transfers import Transfer
from rantai.core.tx import TxBody
from rantai.node.audit import audit
from rantai.node.datadir import open_node
from rantai.node.node import Node

NAMES = [f"inv-{i}" for i in range(3)]

ops = st.lists(
    st.tuples(
        st.sampled_from(["transfer", "mint", "burn"]),
        st.sampled_from(NAMES),
        st.sampled_from(NAMES),
        st.integers(1, 2_000_000),
    ),
    min_size=1,
    max_size=25,
)


def _item(kind: str, a: str, b: str, amount: int) -> tuple[str, TxBody]:
    if kind == "transfer":
        return a, Transfer(account_id(a), account_id(b), "BOND1", amount, "")
    if kind == "mint":
        return "issuer", Mint("BOND1", account_id(b), amount, "")
    return a, Burn("BOND1", account_id(a), amount, "")


def _play(node: Node, items: list[tuple[str, TxBody]]) -> tuple[list[str], bytes]:
    market(node, investors=len(NAMES))
    codes = send(node, items)
    return codes, node.ledger.head_hash


@pytest.mark.postgres
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(script=ops)
def test_sqlite_and_postgres_agree(postgres_server_dsn: str, script: list) -> None:
    items = [_item(*op) for op in script]
    with tempfile.TemporaryDirectory() as lite_dir, tempfile.TemporaryDirectory() as pg_dir:
        lite = new_node(Path(lite_dir))
        with fresh_database(postgres_server_dsn) as dsn:
            pg = new_node(Path(pg_dir), store=dsn)
            try:
                assert _play(lite, items) == _play(pg, items)
                assert lite.ledger.tree.root == pg.ledger.tree.root
                report = audit(pg.store)
                assert report.ok, report.failure
                assert report.state_root == lite.ledger.tree.root
            finally:
                pg.store.close()
            reopened = open_node(Path(pg_dir))  # chain.json names the PostgreSQL store
            try:
                assert reopened.ledger.head_hash == lite.ledger.head_hash
            finally:
                reopened.store.close()
        lite.store.close()
