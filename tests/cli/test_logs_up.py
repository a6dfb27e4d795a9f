"""``rantai up --log-format json``: every line on stderr, uvicorn's included, is one JSON
object; the server's start, requests and clean stop are among them."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_up_logs_json_lines_on_stderr(tmp_path: Path) -> None:
    port = _free_port()
    rantai = Path(sys.executable).parent / "rantai"
    command = [str(rantai), "up", "--data", str(tmp_path / "chain"), "--port", str(port)]
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            [*command, "--log-format", "json"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + START_TIMEOUT_S
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                while True:
                    assert process.poll() is None, stderr_path.read_text()
                    assert time.monotonic() < deadline, stderr_path.read_text()
                    try:
                        if client.get("/health?probe=1").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
            process.send_signal(signal.SIGTERM)
            assert process.wait(30) == 0, stderr_path.read_text()
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    lines = [json.loads(line) for line in stderr_path.read_text().splitlines()]
    assert all({"ts", "level", "logger", "msg"} <= line.keys() for line in lines), lines
    messages = [line["msg"] for line in lines]
    assert "serving" in messages and messages[-1] == "stopped cleanly"
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    requests = [line for line in lines if line["msg"] == "request"]
    assert requests[-1]["path"] == "/health" and requests[-1]["status"] == 200
    assert "probe=1" not in stderr_path.read_text()  # queries are never logged
