"""Eigen-CAM (Muhammad & Yeasin, "Eigen-CAM: Class Activation Map using Principal Components", IJCNN 2020): the
layer's activations projected on their first principal component: the ``h*w x C`` matrix of activations, each
channel centred, times its first right singular vector (eq. 5), then ReLU. Class-independent (the target does
not change the map) and gradient-free.

The singular vector's sign is arbitrary (an SVD gives ``v`` or ``-v``); it is chosen so that the projection's
largest magnitude is positive (the sign correction of Chung & Ying, "Seg-Eigen-CAM", Appl. Sci. 2025, eq. 13;
pytorch-grad-cam's ``get_2d_projection_with_sign_correction``), so the map does not depend on the LAPACK
build. pytorch-grad-cam's ``EigenCAM`` keeps the sign ``numpy.linalg.svd`` returns: the same map up to that sign.
Cost: 1 forward pass (the clean pass).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..models.zoo import ModelEntry
from .cam import FAMILY, CamSpec, cam_output, clean_pass_activation, upsampled
from .cam_layer import captured, resolve_layer
from .registry import Context, MethodOutput, register


@dataclass(frozen=True)
class EigenCamSpec(CamSpec):
    citation = "Muhammad & Yeasin, IJCNN 2020"
    description = (
        "The layer's activations projected on their first principal component (no gradients, the same map for "
        "every class): a bright region is where the layer's dominant pattern is strong."
    )


def principal_projection(activations: torch.Tensor) -> torch.Tensor:
    """``(N, C, h, w)`` -> ``(N, h, w)``: each image's centred ``h*w x C`` activations times their first right
    singular vector, signed so that the largest magnitude is positive (computed in float64)."""
    a = activations.double().nan_to_num(0.0).flatten(2).transpose(1, 2)       # (N, hw, C)
    a = a - a.mean(dim=1, keepdim=True)
    _, _, vh = torch.linalg.svd(a, full_matrices=False)
    projection = torch.einsum("npc,nc->np", a, vh[:, 0])
    flip = projection.amin(dim=1).abs() > projection.amax(dim=1).abs()
    projection = torch.where(flip[:, None], -projection, projection)
    return projection.view(activations.shape[0], *activations.shape[2:]).float()


def eigen_cam_batch(spec: EigenCamSpec, model: ModelEntry, module: torch.nn.Module, images: torch.Tensor,
                    targets: torch.Tensor | None) -> torch.Tensor:
    size = tuple(images.shape[-2:])
    name, layer = resolve_layer(module, spec.layer, size)
    with captured(module, name, layer, size, gradients=False) as capture, torch.inference_mode():
        module(model.normalise(images))
        activation = capture.checked()
    return upsampled(principal_projection(activation).clamp(min=0), size)


@register("eigen_cam", spec=EigenCamSpec, label="Eigen-CAM", family=FAMILY, citation=EigenCamSpec.citation,
          signed=False, needs_clean_pass=False, forward_only=True, batch=eigen_cam_batch)
def eigen_cam(ctx: Context, spec: EigenCamSpec) -> MethodOutput:
    name, activation = clean_pass_activation(ctx, spec)
    return cam_output(principal_projection(activation)[0], ctx.size, name, spec.layer)
