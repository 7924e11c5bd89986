"""Extremal Perturbation (Fong, Patrick & Vedaldi, "Understanding Deep Networks via Extremal Perturbations
and Smooth Masks", ICCV 2019; reference TorchRay ``attribution/extremal_perturbation.py``).

For each target area ``a``, find the smooth mask of area ``a`` that maximises the target's logit when only
the masked region is kept (``variant="preserve"``) or is removed (``"delete"``):

    max_m  f_c(x perturbed by m) - lambda_t * mean((sort(m) - r_a)^2)

``r_a`` is the sorted mask of exact area ``a``; ``lambda_t = lambda0 * lambda_growth^t``. The mask is
generated from parameters on a grid with step ``mask_step`` (= s) by the paper's smooth-max of
Gaussian bumps (sigma = 3 s, coldness 20); "removed" pixels take a blur-pyramid level (8 levels, sigma up
to 20) chosen by the mask value. SGD with momentum 0.9 (dampening 0.9), parameters clamped to [0, 1],
the image flipped horizontally every other step (jitter). All areas are optimised together as one batch.
Saliency = the sum of the area masks. Cost: ``iterations`` x areas x (fwd + bwd).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..blur import gaussian_blur
from ..params import param
from ._mask_optim import MaskLearningSpec, optimise
from .registry import Context, MethodOutput, register

COLDNESS = 20.0


class SmoothMaskGenerator:
    """Masks from a coarse parameter grid by the smooth-max of Gaussian bumps (Fong et al. 2019, sec. 3.2).

    Parameters live on a ``ceil(H/step) x ceil(W/step)`` grid; every output pixel takes a soft maximum over
    the ``(2r+1)^2`` nearest grid points of ``parameter * kernel(distance / sigma)``, with
    ``kernel(z) = exp(-2 max(z - 1/2, 0)^2)``. The output has a margin of ``sigma`` px on each side (used
    by the area constraint); :meth:`generate` returns ``(cropped, full)``.
    """

    def __init__(self, shape: tuple[int, int], step: int, sigma: float, device):
        self.shape, self.step, self.sigma = shape, step, sigma
        self.margin = sigma
        self.padding = 1 + math.ceil((self.margin + sigma) / step)
        self.radius = 1 + math.ceil(sigma / step)
        self.shape_in = [math.ceil(z / step) for z in shape]
        self.shape_mid = [z + 2 * self.padding - (2 * self.radius + 1) + 1 for z in self.shape_in]
        self.shape_up = [step * z for z in self.shape_mid]
        self.shape_out = [z - step + 1 for z in self.shape_up]
        taps = 2 * self.radius + 1
        # the grid point a pixel sees depends on its row (column) alone, so the squared distances are built
        # per row and per column and summed by broadcasting: (T, T, H, W) at once, same values as per pixel
        offsets = torch.arange(taps, dtype=torch.float32)[:, None]
        squares = []
        for axis in (0, 1):
            u = torch.arange(self.shape_out[axis], dtype=torch.float32)
            i = torch.floor(self.shape_mid[axis] / self.shape_up[axis] * u) + offsets - self.padding
            squares.append((u - (self.margin + step * i)) ** 2)            # (T, H) and (T, W)
        distance = torch.sqrt(squares[0][:, None, :, None] + squares[1][None, :, None, :])
        weight = torch.exp(-2 * ((distance / sigma - 0.5).clamp(min=0) ** 2)).reshape(1, taps * taps,
                                                                                    *self.shape_out)
        # laid out as (1, T, Hmid, step, Wmid, step) blocks over the upsampled grid (zeros where the output is
        # cropped), for SmoothMax
        padded = F.pad(weight, (0, self.step - 1, 0, self.step - 1))
        self.blocks = padded.reshape(1, taps * taps, self.shape_mid[0], self.step, self.shape_mid[1],
                                     self.step).to(device)

    def generate(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        taps = 2 * self.radius + 1
        m = F.unfold(params, (taps, taps), padding=(self.padding,) * 2)
        m = m.reshape(len(params), -1, *self.shape_mid)
        m = SmoothMax.apply(m, self.blocks)                      # (K, Hmid, step, Wmid, step)
        m = m.reshape(len(params), 1, *self.shape_up)[:, :, :self.shape_out[0], :self.shape_out[1]].clamp(0, 1)
        top = round(self.margin)
        return m[:, :, top:top + self.shape[0], top:top + self.shape[1]], m


class SmoothMax(torch.autograd.Function):
    """``sum_t v_t softmax(COLDNESS v)_t`` with ``v = weight * params`` upsampled by ``step`` (nearest), in one
    pass per direction: the weights are laid out as ``(1, T, Hmid, step, Wmid, step)`` blocks so that the
    upsampling is a broadcast (no copy), and the backward pass uses
    ``d out / d v_t = softmax_t * (1 + COLDNESS * (v_t - out))`` instead of autograd's chain of softmax and
    products. Same values as TorchRay's generator (``upsample`` + ``pad`` + softmax); forward + backward of 3
    masks at 224 px took 0.26 s instead of 0.39 s on a CPU (2 threads).
    """

    @staticmethod
    def forward(ctx, params: torch.Tensor, blocks: torch.Tensor) -> torch.Tensor:
        v = blocks * params[:, :, :, None, :, None]               # (K, T, Hmid, step, Wmid, step)
        weights = torch.softmax(COLDNESS * v, dim=1)
        out = (v * weights).sum(dim=1)
        ctx.save_for_backward(params, blocks, weights, out)
        return out

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        params, blocks, weights, out = ctx.saved_tensors
        v = blocks * params[:, :, :, None, :, None]
        grad_v = (v - out[:, None]).mul_(COLDNESS).add_(1).mul_(weights).mul_(grad_out[:, None])
        return (grad_v.mul_(blocks)).sum(dim=(3, 5)), None


def blur_pyramid(x: torch.Tensor, levels: int, max_blur: float) -> torch.Tensor:
    """``(levels, C, H, W)``: level 0 blurred with ``max_blur``, the last level the image itself."""
    return torch.cat([gaussian_blur(x, float(1 - t) * max_blur) for t in torch.linspace(0, 1, levels)])


def apply_pyramid(pyramid: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Per pixel, interpolate the pyramid level ``mask * (levels - 1)``: 1 keeps the image, 0 fully blurs."""
    levels = pyramid.shape[0]
    position = mask * (levels - 1)                     # (K,1,H,W)
    low = position.floor().long().clamp(max=levels - 1)
    frac = position - low
    stacked = pyramid[None].expand(len(mask), *pyramid.shape)          # (K,L,C,H,W)
    index = low[:, :, None].expand(-1, 1, pyramid.shape[1], -1, -1)    # (K,1,C,H,W)
    y0 = torch.gather(stacked, 1, index)[:, 0]
    y1 = torch.gather(stacked, 1, (index + 1).clamp(max=levels - 1))[:, 0]
    return (1 - frac) * y0 + frac * y1


