"""Gradients of a target score with respect to many model inputs, in chunks bounded by memory: the loop shared
by the path and noise methods (Integrated Gradients, SmoothGrad).

The inputs come as a function ``make(start, stop) -> (stop-start, C, H, W)`` so that no more than one chunk of
them exists at once; each chunk's gradients go to ``consume(start, stop, gradients)``, which accumulates what
the method needs (a weighted sum over path points, a mean over noisy copies). Chunks hold
:func:`gradient_batch_size` inputs: on a CPU as many as :data:`CPU_GRADIENT_BYTES` (or half the free memory,
if less) holds at twice the activations of one input (a probe forward pass; kept for the backward pass), on
CUDA as many as half the free memory holds by a probe of one forward and backward pass of two inputs; on
out-of-memory the chunk is halved and retried. Unlike the engine's forward passes, where small CPU batches
keep activations in cache, a forward and backward pass gains from large ones: 50 path points of resnet18 at
224 px took 28.3 s in chunks of 8, 22.6 s of 16, 18.4 s of 25, 18.9 s of 50 (2 threads, shared CPU at load
9-11, best of 2). The model's parameters are frozen for the loop (restored afterwards,
:mod:`workbench.guard`): only input gradients are computed and no activation is kept for a weight gradient.

Memory layout, chosen by measuring the work itself (:class:`GradientLayouts`): whether channels-last
convolutions are faster depends on the model and the machine. On an AMD EPYC (2 cores) a forward and
backward pass of efficientnet_lite0's depthwise convolutions took 82 ms per input contiguous and 46 ms
channels-last (25 inputs a batch, idle machine: 4.09 s and 2.31 s for 50); resnet18's were within 2% of each
other. So the first chunks of a model (per input size and chunk size) alternate the two layouts, each
chunk's seconds per input are kept, and once both are timed every later chunk runs in channels-last if it
took under :data:`CHANNELS_LAST_MARGIN` of contiguous's time: no pass is spent on timing alone. The layouts
break ties differently (max-pooling and ReLU6 on the nearly constant images near a black baseline): 50-step
Integrated Gradients of the chelsea photo differed by 0.14% (resnet18) and 0.38% (efficientnet_lite0) of the
map's largest value between the layouts, while Captum against itself at batch sizes 50 and 27 differed by
1e-7, and the workbench in contiguous layout from Captum by 2e-7. Hence the margin (the module's own
layout unless channels-last is clearly faster), and hence the measured choice is made only when a run asks
for speed over exact reproduction (``precision="auto"``, the Workbench's fast box,
:func:`gradient_layouts`): by default the passes run in the module's own contiguous layout and round as
Captum's do.
"""
from __future__ import annotations

import os
import time
import weakref
from typing import Callable

import torch
from torch import nn

from ..engine import MAX_CPU_BATCH, MAX_CUDA_BATCH, _is_out_of_memory
from ..guard import preserved_model
from ..memory_format import as_channels_last, channels_last

CPU_GRADIENT_BYTES = 4 * 1024 ** 3   # activations of one chunk's forward and backward pass on a CPU

MakeInputs = Callable[[int, int], torch.Tensor]
Consume = Callable[[int, int, torch.Tensor], None]


