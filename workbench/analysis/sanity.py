"""Sanity checks for saliency maps (Adebayo et al., "Sanity Checks for Saliency Maps", NeurIPS 2018): an
explanation that does not change when the model's weights are destroyed does not explain the model.

Model-parameter randomisation on a deep copy (never the user's model): layers with parameters are
re-initialised from the output back to the input, either *cascading* (each step keeps the layers already
randomised, sec. 3.1) or *independent* (one layer at a time, the rest as trained). After each step the
method's heatmap for the same image and class is compared with the original by Spearman rank correlation
(of absolute values, as in the paper's figure 4), SSIM (scikit-image) and the Pearson correlation of HOG
features (scikit-image).
"""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..progress import Controls, ProgressArg
from .sweep import spearman

HOG_CELL = 16   # pixels per HOG cell (smaller on images under 32 px)


@dataclass(frozen=True)
class SanityResult:
    """One row per randomisation step: ``table`` (layer, Spearman, SSIM, HOG) and the heatmaps."""

    method: str
    mode: str
    original: np.ndarray
    layers: list[str]
    heatmaps: list[np.ndarray]
    table: Any


def _unit(heat: np.ndarray) -> np.ndarray:
    heat = np.abs(np.asarray(heat, dtype=np.float64))
    span = heat.max() - heat.min()
    return (heat - heat.min()) / span if span > 0 else np.zeros_like(heat)


def similarities(original: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Spearman rank correlation of |maps|, SSIM of |maps| scaled to [0, 1], Pearson correlation of their
    HOG descriptors (16 px cells, 2 x 2 cells a block; cells of half the shorter side on smaller maps)."""
    from skimage.feature import hog
    from skimage.metrics import structural_similarity

    a, b = _unit(original), _unit(other)
    cell = max(1, min(HOG_CELL, min(a.shape) // 2))     # a block of 2 x 2 cells must fit in a small image
    ha = hog(a, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2))
    hb = hog(b, orientations=9, pixels_per_cell=(cell, cell), cells_per_block=(2, 2))
    hog_r = float(np.corrcoef(ha, hb)[0, 1]) if ha.std() > 0 and hb.std() > 0 else 0.0
    return {"spearman": spearman(a, b), "ssim": float(structural_similarity(a, b, data_range=1.0)), "hog": hog_r}


def parameter_layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules that own parameters directly, in forward (registration) order."""
    return [(name, m) for name, m in module.named_modules() if any(True for _ in m.parameters(recurse=False))]


def randomise(layer: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise a layer's own parameters: weights ~ N(0, 1/fan_in) (He-like scale), biases 0, norm
    layers to identity; seeded."""
    with torch.no_grad():
        for name, p in layer.named_parameters(recurse=False):
            if isinstance(layer, (nn.modules.batchnorm._NormBase, nn.LayerNorm, nn.GroupNorm)):
                p.fill_(1.0 if name == "weight" else 0.0)
            elif name == "bias":
                p.zero_()
            else:
                fan_in = max(1, p[0].numel())
                noise = torch.randn(p.shape, generator=generator, dtype=p.dtype) * (2.0 / fan_in) ** 0.5
                p.copy_(noise.to(p.device))


def sanity_check(model, image, method: str = "gradient", target=None, mode: str = "cascading", seed: int = 0,
                 progress: ProgressArg = None, cancel=None, **params) -> SanityResult:
    """Model-parameter randomisation test of ``method`` on ``image`` (module docstring). The user's model is
    deep-copied first and never changed. ``progress(done, total)`` counts randomisation steps; ``cancel`` (a
    ``threading.Event``) stops the run with :class:`workbench.Cancelled` (see :mod:`workbench.progress`)."""
    import pandas as pd

    from ..api import explain
    from ..models.zoo import as_model_entry

    if mode not in ("cascading", "independent"):
        raise ValueError(f"mode: expected 'cascading' or 'independent', got {mode!r}")
    controls = Controls(progress, cancel, desc="sanity check")
    entry = as_model_entry(model)
    original = explain(entry, image, method, target=target, seed=seed, cancel=cancel, **params)
    generator = torch.Generator().manual_seed(seed)
    names = [name for name, _ in parameter_layers(entry.module)][::-1]   # output first
    if not names:
        raise ValueError("model: has no parameters to randomise, so a model-parameter randomisation test "
                         "has nothing to change")
    cascade = copy.deepcopy(entry.module) if mode == "cascading" else None
    rows, maps = [], []
    for name in names:
        controls.check_cancel()
        work = cascade if cascade is not None else copy.deepcopy(entry.module)   # never the user's module
        randomise(dict(work.named_modules())[name], generator)
        randomised = dataclasses.replace(entry, module=work, name=f"{entry.name} (randomised to {name})")
        e = explain(randomised, image, method, target=original.target, seed=seed, cancel=cancel, **params)
        maps.append(e.heatmap)
        rows.append({"layer": name, **similarities(original.heatmap, e.heatmap)})
        controls.report(len(maps), len(names))
    controls.close()
    return SanityResult(method=method, mode=mode, original=original.heatmap, layers=names, heatmaps=maps,
                        table=pd.DataFrame(rows))
