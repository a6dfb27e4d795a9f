"""``rantai bench``: build a regulated chain, then measure it, phase by phase.

1. setup: a new chain in a temporary directory (embedded SQLite store, WAL,
   ``synchronous=FULL``), a KYC provider trusted by governance, an instrument with rules
   (eligibility by ``kyc`` claim, max balance, max holders), N holders with claims and units;
2. ``verify_per_s``: Ed25519 verifications per second on one core (``rantai.crypto.keys.verify``);
3. ``core_tx_per_s``: transfers pre-signed in worker processes, submitted to the node in
   this process (``Node.submit``: the verifier pool, then the executor), no HTTP;
4. the AML monitors catch up with the chain and checkpoint (``supervise_s``), as a node
   supervising all along would have; otherwise the node's first start would replay every
   block so far in its supervisor during the e2e phase;
5. ``e2e_tx_per_s``: a real ``rantai up`` process; client processes sign their share in
   advance, then post MessagePack batches to ``POST /v1/transactions?wait=true``; counted
   when the receipts say ``ok``. Then the same at half that rate, paced, for ``--seconds``:
   ``p50_ms``/``p99_ms`` submit-to-commit; ``rss_mb_max`` is the node process's peak RSS;
6. ``replay_tx_per_s``: ``rantai verify`` (``rantai.node.audit``) over the chain just made.

Targets are reported next to the figures; they are never asserted.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Final

import httpx

from rantai.bench.chain import CommitWatch, Phase, build_chain, key_of, sign_phase_parallel
from rantai.bench.clients import ClientJob, ClientResult, run_client
from rantai.core import codes
from rantai.crypto.hashing import sha256
from rantai.crypto.keys import verify
from rantai.node.audit import audit
from rantai.node.collector import quiet_collector
from rantai.node.datadir import ChainFiles
from rantai.node.node import Node
from rantai.store import open_store
from rantai.supervision.monitors import default_monitors
from rantai.supervision.supervisor import Supervisor

__all__ = [
    "TARGETS",
    "BenchConfig",
    "child_pids",
    "descendant_pids",
    "process_tree_cpu_s",
    "run_bench",
]

CORE_BATCH_TXS: Final = 2_000
# Eight closed-loop clients keep 8,000 transfers in flight: enough to fill the pipeline
# (verification, a block's execution, its commit, the answers) at a million accounts, where
# each stage takes longer. With four the node idled: the cores 1.75 busy against 1.9 at
# 1,000 accounts (docs/performance.md, session 14).
E2E_CLIENTS: Final = 8
# The latency phase keeps four, each a batch every PACE_INTERVAL_S: eight would send half
# the batch twice as often, and the node, which pays per request, fell behind at half load
# (4,744 a second offered: 4,336 achieved, p99 1,954 ms, against 4,722 and 453 with four;
# docs/performance.md, session 14).
PACED_CLIENTS: Final = 4
E2E_BATCH_TXS: Final = 1_000
PACE_INTERVAL_S: Final = 0.05
VERIFY_SAMPLES: Final = 5_000
STARTUP_S: Final = 120.0
WAIT_S: Final = 900.0

TARGETS: Final = {
    "e2e_tx_per_s": 10_000,
    "core_tx_per_s": 15_000,
    "replay_tx_per_s": 20_000,
    "p99_ms_max": 300,
    "rss_mb_max_limit": 2_048,
}


@dataclass(frozen=True, slots=True)
class BenchConfig:
    accounts: int = 10_000
    txs: int = 200_000
    seconds: float = 60.0
    workers: int = os.cpu_count() or 1
    e2e_only: bool = False  # setup and the e2e phase only: for the scaling runs


Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def measure_verify(samples: int = VERIFY_SAMPLES) -> float:
    """Ed25519 verifications per second in this thread (one core)."""
    key = key_of("verify-probe")
    messages = [i.to_bytes(8, "big") * 12 for i in range(samples)]
    signed = [(m, key.sign(m)) for m in messages]
    public = key.public_key
    started = time.perf_counter()
    for message, signature in signed:
        if not verify(public, message, signature):
            raise RuntimeError("a good signature did not verify")
    return samples / (time.perf_counter() - started)


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user and system) used so far by process ``pid``, from /proc (Linux).

    Raises:
        OSError: the process has exited.
    """
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name (which may hold spaces) start at ")"; utime and stime
    # are fields 14 and 15 of the whole line.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree_cpu_s(root: int) -> Iterator[tuple[int, float]]:
    """``(pid, CPU seconds so far)`` of process ``root`` and each living descendant."""
    for pid in [root, *descendant_pids(root)]:
        try:
            yield pid, process_cpu_s(pid)
        except OSError:
            continue  # exited meanwhile


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds used so far by process ``pid`` and its living descendants. A descendant
    that has exited is no longer counted, so take both readings while the processes of
    interest live."""
    return sum(seconds for _, seconds in _tree_cpu_s(pid))


# The processes of ``rantai up`` besides its own, by a mark in their command lines; any
# other descendant belongs to the verifier pool (its forkserver and workers).
_CHILD_KINDS: Final = (
    (b"rantai.node.writer", "writer"),
    (b"rantai.supervision.process", "monitors"),
)
PROCESS_KINDS: Final = ("node", "writer", "monitors", "verifiers")


def cpu_by_process(root: int) -> dict[str, float]:
    """CPU seconds so far of ``rantai up`` (process ``root``: "node") and of its living
    descendants by kind: "writer" (the block writer), "monitors" (the AML monitors'
    process), "verifiers" (the verifier pool)."""
    totals = dict.fromkeys(PROCESS_KINDS, 0.0)
    for pid, seconds in _tree_cpu_s(root):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        marked = (kind for mark, kind in _CHILD_KINDS if mark in command)
        totals["node" if pid == root else next(marked, "verifiers")] += seconds
    return totals


def child_pids(pid: int) -> list[int]:
    """The pids of process ``pid``'s living children, from /proc (Linux)."""
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


