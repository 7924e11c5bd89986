"""HiResCAM (Draelos & Carin, "Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural
networks", 2020): the gradient times the activation at each position, summed over channels,
``ReLU(sum_c g_c * A_c)`` (no spatial averaging of the gradient). Cost: 1 forward + 1 backward pass that stops at
the layer."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .cam import CamSpec, gradient_cam


@dataclass(frozen=True)
class HiResCamSpec(CamSpec):
    citation = "Draelos & Carin 2020"
    description = (
        "The layer's activations times the target score's gradient at each position, summed over channels: "
        "a bright region is where the layer's features raise the score (for a model ending in global average "
        "pooling and one linear layer, exactly the locations that contribute to it)."
    )


@gradient_cam("hirescam", HiResCamSpec, "HiResCAM")
def hirescam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    return (gradients * activations).sum(dim=1)
