"""Timing helpers for the benchmarks: percentiles and ratios against a baseline.

The machine is shared and noisy: figures are medians and 95th percentiles over
many runs, and targets are ratios against a baseline measured in the same run.
No test ever asserts on a time.
"""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Timing:
    name: str
    runs: int
    p50_ms: float
    p95_ms: float

    def line(self, baseline: "Timing | None" = None) -> str:
        ratio = f"  x{self.p50_ms / baseline.p50_ms:5.2f} baseline" if baseline else ""
        return f"{self.name:<40} p50 {self.p50_ms:8.2f} ms  p95 {self.p95_ms:8.2f} ms{ratio}"


def measure(name: str, action: Callable[[], object], runs: int = 200, warmup: int = 10) -> Timing:
    """Runs `action` warmup + runs times and keeps the percentiles of the timed runs."""
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    quantiles = statistics.quantiles(samples, n=20)
    return Timing(name, runs, statistics.median(samples), quantiles[18])
