"""Superpixels: segment an image and hide chosen segments. LIME, Ablation-CA and the UI share this module.

Segmentation is scikit-image's SLIC (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art
Superpixel Methods", TPAMI 2012) by default, quickshift optionally (LIME's own default). Labels are
renumbered ``0..K-1``. A hidden segment is filled with its own mean colour (``"mean"``, as LIME does when
``hide_color`` is None), a constant, or a Gaussian blur of the image.
"""
from __future__ import annotations

import numpy as np
import torch

SEGMENTERS = ("slic", "quickshift")
FILLS = ("mean", "constant", "blur")


def segment(image: np.ndarray, n_segments: int = 50, compactness: float = 10.0, method: str = "slic",
            sigma: float = 1.0) -> np.ndarray:
    """Label map ``H x W`` (int64, labels ``0..K-1``) of an ``H x W x 3`` image in [0, 1].

    ``n_segments`` is SLIC's target count (the result may have somewhat fewer or more); quickshift ignores
    it and uses ``kernel_size=4, max_dist=200, ratio=0.2`` (LIME's defaults).
    """
    from skimage.segmentation import quickshift, slic

    if isinstance(n_segments, bool) or int(n_segments) != n_segments or n_segments < 2:
        raise ValueError(f"n_segments: expected an integer >= 2, got {n_segments!r}")
    if method == "slic":
        labels = slic(image, n_segments=int(n_segments), compactness=compactness, sigma=sigma, start_label=0,
                      channel_axis=-1)
    elif method == "quickshift":
        labels = quickshift(image, kernel_size=4, max_dist=200, ratio=0.2, channel_axis=-1)
    else:
        raise ValueError(f"method: expected one of {SEGMENTERS}, got {method!r}")
    _, consecutive = np.unique(labels, return_inverse=True)
    return consecutive.reshape(labels.shape).astype(np.int64)


def check_segments(segments, height: int, width: int) -> np.ndarray:
    """Validate a user-given label map: integer ``H x W`` with at least two labels; renumbered ``0..K-1``."""
    segments = np.asarray(segments)
    if segments.shape != (height, width) or not np.issubdtype(segments.dtype, np.integer):
        raise ValueError(f"segments: expected an integer label map of shape {(height, width)}, "
                         f"got {segments.dtype} {segments.shape}")
    _, consecutive = np.unique(segments, return_inverse=True)
    consecutive = consecutive.reshape(segments.shape).astype(np.int64)
    if consecutive.max() < 1:
        raise ValueError("segments: expected at least two segments, got one")
    return consecutive


def labels_for(image: torch.Tensor, segments, n_segments: int, compactness: float, method: str = "slic"
               ) -> np.ndarray:
    """The label map a method uses: the caller's ``segments`` (checked) or a segmentation of ``image``
    (``(1,3,H,W)`` in [0, 1])."""
    height, width = image.shape[-2:]
    if segments is not None:
        return check_segments(segments, height, width)
    return segment(image[0].permute(1, 2, 0).cpu().numpy(), n_segments, compactness, method)


def blur_image(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(N,C,H,W)`` (kernel of 3 sigma each side, reflect padding): the "blur" fill; a sigma
    under 0.1 px returns ``x`` (nothing to blur; a vanishing sigma would overflow the kernel)."""
    from torchvision.transforms.functional import gaussian_blur

    if sigma < 0.1:
        return x

    radius = int(np.ceil(3 * sigma))
    return gaussian_blur(x, [2 * radius + 1] * 2, [sigma] * 2)


def fill_image(x: torch.Tensor, segments: torch.Tensor, fill: str = "mean", value: float = 0.0,
               blur_sigma: float = 5.0) -> torch.Tensor:
    """What hidden pixels become: ``(1,C,H,W)`` from ``x`` ``(1,C,H,W)`` and ``segments`` ``(H,W)`` long.

    ``"mean"``: each pixel gets its segment's mean (per channel) — an affine normalisation commutes with
    this, so it can be applied to normalised inputs; ``"constant"``: ``value``; ``"blur"``: Gaussian blur.
    """
    if fill == "mean":
        k = int(segments.max()) + 1
        flat = segments.flatten()
        channels = x[0].flatten(1)  # (C, HW)
        sums = torch.zeros(channels.shape[0], k, dtype=x.dtype, device=x.device).index_add_(1, flat, channels)
        counts = torch.bincount(flat, minlength=k).to(x.dtype)
        return (sums / counts)[:, flat].view_as(x)
    if fill == "constant":
        return torch.full_like(x, float(value))
    if fill == "blur":
        return blur_image(x, blur_sigma)
    raise ValueError(f"fill: expected one of {FILLS}, got {fill!r}")


def segment_masks(keep: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
    """Pixel masks ``(N,1,H,W)`` from per-segment keep flags ``(N,K)`` (1 = visible) and a label map."""
    return keep[:, segments.flatten()].view(keep.shape[0], 1, *segments.shape)


def boundaries(segments: np.ndarray) -> np.ndarray:
    """Boolean ``H x W`` map of segment boundaries (for drawing outlines)."""
    from skimage.segmentation import find_boundaries

    return find_boundaries(segments, mode="inner")
