"""Numeric precision of a run's model passes: ``"float32"``, ``"bfloat16"``, ``"float16"`` or ``"auto"``.

Reduced precision runs the model's passes under ``torch.autocast`` (Micikevicius et al., "Mixed Precision
Training", ICLR 2018; PyTorch's "Automatic Mixed Precision" docs): convolutions and matrix products in 16
bits, everything the method computes from the scores (aggregation, heatmaps) in float32 or float64, so
heatmaps always come back float32. bfloat16 is fast on CPUs with AMX or AVX512-BF16 instructions and on
CUDA; on other CPUs oneDNN emulates it and it runs slower than float32. float16 autocast is used on CUDA
only. Its accuracy cost depends on the model (``benchmarks/precision.py`` measures it), so the default
stays float32. ``"auto"`` is decided by measurement where it can be: a forward-only run's probe
(:mod:`workbench.execution`) takes bfloat16 only when it is faster and the probe image's heatmap unchanged;
elsewhere ``"auto"`` is float32 on a CPU (an AVX512-BF16 flag does not make bfloat16 faster: Occlusion on the
shapes model ran 0.32x float32's speed) and bfloat16 on CUDA.

float32 means float32: PyTorch lets cuDNN convolutions use TF32 (10-bit mantissa products) by default, and
``torch.set_float32_matmul_precision`` lets matrix products use TF32 or bfloat16; a float32 run switches
both off for its duration (:func:`full_float32`; the workbench's Occlusion differed from Captum's by 0.7-1.2%
on an H200 with TF32 on) and puts the user's settings back after.
"""
from __future__ import annotations

from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import ContextManager, Iterator

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
    """The precision a run on ``device`` uses before any measurement: ``"auto"`` becomes ``"bfloat16"`` on CUDA,
    else ``"float32"`` (a forward-only run's probe may then choose bfloat16, :mod:`workbench.execution`); a
    precision the device cannot autocast to raises ValueError."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision: expected one of {PRECISIONS}, got {precision!r}")
    kind = torch.device(device).type
    if precision == "auto":
        return "bfloat16" if kind == "cuda" else "float32"
    if precision == "float16" and kind != "cuda":
        raise ValueError(f"precision: 'float16' needs a CUDA device, got {kind!r}; use 'bfloat16' or 'float32'")
    if precision == "bfloat16" and kind not in ("cpu", "cuda"):
        raise ValueError(f"precision: 'bfloat16' runs on CPU or CUDA, got {kind!r}; use 'float32'")
    return precision


def autocast(precision: str, device: torch.device) -> ContextManager:
    """``torch.autocast`` to a resolved ``precision`` on ``device`` (a no-op for ``"float32"``)."""
    dtype = DTYPES[precision]
    return nullcontext() if dtype is None else torch.autocast(torch.device(device).type, dtype=dtype)


# torch.backends objects with an ``fp32_precision`` (PyTorch 2.9's API; the parents first, then the leaves)
FP32_BACKENDS = ("", "cudnn", "mkldnn", "cuda.matmul", "cudnn.conv", "cudnn.rnn", "mkldnn.matmul", "mkldnn.conv",
                 "mkldnn.rnn")


def _backend(path: str):
    value = torch.backends
    for part in filter(None, path.split(".")):
        value = getattr(value, part, None)
    return value


def _legacy_flags() -> dict[str, object]:
    """The legacy TF32 settings that can be read (PyTorch refuses to read one after a mix of the legacy and the
    ``fp32_precision`` APIs set it)."""
    getters = {"matmul_precision": torch.get_float32_matmul_precision,
               "cuda_matmul_tf32": lambda: torch.backends.cuda.matmul.allow_tf32,
               "cudnn_tf32": lambda: torch.backends.cudnn.allow_tf32}
    flags = {}
    for name, get in getters.items():
        try:
            flags[name] = get()
        except RuntimeError:
            pass
    return flags


def _set_legacy_flags(flags: dict[str, object]) -> None:
    if "matmul_precision" in flags:
        torch.set_float32_matmul_precision(flags["matmul_precision"])
    if "cuda_matmul_tf32" in flags:
        torch.backends.cuda.matmul.allow_tf32 = flags["cuda_matmul_tf32"]
    if "cudnn_tf32" in flags:
        torch.backends.cudnn.allow_tf32 = flags["cudnn_tf32"]


def float32_settings() -> dict[str, object]:
    """The process's float32 math settings: the legacy TF32 flags that can be read and every backend's
    ``fp32_precision`` (where this PyTorch has it)."""
    settings: dict[str, object] = dict(_legacy_flags())
    for path in FP32_BACKENDS:
        backend = _backend(path)
        if backend is not None and hasattr(backend, "fp32_precision"):
            settings[f"fp32_precision:{path}"] = backend.fp32_precision
    return settings


@contextmanager
def full_float32(precision: str) -> Iterator[None]:
    """At ``precision`` ``"float32"``, run the block with float32 matrix products and convolutions in full
    float32 on every backend (``set_float32_matmul_precision("highest")``, cuBLAS and cuDNN TF32 off; the
    ``fp32_precision`` API follows); the user's settings are restored after, also when the block raises.
    Other precisions leave the settings alone."""
    if precision != "float32":
        yield
        return
    saved = float32_settings()
    try:
        _set_legacy_flags({"matmul_precision": "highest", "cuda_matmul_tf32": False, "cudnn_tf32": False})
        yield
    finally:
        _set_legacy_flags(saved)
        for path in FP32_BACKENDS:   # after the legacy setters, only what they did not put back
            key = f"fp32_precision:{path}"
            backend = _backend(path)
            if key in saved and backend.fp32_precision != saved[key]:
                backend.fp32_precision = saved[key]
