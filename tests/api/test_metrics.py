"""/metrics: the series added for tx/s, block time, rejections and mempool depth move."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.api.support import COUNTERPARTY, OWNER, World, envelope

from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer

pytestmark = pytest.mark.anyio

A, B = account_id(OWNER), account_id(COUNTERPARTY)


async def _samples(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_committed_rejected_interval_and_pending_series_move(
    client: httpx.AsyncClient, world: World
) -> None:
    node = world.node
    head = node.ledger.head
    assert head is not None
    before = await _samples(client)
    assert before[("rantai_pending_txs", ())] == 0
    ok = envelope(node, OWNER, Transfer(A, B, "BOND1", 1, ""))
    too_much = envelope(node, COUNTERPARTY, Transfer(B, A, "BOND1", 10**12, ""))
    assert [r.code for r in node.submit([ok, too_much])] == ["ok", "ok"]
    assert (await _samples(client))[("rantai_pending_txs", ())] == 2  # the mempool's depth
    node.produce_block()  # the test clock moves a second per block
    after = await _samples(client)
    assert after[("rantai_pending_txs", ())] == 0
    assert after[("rantai_txs_committed_total", ())] == 2
    assert after[("rantai_txs_ok_total", ())] == 1
    assert after[("rantai_rejections_total", (("code", "insufficient_balance"),))] == 1
    assert after[("rantai_block_interval_seconds_count", ())] == 1
    new_head = node.ledger.head
    assert new_head is not None
    interval_s = (new_head.timestamp_ms - head.timestamp_ms) / 1000
    assert after[("rantai_block_interval_seconds_sum", ())] == pytest.approx(interval_s)
