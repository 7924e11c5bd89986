"""Separable Gaussian blur of image batches (TorchRay's ``imsmooth`` convention: 4 sigma each side, zero
padding), shared by the mask-learning methods: Meaningful Perturbation's blurred image and mask smoothing
(Fong & Vedaldi, ICCV 2017), Extremal Perturbation's blur pyramid (Fong et al., ICCV 2019) and NeuroMask's
blurred fill. The "blur" fill of :mod:`workbench.fills` keeps torchvision's (see ``blur_image``)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

NO_BLUR_SIGMA = 0.1
PADDINGS = ("zeros", "replicate")


def gaussian_blur(x: torch.Tensor, sigma: float, padding: str = "zeros") -> torch.Tensor:
    """Separable Gaussian blur of ``(N,C,H,W)`` with a kernel of ``ceil(4 sigma)`` px each side; ``padding``
    ``"zeros"`` (TorchRay's ``imsmooth`` convention) or ``"replicate"``; ``sigma`` under :data:`NO_BLUR_SIGMA`
    returns ``x`` (the side taps would be below 1e-21: nothing to blur, and a denormal sigma would turn the
    centre tap to NaN). Each axis is padded only for its own pass; along an axis shorter than the kernel the
    pass is one matrix product (the kernel folded onto the axis' pixels), not a convolution over the padding."""
    if padding not in PADDINGS:
        raise ValueError(f"padding: expected one of {PADDINGS}, got {padding!r}")
    if sigma < NO_BLUR_SIGMA:
        return x
    width = math.ceil(4 * sigma)
    taps = torch.arange(-width, width + 1, dtype=x.dtype, device=x.device)
    kernel = torch.exp(-0.5 * (taps / sigma) ** 2)
    kernel = kernel / kernel.sum()
    return blur_axis(blur_axis(x, kernel, 2, padding), kernel, 3, padding)


def blur_axis(x: torch.Tensor, kernel: torch.Tensor, dim: int, padding: str) -> torch.Tensor:
    """``x`` convolved with the odd 1-D ``kernel`` along ``dim`` (2: rows, 3: columns), same size."""
    n, width = x.shape[dim], len(kernel) // 2
    if len(kernel) > n:
        source = torch.arange(n, device=x.device)[:, None] + torch.arange(-width, width + 1, device=x.device)
        weights = kernel.expand(n, -1)
        if padding == "zeros":
            weights = weights * ((source >= 0) & (source < n))
        matrix = torch.zeros(n, n, dtype=x.dtype, device=x.device).scatter_add_(1, source.clamp(0, n - 1), weights)
        return torch.einsum("ij,ncjw->nciw" if dim == 2 else "ij,nchj->nchi", matrix, x)
    channels = x.shape[1]
    shape = (1, 1, -1, 1) if dim == 2 else (1, 1, 1, -1)
    pad = (0, 0, width, width) if dim == 2 else (width, width, 0, 0)
    if padding == "zeros":
        pad = (width, 0) if dim == 2 else (0, width)
    else:
        x, pad = F.pad(x, pad, mode=padding), (0, 0)
    return F.conv2d(x, kernel.view(shape).expand(channels, *shape[1:]), padding=pad, groups=channels)

