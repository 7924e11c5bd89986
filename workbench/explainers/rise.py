"""RISE: Randomized Input Sampling for Explanation (Petsiuk, Das & Saenko, BMVC 2018; reference
implementation eclique/RISE ``explanations.py``).

``N`` binary grids of ``s x s`` cells, each cell kept with probability ``p``, are bilinearly upsampled to
``(s+1) * ceil(H/s)`` (and likewise for W) and randomly shifted-cropped to ``H x W``; masked pixels take
``fill`` (default the constant ``fill_value`` 0, see :mod:`workbench.fills`). The saliency is ``S = sum_i f_c(x * M_i) M_i / (N p)`` (eq. 6), with ``f_c`` the target's
probability (sigmoid for multi-label models, softmax otherwise).

Masks are generated in blocks of :data:`BLOCK`, block ``b`` from a CPU generator seeded with ``(seed, b)``:
the grid cells and offsets are drawn on the CPU (the same masks on every device, :mod:`workbench.seeding`)
and upsampled and cropped on the device; the same seed gives the same masks at any batch size, and no more
than one block of full-size masks exists at once. Cost: ``N`` forward passes (+1 clean).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import seeding
from ..fills import WINDOW_FILLS, fill_image, fill_param, fill_value_param
from ..params import Spec, param
from ..scores import OUTPUTS
from .registry import Context, MethodOutput, register

BLOCK = 64


@dataclass(frozen=True)
class RiseSpec(Spec):
    citation = "Petsiuk, Das & Saenko, BMVC 2018"
    description = (
        'Averages thousands of random coarse masks weighted by the target probability each one '
        'leaves; a bright pixel is kept by the masks that score high.'
    )
    num_masks: int = param(4000, low=1, high=1000000, step=100, label="masks",
                           doc="Number of random masks N (one forward pass each).")
    grid: int = param(7, low=2, high=128, step=1, label="grid cells",
                      doc="Cells per side s of the random grid before upsampling.")
    p_keep: float = param(0.5, low=0.0, high=1.0, open_low=True, open_high=True, step=0.05,
                          label="keep probability", doc="Probability p that a grid cell is kept.")
    fill: str = fill_param("constant", WINDOW_FILLS)
    fill_value: float = fill_value_param()
    output: str = param("probability", choices=OUTPUTS,
                        doc="Weight masks by the target's probability (RISE, on every model), its logit, its "
                            "log-probability, or auto (the logit on multi-label models, see workbench.scores).")

    def planned_passes(self, height: int, width: int) -> int:
        """One pass per mask and the clean pass."""
        return 1 + self.num_masks


class RiseMasks:
    """``masks(start, stop) -> (stop-start, 1, H, W)``: RISE masks, generated block by block on ``device``."""

    def __init__(self, n: int, grid: int, p_keep: float, height: int, width: int, seed: int, device):
        self.n, self.grid, self.p_keep, self.seed, self.device = n, grid, p_keep, seed, torch.device(device)
        self.height, self.width = height, width
        self.cell = (math.ceil(height / grid), math.ceil(width / grid))
        self.up = ((grid + 1) * self.cell[0], (grid + 1) * self.cell[1])
        self._cached: tuple[int, torch.Tensor] | None = None

    def draws(self, b: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Block ``b``'s random numbers, drawn on the CPU: kept grid cells ``(size, 1, grid, grid)`` (0/1
        float) and the row and column offsets of the crops ``(size,)``."""
        size = min(BLOCK, self.n - b * BLOCK)
        g = seeding.cpu_generator(self.seed * 1_000_003 + b)
        cells = (torch.rand(size, 1, self.grid, self.grid, generator=g) < self.p_keep).float()
        dy = torch.randint(0, self.cell[0], (size,), generator=g)
        dx = torch.randint(0, self.cell[1], (size,), generator=g)
        return cells, dy, dx

    def block(self, b: int) -> torch.Tensor:
        if self._cached is not None and self._cached[0] == b:
            return self._cached[1]
        size = min(BLOCK, self.n - b * BLOCK)
        cells, dy, dx = (seeding.on_device(drawn, self.device) for drawn in self.draws(b))
        up = F.interpolate(cells, size=self.up, mode="bilinear", align_corners=False)[:, 0]
        if self.device.type == "cpu":   # slices: 1-2 ms per block of 64 vs 8 ms for the gather below, same values
            masks = torch.stack([up[i, y:y + self.height, x:x + self.width]
                                 for i, (y, x) in enumerate(zip(dy.tolist(), dx.tolist()))]).unsqueeze(1)
        else:                           # one gather: no host sync for the offsets
            rows = (dy[:, None] + torch.arange(self.height, device=self.device))[:, :, None]
            cols = (dx[:, None] + torch.arange(self.width, device=self.device))[:, None, :]
            masks = up[torch.arange(size, device=self.device)[:, None, None], rows, cols].unsqueeze(1)
        self._cached = (b, masks)
        return masks

    def __call__(self, start: int, stop: int) -> torch.Tensor:
        parts = []
        for b in range(start // BLOCK, (stop - 1) // BLOCK + 1):
            lo, hi = max(start, b * BLOCK), min(stop, (b + 1) * BLOCK)
            parts.append(self.block(b)[lo - b * BLOCK:hi - b * BLOCK])
        return parts[0] if len(parts) == 1 else torch.cat(parts)


@register("rise", spec=RiseSpec, label="RISE", family="perturbation", citation=RiseSpec.citation, random=True,
          signed=False, forward_only=True)
def rise(ctx: Context, spec: RiseSpec) -> MethodOutput:
    height, width = ctx.size
    masks = RiseMasks(spec.num_masks, spec.grid, spec.p_keep, height, width, ctx.seed, ctx.device)
    saliency = torch.zeros(height, width, dtype=torch.float64, device=ctx.device)

    def accumulate(start: int, stop: int, batch_masks: torch.Tensor, scores: torch.Tensor) -> None:
        saliency.add_(torch.einsum("b,bhw->hw", scores.double(), batch_masks[:, 0].double()))
        if ctx.wants_partial and stop < spec.num_masks:
            ctx.show(saliency / (stop * spec.p_keep), f"{stop}/{spec.num_masks} masks", stop / spec.num_masks)

    fill = fill_image(spec.fill, ctx.x, ctx.model.normalise, accepted=WINDOW_FILLS, value=spec.fill_value)
    ctx.engine.score_masks(ctx.x, masks, n=spec.num_masks, baseline=fill, target=ctx.target,
                           transform=ctx.score_transform(spec.output), consume=accumulate)
    return MethodOutput(heatmap=saliency / (spec.num_masks * spec.p_keep))
