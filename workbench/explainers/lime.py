"""LIME on superpixels (Ribeiro, Singh & Guestrin, "Why Should I Trust You?", KDD 2016; reference
implementation ``lime/lime_image.py`` and ``lime/lime_base.py``).

Segment the image (SLIC, ``n_segments``); draw ``num_samples`` binary vectors ``z`` over segments, row 0
all ones, the others Bernoulli(0.5); hide the segments with ``z_j = 0`` (filled with the image's mean colour by
default, ``fill``; LIME's own segment mean is ``presets["paper"]``, see :mod:`workbench.superpixels`); score the target probability ``y`` of each. Fit a weighted ridge regression ``y ~ z`` with
weights ``pi(z) = sqrt(exp(-d(z, 1)^2 / width^2))``, ``d`` the cosine distance to the all-ones vector
(LIME's kernel), ``alpha = 1`` and an intercept. The heatmap paints each segment's coefficient.

Cost: ``num_samples`` forward passes (+1 clean), batched through the engine.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import seeding
from ..params import param
from ..scores import output_param
from ..superpixels import SuperpixelSpec, n_segments_param, segment_masks
from .registry import Context, MethodOutput, register


@dataclass(frozen=True)
class LimeSpec(SuperpixelSpec):
    citation = "Ribeiro, Singh & Guestrin, KDD 2016"
    presets = {"paper": {"output": "probability", "fill": "segment-mean"}}
    description = (
        'Switches random sets of superpixels off and fits a weighted linear model to the scores; '
        'a red superpixel raises the target score, a blue one lowers it.'
    )
    n_segments: int = n_segments_param(50, "Target number of SLIC superpixels (the interpretable features).")
    num_samples: int = param(1000, low=10, high=100000, step=50, label="samples",
                             doc="Perturbed images scored (row 0 is the unperturbed image).")
    kernel_width: float = param(0.25, low=0.01, high=10.0, step=0.05, label="kernel width",
                                doc="Width of LIME's exponential kernel on the cosine distance.")
    alpha: float = param(1.0, low=0.0, high=1000.0, step=0.1, label="ridge alpha",
                         doc="Ridge regularisation (LIME's default 1; 0 = plain weighted least squares).")
    output: str = output_param("probability")

    def planned_passes(self, height: int, width: int) -> int:
        """One pass per sample and the clean pass."""
        return 1 + self.num_samples


def lime_regression(samples: np.ndarray, scores: np.ndarray, kernel_width: float, alpha: float):
    """Fit LIME's weighted ridge regression; returns ``(coefficients, intercept, r2, weights)``."""
    from sklearn.linear_model import Ridge
    from sklearn.metrics import pairwise_distances

    distances = pairwise_distances(samples, samples[:1], metric="cosine").ravel()
    weights = np.sqrt(np.exp(-(distances ** 2) / kernel_width ** 2))
    ridge = Ridge(alpha=alpha, fit_intercept=True)
    ridge.fit(samples, scores, sample_weight=weights)
    r2 = ridge.score(samples, scores, sample_weight=weights)
    return ridge.coef_, float(ridge.intercept_), float(r2), weights


def lime_samples(generator: torch.Generator, num_samples: int, n_features: int, device) -> torch.Tensor:
    """``(num_samples, n_features)`` 0/1 matrix on ``device``, row 0 all ones, others Bernoulli(0.5), drawn
    from a CPU ``generator`` (:mod:`workbench.seeding`)."""
    samples = torch.randint(0, 2, (num_samples, n_features), generator=generator, dtype=torch.uint8)
    samples[0] = 1
    return seeding.on_device(samples, device)


@register("lime", spec=LimeSpec, label="LIME", family="perturbation", citation=LimeSpec.citation, random=True,
          forward_only=True)
def lime(ctx: Context, spec: LimeSpec) -> MethodOutput:
    labels = spec.labels(ctx.image)
    segs = torch.from_numpy(labels).to(ctx.device)
    n_features = int(labels.max()) + 1
    samples = lime_samples(ctx.generator(), spec.num_samples, n_features, ctx.device)
    fill = spec.fill_for(ctx.x, ctx.model.normalise, segs)
    scored = torch.zeros(spec.num_samples, dtype=torch.float64)

    def fit_so_far(start: int, stop: int, _: torch.Tensor, batch_scores: torch.Tensor) -> None:
        if ctx.on_partial is None:
            return
        scored[start:stop] = batch_scores.double().cpu()
        if ctx.wants_partial and 2 * n_features < stop < spec.num_samples:
            coefficients = lime_regression(samples[:stop].cpu().numpy().astype(np.float64),
                                           scored[:stop].numpy(), spec.kernel_width, spec.alpha)[0]
            ctx.show(torch.from_numpy(coefficients).to(ctx.device)[segs], f"{stop}/{spec.num_samples} samples",
                     stop / spec.num_samples)

    scores = ctx.engine.score_masks(
        ctx.x, lambda a, b: segment_masks(samples[a:b].float(), segs), n=spec.num_samples, baseline=fill,
        target=ctx.target, transform=ctx.score_transform(spec.output), consume=fit_so_far)
    data = samples.cpu().numpy().astype(np.float64)
    coefficients, intercept, r2, _ = lime_regression(data, scores.double().cpu().numpy(), spec.kernel_width,
                                                     spec.alpha)
    heat = torch.from_numpy(coefficients).to(ctx.device)[segs]
    return MethodOutput(heatmap=heat, segments=labels, extras={"coefficients": coefficients, "intercept": intercept,
                                                               "score": r2, "samples": samples.cpu().numpy()})
