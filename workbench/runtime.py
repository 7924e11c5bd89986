"""Compiled inference runtimes for forward-only passes: the model exported once to ONNX and run by ONNX Runtime
or OpenVINO on the CPU.

PyTorch's eager CPU kernels leave much of a CPU unused on the small batches the engine scores; the same model
compiled by an inference runtime (graph fusion, kernels chosen for the CPU) runs the same float32 scores 1.4x
to 5x faster, most on depthwise convolutions (``benchmarks/runtime.py``; README, Performance). Which runtime is
faster depends on the model and the CPU, so :mod:`workbench.execution` picks by measurement.

A conversion is ``torch.onnx.export`` with the ``torch.export`` (dynamo) exporter, opset 18, dynamic batch: it
refuses data-dependent control flow instead of tracing one branch (the TorchScript exporter bakes in the branch
the example took, silently). The ONNX bytes are compiled by the runtime with the process's torch thread count.
Conversions are cached for the process per (module, input size ``(C,H,W)``, runtime, precision), weakly on the
module, and made again when the module's parameters or buffers change (their shapes, dtypes and sums are
compared on each use; a change that keeps every tensor's sum is not seen). A model that does not convert
raises :class:`NotConvertible` with the reason (callers fall back to torch and say why).
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import tempfile
import threading
import warnings
import weakref
from collections import Counter
from typing import Callable

import numpy as np
import torch
from torch import nn

from .incremental import _python_attributes

RUNTIMES = ("auto", "torch", "onnxruntime", "openvino")
COMPILED_RUNTIMES = ("onnxruntime", "openvino")
COMPILED_PRECISIONS = {"onnxruntime": ("float32",), "openvino": ("float32", "bfloat16")}
OPSET = 18
OPENVINO_HINTS = {"float32": "f32", "bfloat16": "bf16"}

# conversions made in this process, by kind ("onnx" exports, then one compilation per runtime and precision)
CONVERSIONS: Counter = Counter()
_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()


class NotConvertible(Exception):
    """The model could not be converted for a runtime; the message says why."""


def check_runtime(runtime: str) -> str:
    """``runtime`` if it is one of :data:`RUNTIMES`, else ValueError naming the accepted values."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime: expected one of {RUNTIMES}, got {runtime!r}")
    return runtime


DEFAULT_RUNTIME = "torch"   # of forward-only runs that name none; "auto" measures (see resolve_runtime)


def resolve_runtime(runtime: str | None, precision: str = "float32") -> str:
    """The runtime a run uses: ``runtime`` if given (checked), else ``"auto"`` at precision ``"auto"`` (the
    Workbench's "fast" box: take the fastest path whose results the probe shows unchanged), else
    :data:`DEFAULT_RUNTIME`."""
    if runtime is None:
        return "auto" if precision == "auto" else DEFAULT_RUNTIME
    return check_runtime(runtime)


def available(runtime: str) -> bool:
    """True when the runtime's Python package imports."""
    try:
        __import__({"onnxruntime": "onnxruntime", "openvino": "openvino"}[runtime])
    except ImportError:
        return False
    return True


def parameters_fingerprint(module: nn.Module) -> tuple:
    """Shapes, dtypes and sums of the module's parameters and buffers: a conversion is reused while it is equal."""
    with torch.no_grad():
        tensors = [t for t in list(module.parameters()) + list(module.buffers())]
        sums = (torch.stack([t.detach().sum(dtype=torch.float64) if t.is_floating_point() or t.is_complex()
                             else t.detach().sum().double() for t in tensors]).cpu().tolist() if tensors else [])
    return tuple((tuple(t.shape), str(t.dtype)) for t in tensors), tuple(sums)


def _same(a, b) -> bool:
    if a is b:
        return True
    try:
        return bool(type(a) is type(b) and not isinstance(a, torch.Tensor) and a == b)
    except Exception:
        return False


def _changed_attributes(module: nn.Module, before: dict[str, dict]) -> list[str]:
    """Put back the plain attributes the export rebound or added (the exporter rebinds some to equal copies);
    the names of those that now differ (added, or unequal to what they were)."""
    changed = []
    for name, attributes in _python_attributes(module).items():
        m, saved = module.get_submodule(name), before.get(name, {})
        for key, value in attributes.items():
            if key not in saved:
                changed.append(f"{name}.{key}".lstrip("."))
                delattr(m, key)
            elif value is not saved[key]:
                if not _same(value, saved[key]):
                    changed.append(f"{name}.{key}".lstrip("."))
                setattr(m, key, saved[key])
    return changed


@contextlib.contextmanager
def _quiet() -> None:
    """The exporter's warnings and log lines (it prints graphs on failure) kept off the user's output."""
    loggers = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript",
                                                     "torch.fx.experimental.symbolic_shapes", "torch._export")]
    levels = [logger.level for logger in loggers]
    try:
        for logger in loggers:
            logger.setLevel(logging.CRITICAL)
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


