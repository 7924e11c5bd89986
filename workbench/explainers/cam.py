"""What every class activation map (CAM) shares: the ``layer`` parameter, reading the layer's activations (and
their gradients) in the method's own first forward pass, and the map's ReLU and bilinear upsampling.

A CAM weighs the ``C`` channels of a layer's ``(C, h, w)`` activation ``A`` for the target class and sums
them: ``cam = ReLU(sum_c w_c A_c)`` (Zhou et al. 2016; Selvaraju et al. 2017), or weighs each position too
(HiResCAM, Layer-CAM). The ``h x w`` map is upsampled bilinearly (half-pixel centres, as ``cv2.resize`` and
pytorch-grad-cam do) to the image; it is not normalised (``extras["cam"]`` keeps the ``h x w`` map). Each method
is a module registering its weights with :func:`gradient_cam` (or its own run: Score-CAM, Eigen-CAM).

Gradient CAMs make one forward pass, which is also the clean pass that picks the target, and a backward pass
that stops at the layer (the parameters are frozen for the call and the layer's output is a leaf, so nothing
before the layer is recorded): the cost is about one forward pass. The numbers follow pytorch-grad-cam 1.5
(Gildenblat et al.), the tests compare with it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from ..models.zoo import ModelEntry
from ..params import Spec, param
from .cam_layer import AUTO, captured, frozen, resolve_layer
from .registry import Context, MethodOutput, register

FAMILY = "class activation map"


def layer_param():
    """The ``layer`` parameter every CAM has: ``"auto"`` or a module name (see :mod:`.cam_layer`)."""
    return param(AUTO, kind="layer", label="layer",
                 doc="The layer whose activations are weighed: auto (the last convolutional block) or the name of "
                     "a module with an (N, C, h, w) output.")


@dataclass(frozen=True)
class CamSpec(Spec):
    """Parameters of a class activation map: the layer."""

    layer: str = layer_param()

    def planned_passes(self, height: int, width: int) -> int | None:
        """One forward pass (and its backward pass for the gradient CAMs)."""
        return 1


# weights(activations (N,C,h,w), gradients (N,C,h,w)) -> (N,h,w) map before the ReLU
CamOfGradients = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def upsampled(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """``(N, h, w)`` maps -> ``(N, H, W)``: bilinear, half-pixel centres (``cv2.resize``'s ``INTER_LINEAR``)."""
    return F.interpolate(cam[:, None].float(), size=tuple(size), mode="bilinear", align_corners=False)[:, 0]


def cam_output(cam: torch.Tensor, size: tuple[int, int], layer: str, requested: str, **extras) -> MethodOutput:
    """The method's output for one image: the ReLU'd ``h x w`` map upsampled to ``size``, the layer in extras."""
    cam = cam.float().clamp(min=0)
    return MethodOutput(heatmap=upsampled(cam[None], size)[0],
                        extras={"layer": layer, "layer_requested": requested, "cam": cam.cpu().numpy(), **extras})


def activations_and_gradients(module: torch.nn.Module, name: str, layer: torch.nn.Module, x: torch.Tensor,
                              pick_targets: Callable[[torch.Tensor], torch.Tensor]
                              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(output (N,K), activations (N,C,h,w), gradients (N,C,h,w))`` of one forward pass of ``x`` and a
    backward pass from the targets' scores (``pick_targets(output) -> (N,)``) that stops at ``layer``. In eval
    mode each image's gradient is the one it gets alone."""
    size = tuple(x.shape[-2:])
    with frozen(module), captured(module, name, layer, size, gradients=True) as capture, torch.enable_grad():
        out = module(x)
        activation = capture.checked()
        targets = pick_targets(out.detach())
        score = out.gather(1, targets.view(-1, 1)).sum()
        gradient, = torch.autograd.grad(score, activation, allow_unused=True)
    if gradient is None:
        gradient = torch.zeros_like(activation)
    return out.detach(), activation.detach(), gradient


def clean_pass_activation(ctx: Context, spec: CamSpec) -> tuple[str, torch.Tensor]:
    """``(layer name, (1, C, h, w) activation)`` read from the layer on the run's clean pass, scored by the engine
    (the gradient-free CAMs: Eigen-CAM, Score-CAM); the clean scores pick the target."""
    name, layer = resolve_layer(ctx.module, spec.layer, ctx.size)
    with captured(ctx.module, name, layer, ctx.size, gradients=False) as capture:
        clean = ctx.engine.score_inputs(ctx.x, 1)
        activation = capture.checked()
    ctx.observe_clean(clean[0])
    return name, activation


class GradientCam:
    """One gradient CAM: its map of activations and gradients (a method's ``run`` and ``batch``)."""

    def __init__(self, cam_of: CamOfGradients):
        self.cam_of = cam_of

    def run(self, ctx: Context, spec: CamSpec) -> MethodOutput:
        name, layer = resolve_layer(ctx.module, spec.layer, ctx.size)
        with ctx.autocast():
            out, activation, gradient = activations_and_gradients(
                ctx.module, name, layer, ctx.x,
                lambda out: torch.tensor([ctx.observe_clean(out[0].float())], device=out.device))
        ctx.count(forward=1, backward=1)
        return cam_output(self.cam_of(activation.float(), gradient.float())[0], ctx.size, name, spec.layer)

    def batch(self, spec: CamSpec, model: ModelEntry, module: torch.nn.Module, images: torch.Tensor,
              targets: torch.Tensor | None) -> torch.Tensor:
        """``(N,H,W)`` maps of ``(N,3,H,W)`` images in [0,1]: one forward and one partial backward pass."""
        size = tuple(images.shape[-2:])
        name, layer = resolve_layer(module, spec.layer, size)
        pick = (lambda out: out.argmax(-1)) if targets is None else (lambda out: targets)
        _, activation, gradient = activations_and_gradients(module, name, layer, model.normalise(images), pick)
        return upsampled(self.cam_of(activation.float(), gradient.float()).clamp(min=0), size)


def gradient_cam(name: str, spec: type[CamSpec], label: str) -> Callable[[CamOfGradients], CamOfGradients]:
    """Decorator that registers a gradient CAM from ``cam_of(activations, gradients) -> (N,h,w)`` (before the
    ReLU): one forward pass (the clean pass too) and a backward pass to the layer; batched for SpRAy."""

    def decorate(cam_of: CamOfGradients) -> CamOfGradients:
        method = GradientCam(cam_of)
        register(name, spec=spec, label=label, family=FAMILY, citation=spec.citation, signed=False,
                 needs_clean_pass=False, gradients=True, batch=method.batch)(method.run)
        return cam_of

    return decorate


def weighted_sum(weights: torch.Tensor, activations: torch.Tensor) -> torch.Tensor:
    """``sum_c w_c A_c``: ``(N,C)`` weights and ``(N,C,h,w)`` activations -> ``(N,h,w)``."""
    return torch.einsum("nc,nchw->nhw", weights, activations)
