"""HTTP API benchmark: a real ``rantai up`` on loopback, measured from a client process.

    .venv/bin/python benchmarks/api_bench.py [--reads 2000] [--latency 200] [--batches 5]

Prints one JSON document:

* ``submit_wait_ms``: one transfer per ``POST /v1/transactions?wait=true``, sequential:
  p50/p90/p99 from request to receipt (includes the node's block_wait_ms of 50 ms);
* ``submit_batch``: batches of 2,000 transfers with ``wait=true``: transactions per second;
* ``signed_read``: ``GET /v1/parties/{id}`` signed, pre-signed outside the timing, one
  keep-alive connection, sequential; as the party itself and as an agency (which also
  appends to the access log), then 16 concurrent connections. The client shares the
  machine, so ``server_cpu_us`` (the server process's CPU time per read, from /proc) is the
  figure that does not depend on the client;
* ``access_log``: on SQLite (WAL, synchronous=FULL), appending one entry per transaction
  against ``AccessLog.record`` with the background flush (a hash and a list append).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from rantai.core.ids import account_id
from rantai.core.kinds.instruments import CreateInstrument, Mint
from rantai.core.kinds.parties import RegisterParty
from rantai.core.kinds.transfers import Transfer
from rantai.core.readauth import read_signing_bytes
from rantai.core.tx import TxBody, build_envelope
from rantai.crypto.keys import SigningKey
from rantai.node.accesslog import AccessLog
from rantai.node.datadir import KeyFile, load_key
from rantai.store.base import AccessLogRecord
from rantai.store.sqlite import SqliteStore

CHAIN = "rantai-bench"
BATCH = 2_000


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _percentiles(samples_ms: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples_ms, n=100)
    return {"p50": round(cuts[49], 2), "p90": round(cuts[89], 2), "p99": round(cuts[98], 2)}


class Bench:
    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        rantai = Path(sys.executable).parent / "rantai"
        self.log = (data.parent / "up.log").open("wb")
        command = [str(rantai), "up", "--data", str(data), "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--chain-id", CHAIN],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.base = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.base, timeout=60)
        self.nonces: dict[str, int] = {}
        self.keys: dict[str, SigningKey] = {}

    def wait_healthy(self) -> None:
        for _ in range(600):
            try:
                if self.client.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise SystemExit("rantai up did not start")

    def key(self, name: str) -> KeyFile:
        return load_key(self.data / "keys" / f"{name}.key")

    def envelope(self, sender: str, key: SigningKey, body: TxBody) -> bytes:
        nonce = self.nonces.get(sender, 0)
        self.nonces[sender] = nonce + 1
        return build_envelope(CHAIN, sender, nonce, key, body)

    def submit(self, raws: list[bytes]) -> list[dict[str, Any]]:
        response = self.client.post(
            "/v1/transactions?wait=true&timeout_ms=60000",
            json={"envelopes": [r.hex() for r in raws]},
        )
        results: list[dict[str, Any]] = response.json()["results"]
        bad = [r for r in results if r["receipt"] is None or r["receipt"]["code"] != "ok"]
        if bad:
            raise SystemExit(f"not ok: {bad[:3]}")
        return results

    def seed(self) -> None:
        registrar = self.key("registrar")
        self.keys["issuer"] = SigningKey(os.urandom(32))
        self.keys["holder"] = SigningKey(os.urandom(32))
        self.submit(
            [
                self.envelope(
                    "registrar",
                    registrar.key,
                    RegisterParty(name, "organisation", name, (key.public_key,), roles),
                )
                for name, key, roles in (
                    ("issuer", self.keys["issuer"], ("issuer",)),
                    ("holder", self.keys["holder"], ("investor",)),
                )
            ]
        )
        issuer = self.keys["issuer"]
        self.submit(
            [self.envelope("issuer", issuer, CreateInstrument("BND", "bond", "B", 0, 10**15))]
        )
        self.submit([self.envelope("issuer", issuer, Mint("BND", "issuer:main", 10**12, ""))])

    def transfer(self) -> bytes:
        body = Transfer(account_id("issuer"), account_id("holder"), "BND", 1, "")
        return self.envelope("issuer", self.keys["issuer"], body)

    def signed_headers(self, party: str, key: SigningKey, path: str) -> dict[str, str]:
        now = time.time_ns() // 1_000_000
        nonce = os.urandom(16)
        message = read_signing_bytes(CHAIN, "GET", path, "", b"", now, nonce, party)
        return {
            "Rantai-Party": party,
            "Rantai-Key": key.public_key.hex(),
            "Rantai-Timestamp": str(now),
            "Rantai-Nonce": nonce.hex(),
            "Rantai-Signature": key.sign(message).hex(),
        }

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server process has used; 0 off Linux."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> int:
        self.client.close()
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(60)
        self.log.close()
        return code


def submit_latency(bench: Bench, count: int) -> dict[str, float]:
    samples = []
    for _ in range(count):
        raw = bench.transfer()
        started = time.perf_counter()
        bench.submit([raw])
        samples.append((time.perf_counter() - started) * 1000)
    return _percentiles(samples)


def submit_batches(bench: Bench, batches: int) -> dict[str, float]:
    elapsed = 0.0
    for _ in range(batches):
        raws = [bench.transfer() for _ in range(BATCH)]
        started = time.perf_counter()
        bench.submit(raws)
        elapsed += time.perf_counter() - started
    return {"txs_per_request": BATCH, "txs_per_s": round(batches * BATCH / elapsed)}


def signed_reads(bench: Bench, party: str, key: SigningKey, count: int) -> dict[str, float]:
    path = "/v1/parties/holder"
    signed = [bench.signed_headers(party, key, path) for _ in range(count)]
    cpu_s = bench.cpu_s()
    started = time.perf_counter()
    for headers in signed:
        response = bench.client.get(path, headers=headers)
        if response.status_code != 200:
            raise SystemExit(response.text)
    elapsed = time.perf_counter() - started
    return {
        "per_s": round(count / elapsed),
        "server_cpu_us": round((bench.cpu_s() - cpu_s) / count * 1e6),
    }


async def concurrent_reads(bench: Bench, key: SigningKey, count: int, width: int) -> float:
    path = "/v1/parties/holder"
    signed = [bench.signed_headers("holder", key, path) for _ in range(count)]
    limits = httpx.Limits(max_connections=width)
    async with httpx.AsyncClient(base_url=bench.base, limits=limits, timeout=60) as client:
        queue = list(signed)

        async def worker() -> None:
            while queue:
                headers = queue.pop()
                response = await client.get(path, headers=headers)
                if response.status_code != 200:
                    raise SystemExit(response.text)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(width)))
        return round(count / (time.perf_counter() - started))


def access_log_cost(root: Path) -> dict[str, float]:
    store = SqliteStore(root / "log.db")
    try:
        count = 200
        started = time.perf_counter()
        for seq in range(1, count + 1):
            entry = AccessLogRecord(seq, 0, "SC", "GET", "/v1/parties/x", "", 200, b"\x00" * 32)
            store.append_access_log([entry])
        sync_us = (time.perf_counter() - started) / count * 1e6
    finally:
        store.close()
    store = SqliteStore(root / "log2.db")
    try:
        log = AccessLog(store, lambda: 0, flush_interval_s=0.1)
        log.start()
        count = 20_000
        started = time.perf_counter()
        for _ in range(count):
            log.record("SC", "GET", "/v1/parties/x", "", 200)
        record_us = (time.perf_counter() - started) / count * 1e6
        started = time.perf_counter()
        log.stop()
        tail_ms = (time.perf_counter() - started) * 1000
    finally:
        store.close()
    return {
        "sync_append_one_us": round(sync_us, 1),
        "buffered_record_us": round(record_us, 1),
        "final_flush_ms": round(tail_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2_000)
    parser.add_argument("--latency", type=int, default=200)
    parser.add_argument("--batches", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rantai-bench-") as tmp:
        root = Path(tmp)
        bench = Bench(root / "chain")
        try:
            bench.wait_healthy()
            bench.seed()
            result: dict[str, Any] = {"cpus": os.cpu_count()}
            result["submit_wait_ms"] = submit_latency(bench, args.latency)
            result["submit_batch"] = submit_batches(bench, args.batches)
            sc = bench.key("SC")
            result["signed_read"] = {
                "as_party": signed_reads(bench, "holder", bench.keys["holder"], args.reads),
                "as_agency_logged": signed_reads(bench, sc.party, sc.key, args.reads),
                "as_party_16_connections_per_s": asyncio.run(
                    concurrent_reads(bench, bench.keys["holder"], args.reads, 16)
                ),
            }
            health = bench.client.get("/health").json()
            result["head_height"] = health["height"]
            cpu_s = bench.cpu_s()
            for _ in range(args.reads):
                bench.client.get("/health")
            result["health_server_cpu_us"] = round((bench.cpu_s() - cpu_s) / args.reads * 1e6)
        finally:
            result["exit_code"] = bench.stop()
        result["access_log"] = access_log_cost(root)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
