"""NeuroMask (Alzantot, Widdicombe, Julier & Srivastava, "NeuroMask: Explaining Predictions of Deep
Neural Networks through Mask Learning", IEEE SMARTCOMP 2019; reference nesl/neuromask).

A mask ``M = sigmoid(W / T)`` (at input resolution, or ``mask_resolution`` upsampled bilinearly), ``W``
initialised U(-10, 10) from the seed, keeps pixels of the image in [0, 1] pixel space (hidden pixels are
black, then normalised for the model). The loss is

    l_pred * CE(f(x * M), c) + l_sparse * mean|W + 10| + l_smooth * mean((K * W)^2)

with ``K`` a Laplacian (3x3 for inputs <= 64 px, 5x5 otherwise; replicate padding), CE the
cross-entropy of the target (binary for multi-label models), minimised by RMSprop. Saliency = ``M``.
Cost: ``iterations`` x (1 forward + 1 backward).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..params import param
from ._mask_optim import MaskLearningSpec, optimise
from .registry import Context, MethodOutput, register

LAPLACIAN_3 = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
LAPLACIAN_5 = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 2.0, 1.0, 0.0], [1.0, 2.0, -16.0, 2.0, 1.0],
                            [0.0, 1.0, 2.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]])


@dataclass(frozen=True)
class NeuroMaskSpec(MaskLearningSpec):
    citation = "Alzantot et al., IEEE SMARTCOMP 2019"
    description = (
        'Learns a sparse, smooth mask that keeps the prediction when everything else is removed; '
        'a bright pixel is one the model needs to keep its prediction.'
    )
    l_pred: float = param(0.4, low=0.0, high=100.0, step=0.05, label="prediction weight",
                          doc="Weight of the cross-entropy of the target on the masked image.")
    l_sparse: float = param(0.35, low=0.0, high=100.0, step=0.05, label="sparsity weight",
                            doc="Weight of mean|W + 10|: pushes the mask towards hiding everything.")
    l_smooth: float = param(0.03, low=0.0, high=100.0, step=0.01, label="smoothness weight",
                            doc="Weight of mean((Laplacian * W)^2).")
    temperature: float = param(0.3, low=0.0, high=100.0, open_low=True, step=0.05,
                               doc="T in M = sigmoid(W / T).")
    lr: float = param(0.03, low=0.0, high=10.0, open_low=True, step=0.005, label="learning rate", doc="RMSprop step.")
    iterations: int = param(1000, low=1, high=100000, step=50, doc="Optimisation steps (the paper: 1000).")
    mask_resolution: int = param(0, low=0, high=4096, step=1, label="mask resolution",
                                 doc="Side of the learned mask in pixels, upsampled to the image (0: input size).")


def laplacian_for(size: int) -> torch.Tensor:
    return LAPLACIAN_3 if size <= 64 else LAPLACIAN_5


def neuromask_losses(ctx: Context, spec: NeuroMaskSpec, weights: torch.Tensor) -> dict[str, torch.Tensor]:
    """The NeuroMask loss terms for mask parameters ``W`` ``(1,1,h,w)``."""
    height, width = ctx.size
    mask = torch.sigmoid(weights / spec.temperature)
    if mask.shape[-2:] != (height, width):
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False)
    logits = ctx.module(ctx.model.normalise(ctx.image * mask))
    if ctx.model.multilabel:
        ce = F.binary_cross_entropy_with_logits(logits[:, ctx.target], torch.ones_like(logits[:, ctx.target]))
    else:
        ce = F.cross_entropy(logits, torch.full((logits.shape[0],), ctx.target, device=logits.device))
    kernel = laplacian_for(min(height, width)).to(weights)
    pad = kernel.shape[-1] // 2
    curvature = F.conv2d(F.pad(weights, (pad,) * 4, mode="replicate"), kernel[None, None])
    terms = {"prediction": ce, "sparsity": (weights + 10).abs().mean(), "smoothness": curvature.pow(2).mean()}
    terms["total"] = spec.l_pred * terms["prediction"] + spec.l_sparse * terms["sparsity"] \
        + spec.l_smooth * terms["smoothness"]
    terms["mask"] = mask
    return terms


@register("neuromask", spec=NeuroMaskSpec, label="NeuroMask (mask learning)", family="mask learning",
          citation=NeuroMaskSpec.citation, random=True, signed=False)
def neuromask(ctx: Context, spec: NeuroMaskSpec) -> MethodOutput:
    height, width = ctx.size
    side = (height, width) if spec.mask_resolution == 0 else (spec.mask_resolution, spec.mask_resolution)
    initial = torch.rand((1, 1, *side), generator=ctx.generator(), device=ctx.device) * 20 - 10
    weights = initial.clone().requires_grad_(True)
    optimiser = torch.optim.RMSprop([weights], lr=spec.lr)
    masks = {}

    def losses(_: int) -> dict[str, torch.Tensor]:
        terms = neuromask_losses(ctx, spec, weights)
        masks["last"] = terms.pop("mask")
        return terms

    history = optimise(ctx, losses, optimiser, spec.iterations, tol=spec.tol, patience=spec.patience)
    with torch.no_grad():
        final = torch.sigmoid(weights / spec.temperature)
        heat = F.interpolate(final, size=(height, width), mode="bilinear", align_corners=False)[0, 0] \
            if final.shape[-2:] != (height, width) else final[0, 0]
    return MethodOutput(heatmap=heat, extras={"mask": final[0, 0].cpu().numpy(), "loss_history": history.terms,
                                              "iterations_run": history.iterations,
                                              "initial_weights": initial[0, 0].cpu().numpy()})
