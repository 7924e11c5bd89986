"""Execution choices made by measurement: time the candidate paths of a computation on the device it runs on
for a few batches and take the fastest, once per (model, input size, device, setting).

Counting multiply-accumulates predicts the CPU well (incremental inference of the Occlusion Test is faster
when it needs at most ~0.7 of full inference's work, :mod:`workbench.incremental`) but not a GPU: there a
batch of small box-shaped convolutions is bound by kernel launches, and on an H200 the default incremental
Occlusion ran 9.4x slower than full inference. So on CUDA the candidates are timed; on the CPU the
multiply-accumulate rule stands (timings on a shared CPU vary from run to run, and the rule was measured).

The timer and the device decision are injectable (tests fake both: timings either way, a device called
``"cuda"``).
"""
from __future__ import annotations

import time
import weakref
from typing import Callable, Hashable

import torch
from torch import nn

from .memory_format import as_channels_last, channels_last

Timer = Callable[[str, Callable[[], object], torch.device], float]
TIMED_REPEATS = 3


def time_call(name: str, run: Callable[[], object], device: torch.device) -> float:
    """Seconds of the fastest of :data:`TIMED_REPEATS` calls of ``run`` after one warm-up call (CUDA
    synchronised around each). ``name`` is the candidate's (unused here; fake timers read it)."""
    def synchronise() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    run()
    best = float("inf")
    for _ in range(TIMED_REPEATS):
        synchronise()
        started = time.perf_counter()
        run()
        synchronise()
        best = min(best, time.perf_counter() - started)
    return best


def device_kind(device: torch.device | str) -> str:
    return torch.device(device).type


class PathProbe:
    """Times candidate paths on devices of the kinds in ``measured`` (default CUDA) and remembers the choice
    per module (weakly) and key.

    Args:
        timer: ``timer(name, run, device) -> seconds`` (default :func:`time_call`).
        kind: ``kind(device) -> "cuda" | "cpu" | ...`` (tests name a CPU "cuda").
        measured: the device kinds whose choices are measured; elsewhere callers keep their rule.
    """

    def __init__(self, timer: Timer = time_call, kind: Callable[[torch.device], str] = device_kind,
                 measured: tuple[str, ...] = ("cuda",)):
        self.timer, self.kind, self.measured = timer, kind, measured
        self._choices: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def measures(self, device: torch.device | str) -> bool:
        """True when choices on ``device`` are made by timing."""
        return self.kind(torch.device(device)) in self.measured

    def choose(self, module: nn.Module, key: Hashable, candidates: dict[str, Callable[[], object]],
               device: torch.device | str) -> tuple[str, dict[str, float]]:
        """The fastest of ``candidates`` (name -> a call running a few batches of that path) on ``device`` and
        the seconds each took; remembered for ``(module, key, device, candidate names)``: a second call times
        nothing."""
        remembered = self.remembered(module, key, device, tuple(candidates))
        if remembered is None:
            device = torch.device(device)
            seconds = {name: self.timer(name, run, device) for name, run in candidates.items()}
            remembered = (min(seconds, key=seconds.get), seconds)
            self._choices.setdefault(module, {})[(key, str(device), tuple(candidates))] = remembered
        return remembered

    def remembered(self, module: nn.Module, key: Hashable, device: torch.device | str, names: tuple[str, ...]
                   ) -> tuple[str, dict[str, float]] | None:
        """The choice :meth:`choose` made for these, or ``None`` when it has not measured them."""
        return self._choices.get(module, {}).get((key, str(torch.device(device)), names))


PROBE = PathProbe()
LAYOUT_BATCH = 32   # images per timed batch when the run names no batch size


def measured_layout(module: nn.Module, x: torch.Tensor, batch: int | None = None,
                    probe: PathProbe | None = None) -> tuple[bool, str]:
    """Whether ``module``'s forward passes on copies of ``x`` (``(1,C,H,W)``) run faster with channels-last
    convolution weights and batches than contiguous ones on ``x``'s device, timed on one batch each (the
    weights' conversion included; remembered per module and input size); and a sentence saying so."""
    probe = probe if probe is not None else PROBE
    size = batch or LAYOUT_BATCH
    images = x.expand(size, *x.shape[1:]).contiguous()

    def contiguous() -> None:
        with torch.inference_mode():
            module(images)

    def channels_last_layout() -> None:
        with channels_last(module) as converted, torch.inference_mode():
            module(as_channels_last(images) if converted else images)

    choice, seconds = probe.choose(module, ("layout", tuple(x.shape), size),
                                   {"channels-last": channels_last_layout, "contiguous": contiguous}, x.device)
    return choice == "channels-last", (
        f"{choice}: faster (measured on {x.device}, {size} images: channels-last "
        f"{1e3 * seconds['channels-last']:.3g} ms, contiguous {1e3 * seconds['contiguous']:.3g} ms)")