def export_onnx(module: nn.Module, example: torch.Tensor) -> bytes:
    """The module as ONNX bytes (float32, batch dimension dynamic), exported from ``example`` ``(1,C,H,W)`` on
    the CPU; :class:`NotConvertible` with the reason when it does not export or its forward changes the module."""
    if next(module.parameters(), torch.empty(0)).device.type != "cpu":
        raise NotConvertible("the model is not on the CPU (the runtimes run on the CPU)")
    before, parameters = _python_attributes(module), parameters_fingerprint(module)
    with torch.no_grad():   # the exporter traces without running the Python forward: watch one real call
        module(example[:1].detach().float())
    changed = _changed_attributes(module, before)
    if changed or parameters_fingerprint(module) != parameters:
        raise NotConvertible("the forward changes the module (" + (f"attributes {', '.join(changed[:5])}" if changed
                             else "its parameters or buffers") + "): a compiled copy would not")
    training = {name: m.training for name, m in module.named_modules()}
    example = example[:1].detach().float().contiguous()
    try:
        with _quiet(), torch.no_grad():
            program = torch.onnx.export(module, (example.expand(2, *example.shape[1:]).contiguous(),), dynamo=True,
                                        input_names=["input"], output_names=["scores"], opset_version=OPSET,
                                        dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},),
                                        optimize=True, verbose=False, report=False)
            data = program.model_proto.SerializeToString()
    except Exception as error:   # the exporter raises many kinds; each means "not convertible"
        cause = error.__cause__ or error
        first = next((line for line in str(cause).splitlines() if line.strip()), "")
        first = re.sub(r"\x1b\[[0-9;]*m", "", first)
        raise NotConvertible(f"torch.onnx.export failed: {type(cause).__name__}: {first[:300]}") from None
    finally:
        for name, m in module.named_modules():
            m.training = training.get(name, m.training)
        changed = _changed_attributes(module, before)
    if changed:
        raise NotConvertible(f"the forward changes the module (attributes {', '.join(changed[:5])}): "
                             "a compiled copy would not")
    CONVERSIONS["onnx"] += 1
    return data


class CompiledModel:
    """A model compiled by a runtime: ``compiled(batch)`` maps a float32 CPU ``(N,C,H,W)`` batch to ``(N,K)``
    float32 scores (a torch tensor). ``runtime`` and ``precision`` say what runs."""

    def __init__(self, runtime: str, precision: str, run: Callable[[np.ndarray], np.ndarray]):
        self.runtime, self.precision, self._run = runtime, precision, run

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(batch.detach().to("cpu", torch.float32).numpy())
        return torch.from_numpy(np.asarray(self._run(array), dtype=np.float32))

    def __repr__(self) -> str:
        return f"CompiledModel({self.runtime!r}, {self.precision!r})"


def _threads() -> int:
    return max(1, torch.get_num_threads())


def _onnxruntime(onnx: bytes, precision: str) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = _threads(), 1
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(onnx, options, providers=["CPUExecutionProvider"])
    return lambda array: session.run(None, {"input": array})[0]


def _openvino(onnx: bytes, precision: str) -> Callable[[np.ndarray], np.ndarray]:
    import openvino

    core = openvino.Core()
    with tempfile.TemporaryDirectory() as folder:   # read_model reads ONNX from a file
        path = os.path.join(folder, "model.onnx")
        with open(path, "wb") as file:
            file.write(onnx)
        model = core.read_model(path)
        compiled = core.compile_model(model, "CPU", {"INFERENCE_NUM_THREADS": _threads(),
                                                     "INFERENCE_PRECISION_HINT": OPENVINO_HINTS[precision],
                                                     "PERFORMANCE_HINT": "LATENCY"})
    request = compiled.create_infer_request()
    lock = threading.Lock()

    def run(array: np.ndarray) -> np.ndarray:
        with lock:   # one request, one caller at a time
            return np.array(request.infer({0: array})[0], copy=True)

    return run


_BUILDERS = {"onnxruntime": _onnxruntime, "openvino": _openvino}


def compiled_model(module: nn.Module, example: torch.Tensor, runtime: str, precision: str = "float32"
                   ) -> CompiledModel:
    """The module compiled by ``runtime`` (``"onnxruntime"`` or ``"openvino"``) at ``precision`` for inputs shaped
    like ``example`` ``(1,C,H,W)``: converted on first use, then cached (see the module docstring). Raises
    :class:`NotConvertible` with the reason, also on later calls for the same model and size."""
    if runtime not in COMPILED_RUNTIMES:
        raise ValueError(f"runtime: expected one of {COMPILED_RUNTIMES}, got {runtime!r}")
    if precision not in COMPILED_PRECISIONS[runtime]:
        raise NotConvertible(f"{runtime} runs {' or '.join(COMPILED_PRECISIONS[runtime])} here, not {precision}")
    if not available(runtime):
        raise NotConvertible(f"{runtime} is not installed")
    size = tuple(example.shape[1:])
    with _LOCK:
        entries = _CACHE.setdefault(module, {})
        fingerprint = parameters_fingerprint(module)
        if entries.get("fingerprint") != fingerprint:
            entries.clear()
            entries["fingerprint"] = fingerprint
        onnx_key = ("onnx", size)
        if onnx_key not in entries:
            try:
                entries[onnx_key] = export_onnx(module, example)
            except NotConvertible as error:
                entries[onnx_key] = error
        onnx = entries[onnx_key]
        if isinstance(onnx, NotConvertible):
            raise NotConvertible(str(onnx))
        key = (runtime, size, precision)
        if key not in entries:
            try:
                entries[key] = CompiledModel(runtime, precision, _BUILDERS[runtime](onnx, precision))
                CONVERSIONS[f"{runtime}:{precision}"] += 1
            except Exception as error:   # a runtime that cannot compile the graph
                entries[key] = NotConvertible(f"{runtime} could not compile the exported model: "
                                              f"{type(error).__name__}: {str(error).splitlines()[0][:300]}")
        value = entries[key]
    if isinstance(value, NotConvertible):
        raise NotConvertible(str(value))
    return value


def forget_conversions(module: nn.Module) -> None:
    """Drop the module's cached conversions (tests; a user who changed the model in a way the sums miss)."""
    with _LOCK:
        _CACHE.pop(module, None)
