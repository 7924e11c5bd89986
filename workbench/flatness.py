"""Flat maps: a heatmap with (almost) no variation says nothing about where the evidence is, however its colour
scale is stretched. One rule for every method, the overlay, comparison tiles and the pointing game.

A map is flat when its *relative range* ``(max - min) / max|v|`` is below :data:`FLAT_TOLERANCE` (an all-zero
map has relative range 0). The measure does not change when the map is scaled, so a tiny gradient map that
does vary is not flat, while a mask that collapsed to one value (NeuroMask with a heavy sparsity weight and
a low temperature: every pixel hidden) is.
"""
from __future__ import annotations

import numpy as np

FLAT_TOLERANCE = 1e-3   # a variation below 0.1 % of the map's largest magnitude: well under one of 256 colours


def relative_range(heatmap) -> float:
    """``(max - min) / max|v|`` of a finite map; 0.0 for an all-zero map.

    >>> relative_range(np.array([[0.5, 0.5], [0.5, 0.25]]))
    0.5
    """
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.size == 0 or not np.isfinite(heat).all():
        raise ValueError(f"heatmap: expected a non-empty map of finite values, got shape {heat.shape}")
    peak = float(np.abs(heat).max())
    return 0.0 if peak == 0 else float(heat.max() - heat.min()) / peak


def is_flat(heatmap, tolerance: float = FLAT_TOLERANCE) -> bool:
    """Whether ``heatmap`` has (almost) no variation: its :func:`relative_range` is below ``tolerance``.

    >>> is_flat(np.zeros((4, 4))), is_flat(np.full((4, 4), 0.3)), is_flat(np.eye(4) * 1e-9)
    (True, True, False)
    """
    if not 0 <= tolerance < 1:
        raise ValueError(f"tolerance: expected a share in [0, 1), got {tolerance!r}")
    return relative_range(heatmap) < tolerance


def flat_note(heatmap) -> str:
    """The words for a flat map (the status line and the overlay's title say them alike)."""
    heat = np.asarray(heatmap, dtype=np.float64)
    return (f"flat map: every pixel is {float(heat.mean()):.3g} (relative range {relative_range(heat):.1e} < "
            f"{FLAT_TOLERANCE:g}); it points nowhere")
