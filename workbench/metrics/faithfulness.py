"""Faithfulness correlation (Bhatt, Weller & Moura, "Evaluating and Aggregating Feature-based Model
Explanations", IJCAI 2020, eq. 2).

``runs`` times, a random subset ``S`` of ``subset_size`` input features is replaced by the fill; the metric is
Pearson's correlation, over the runs, between the heat of the subset and the score it costs:

    faithfulness_correlation = corr_S( sum_{i in S} g(x)_i , f(x) - f(x_[x_S = fill]) )

Features are the ``C x H x W`` input values, a pixel's heat counting for each of its channels (Quantus'
``FaithfulnessCorrelation``, whose defaults are kept: 100 runs of 224 features, the logit). The subsets are
``torch.randperm`` draws of a CPU ``torch.Generator`` seeded with ``seed`` (:func:`random_subsets`): one seed,
the same numbers on every device. Quantus' default fill ``"black"`` is the input's minimum; the workbench's
``"black"`` is the pixel value 0 (:mod:`workbench.fills`). The ``runs`` perturbed images are composed on the
device and scored in engine batches.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..fills import BLUR_SIGMA, METRIC_FILLS, check_fill, fill_image
from ..images import as_image_tensor
from ..progress import ProgressArg
from ..results import Cost
from ..run import open_run
from ..scores import score_transform
from .inputs import check_count, clean_score, explained_target, read_heatmap


@dataclass(frozen=True)
class FaithfulnessCorrelation:
    """The correlation ``value`` and what it correlates: per run, the subset's heat and the score's drop."""

    value: float
    heat: np.ndarray
    drops: np.ndarray
    target: int
    cost: Cost


def random_subsets(n_features: int, subset_size: int, runs: int, seed: int) -> np.ndarray:
    """``(runs, subset_size)`` feature indices, each row drawn without replacement (``torch.randperm`` of a CPU
    generator seeded with ``seed``, one permutation per run)."""
    generator = torch.Generator().manual_seed(int(seed))
    return np.stack([torch.randperm(n_features, generator=generator)[:subset_size].numpy() for _ in range(runs)])


def faithfulness_correlation(model, image, explanation, target=None, runs: int = 100, subset_size: int = 224,
                             fill: str = "black", fill_value: float = 0.0, blur_sigma: float = BLUR_SIGMA,
                             seed: int = 0, output: str = "logit", device="auto", batch_size: int | None = None,
                             progress: ProgressArg = None, cancel=None,
                             runtime: str | None = None) -> FaithfulnessCorrelation:
    """Faithfulness correlation (module docstring) of ``explanation`` (an :class:`Explanation` or an ``H x W``
    heatmap) for ``target`` (default: the explanation's, else the top-1 class). NaN when the heat or the drops
    do not vary. Cost: ``runs`` forward passes (+1 clean); ``runtime``: of the passes, as for
    :func:`workbench.explain`.
    """
    from scipy.stats import pearsonr

    pixels = as_image_tensor(image)
    heatmap = read_heatmap(explanation, tuple(pixels.shape[1:]))
    n_features = pixels.numel()
    runs = check_count(runs, "runs", 2)
    subset_size = check_count(subset_size, "subset_size", 1, n_features)
    check_fill(fill, METRIC_FILLS)
    target = explained_target(explanation, target)
    subsets = random_subsets(n_features, subset_size, runs, seed)
    heat = np.broadcast_to(heatmap.numpy()[None], pixels.shape).reshape(-1)[subsets].sum(axis=1)
    with open_run(model, pixels, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  target=target, channels_last=True, clean_pass=True, planned=1 + runs, runtime=runtime) as run:
        transform = score_transform(run.model, output, paper="logit")
        x, dev = run.x, run.device
        base = fill_image(fill, x, run.model.normalise, accepted=METRIC_FILLS, value=fill_value,
                          blur_sigma=blur_sigma, generator=torch.Generator().manual_seed(int(seed)))
        chosen = torch.from_numpy(subsets).to(dev)

        def masks(start: int, stop: int) -> torch.Tensor:
            keep = torch.ones((stop - start, n_features), dtype=x.dtype, device=dev)
            keep.scatter_(1, chosen[start:stop], 0.0)
            return keep.view(stop - start, *x.shape[1:])

        scores = run.engine.score_masks(x, masks, n=runs, baseline=base, target=run.target, transform=transform)
        drops = clean_score(run, transform) - scores.double().cpu().numpy()
    if np.ptp(heat) == 0 or np.ptp(drops) == 0:
        value = float("nan")
    else:
        value = float(pearsonr(heat, drops)[0])
    return FaithfulnessCorrelation(value=value, heat=heat, drops=drops, target=run.target,
                                   cost=Cost(forward_passes=run.forward_passes, seconds=run.seconds))
