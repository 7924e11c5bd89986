"""Helpers shared by the benchmark scripts: timing side by side in one run, and a plain table."""
from __future__ import annotations

import statistics
import sys
import time
from typing import Callable

import numpy as np
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


def load_line() -> str:
    """The machine's load averages (1, 5, 15 min): print with every timing, since others may share the CPU."""
    import os

    return "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def fmo_settings(thresholds: str, budgets: str) -> list[dict[str, float]]:
    """FMO parameter settings to sweep: every comma-separated ``keep_threshold`` with every ``budget``
    (an empty list stands for the default), the default setting first."""
    import workbench as wb
    spec = wb.methods()["fmo"].spec()

    def default_first(default: float, text: str) -> list[float]:
        return [default] + [float(v) for v in text.split(",") if v and float(v) != default]

    return [{"keep_threshold": t, "budget": b}
            for t in default_first(spec.keep_threshold, thresholds) for b in default_first(spec.budget, budgets)]


def setting_name(setting: dict[str, float]) -> str:
    return " ".join(f"{k}={v:g}" for k, v in setting.items())


def passes_alone(entry, image, n: int, batch_size: int | None = None) -> Callable[[], None]:
    """A call that makes ``n`` forward passes of ``entry``'s model on copies of ``image`` and nothing else,
    as the engine runs them (its batch size, channels-last, inference mode). What any implementation making
    these ``n`` passes must spend at that batch size: a peer's time over it bounds the speed-up any
    implementation can reach."""
    from workbench.engine import Engine
    from workbench.memory_format import as_channels_last

    x = entry.preprocess(image).to(entry.device)
    engine = Engine(entry.module, batch_size=batch_size)
    size = batch_size or engine.default_batch_size(x)
    block = x.expand(size, *x.shape[1:]).contiguous()

    def run() -> None:
        with engine.channels_last(), torch.inference_mode():
            batch = as_channels_last(block) if engine.channels_last_batches else block
            for start in range(0, n, size):
                entry.module(batch[:min(size, n - start)])

    return run


def absolute_difference(before: np.ndarray, now: np.ndarray) -> float:
    """The largest absolute difference of two arrays."""
    return float(np.max(np.abs(before.astype(np.float64) - now.astype(np.float64)), initial=0.0))


def save_or_compare(compute: Callable[[], dict[str, np.ndarray]],
                    difference: Callable[[np.ndarray, np.ndarray], float] = absolute_difference,
                    limit: float = 1e-6, what: str = "max|diff|") -> None:
    """Command line of the before/after scripts: ``save PATH`` writes ``compute()``'s arrays; ``compare PATH``
    recomputes them, prints each one's ``difference`` (``what``) and exits 1 above ``limit``."""
    action, path = sys.argv[1], sys.argv[2]
    now = compute()
    if action == "save":
        np.savez(path, **now)
        print(f"saved {len(now)} arrays to {path}")
        return
    before = dict(np.load(path))
    assert sorted(before) == sorted(now), sorted(set(before) ^ set(now))
    worst = 0.0
    for key in sorted(now):
        diff = difference(before[key], now[key])
        worst = max(worst, diff)
        print(f"{key:48s} {what} = {diff:.3g}")
    print(f"largest {what} over {len(now)} arrays: {worst:.3g}")
    sys.exit(0 if worst <= limit else 1)
