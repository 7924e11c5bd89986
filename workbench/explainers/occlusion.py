"""Occlusion Test (Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks", ECCV 2014).

Slide a ``patch x patch`` occluder with ``stride``; hidden pixels take ``fill`` (default ``"constant"``
``fill_value`` 0 in the model's normalised space, the data set's mean colour; see :mod:`workbench.fills`).
The heat of a pixel is the mean over the windows covering it of ``f_c(x) - f_c(x_occluded)`` (logits). Windows start at 0, s, 2s, ... as in Captum's
``Occlusion``: ``(ceil((H-k)/s)+1) * (ceil((W-k)/s)+1)`` passes plus one clean pass, the last window of a
row or column truncated at the image edge (``edges="truncate"``, equal to Captum) or moved inside it at
full size (``edges="flush"``). (The original specification's ``floor`` count, leaving edge pixels
uncovered, is not what Captum does; equality with Captum is the contract: docs/METHODS.md, "Occlusion Test".)
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..fills import WINDOW_FILLS, fill_image, fill_param, fill_value_param
from ..incremental import IncrementalModel, IncrementalPlan, incremental_param, occluded_boxes
from ..params import Spec, param
from .registry import Context, MethodOutput, register
from .windows import WindowGrid, edges_param


@dataclass(frozen=True)
class OcclusionSpec(Spec):
    citation = "Zeiler & Fergus, ECCV 2014"
    description = (
        "Slides a grey window over the image and records the target score's drop; "
        'red: covering the pixel lowers the score, blue: covering it raises the score.'
    )
    patch: int = param(16, low=1, high=4096, step=1, label="window",
                       doc="Side of the square occluder in pixels.")
    stride: int = param(8, low=1, high=4096, step=1, doc="Step between window positions in pixels.")
    fill: str = fill_param("constant", WINDOW_FILLS)
    fill_value: float = fill_value_param()
    edges: str = edges_param()
    incremental: str = incremental_param()

    def check_image(self, height: int, width: int) -> None:
        if self.patch > min(height, width):
            raise ValueError(f"patch: window {self.patch} px is larger than the image ({height}x{width}); "
                             f"set patch to at most {min(height, width)}")

    def planned_passes(self, height: int, width: int) -> int:
        """One pass per window and the clean pass."""
        return 1 + WindowGrid.count_for(height, width, self.patch, self.stride, self.edges)


def window_fill(ctx: Context, spec: Spec) -> torch.Tensor:
    """What a window of the Occlusion Test or FMO hides its pixels with: ``spec.fill`` (and ``fill_value``)."""
    return fill_image(spec.fill, ctx.x, ctx.model.normalise, accepted=WINDOW_FILLS, value=spec.fill_value)


def occlusion_drops(ctx: Context, grid: WindowGrid, flat_indices: torch.Tensor, fill: torch.Tensor,
                    incremental: IncrementalModel | None = None) -> torch.Tensor:
    """Score drop ``f_c(x) - f_c(x with window hidden)`` for the given windows, hidden pixels taking ``fill``,
    through the engine (each window written into a copy of the clean image), or ``incremental``-ly (see
    :mod:`workbench.incremental`) when given."""
    if incremental is not None:
        return ctx.clean_score - incremental_scores(ctx, grid, flat_indices, fill, incremental).double()
    scores = ctx.engine.score_windows(ctx.x, grid.boxes(flat_indices), fill, target=ctx.target)
    return ctx.clean_score - scores.double()


INCREMENTAL_BATCH = 32


def incremental_plan(ctx: Context, spec: Spec) -> IncrementalPlan:
    """The run's incremental-inference plan (Occlusion Test, FMO): against the engine's full inference, with the
    speed-up its compiled runtime measured over torch, if any (see :class:`~workbench.incremental.IncrementalPlan`)."""
    execution = ctx.execution
    speedup = execution.speedup if execution is not None and execution.compiled is not None else 1.0
    return IncrementalPlan(ctx.module, ctx.x, spec.incremental, precision=ctx.precision,
                           clean_output=ctx.clean_scores, batch=ctx.engine.batch_size or INCREMENTAL_BATCH,
                           full_speedup=speedup, full_name=execution.name if execution is not None else "torch")


def incremental_scores(ctx: Context, grid: WindowGrid, flat_indices: torch.Tensor, fill: torch.Tensor,
                       model: IncrementalModel) -> torch.Tensor:
    """Target scores of the occluded images by incremental inference, in batches, with the run's progress,
    cancel and pass count."""
    boxes = grid.boxes(flat_indices).to(ctx.device)   # (x0, y0, x1, y1) per window
    batch = ctx.engine.batch_size or INCREMENTAL_BATCH
    total = ctx.engine.progress_total(ctx.forward_passes, len(boxes))     # passes counted by the run
    scores = []
    for start in range(0, len(boxes), batch):
        ctx.check_cancel()
        b = boxes[start:start + batch]
        patches, box_top, box_left = occluded_boxes(ctx.x, fill, (b[:, 1], b[:, 3]), (b[:, 0], b[:, 2]), grid.patch)
        scores.append(model.score(patches, box_top, box_left)[:, ctx.target].float())
        ctx.count(forward=len(b))
        ctx.report(ctx.forward_passes, max(total, ctx.forward_passes))  # as the engine counts
    return torch.cat(scores) if scores else torch.empty(0, device=ctx.device)


@register("occlusion", spec=OcclusionSpec, label="Occlusion Test", family="perturbation",
          citation=OcclusionSpec.citation, forward_only=True)
def occlusion(ctx: Context, spec: OcclusionSpec) -> MethodOutput:
    height, width = ctx.size
    grid = WindowGrid(height, width, spec.patch, spec.stride, spec.edges, device=ctx.device)
    model, inference = incremental_plan(ctx, spec).model_for(spec.patch)
    drops = occlusion_drops(ctx, grid, torch.arange(grid.count), window_fill(ctx, spec), model).view(grid.shape)
    heat, _ = grid.mean_map(drops)
    return MethodOutput(heatmap=heat, extras={"windows": grid.count, "drops": drops.cpu().numpy(),
                                              "inference": inference})
