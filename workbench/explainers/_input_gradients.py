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
9-11, best of 2). Channels-last gains nothing here (6.45 s contiguous vs 6.74 s channels-last for the same
50 points, best of 3 at load 5-6) and changes the rounding, so the passes run in the module's own layout
(the same numbers as Captum's). The model's parameters are frozen for the loop (restored afterwards,
:mod:`workbench.guard`): only input gradients are computed and no activation is kept for a weight gradient.
"""
from __future__ import annotations

import os
from typing import Callable

import torch
from torch import nn

from ..engine import MAX_CPU_BATCH, MAX_CUDA_BATCH, _is_out_of_memory
from ..guard import preserved_model

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
    """The module's scores for one input ``(1,C,H,W)`` (under inference mode) and the bytes of its leaf layers'
    outputs, the activations a backward pass keeps (hooks removed after)."""
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


def chunked_gradients(module: nn.Module, make_inputs: MakeInputs, n: int, targets: torch.Tensor,
                      consume: Consume, batch_size: int, check_cancel: Callable[[], None] = lambda: None,
                      report: Callable[[int], None] = lambda done: None) -> None:
    """Feed ``consume(start, stop, gradients)`` the target gradients of ``n`` inputs made by
    ``make_inputs(start, stop)``, ``batch_size`` at a time (halved on out-of-memory); ``targets``: ``(n,)``
    class indices. ``check_cancel()`` runs before each chunk, ``report(done)`` after it."""
    start = 0
    with preserved_model(module, freeze=True):
        while start < n:
            check_cancel()
            stop = min(n, start + batch_size)
            try:
                gradients = _target_gradients(module, make_inputs(start, stop), targets[start:stop])
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

