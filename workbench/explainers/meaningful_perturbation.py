"""Meaningful Perturbation (Fong & Vedaldi, "Interpretable Explanations of Black Boxes by Meaningful
Perturbation", ICCV 2017; reference ruthcfong/perturb_explanations).

The deletion game: learn a mask ``m`` on a coarse grid (28x28 at 224 px, ``mask_resolution``), upsampled
bilinearly and smoothed with a Gaussian of half a grid cell to ``M``, that minimises

    l1 * sum|1 - m| + l2 * sum ||grad m||^beta + p_c(x * M + blur(x) * (1 - M))      (eq. 3-4)

with ``blur`` a Gaussian of ``blur_sigma`` px, ``p_c`` the target's probability, the image shifted by a
random jitter of up to ``jitter`` px each iteration (seeded), Adam and ``m`` clamped to [0, 1] after each
step, starting from ``m = 1`` (nothing deleted). Saliency = ``1 - M``. Cost: ``iterations`` x (fwd + bwd).

Defaults versus the paper (``MeaningfulPerturbationSpec.presets["paper"]``). The paper's probability is
1.0 and flat on the shipped ``shapes`` model (logits 15-25): its mask hardly moved (pointing 0.10-0.25 on
4-6 (scene, class) pairs, map maximum 1e-5 to 1). On multi-label models the default score is the binary
cross-entropy of "absent", ``softplus(z)`` (:mod:`workbench.scores`): pointing 1.00 on 4 pairs, but with
the paper's area weight ``l1 = 1e-4`` the mask deleted 12% of the image (energy on the object 0.16);
``l1 = 1e-3`` keeps the deletion on the object (pointing 1.00, energy 0.35, 7% deleted, 6 pairs).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..blur import gaussian_blur
from ..params import param
from ..scores import OUTPUTS, game_loss
from ._mask_optim import MaskLearningSpec, mask_resolution_param, optimise
from .registry import Context, MethodOutput, register


@dataclass(frozen=True)
class MeaningfulPerturbationSpec(MaskLearningSpec):
    citation = "Fong & Vedaldi, ICCV 2017"
    presets = {"paper": {"output": "probability", "l1": 1e-4}}
    description = (
        'Learns the smallest smooth blurred region that destroys the target score; '
        'a bright pixel is one whose blurring the optimiser needed.'
    )
    l1: float = param(1e-3, low=0.0, high=10.0, log=True, label="area weight (l1)",
                      doc="Weight of sum|1 - m|: deleting less is better (the paper: 1e-4).")
    l2: float = param(1e-2, low=0.0, high=10.0, log=True, label="smoothness weight (l2)",
                      doc="Weight of the total variation sum ||grad m||^beta.")
    beta: float = param(3.0, low=1.0, high=10.0, step=0.5, doc="Exponent of the total variation term.")
    blur_sigma: float = param(10.0, low=0.0, high=100.0, step=0.5, label="blur sigma",
                              doc="Gaussian blur (px) of the perturbed image: what deleted pixels become.")
    mask_resolution: int = mask_resolution_param(0, "0: the paper's, 28 at 224 px, scaled with the image")
    lr: float = param(0.1, low=0.0, high=10.0, open_low=True, step=0.01, label="learning rate", doc="Adam step.")
    iterations: int = param(300, low=1, high=100000, step=50, doc="Optimisation steps (the paper: 300).")
    jitter: int = param(4, low=0, high=64, step=1, doc="Random shift of the image per iteration, px.")
    output: str = param("auto", choices=OUTPUTS, doc="Score of the target driven down: auto (the paper's "
                        "probability; on multi-label models the binary cross-entropy of 'absent', see "
                        "workbench.scores), the logit, the probability or the log-probability.")

    def grid(self, height: int, width: int) -> int:
        return self.mask_resolution or max(2, round(28 * min(height, width) / 224))


def total_variation(mask: torch.Tensor, beta: float) -> torch.Tensor:
    """``sum |m_{i+1,j} - m_{i,j}|^beta + |m_{i,j+1} - m_{i,j}|^beta`` per mask of ``(N,1,h,w)``."""
    rows = (mask[..., 1:, :] - mask[..., :-1, :]).abs().pow(beta).sum(dim=(1, 2, 3))
    cols = (mask[..., :, 1:] - mask[..., :, :-1]).abs().pow(beta).sum(dim=(1, 2, 3))
    return rows + cols


@register("meaningful_perturbation", spec=MeaningfulPerturbationSpec, label="Meaningful Perturbation",
          family="mask learning", citation=MeaningfulPerturbationSpec.citation, random=True, signed=False,
          gradients=True, value_range=(0.0, 1.0))
def meaningful_perturbation(ctx: Context, spec: MeaningfulPerturbationSpec) -> MethodOutput:
    height, width = ctx.size
    side = spec.grid(height, width)
    smooth = 0.5 * min(height, width) / side
    blurred = gaussian_blur(ctx.x, spec.blur_sigma, padding="replicate").detach()
    mask = torch.ones(1, 1, side, side, device=ctx.device, requires_grad=True)
    optimiser = torch.optim.Adam([mask], lr=spec.lr)
    generator = ctx.generator()

    def upsample(m: torch.Tensor) -> torch.Tensor:
        up = F.interpolate(m, size=(height, width), mode="bilinear", align_corners=False)
        return gaussian_blur(up, smooth, padding="replicate")  # zeros would read as deleted borders

    def losses(_: int) -> dict[str, torch.Tensor]:
        big = upsample(mask)
        shift = torch.randint(0, spec.jitter + 1, (2,), generator=generator).tolist()   # CPU: no device sync
        x = torch.roll(ctx.x, shift, dims=(2, 3))
        base = torch.roll(blurred, shift, dims=(2, 3))
        probability = game_loss(ctx.model, ctx.module(x * big + base * (1 - big)), ctx.target, spec.output,
                                "delete", paper="probability")
        terms = {"area": spec.l1 * (1 - mask).abs().sum(dim=(1, 2, 3)),
                 "smoothness": spec.l2 * total_variation(mask, spec.beta), "prediction": probability}
        terms["total"] = terms["area"] + terms["smoothness"] + terms["prediction"]
        return terms

    def clamp(_: int) -> None:
        with torch.no_grad():
            mask.clamp_(0, 1)

    history = optimise(ctx, losses, optimiser, spec.iterations, tol=spec.tol, patience=spec.patience,
                       after_step=clamp)
    with torch.no_grad():
        heat = 1 - upsample(mask)[0, 0]
    return MethodOutput(heatmap=heat, loss_history=history.terms, extras={
        "mask": mask.detach()[0, 0].cpu().numpy(), "iterations_run": history.iterations})