@dataclass(frozen=True)
class ExtremalPerturbationSpec(MaskLearningSpec):
    citation = "Fong, Patrick & Vedaldi, ICCV 2019"
    description = (
        'Learns smooth masks of fixed areas that keep the target score as high as possible; '
        'a bright pixel is inside the smallest region that alone preserves the prediction.'
    )
    areas: tuple = param((0.05, 0.1, 0.2), kind="floats", low=0.0, high=1.0, open_low=True, open_high=True,
                         doc="Target areas (shares of the image), optimised together.")
    variant: str = param("preserve", choices=("preserve", "delete"),
                         doc="Keep only the masked region (preserve) or remove it (delete).")
    lambda0: float = param(300.0, low=0.0, high=1e5, log=True, label="area weight",
                           doc="Initial weight of the area constraint.")
    lambda_growth: float = param(1.0035, low=1.0, high=1.1, step=0.0005, label="area weight growth",
                                 doc="Factor applied to the area weight after every step.")
    mask_step: int = param(7, low=1, high=64, step=1, label="mask grid step",
                           doc="Pixels per cell of the mask's parameter grid (ceil(H/step) x ceil(W/step) cells; "
                               "Gaussian bumps have sigma = 3 x step).")
    iterations: int = param(800, low=1, high=100000, step=50, doc="Optimisation steps (the paper: 800).")
    lr: float = param(0.01, low=0.0, high=10.0, open_low=True, step=0.005, label="learning rate",
                      doc="SGD step (momentum 0.9).")
    jitter: bool = param(True, doc="Flip the image horizontally every other step.")

    def masks_per_step(self) -> int:
        return len(self.areas)


@register("extremal_perturbation", spec=ExtremalPerturbationSpec, label="Extremal Perturbation",
          family="mask learning", citation=ExtremalPerturbationSpec.citation, signed=False, gradients=True)
def extremal_perturbation(ctx: Context, spec: ExtremalPerturbationSpec) -> MethodOutput:
    height, width = ctx.size
    areas = list(spec.areas)
    pyramid = blur_pyramid(ctx.x.detach(), levels=8, max_blur=20.0)
    generator = SmoothMaskGenerator((height, width), spec.mask_step, 3.0 * spec.mask_step, ctx.device)
    params = torch.ones(len(areas), 1, *generator.shape_in, device=ctx.device, requires_grad=True)
    full_area = int(np.prod(generator.shape_out))
    reference = torch.ones(len(areas), full_area, device=ctx.device)
    for i, a in enumerate(areas):
        reference[i, :int(full_area * (1 - a))] = 0
    optimiser = torch.optim.SGD([params], lr=spec.lr, momentum=0.9, dampening=0.9)
    weight = [spec.lambda0]
    last = {}

    def losses(step: int) -> dict[str, torch.Tensor]:
        cropped, full = generator.generate(params)
        last["mask"] = cropped
        x = apply_pyramid(pyramid, cropped if spec.variant == "preserve" else 1 - cropped)
        if spec.jitter and step % 2 == 0:
            x = torch.flip(x, dims=(3,))
        logits = ctx.module(x)[:, ctx.target]
        reward = logits if spec.variant == "preserve" else -logits
        area = ((full.reshape(len(areas), -1).sort(dim=1)[0] - reference) ** 2).mean(dim=1) * weight[0]
        return {"reward": reward, "area": area, "total": area - reward}

    def grow(_: int) -> None:
        with torch.no_grad():
            params.clamp_(0, 1)
        weight[0] *= spec.lambda_growth

    history = optimise(ctx, losses, optimiser, spec.iterations, batch=len(areas), tol=spec.tol,
                       patience=spec.patience, after_step=grow)
    masks = last["mask"].detach()[:, 0]
    return MethodOutput(heatmap=masks.sum(0), loss_history=history.terms, extras={
        "masks": masks.cpu().numpy(), "areas": areas, "mask": params.detach()[:, 0].cpu().numpy(),
        "iterations_run": history.iterations})
