"""``rantai bench``: reproducible throughput and latency figures (docs/performance.md)."""

from rantai.bench.run import TARGETS, BenchConfig, run_bench

__all__ = ["TARGETS", "BenchConfig", "run_bench"]
