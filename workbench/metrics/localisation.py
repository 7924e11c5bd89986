"""Localisation metrics against ground-truth object masks.

Pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", ECCV 2016; protocol of
TorchRay's ``benchmark/pointing_game.py``): a hit when the disc of radius ``tolerance`` around the
heatmap's maximum meets the object mask (distance strictly below the tolerance, as TorchRay). The
tolerance is 15 px at 224 px and scales with ``min(H, W) / 224``.

Ties: TorchRay takes the first ``argmax`` in row-major order, which on piecewise-constant maps (Occlusion,
FMO) picks the top-left corner of a plateau. Here the whole max set counts: the score is the share of
maximal pixels that hit, i.e. the expected hit of a random tie-break. With a unique maximum it is exactly
TorchRay's 1 (hit) or 0 (miss).
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import distance_transform_edt


def pointing_game(heatmap: np.ndarray, mask: np.ndarray, tolerance: float = 15.0,
                  reference_size: int = 224) -> float:
    """Pointing-game score in [0, 1] of one ``H x W`` heatmap against a boolean ``H x W`` mask.

    >>> heat = np.zeros((224, 224)); heat[100, 100] = 1
    >>> mask = np.zeros((224, 224), bool); mask[100, 110:] = True
    >>> pointing_game(heat, mask)   # 10 px away: within 15 px
    1.0
    """
    heatmap = np.asarray(heatmap, dtype=np.float64)
    mask = np.asarray(mask, dtype=bool)
    if heatmap.ndim != 2 or heatmap.shape != mask.shape:
        raise ValueError(f"mask: expected the heatmap's shape {heatmap.shape}, got {mask.shape}")
    if not mask.any():
        raise ValueError("mask: the object mask is empty")
    if not np.isfinite(heatmap).all():
        raise ValueError("heatmap: contains NaN or infinite values")
    radius = tolerance * min(heatmap.shape) / reference_size
    distance = distance_transform_edt(~mask)  # distance of each pixel to the nearest mask pixel
    maxima = heatmap == heatmap.max()
    return float((distance[maxima] < radius).mean())
