"""Numeric precision of a run's model passes: ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"``.

Reduced precision runs the model's passes under ``torch.autocast`` (Micikevicius et al., "Mixed Precision
Training", ICLR 2018; PyTorch's "Automatic Mixed Precision" docs): convolutions and matrix products in 16
bits, everything the method computes from the scores (aggregation, heatmaps) in float32 or float64, so
heatmaps always come back float32. bfloat16 is fast on CPUs with AMX or AVX512-BF16 instructions and on
CUDA; on other CPUs oneDNN emulates it and it runs slower than float32. float16 autocast is used on CUDA
only. Its accuracy cost depends on the model (``benchmarks/precision.py`` measures it), so the default
stays float32 and ``"auto"`` picks bfloat16 only where the hardware runs it natively.
"""
from __future__ import annotations

from contextlib import nullcontext
from functools import lru_cache
from typing import ContextManager

import torch

PRECISIONS = ("float32", "bfloat16", "float16", "auto")
DTYPES = {"float32": None, "bfloat16": torch.bfloat16, "float16": torch.float16}
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")


@lru_cache(maxsize=1)
def cpu_has_native_bfloat16() -> bool:
    """True when the CPU advertises AMX-BF16 or AVX512-BF16 (``/proc/cpuinfo`` flags; False where unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    except OSError:
        return False
    return any(flag in flags for flag in BF16_CPU_FLAGS)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision a run on ``device`` uses: ``"auto"`` becomes ``"bfloat16"`` on CUDA and on CPUs with
    native bfloat16, else ``"float32"``; a precision the device cannot autocast to raises ValueError."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    kind = torch.device(device).type
    if precision == "auto":
        return "bfloat16" if kind == "cuda" or (kind == "cpu" and cpu_has_native_bfloat16()) else "float32"
    if precision == "float16" and kind != "cuda":
        raise ValueError(f"precision: 'float16' needs a CUDA device, got {kind!r}; use 'bfloat16' or 'float32'")
    if precision == "bfloat16" and kind not in ("cpu", "cuda"):
        raise ValueError(f"precision: 'bfloat16' runs on CPU or CUDA, got {kind!r}; use 'float32'")
    return precision


def autocast(precision: str, device: torch.device) -> ContextManager:
    """``torch.autocast`` to a resolved ``precision`` on ``device`` (a no-op for ``"float32"``)."""
    dtype = DTYPES[precision]
    return nullcontext() if dtype is None else torch.autocast(torch.device(device).type, dtype=dtype)
