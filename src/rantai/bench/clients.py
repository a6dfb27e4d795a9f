"""A bench client: a separate process that signs its share first, then posts it in batches.

Each batch is one ``POST /v1/transactions?wait=true`` with a MessagePack body, answered in
MessagePack (``Accept``); the time from sending it to its response (every receipt in) is the
submit-to-commit latency of each of its transactions. A client either sends as fast as its
responses come back, or paced, at a fixed offered load.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Event
from typing import Final

import httpx
import msgspec

from rantai.bench.chain import Phase, sign_phase
from rantai.core import codes

__all__ = ["ClientJob", "ClientResult", "run_client"]

REQUEST_TIMEOUT_S: Final = 120.0
WAIT_MS: Final = 60_000
PACED_IN_FLIGHT_MAX: Final = 32
_LIMITS: Final = httpx.Limits(max_connections=PACED_IN_FLIGHT_MAX)


@dataclass(frozen=True, slots=True)
class ClientJob:
    """What one client sends: its share of ``phase``, ``batch`` per request, and when."""

    url: str
    phase: Phase
    client: int
    clients: int
    batch: int
    interval_s: float = 0.0  # 0: as fast as responses return; else one batch per interval
    seconds_max: float = 0.0  # 0: until its share is sent


@dataclass(frozen=True, slots=True)
class ClientResult:
    """Per batch: ``(sent_at_s, latency_ms, txs, committed_ok)``; sent_at on the shared clock."""

    client: int
    batches: list[tuple[float, float, int, int]]


# What the count needs of the MessagePack response (rantai.api.submit.PackedResponse); the
# rest of each result and receipt (its events) is skipped unread.
class _Receipt(msgspec.Struct, array_like=True):
    tx_id: bytes
    code: str


class _Result(msgspec.Struct):
    code: str
    receipt: _Receipt | None


class _Results(msgspec.Struct):
    results: list[_Result]


_decoder: Final = msgspec.msgpack.Decoder(_Results)


def _committed_ok(body: bytes) -> int:
    return sum(
        1
        for r in _decoder.decode(body).results
        if r.code == codes.OK and r.receipt is not None and r.receipt.code == codes.OK
    )


def run_client(job: ClientJob, ready: Queue[int], start: Event, out: Queue[ClientResult]) -> None:
    """Sign, say ready, wait for ``start``, send; put the result on ``out``."""
    raws = sign_phase(job.phase, job.client, job.clients)
    batches = [raws[i : i + job.batch] for i in range(0, len(raws), job.batch)]
    encoder = msgspec.msgpack.Encoder()
    bodies = [encoder.encode(b) for b in batches]
    headers = {"Content-Type": "application/msgpack", "Accept": "application/msgpack"}
    path = f"/v1/transactions?wait=true&timeout_ms={WAIT_MS}"
    done: list[tuple[float, float, int, int]] = []
    with (
        httpx.Client(base_url=job.url, timeout=REQUEST_TIMEOUT_S, limits=_LIMITS) as client,
        ThreadPoolExecutor(max_workers=PACED_IN_FLIGHT_MAX if job.interval_s else 1) as pool,
    ):
        client.get("/health")  # the connection is open before the clock starts
        ready.put(job.client)
        start.wait()

        def send(batch_txs: int, body: bytes) -> tuple[float, float, int, int]:
            sent = time.perf_counter()
            response = client.post(path, content=body, headers=headers)
            latency_ms = (time.perf_counter() - sent) * 1000
            ok = _committed_ok(response.content) if response.status_code == 200 else 0
            return sent, latency_ms, batch_txs, ok

        began = time.perf_counter()
        futures = []
        for n, (batch, body) in enumerate(zip(batches, bodies, strict=True)):
            if job.seconds_max and time.perf_counter() - began > job.seconds_max:
                break
            if not job.interval_s:  # closed loop: the next batch when this one is committed
                done.append(send(len(batch), body))
                continue
            # Open loop: a batch every interval, however long earlier ones take.
            pause = began + n * job.interval_s - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            futures.append(pool.submit(send, len(batch), body))
        done.extend(f.result() for f in futures)
    out.put(ClientResult(job.client, done))
