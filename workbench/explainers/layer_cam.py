"""Layer-CAM (Jiang, Zhang, Hou, Cheng & Wei, "LayerCAM: Exploring Hierarchical Class Activation Maps for
Localization", IEEE TIP 2021): each position weighed by its positive gradient, ``ReLU(sum_c ReLU(g_c) * A_c)``
(eqs. 5-6); informative on early layers too. Cost: 1 forward + 1 backward pass that stops at the layer."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .cam import CamSpec, gradient_cam


@dataclass(frozen=True)
class LayerCamSpec(CamSpec):
    citation = "Jiang et al., IEEE TIP 2021"
    description = (
        "The layer's activations weighed position by position by the positive gradient of the target score, "
        "summed over channels: fine detail on earlier layers, where Grad-CAM's averaged weights blur."
    )


@gradient_cam("layer_cam", LayerCamSpec, "Layer-CAM")
def layer_cam(activations: torch.Tensor, gradients: torch.Tensor) -> torch.Tensor:
    return (gradients.clamp(min=0) * activations).sum(dim=1)
