"""Structured logs: every line is one JSON object with ts, level, logger, msg and the context
of a committed block (rejections by code), recorded alerts and API requests (no query)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.api.support import ApiClock, signed_headers
from tests.node.harness import market, new_node, send

from rantai.api import create_app
from rantai.core import codes
from rantai.core.ids import account_id
from rantai.core.kinds.transfers import Transfer
from rantai.logs import RequestLogMiddleware, configure_logging, saved_logging
from rantai.supervision import LargeTransfer, LargeTransferConfig, Supervisor

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The process's log set-up pointed at a buffer, and put back afterwards."""
    restore = saved_logging()
    buffer = io.StringIO()
    assert configure_logging("json", stream=buffer) == "json"
    try:
        yield buffer
    finally:
        restore()
        assert logging.getLogger().handlers == [] or all(
            getattr(h, "stream", None) is not buffer for h in logging.getLogger().handlers
        )


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    for line in lines:
        assert {"ts", "level", "logger", "msg"} <= line.keys(), line
        assert line["ts"].endswith("+00:00")
    return lines


async def test_blocks_alerts_and_requests_log_json_lines(
    tmp_path: Path, captured: io.StringIO
) -> None:
    node = new_node(tmp_path / "chain")
    try:
        market(node)
        a, b = account_id("inv-0"), account_id("inv-1")
        outcome = send(
            node,
            [("inv-0", Transfer(a, b, "BOND1", 600_000, "")),
             ("inv-1", Transfer(b, a, "BOND1", 10**12, ""))],
        )  # fmt: skip
        assert outcome == [codes.OK, codes.INSUFFICIENT_BALANCE]
        supervisor = Supervisor(
            node.store, lambda: (LargeTransfer(LargeTransferConfig(threshold_minor=500_000)),)
        )
        assert supervisor.catch_up() == 1
        app = create_app(node, clock_ms=ApiClock(), supervisor=supervisor)
        app.add_middleware(RequestLogMiddleware)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            target = "/v1/alerts?status=open&limit=5"
            headers = signed_headers("SC", target, ApiClock().now_ms)
            assert (await client.get(target, headers=headers)).status_code == 200
    finally:
        node.stop()
        node.store.close()
    lines = _lines(captured)
    blocks = [line for line in lines if line["msg"] == "block committed"]
    head = node.ledger.head
    assert head is not None
    assert [b["height"] for b in blocks] == list(range(head.height + 1))  # genesis too
    last = blocks[-1]
    assert last["logger"] == "rantai.node.node" and last["level"] == "INFO"
    assert (last["tx_count"], last["ok_count"]) == (2, 1)
    assert last["rejections"] == {"insufficient_balance": 1}
    assert last["duration_ms"] >= 0
    (alerts,) = [line for line in lines if line["msg"] == "alerts recorded"]
    assert alerts["alert_count"] == 1 and alerts["monitors"] == ["large_transfer"]
    assert alerts["height"] == head.height
    (request,) = [line for line in lines if line["msg"] == "request"]
    assert (request["method"], request["path"], request["status"]) == ("GET", "/v1/alerts", 200)
    assert "status=open" not in json.dumps(request) and "Rantai-Signature" not in str(lines)


def test_text_lines_carry_the_context(tmp_path: Path, captured: io.StringIO) -> None:
    buffer = io.StringIO()
    assert configure_logging("text", stream=buffer) == "text"
    logging.getLogger("rantai.test").info("hello", extra={"height": 7, "duration_ms": 1.5})
    (line,) = buffer.getvalue().splitlines()
    assert line.endswith("INFO rantai.test hello height=7 duration_ms=1.5")
    assert captured.getvalue() == ""  # replaced, not added to
    with pytest.raises(ValueError, match="log format"):
        configure_logging("xml", stream=buffer)
