"""``rantai up`` as a real process on a free loopback port: it creates a chain, serves the
API, takes signed envelopes and returns receipts, streams headers, logs agency reads, and
stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rantai.core.kinds.parties import RegisterParty
from rantai.core.readauth import read_signing_bytes
from rantai.core.tx import build_envelope
from rantai.crypto.keys import SigningKey
from rantai.node.audit import audit
from rantai.node.datadir import KeyFile, load_key
from rantai.store import open_store

pytestmark = pytest.mark.slow

START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 20
CHAIN = "rantai-up-test"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A ``rantai up`` process and a client for it."""

    def __init__(self, data: Path, log: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        rantai = Path(sys.executable).parent / "rantai"
        command = [str(rantai), "up", "--data", str(data), "--port", str(self.port)]
        command += ["--chain-id", CHAIN]
        self._log = log.open("wb")
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        self.client = httpx.Client(base_url=self.base, timeout=10)

    def wait_healthy(self) -> dict[str, object]:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"rantai up exited early:\n{self.log()}")
            try:
                response = self.client.get("/health")
            except httpx.TransportError:
                time.sleep(0.1)
                continue
            if response.status_code == 200:
                health: dict[str, object] = response.json()
                return health
            time.sleep(0.1)
        raise AssertionError(f"rantai up did not become healthy:\n{self.log()}")

    def key(self, name: str) -> KeyFile:
        return load_key(self.data / "keys" / f"{name}.key")

    def signed_get(self, reader: KeyFile, target: str) -> httpx.Response:
        path, _, query = target.partition("?")
        now = time.time_ns() // 1_000_000
        nonce = os.urandom(16)
        message = read_signing_bytes(CHAIN, "GET", path, query, b"", now, nonce, reader.party)
        headers = {
            "Rantai-Party": reader.party,
            "Rantai-Key": reader.key.public_key.hex(),
            "Rantai-Timestamp": str(now),
            "Rantai-Nonce": nonce.hex(),
            "Rantai-Signature": reader.key.sign(message).hex(),
        }
        return self.client.get(target, headers=headers)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return self.process.returncode


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "chain", tmp_path / "up.log")
    try:
        yield running
    finally:
        running.stop()


class _HeaderListener(threading.Thread):
    """Reads the SSE stream in the background until it sees ``height`` or the stream ends."""

    def __init__(self, base: str, height: int) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.height = height
        self.connected = threading.Event()
        self.headers: list[dict[str, object]] = []

    def run(self) -> None:
        timeout = httpx.Timeout(5, read=30)
        with (
            httpx.Client(base_url=self.base, timeout=timeout) as client,
            client.stream("GET", "/v1/stream/headers") as response,
        ):
            for line in response.iter_lines():
                if line.startswith(": connected"):
                    self.connected.set()
                if line.startswith("data: "):
                    info = json.loads(line[len("data: ") :])
                    self.headers.append(info)
                    if info["height"] >= self.height:
                        return


def test_up_serves_submits_streams_and_stops_cleanly(server: Server) -> None:
    health = server.wait_healthy()
    assert health == {"status": "ok", "height": 0, "chain_id": CHAIN}

    listener = _HeaderListener(server.base, height=1)
    listener.start()
    assert listener.connected.wait(10), server.log()

    registrar = server.key("registrar")
    newcomer = SigningKey(os.urandom(32))
    body = RegisterParty("acme", "organisation", "Acme", (newcomer.public_key,), ("issuer",))
    raw = build_envelope(CHAIN, registrar.party, 0, registrar.key, body)
    response = server.client.post(
        "/v1/transactions?wait=true&timeout_ms=15000", json={"envelopes": [raw.hex()]}
    )
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["code"] == "ok" and result["receipt"]["code"] == "ok", result
    assert result["height"] == 1

    listener.join(30)
    assert [h["height"] for h in listener.headers] == [1], server.log()
    assert listener.headers[0]["hash"] == server.client.get("/v1/headers/1").json()["hash"]

    read = server.signed_get(server.key("SC"), "/v1/parties/acme")
    assert read.status_code == 200 and read.json()["roles"] == ["issuer"]
    log = server.signed_get(server.key("BNM"), "/v1/access-log").json()
    assert [(e["party"], e["path"]) for e in log["items"]] == [("SC", "/v1/parties/acme")]
    assert "rantai_blocks_total 1.0" in server.client.get("/metrics").text

    assert server.stop() == 0, server.log()
    assert "stopped cleanly" in server.log()
    store = open_store(str(server.data))
    try:
        report = audit(store)
    finally:
        store.close()
    assert report.ok, report.failure
    assert report.head_height == 1
    assert report.access_log_entries == 2  # SC's read, and BNM's read of the log


def test_up_restarts_on_its_chain(tmp_path: Path) -> None:
    first = Server(tmp_path / "chain", tmp_path / "first.log")
    try:
        first.wait_healthy()
    finally:
        assert first.stop() == 0
    again = Server(tmp_path / "chain", tmp_path / "again.log")
    try:
        assert again.wait_healthy()["chain_id"] == CHAIN
        assert "created" not in again.log()
    finally:
        assert again.stop() == 0
