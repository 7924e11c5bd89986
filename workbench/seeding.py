"""One seed, one map on every device: random masks and samples are drawn on the CPU from a ``torch.Generator``
seeded from the run's seed, then moved to the device that uses them.

CUDA's generator (Philox) and the CPU's (Mersenne Twister) give different numbers for one seed, so masks
drawn on the device made RISE's and LIME's maps of one seed differ between a GPU and a CPU. The draws are
small (grid cells, sample vectors, offsets; never full-size masks), so drawing them on the CPU costs little;
what is built from them (upsampled masks, composed images) is built on the device.

>>> g = cpu_generator(3)
>>> on_device(torch.rand(2, generator=g), "cpu").tolist() == torch.rand(2, generator=cpu_generator(3)).tolist()
True
"""
from __future__ import annotations

import torch


def cpu_generator(seed: int) -> torch.Generator:
    """A fresh CPU ``torch.Generator`` seeded with ``seed`` (never the global RNG)."""
    return torch.Generator(device="cpu").manual_seed(int(seed))


def on_device(drawn: torch.Tensor, device: str | torch.device) -> torch.Tensor:
    """``drawn`` (random numbers drawn on the CPU) on ``device``, where they are used. Every seeded draw of
    the workbench passes through here (tests intercept it)."""
    return drawn.to(device)
