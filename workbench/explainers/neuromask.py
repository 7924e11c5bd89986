"""NeuroMask (Alzantot, Widdicombe, Julier & Srivastava, "NeuroMask: Explaining Predictions of Deep
Neural Networks through Mask Learning", IEEE SMARTCOMP 2019; reference nesl/neuromask).

A mask ``M = sigmoid(W / T)`` (learned on a ``mask_resolution`` grid, upsampled bilinearly; 0: at input
resolution) keeps pixels of the image in [0, 1] pixel space; hidden pixels become ``fill``. The loss is

    l_pred * CE(f(x * M + fill * (1 - M)), c) + l_sparse * mean|W + 10| + l_smooth * mean((K * W)^2)

with ``K`` a Laplacian (3x3 for masks <= 64 px, 5x5 otherwise; replicate padding), CE the cross-entropy of
the target (binary for multi-label models; ``output``, see :mod:`workbench.scores`), minimised by RMSprop.
Saliency = ``M``. Cost: ``iterations`` x (1 forward + 1 backward).

Defaults versus the paper (``NeuroMaskSpec.presets["paper"]``: W ~ U(-10, 10) at input resolution, black
fill, 1000 iterations). On the shipped ``shapes`` model the paper's setting put the map's maximum on the
object in 0.17 of 6 (scene, class) pairs (energy on the object 0.19): with ``T = 0.3`` the sigmoid of a
uniform W in [-10, 10] is saturated almost everywhere, so the prediction gradient reaches few pixels and
the sparsity term (whose gradient skips the sigmoid) drags the rest to "hidden" at ``lr`` per step; black
holes in a textured scene are shapes the model reacts to. Starting from ``W = 0`` (``M = 0.5``) on a 28 x 28
grid with a blurred fill, 300 iterations reach pointing 1.00 and energy 0.75 on 4 pairs (``benchmarks/
method_quality.py`` has the figures on 50 scenes).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import seeding
from ..fills import check_fill, fill_param
from ..blur import gaussian_blur
from ..params import param
from ..scores import OUTPUTS, game_loss
from ._mask_optim import MaskLearningSpec, mask_resolution_param, optimise
from .registry import Context, MethodOutput, register

LAPLACIAN_3 = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
LAPLACIAN_5 = torch.tensor([[0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 1.0, 2.0, 1.0, 0.0], [1.0, 2.0, -16.0, 2.0, 1.0],
                            [0.0, 1.0, 2.0, 1.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0]])
FILLS = ("blur", "black", "image-mean")     # of workbench.fills; composed in [0, 1] pixel space
INITS = ("uniform", "zero")


@dataclass(frozen=True)
class NeuroMaskSpec(MaskLearningSpec):
    citation = "Alzantot et al., IEEE SMARTCOMP 2019"
    presets = {"paper": {"iterations": 1000, "mask_resolution": 0, "fill": "black", "init": "uniform",
                         "output": "log-probability"}}
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
    temperature: float = param(0.3, low=0.01, high=100.0, step=0.05,
                               doc="T in M = sigmoid(W / T).")
    lr: float = param(0.03, low=0.0, high=10.0, open_low=True, step=0.005, label="learning rate", doc="RMSprop step.")
    iterations: int = param(300, low=1, high=100000, step=50, doc="Optimisation steps (the paper: 1000).")
    mask_resolution: int = mask_resolution_param(28, "0: the paper's, the input size")
    output: str = param("auto", choices=OUTPUTS, doc="Score of the target kept high: auto (the paper's "
                        "cross-entropy; binary on multi-label models, see workbench.scores), the logit, the "
                        "probability or the log-probability.")
    fill: str = fill_param("blur", FILLS, " (blur sigma 10 px at 224 px, scaled; black: the paper's x * M)")
    init: str = param("zero", choices=INITS, doc="W at the start: 0 (M = 0.5) or U(-10, 10) (the paper).")


def laplacian_for(size: int) -> torch.Tensor:
    return LAPLACIAN_3 if size <= 64 else LAPLACIAN_5


def soft_mask(weights: torch.Tensor, temperature: float) -> torch.Tensor:
    """``M = sigmoid(W / T)`` (the spec keeps ``T >= 0.01``, so the division never overflows)."""
    return torch.sigmoid(weights / temperature)


def fill_for(image: torch.Tensor, fill: str) -> torch.Tensor:
    """What hidden pixels of ``image`` ``(1,3,H,W)`` in [0, 1] become."""
    check_fill(fill, FILLS)
    if fill == "black":
        return torch.zeros_like(image)
    if fill == "image-mean":
        return image.mean(dim=(2, 3), keepdim=True).expand_as(image)
    return gaussian_blur(image, 10.0 * min(image.shape[-2:]) / 224, padding="replicate")


def neuromask_losses(ctx: Context, spec: NeuroMaskSpec, weights: torch.Tensor,
                     background: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """The NeuroMask loss terms for mask parameters ``W`` ``(1,1,h,w)``; hidden pixels become ``background``
    (default black, the paper's ``x * M``)."""
    height, width = ctx.size
    mask = soft_mask(weights, spec.temperature)
    if mask.shape[-2:] != (height, width):
        mask = F.interpolate(mask, size=(height, width), mode="bilinear", align_corners=False)
    if background is None:
        background = torch.zeros_like(ctx.image)
    logits = ctx.module(ctx.model.normalise(ctx.image * mask + background * (1 - mask)))
    ce = game_loss(ctx.model, logits, ctx.target, spec.output, "preserve", paper="log-probability")
    kernel = laplacian_for(min(weights.shape[-2:])).to(weights)
    pad = kernel.shape[-1] // 2
    curvature = F.conv2d(F.pad(weights, (pad,) * 4, mode="replicate"), kernel[None, None])
    terms = {"prediction": ce, "sparsity": (weights + 10).abs().mean(), "smoothness": curvature.pow(2).mean()}
    terms["total"] = spec.l_pred * terms["prediction"] + spec.l_sparse * terms["sparsity"] \
        + spec.l_smooth * terms["smoothness"]
    terms["mask"] = mask
    return terms


@register("neuromask", spec=NeuroMaskSpec, label="NeuroMask (mask learning)", family="mask learning",
          citation=NeuroMaskSpec.citation, random=True, signed=False, gradients=True,
          value_range=(0.0, 1.0))
def neuromask(ctx: Context, spec: NeuroMaskSpec) -> MethodOutput:
    height, width = ctx.size
    side = (height, width) if spec.mask_resolution == 0 else (spec.mask_resolution, spec.mask_resolution)
    initial = seeding.on_device(torch.rand((1, 1, *side), generator=ctx.generator()), ctx.device) * 20 - 10
    if spec.init == "zero":
        initial = torch.zeros_like(initial)
    background = fill_for(ctx.image, spec.fill).detach()
    weights = initial.clone().requires_grad_(True)
    optimiser = torch.optim.RMSprop([weights], lr=spec.lr)
    masks = {}

    def losses(_: int) -> dict[str, torch.Tensor]:
        terms = neuromask_losses(ctx, spec, weights, background)
        masks["last"] = terms.pop("mask")
        return terms

    history = optimise(ctx, losses, optimiser, spec.iterations, tol=spec.tol, patience=spec.patience)
    with torch.no_grad():
        final = soft_mask(weights, spec.temperature)
        heat = F.interpolate(final, size=(height, width), mode="bilinear", align_corners=False)[0, 0] \
            if final.shape[-2:] != (height, width) else final[0, 0]
    return MethodOutput(heatmap=heat, loss_history=history.terms, extras={"mask": final[0, 0].cpu().numpy(),
                                              "iterations_run": history.iterations,
                                              "initial_weights": initial[0, 0].cpu().numpy()})
