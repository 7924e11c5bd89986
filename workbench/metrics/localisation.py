"""Localisation metrics against ground-truth object masks: pointing game, energy-based pointing game and
IoU of the top heat.

Pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016; protocol of
TorchRay's ``benchmark/pointing_game.py``): a hit when the disc of radius ``tolerance`` around the
heatmap's maximum meets the object mask (distance strictly below the tolerance, as TorchRay). The
tolerance is 15 px at 224 px and scales with ``min(H, W) / 224``.

Ties: TorchRay takes the first ``argmax`` in row-major order, which on piecewise-constant maps (Occlusion,
FMO) picks the top-left corner of a plateau. Here the whole max set counts: the score is the share of
maximal pixels that hit, i.e. the expected hit of a random tie-break. With a unique maximum it is exactly
TorchRay's 1 (hit) or 0 (miss).

A flat map (:func:`workbench.flatness.is_flat`: no variation beyond 0.1 % of its magnitude) points nowhere:
its maximum set is noise or the whole image, so the pointing game scores it NaN, "no point", rather than a
hit or a miss at a corner (TorchRay's argmax of a constant map is the top-left pixel).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import distance_transform_edt

from ..flatness import is_flat

NO_POINT = "no point"


def pointing_game(heatmap: np.ndarray, mask: np.ndarray, tolerance: float = 15.0,
                  reference_size: int = 224) -> float:
    """Pointing-game score in [0, 1] of one ``H x W`` heatmap against a boolean ``H x W`` mask; NaN ("no point")
    for a flat map.

    >>> heat = np.zeros((224, 224)); heat[100, 100] = 1
    >>> mask = np.zeros((224, 224), bool); mask[100, 110:] = True
    >>> pointing_game(heat, mask)   # 10 px away: within 15 px
    1.0
    """
    heatmap, mask = _check_pair(heatmap, mask)
    if is_flat(heatmap):
        return math.nan
    radius = tolerance * min(heatmap.shape) / reference_size
    distance = distance_transform_edt(~mask)  # distance of each pixel to the nearest mask pixel
    maxima = heatmap == heatmap.max()
    return float((distance[maxima] < radius).mean())


def pointing_outcome(heatmap: np.ndarray, mask: np.ndarray, tolerance: float = 15.0) -> str:
    """The pointing game as a word: ``"hit"`` (score at least 0.5), ``"miss"`` or :data:`NO_POINT` (a flat map).

    >>> pointing_outcome(np.full((224, 224), 0.5), np.eye(224, dtype=bool))
    'no point'
    """
    score = pointing_game(heatmap, mask, tolerance)
    return NO_POINT if math.isnan(score) else ("hit" if score >= 0.5 else "miss")


def _check_pair(heatmap: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    heatmap = np.asarray(heatmap, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if heatmap.ndim != 2 or heatmap.shape != mask.shape:
        raise ValueError(f"mask: expected the heatmap's shape {heatmap.shape}, got {mask.shape}")
    if not mask.any():
        raise ValueError("mask: the object mask is empty")
    if not np.isfinite(heatmap).all():
        raise ValueError("heatmap: contains NaN or infinite values")
    return heatmap, mask


def energy_pointing_game(heatmap: np.ndarray, mask: np.ndarray) -> float:
    """Share of the positive heat that falls inside the mask (Wang et al., "Score-CAM", CVPR-W 2020),
    in [0, 1]; 0 when the map has no positive heat."""
    heatmap, mask = _check_pair(heatmap, mask)
    positive = np.clip(heatmap, 0, None)
    total = positive.sum()
    return float(positive[mask].sum() / total) if total > 0 else 0.0


def top_iou(heatmap: np.ndarray, mask: np.ndarray, q: float | None = None) -> float:
    """IoU of the ``q`` share of pixels with the most heat and the mask; ``q=None`` uses the mask's own
    share of the image, so a perfect heatmap scores 1. Ties at the threshold are all included."""
    heatmap, mask = _check_pair(heatmap, mask)
    share = mask.mean() if q is None else float(q)
    if not 0 < share <= 1:
        raise ValueError(f"q: expected a share in (0, 1], got {q!r}")
    k = max(1, int(round(share * heatmap.size)))
    threshold = np.partition(heatmap.ravel(), heatmap.size - k)[heatmap.size - k]
    top = heatmap >= threshold
    return float((top & mask).sum() / (top | mask).sum())


def box_mask(boxes, shape: tuple[int, int]) -> np.ndarray:
    """Union of ``(K, 4)`` boxes ``(x0, y0, x1, y1)`` as a boolean ``H x W`` mask: a pixel belongs to a box when
    its centre lies inside it (pixel ``i`` spans ``[i, i + 1)``).

    This is how the pointing game is played on boxes (TorchRay's VOC protocol, ``voc_as_mask``; the EBP paper's
    COCO boxes alike): the hit region is the union of the class's boxes, and :func:`pointing_game` accepts a
    maximum within the tolerance (15 px at 224 px) of any of them. A VOC box (1-based, inclusive
    ``xmin..xmax``) read as ``(xmin - 1, ymin - 1, xmax, ymax)`` covers exactly the pixels TorchRay sets; a COCO
    box ``[x, y, w, h]`` is ``(x, y, x + w, y + h)``.

    >>> box_mask([(1, 0, 3, 2)], (3, 4)).astype(int)
    array([[0, 1, 1, 0],
           [0, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"shape: expected (H, W) with H, W >= 1, got {shape!r}")
    rows = np.arange(shape[0]) + 0.5
    cols = np.arange(shape[1]) + 0.5
    inside_rows = (rows[None, :] >= b[:, 1:2]) & (rows[None, :] < b[:, 3:4])   # (K, H)
    inside_cols = (cols[None, :] >= b[:, 0:1]) & (cols[None, :] < b[:, 2:3])   # (K, W)
    return (inside_rows[:, :, None] & inside_cols[:, None, :]).any(axis=0)


def peak(heatmap: np.ndarray) -> tuple[int, int]:
    """``(row, col)`` of the heatmap's largest value (the first in row-major order): where the map points."""
    heatmap = np.asarray(heatmap)
    row, col = np.unravel_index(int(np.argmax(heatmap)), heatmap.shape)
    return int(row), int(col)