def descendant_pids(pid: int) -> list[int]:
    """The pids of process ``pid``'s living children, theirs, and so on (the verifier's
    workers are children of its forkserver); processes that exit meanwhile are skipped."""
    found: list[int] = []
    pending = [pid]
    while pending:
        try:
            children = child_pids(pending.pop())
        except OSError:
            continue  # exited meanwhile
        found += children
        pending += children
    return found


def measure_core(node: Node, shares: list[list[bytes]]) -> tuple[float, float]:
    """Submit pre-signed transfers to ``node`` (no HTTP); committed-ok per second, and the
    CPU microseconds per transfer of this process and its children (the verifier pool, the
    writer): a figure that other work on the machine changes far less than the rate."""
    raws = [raw for share in shares for raw in share]
    watch = CommitWatch(node, [sha256(raw) for raw in raws])
    cpu_before = process_tree_cpu_s(os.getpid())
    started = time.perf_counter()
    for i in range(0, len(raws), CORE_BATCH_TXS):
        node.submit(raws[i : i + CORE_BATCH_TXS])
    found = watch.wait(WAIT_S)
    elapsed = time.perf_counter() - started
    cpu_s = process_tree_cpu_s(os.getpid()) - cpu_before
    ok = sum(1 for code in found.values() if code == codes.OK)
    if ok != len(raws):
        raise RuntimeError(f"core phase: {ok} of {len(raws)} committed ok")
    return ok / elapsed, cpu_s / ok * 1e6