def _target_gradients(module: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``d f_{t_i}(x_i) / d x_i`` for each input of the batch (in eval mode each input's score depends on it
    alone, so the gradient of the summed target scores is each input's own gradient)."""
    inputs = inputs.detach().requires_grad_(True)
    with torch.enable_grad():
        scores = module(inputs)
        picked = scores.gather(1, targets.view(-1, 1).to(scores.device)).sum()
        gradients, = torch.autograd.grad(picked, inputs)
    return gradients


def _free_cpu_bytes() -> float:
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):   # not a POSIX system: the budget alone
        return float("inf")


def probe_forward(module: nn.Module, example: torch.Tensor) -> tuple[torch.Tensor, int]:
    """The module's scores for a batch ``(N,C,H,W)`` (under inference mode) and the bytes of its leaf layers'
    outputs for the batch, the activations a backward pass keeps (hooks removed after)."""
    total = [example.numel() * example.element_size()]

    def hook(layer, inputs, output):
        if isinstance(output, torch.Tensor):
            total[0] += output.numel() * output.element_size()

    handles = [layer.register_forward_hook(hook) for layer in module.modules() if not any(layer.children())]
    try:
        with torch.inference_mode():
            scores = module(example)
    finally:
        for handle in handles:
            handle.remove()
    return scores, total[0]


def gradient_batch_size(module: nn.Module, example: torch.Tensor, requested: int | None = None,
                        activation_bytes: int | None = None) -> int:
    """Inputs per forward and backward pass for ``(1,C,H,W)`` inputs like ``example``: ``requested`` if given;
    on a CPU :data:`CPU_GRADIENT_BYTES` (or half the free memory) over twice one input's activations
    (``activation_bytes`` from :func:`probe_forward`, else a probe forward pass), at most 64; on CUDA half the free memory over the peak memory of one forward and backward
    pass per input (a probe of two inputs)."""
    if requested is not None:
        return int(requested)
    per_image = example[0].numel() * example.element_size()
    device = example.device
    if device.type != "cuda":
        budget = min(CPU_GRADIENT_BYTES, 0.5 * _free_cpu_bytes())
        if activation_bytes is None:
            activation_bytes = probe_forward(module, example[:1])[1]
        return int(max(1, min(MAX_CPU_BATCH, budget // (2 * activation_bytes))))
    torch.cuda.synchronize(device)
    before = torch.cuda.memory_allocated(device)
    torch.cuda.reset_peak_memory_stats(device)
    probe = example[:1].expand(2, *example.shape[1:]).contiguous()
    with preserved_model(module, freeze=True):
        _target_gradients(module, probe, torch.zeros(2, dtype=torch.long, device=device))
    per_two = max(torch.cuda.max_memory_allocated(device) - before, 2 * per_image)
    free, _ = torch.cuda.mem_get_info(device)
    return int(max(1, min(MAX_CUDA_BATCH, 0.5 * free // (per_two / 2))))


LAYOUTS = ("contiguous", "channels-last")
CHANNELS_LAST_MARGIN = 0.9   # channels-last when it takes under this share of contiguous's time (it breaks ties apart)


class GradientLayouts:
    """Seconds per input of forward and backward passes in each memory layout, per module (held weakly),
    input shape and device, measured on the full chunks that ran (chunk sizes follow the free memory, so
    they are not part of the key); :meth:`next` names the layout of the next chunk: an untimed one first, then the faster. ``fixed``: always that layout (to reproduce a reference
    implementation's rounding, as the tests comparing with Captum do)."""

    def __init__(self, fixed: str | None = None) -> None:
        if fixed is not None and fixed not in LAYOUTS:
            raise ValueError(f"fixed: expected one of {list(LAYOUTS)} or None, got {fixed!r}")
        self.fixed = fixed
        self._seconds: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def next(self, module: nn.Module, key: tuple) -> str:
        if self.fixed is not None:
            return self.fixed
        seconds = self._seconds.get(module, {}).get(key, {})
        untimed = [layout for layout in LAYOUTS if layout not in seconds]
        if untimed:
            return untimed[0]
        faster = seconds["channels-last"] < CHANNELS_LAST_MARGIN * seconds["contiguous"]
        return "channels-last" if faster else "contiguous"

    def record(self, module: nn.Module, key: tuple, layout: str, seconds_per_input: float) -> None:
        timed = self._seconds.setdefault(module, {}).setdefault(key, {})
        timed[layout] = min(seconds_per_input, timed.get(layout, float("inf")))

    def why(self, module: nn.Module, key: tuple) -> str:
        """Why chunks of ``key`` run in the layout :meth:`next` names: fixed, measuring, or the timings."""
        seconds = self._seconds.get(module, {}).get(key, {})
        if self.fixed is not None:
            return ("fixed (the module's own layout, rounding as Captum's; precision='auto' measures channels-last)"
                    if self.fixed == "contiguous" else "fixed")
        if len(seconds) < len(LAYOUTS):
            return "measuring (a model's first chunks alternate the layouts)"
        timings = ", ".join(f"{layout} {1e3 * seconds[layout]:.3g} ms" for layout in LAYOUTS)
        return (f"{self.next(module, key)} chosen: per input of a forward and backward pass {timings} (channels-last "
                f"when under {CHANNELS_LAST_MARGIN:g} of contiguous)")


GRADIENT_LAYOUTS = GradientLayouts()
REFERENCE_LAYOUT = GradientLayouts(fixed="contiguous")


def gradient_layouts(measured: bool) -> GradientLayouts:
    """The layouts of a run's gradient passes: chosen by measurement (:data:`GRADIENT_LAYOUTS`) when the run
    trades exact reproduction for speed (``precision="auto"``), else the module's own contiguous layout
    (:data:`REFERENCE_LAYOUT`), which rounds as Captum does."""
    return GRADIENT_LAYOUTS if measured else REFERENCE_LAYOUT


def _has_convolutions(module: nn.Module) -> bool:
    return any(isinstance(layer, nn.Conv2d) for layer in module.modules())


def _timed_target_gradients(module: nn.Module, inputs: torch.Tensor, targets: torch.Tensor,
                            layout: str) -> tuple[torch.Tensor, float]:
    """:func:`_target_gradients` in ``layout`` (gradients returned in the inputs' own layout) and its seconds."""
    started = time.perf_counter()
    if layout == "channels-last":
        with channels_last(module):
            gradients = _target_gradients(module, as_channels_last(inputs), targets).contiguous()
    else:
        gradients = _target_gradients(module, inputs, targets)
    if gradients.device.type == "cuda":
        torch.cuda.synchronize(gradients.device)
    return gradients, time.perf_counter() - started


def chunked_gradients(module: nn.Module, make_inputs: MakeInputs, n: int, targets: torch.Tensor,
                      consume: Consume, batch_size: int, check_cancel: Callable[[], None] = lambda: None,
                      report: Callable[[int], None] = lambda done: None,
                      layouts: GradientLayouts | None = None) -> str:
    """Feed ``consume(start, stop, gradients)`` the target gradients of ``n`` inputs made by
    ``make_inputs(start, stop)``, ``batch_size`` at a time (halved on out-of-memory); ``targets``: ``(n,)``
    class indices. ``check_cancel()`` runs before each chunk, ``report(done)`` after it. Each chunk runs in
    the memory layout ``layouts`` (default :data:`REFERENCE_LAYOUT`, see :func:`gradient_layouts`) names for
    it; returns a sentence saying which layout ran and why (for ``extras["layout"]``)."""
    layouts = layouts if layouts is not None else REFERENCE_LAYOUT
    choose = _has_convolutions(module)
    start, key, ran = 0, None, []
    with preserved_model(module, freeze=True):
        while start < n:
            check_cancel()
            stop = min(n, start + batch_size)
            try:
                inputs = make_inputs(start, stop)
                key = (tuple(inputs.shape[1:]), str(inputs.device))
                layout = layouts.next(module, key) if choose else "contiguous"
                gradients, seconds = _timed_target_gradients(module, inputs, targets[start:stop], layout)
                if choose and stop - start == min(batch_size, n):   # not a short last chunk: its cost per input differs
                    layouts.record(module, key, layout, seconds / (stop - start))
                ran += [layout] if layout not in ran else []
            except RuntimeError as error:
                if not (_is_out_of_memory(error) and batch_size > 1):
                    raise
                del error
                batch_size = max(1, batch_size // 2)
                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
                continue
            consume(start, stop, gradients)
            start = stop
            report(start)
    return " and ".join(ran) + ": " + (layouts.why(module, key) if choose else "the model has no convolutions")

