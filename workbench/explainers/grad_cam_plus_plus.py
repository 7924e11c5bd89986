"""Grad-CAM++ (Chattopadhay, Sarkar, Howlader & Balasubramanian, "Grad-CAM++: Generalized Gradient-Based Visual
Explanations for Deep Convolutional Networks", WACV 2018): channel weights ``w_c = sum_ij a_cij ReLU(g_cij)`` with
``a_cij = g^2 / (2 g^2 + sum_ab A_cab g^3)`` (eq. 19 with the exponential's higher derivatives written as
powers of the gradient ``g``, as pytorch-grad-cam does; ``a = 0`` where ``g = 0``; stabiliser 1e-6).
Cost: 1 forward + 1 backward pass that stops at the layer."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .cam import CamSpec, gradient_cam, weighted_sum

EPS = 1e-6


@dataclass(frozen=True)
class GradCamPlusPlusSpec(CamSpec):
    citation = "Chattopadhay et al., WACV 2018"
    description = (
        "Like Grad-CAM, with each channel weighed by its positive gradients, each position's share set by "
        "higher powers of the gradient: several objects of the class show up rather than the largest."
    )


@gradient_cam("grad_cam_plus_plus", GradCamPlusPlusSpec, "Grad-CAM++")
def grad_cam_plus_plus(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    g2 = gradients ** 2
    g3 = g2 * gradients
    total = activations.sum(dim=(2, 3), keepdim=True)
    alpha = torch.where(gradients != 0, g2 / (2 * g2 + total * g3 + EPS), torch.zeros_like(g2))
    return weighted_sum((gradients.clamp(min=0) * alpha).sum(dim=(2, 3)), activations)
