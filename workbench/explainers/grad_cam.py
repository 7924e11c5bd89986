"""Grad-CAM (Selvaraju et al., "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization", ICCV 2017): each channel of the layer weighed by the spatial mean of the target score's gradient,
``ReLU(sum_c mean_ij(dy/dA_cij) A_c)`` (eqs. 1-2). Cost: 1 forward + 1 backward pass that stops at the layer."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .cam import CamSpec, gradient_cam, weighted_sum


@dataclass(frozen=True)
class GradCamSpec(CamSpec):
    citation = "Selvaraju et al., ICCV 2017"
    description = (
        "The layer's channels weighed by the mean gradient of the target score over each channel, summed and "
        "upsampled: a bright region is where the channels that raise the score are active."
    )


@gradient_cam("grad_cam", GradCamSpec, "Grad-CAM")
def grad_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    return weighted_sum(gradients.mean(dim=(2, 3)), activations)
