"""Sparseness and complexity of a heatmap: how concentrated its heat is. No model passes.

- Sparseness (Chalasani, Chen, Chowdhury, Wu & Jha, "Concise Explanations of Neural Networks using Adversarial
  Training", ICML 2020): the Gini index of the absolute heat, in [0, 1]; 1 when one pixel holds all the heat.
- Complexity (Bhatt, Weller & Moura, "Evaluating and Aggregating Feature-based Model Explanations", IJCAI 2020,
  eq. 4): the entropy of the fractional contribution ``|g_i| / sum_j |g_j|``, in [0, log(H*W)]; lower is
  simpler.

Both follow Quantus' ``Sparseness`` and ``Complexity`` (absolute value, normalised by the maximum, the same
small constants: 1e-7 added before the Gini index, 1e-12 inside the logarithm).
"""
from __future__ import annotations

import numpy as np

from .inputs import read_heatmap


def _absolute(heatmap) -> np.ndarray:
    heat = np.asarray(heatmap, dtype=np.float64)
    if heat.ndim != 2:
        raise ValueError(f"heatmap: expected an H x W map, got shape {heat.shape}")
    heat = np.abs(read_heatmap(heat, heat.shape).numpy()).ravel()
    peak = heat.max()
    return heat / peak if peak > 0 else heat


def sparseness(heatmap) -> float:
    """Gini index of ``|heatmap|`` (an ``H x W`` map): ``sum_i (2i - n - 1) a_(i) / (n sum_i a_(i))`` over the
    ``n`` values sorted ascending (module docstring)."""
    heat = np.sort(_absolute(heatmap) + 1e-7)
    n = len(heat)
    return float(((2 * np.arange(1, n + 1) - n - 1) * heat).sum() / (n * heat.sum()))


def complexity(heatmap) -> float:
    """Entropy of the fractional contributions of ``|heatmap|`` (an ``H x W`` map); NaN for an all-zero map
    (no contributions to share)."""
    heat = _absolute(heatmap)
    total = heat.sum()
    if total == 0:
        return float("nan")
    share = heat / total
    return float(-(share * np.log(share + 1e-12)).sum())
