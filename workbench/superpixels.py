"""Superpixels: segment an image and hide chosen segments. LIME, Ablation-CA and the UI share this module.

Segmentation is scikit-image's SLIC (Achanta et al., "SLIC Superpixels Compared to State-of-the-Art
Superpixel Methods", TPAMI 2012) by default, quickshift optionally (LIME's own default). Labels are
renumbered ``0..K-1``. What a hidden segment becomes is a fill of :mod:`workbench.fills`: by default the
image's mean colour, ``"image-mean"``. LIME's own default (``hide_color`` None) is the segment's own mean,
``"segment-mean"`` (LIME's ``presets["paper"]``), which removes nothing from a one-colour object: on the shipped
model's scenes LIME then pointed at the object's neighbours (pointing 0.76, energy on the object 0.22 over 16
(scene, class) pairs) and with ``"image-mean"`` at the object (0.99 and 0.73); Ablation-CA 0.95 with it.
:class:`SuperpixelSpec` holds the parameters the superpixel methods share.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .fills import SUPERPIXEL_FILLS, fill_image, fill_param, fill_value_param
from .params import Spec, param

SEGMENTERS = ("slic", "quickshift")


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
    return consecutive(labels)


def consecutive(labels: np.ndarray) -> np.ndarray:
    """``labels`` (integers) renumbered ``0..K-1`` in the order of their values, int64 (scikit-image's
    ``relabel_sequential``, on labels shifted to start at 0, which it keeps)."""
    from skimage.segmentation import relabel_sequential

    labels = np.asarray(labels, dtype=np.int64)
    return relabel_sequential(labels - labels.min())[0].astype(np.int64)


def check_segments(segments, height: int, width: int) -> np.ndarray:
    """Validate a user-given label map: integer ``H x W`` with at least two labels; renumbered ``0..K-1``."""
    segments = np.asarray(segments)
    if segments.shape != (height, width) or not np.issubdtype(segments.dtype, np.integer):
        raise ValueError(f"segments: expected an integer label map of shape {(height, width)}, "
                         f"got {segments.dtype} {segments.shape}")
    labels = consecutive(segments)
    if labels.max() < 1:
        raise ValueError("segments: expected at least two segments, got one")
    return labels


def labels_for(image: torch.Tensor, segments, n_segments: int, compactness: float, method: str = "slic"
               ) -> np.ndarray:
    """The label map a method uses: the caller's ``segments`` (checked) or a segmentation of ``image``
    (``(1,3,H,W)`` in [0, 1])."""
    height, width = image.shape[-2:]
    if segments is not None:
        return check_segments(segments, height, width)
    return segment(image[0].permute(1, 2, 0).cpu().numpy(), n_segments, compactness, method)


def n_segments_param(default: int, doc: str) -> object:
    """The ``n_segments`` field of a superpixel spec (each method has its own default)."""
    return param(default, low=2, high=500, step=1, label="superpixels", doc=doc)


@dataclass(frozen=True)
class SuperpixelSpec(Spec):
    """Parameters every superpixel method shares: the segmentation and what a hidden superpixel becomes.
    Subclasses redeclare ``n_segments`` with their own default (:func:`n_segments_param`)."""

    n_segments: int = n_segments_param(50, "Target number of SLIC superpixels.")
    fill: str = fill_param("image-mean", SUPERPIXEL_FILLS)
    fill_value: float = fill_value_param()
    segmenter: str = param("slic", choices=SEGMENTERS, doc="Superpixel algorithm.")
    compactness: float = param(10.0, low=0.01, high=1000.0, log=True, doc="SLIC compactness.")
    segments: object = param(None, kind="array", doc="A fixed H x W label map instead of segmenting.")

    def check_image(self, height: int, width: int) -> None:
        if self.segments is not None:
            check_segments(self.segments, height, width)

    def labels(self, image: torch.Tensor) -> np.ndarray:
        """The label map of ``image`` ``(1,3,H,W)``: ``segments`` (checked) or a segmentation."""
        return labels_for(image, self.segments, self.n_segments, self.compactness, self.segmenter)

    def fill_for(self, x: torch.Tensor, normalise, segments: torch.Tensor) -> torch.Tensor:
        """What hidden superpixels of ``x`` (``(1,C,H,W)``, normalised) become (:func:`workbench.fills.fill_image`)."""
        return fill_image(self.fill, x, normalise, accepted=SUPERPIXEL_FILLS, value=self.fill_value,
                          segments=segments)


def segment_masks(keep: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
    """Pixel masks ``(N,1,H,W)`` from per-segment keep flags ``(N,K)`` (1 = visible) and a label map."""
    return keep[:, segments.flatten()].view(keep.shape[0], 1, *segments.shape)


def boundaries(segments: np.ndarray) -> np.ndarray:
    """Boolean ``H x W`` map of segment boundaries (for drawing outlines)."""
    from skimage.segmentation import find_boundaries

    return find_boundaries(segments, mode="inner")