class NodeProcess:
    """A real ``rantai up`` serving the chain in ``data`` on a free loopback port."""

    def __init__(self, data: Path, log: Path, startup_s: float = STARTUP_S) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._log = log.open("wb")
        code = "from rantai.cli.main import app; app()"
        command = [sys.executable, "-c", code, "up", "--data", str(data), "--port", str(port)]
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT)
        started = time.monotonic()
        deadline = started + startup_s
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    self.start_s = time.monotonic() - started  # loading the chain, mostly
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = log.read_bytes()[-2_000:].decode(errors="replace")
                raise RuntimeError(f"rantai up did not start in {startup_s:.0f} s:\n{tail}")
            time.sleep(0.1)

    def rss_mb_max(self) -> float:
        """The node process's peak resident set (VmHWM), in MiB."""
        return _peak_rss_mb(self.process.pid)

    def supervision_rss_mb_max(self) -> float:
        """The peak resident set of its AML monitors' process (rantai.supervision.process)."""
        for pid in child_pids(self.process.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue  # ended since listed
            if b"rantai.supervision.process" in command:
                return _peak_rss_mb(pid)
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_clients(
    jobs: list[ClientJob], on_start: Callable[[], None] | None = None
) -> list[ClientResult]:
    """Run one process per job; start them together once all have signed (``on_start``
    runs just before)."""
    context = multiprocessing.get_context("spawn")
    ready: Queue[int] = context.Queue()
    out: Queue[ClientResult] = context.Queue()
    start = context.Event()
    processes = [
        context.Process(target=run_client, args=(job, ready, start, out), daemon=True)
        for job in jobs
    ]
    for process in processes:
        process.start()
    for _ in jobs:
        ready.get(timeout=WAIT_S)
    if on_start is not None:
        on_start()
    start.set()
    results = [out.get(timeout=WAIT_S) for _ in jobs]
    for process in processes:
        process.join(60)
    return results


def _throughput(results: list[ClientResult]) -> tuple[float, int]:
    batches = [b for r in results for b in r.batches]
    if not batches:
        return 0.0, 0
    began = min(b[0] for b in batches)
    ended = max(b[0] + b[1] / 1000 for b in batches)
    ok = sum(b[3] for b in batches)
    return ok / (ended - began), ok


def _latency(results: list[ClientResult]) -> tuple[float, float]:
    samples: list[float] = []
    for result in results:
        for _, latency_ms, txs, _ in result.batches:
            samples.extend([latency_ms] * txs)
    if len(samples) < 2:
        return (samples[0], samples[0]) if samples else (0.0, 0.0)
    cuts = statistics.quantiles(samples, n=100)
    return cuts[49], cuts[98]


def measure_e2e_max(url: str, phase: Phase, node_pid: int) -> dict[str, Any]:
    """``e2e_tx_per_s``: committed-ok transfers per second over HTTP, clients sending as
    fast as answered; and the CPU microseconds a transfer of ``rantai up`` (process
    ``node_pid``), in all and by process, from the clients' start (once they have signed) to
    their last answer."""
    jobs = [ClientJob(url, phase, c, E2E_CLIENTS, E2E_BATCH_TXS) for c in range(E2E_CLIENTS)]
    before: dict[str, float] = {}
    results = run_clients(jobs, on_start=lambda: before.update(cpu_by_process(node_pid)))
    after = cpu_by_process(node_pid)
    rate, ok = _throughput(results)
    if ok != phase.count:
        raise RuntimeError(f"e2e phase: {ok} of {phase.count} committed ok")
    cpu = {kind: (after[kind] - before[kind]) / ok * 1e6 for kind in PROCESS_KINDS}
    return {
        "e2e_tx_per_s": rate,
        "e2e_cpu_us_per_tx": sum(cpu.values()),
        "e2e_cpu_us_per_tx_by_process": {kind: round(us, 1) for kind, us in cpu.items()},
    }


def measure_e2e(
    url: str, phase: Phase, node_pid: int, seconds: float, progress: Progress
) -> dict[str, Any]:
    """Max throughput over HTTP, then latency at half of it, paced, for ``seconds``."""
    figures = measure_e2e_max(url, phase, node_pid)
    offered = figures["e2e_tx_per_s"] / 2
    per_client = offered / PACED_CLIENTS
    batch = max(1, round(per_client * PACE_INTERVAL_S))
    count = -(-int(offered * seconds * 1.05) // phase.accounts) * phase.accounts
    paced = phase.after(count)
    progress(f"latency at {offered:.0f} tx/s offered for {seconds:.0f} s")
    jobs = [
        ClientJob(url, paced, c, PACED_CLIENTS, batch, PACE_INTERVAL_S, seconds)
        for c in range(PACED_CLIENTS)
    ]
    results = run_clients(jobs)
    p50, p99 = _latency(results)
    paced_rate, _ = _throughput(results)
    not_ok = sum(txs - ok for r in results for _, _, txs, ok in r.batches)
    figures |= {
        "offered_tx_per_s": offered,
        "achieved_at_offered_tx_per_s": paced_rate,
        "p50_ms": p50,
        "p99_ms": p99,
        "not_ok_at_offered": not_ok,  # refused or not committed ok within the wait: should be 0
    }
    return figures


def catch_up_supervision(data: Path) -> float:
    """Feed the chain in ``data`` to the monitors ``rantai up`` runs and save their
    checkpoint; the seconds it took."""
    store = open_store(ChainFiles(data).store_target())
    try:
        started = time.perf_counter()
        supervisor = Supervisor(store, default_monitors)
        supervisor.catch_up()
        supervisor.save_checkpoint()
        return time.perf_counter() - started
    finally:
        store.close()


def measure_replay(data: Path, workers: int) -> tuple[float, int]:
    store = open_store(ChainFiles(data).store_target())
    try:
        with quiet_collector():  # as `rantai verify` runs it
            started = time.perf_counter()
            report = audit(store, verify_workers=workers)
            elapsed = time.perf_counter() - started
    finally:
        store.close()
    if not report.ok:
        raise RuntimeError(f"replay failed: {report.failure}")
    return report.txs / elapsed, report.txs


def _multiple(count: int, of: int) -> int:
    return max(of, -(-count // of) * of)


def run_bench(config: BenchConfig, progress: Progress = _quiet) -> dict[str, Any]:
    """Every figure of one run, as a flat JSON-ready dict."""
    figures: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model(),
        "accounts": config.accounts,
        "store": "sqlite (WAL, synchronous=FULL)",
        "rules": ["eligibility(kyc>=1)", "max_balance", "max_holders"],
    }
    count = config.txs if config.e2e_only else _multiple(config.txs, config.accounts)
    figures["txs_per_phase"] = count
    with tempfile.TemporaryDirectory(prefix="rantai-bench-") as tmp:
        data = Path(tmp) / "chain"
        progress(f"setup: {config.accounts} accounts with claims and units")
        started = time.perf_counter()
        node = build_chain(data, config.accounts, config.workers, time.time_ns() // 1_000_000)
        figures["setup_s"] = time.perf_counter() - started
        core_phase = Phase(config.accounts, count, 0)
        try:
            if not config.e2e_only:
                progress("verify_per_s")
                figures["verify_per_s"] = measure_verify()
                progress(f"core: signing {count} transfers")
                shares = sign_phase_parallel(core_phase, 1, config.workers)
                progress(f"core: {count} transfers through the node")
                figures["core_tx_per_s"], figures["core_cpu_us_per_tx"] = measure_core(node, shares)
        finally:
            node.stop()
            node.store.close()
        progress("supervision: the monitors catch up")
        figures["supervise_s"] = catch_up_supervision(data)
        progress(f"e2e: {count} transfers over HTTP")
        # Loading the chain takes about a millisecond per account at a million (decoding
        # the state, building the tree and the indexes) on a loaded 2-core machine.
        startup_s = STARTUP_S + config.accounts / 1_000
        server = NodeProcess(data, Path(tmp) / "up.log", startup_s)
        figures["node_start_s"] = server.start_s
        try:
            e2e_phase = core_phase if config.e2e_only else core_phase.after(count)
            node_pid = server.process.pid
            if config.e2e_only:
                figures.update(measure_e2e_max(server.url, e2e_phase, node_pid))
            else:
                figures.update(
                    measure_e2e(server.url, e2e_phase, node_pid, config.seconds, progress)
                )
            figures["rss_mb_max"] = server.rss_mb_max()
            figures["supervision_rss_mb_max"] = server.supervision_rss_mb_max()
        finally:
            server.stop()
        if config.e2e_only:
            return _rounded(figures)
        progress("replay: rantai verify")
        figures["replay_tx_per_s"], figures["replayed_txs"] = measure_replay(data, config.workers)
    figures["targets"] = {
        "e2e_tx_per_s": figures["e2e_tx_per_s"] >= TARGETS["e2e_tx_per_s"],
        "core_tx_per_s": figures["core_tx_per_s"] >= TARGETS["core_tx_per_s"],
        "replay_tx_per_s": figures["replay_tx_per_s"] >= TARGETS["replay_tx_per_s"],
        "p99_ms": figures["p99_ms"] <= TARGETS["p99_ms_max"],
        "rss_mb_max": figures["rss_mb_max"] <= TARGETS["rss_mb_max_limit"],
    }
    return _rounded(figures)


def _rounded(figures: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 1) if isinstance(v, float) else v for k, v in figures.items()}
