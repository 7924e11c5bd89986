"""Helpers shared by the benchmark scripts: timing side by side in one run, and a plain table."""
from __future__ import annotations

import statistics
import time
from typing import Callable

import torch


def time_call(fn: Callable[[], object]) -> float:
    """Wall time of one call, synchronising CUDA before and after."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    start = time.perf_counter()
    fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def interleaved(fns: dict[str, Callable[[], object]], repeats: int = 3) -> dict[str, float]:
    """Median time of each function, the calls interleaved so that machine noise hits all alike."""
    for fn in fns.values():
        fn()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(time_call(fn))
    return {name: statistics.median(t) for name, t in times.items()}


def table(rows: list[dict], columns: list[str]) -> str:
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(str(r.get(c, "")).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def device_line() -> str:
    if torch.cuda.is_available():
        return f"device: {torch.cuda.get_device_name()} (torch {torch.__version__})"
    return f"device: CPU, {torch.get_num_threads()} threads (torch {torch.__version__})"
