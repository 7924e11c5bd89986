"""Channels-last memory layout for the duration of one computation.

Convolutions run faster on channels-last (NHWC) tensors: oneDNN on CPUs, tensor cores on CUDA (PyTorch's
"Channels Last Memory Format" tutorial; 1.4x for the shapes model's batches of 32 on one CPU thread when both
weights and inputs are channels-last, 1.07x when only the inputs are). The user's model must come back as it
was, so the weights are re-laid out in place for the duration of a ``with`` block and the original tensors
are put back on exit, also when the body raises: same values, same parameter objects, same strides after.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn


@contextmanager
def channels_last(module: nn.Module, enabled: bool = True) -> Iterator[bool]:
    """Lay out the module's ``Conv2d`` weights channels-last while the body runs (other parameters are left
    alone); yields whether anything was converted (then feed the module channels-last inputs too)."""
    weights = [m.weight for m in module.modules() if isinstance(m, nn.Conv2d)] if enabled else []
    saved = [(p, p.data) for p in weights]
    try:
        for p, data in saved:
            p.data = data.contiguous(memory_format=torch.channels_last)
        yield bool(saved)
    finally:
        for p, data in saved:
            p.data = data


def as_channels_last(batch: torch.Tensor) -> torch.Tensor:
    """A 4-D batch in channels-last layout (other tensors unchanged)."""
    return batch.contiguous(memory_format=torch.channels_last) if batch.dim() == 4 else batch
