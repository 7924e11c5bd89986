"""Gradient x Input (Shrikumar, Greenside, Shcherbina & Kundaje, "Not Just a Black Box: Learning Important
Features Through Propagating Activation Differences", 2016): ``x * d f_c / d x``, each input's first-order
contribution to the target logit. With respect to the model's normalised input, as the gradient method: the
contribution relative to the all-zero normalised input (the data set's mean colour); Integrated Gradients from
that baseline with one step at ``a = 1`` is the same map. Equal to Captum's ``InputXGradient`` on the
normalised input (tests).

Heatmap: summed over the channels (``heat``), the ``3 x H x W`` channels in ``extras["relevance"]``.
Cost: 1 forward + 1 backward pass (the forward is also the clean pass that picks the top-1 target).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..models.zoo import ModelEntry
from .backprop import GradientSpec, heat_of, relevance
from .registry import Context, MethodOutput, register


@dataclass(frozen=True)
class GradientXInputSpec(GradientSpec):
    citation = "Shrikumar et al. 2016"
    description = (
        "The input times the gradient of the target logit (one backward pass): each pixel's first-order "
        "contribution to the logit against the data set's mean colour. Red/blue: the pixel's value raised/"
        "lowered the score."
    )


def gradient_x_input(ctx: Context, spec: GradientXInputSpec) -> MethodOutput:
    with ctx.autocast():
        output, gradient = relevance(ctx.module, None, ctx.x,
                                     lambda out: torch.tensor([ctx.observe_clean(out[0].float())], device=out.device),
                                     scale_by_output=False)
    ctx.count(forward=1, backward=1)
    channels = (ctx.x * gradient)[0]
    extras = {"relevance": channels.float().cpu().numpy(), "output": float(output[0, ctx.target])}
    return MethodOutput(heatmap=heat_of(channels, spec.heat), extras=extras)


def gradient_x_input_batch(spec: GradientXInputSpec, model: ModelEntry, module: nn.Module, images: torch.Tensor,
                           targets: torch.Tensor | None) -> torch.Tensor:
    """``(N,H,W)`` heatmaps of ``(N,3,H,W)`` images in [0,1]: one forward and one backward pass for the batch."""
    x = model.normalise(images)
    pick = (lambda out: out.argmax(-1)) if targets is None else (lambda out: targets)
    _, gradient = relevance(module, None, x, pick, scale_by_output=False)
    return heat_of(x * gradient, spec.heat)


register("gradient_x_input", spec=GradientXInputSpec, label="Gradient x Input", family="backprop",
         citation=GradientXInputSpec.citation, needs_clean_pass=False, gradients=True,
         batch=gradient_x_input_batch)(gradient_x_input)
