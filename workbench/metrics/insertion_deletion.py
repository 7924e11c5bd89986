"""Insertion and deletion curves and their areas (Petsiuk, Das & Saenko, "RISE: Randomized Input Sampling for
Explanation of Black-box Models", BMVC 2018, sec. 4.1).

Pixels are ranked by heat, most first (ties keep row-major order). Deletion starts from the image and replaces
``step`` more pixels per step by the ``"constant"`` fill (``fill_value`` in the model's normalised space, 0 = the
data set's mean colour: the paper's zero substrate); insertion starts from a ``"blur"`` of the image
(:data:`~workbench.fills.BLUR_SIGMA` = 5 px, the paper's sigma; the paper truncates its kernel at 11 px, the
workbench at 3 sigma) and puts ``step`` more original pixels back per step. Step ``k`` has ``min(k * step, H*W)``
pixels changed, for ``k = 0..ceil(H*W / step)``; ``step`` defaults to the image width (the paper's 224 px per step
at 224 px). The area under the curve is the paper's trapezoid over a unit-width axis,

    AUC = (sum_k s_k - s_0 / 2 - s_n / 2) / n

A good map has a low deletion AUC and a high insertion AUC. The score is the probability (the paper's); on a
multi-label model ``"auto"`` reads the logit (:mod:`workbench.scores`). All images of a curve are composed on the
device from one rank map and scored in engine batches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..fills import BLUR_SIGMA, METRIC_FILLS, check_fill, fill_image
from ..images import as_image_tensor
from ..progress import ProgressArg
from ..results import Cost
from ..run import open_run
from ..scores import score_transform
from .inputs import check_count, explained_target, read_heatmap

KINDS = ("insertion", "deletion")
PAPER_FILLS = {"insertion": "blur", "deletion": "constant"}


@dataclass(frozen=True)
class InsertionDeletionCurve:
    """``scores[k]``: the target's score with ``changed[k]`` pixels deleted or inserted; ``auc`` its area."""

    kind: str
    changed: np.ndarray
    scores: np.ndarray
    auc: float
    step: int
    fill: str
    target: int
    cost: Cost

    @property
    def fractions(self) -> np.ndarray:
        """The share of the image's pixels changed at each step."""
        return self.changed / self.changed[-1]


def area_under_curve(scores: np.ndarray) -> float:
    """The trapezoid area of ``scores`` over a unit-width axis (RISE's ``auc``)."""
    scores = np.asarray(scores, dtype=np.float64)
    return float((scores.sum() - scores[0] / 2 - scores[-1] / 2) / (len(scores) - 1))


def pixel_ranks(heatmap: torch.Tensor) -> torch.Tensor:
    """``H x W`` long map: each pixel's position when pixels are sorted by heat, most first (stable)."""
    order = torch.argsort(-heatmap.flatten(), stable=True)
    ranks = torch.empty_like(order)
    ranks[order] = torch.arange(len(order), device=order.device)
    return ranks.view(heatmap.shape)


def insertion_deletion_curve(model, image, explanation, target=None, kind: str = "deletion",
                             step: int | None = None, fill: str | None = None, fill_value: float = 0.0,
                             blur_sigma: float = BLUR_SIGMA, output: str = "auto", device="auto",
                             batch_size: int | None = None, progress: ProgressArg = None,
                             cancel=None, runtime: str | None = None) -> InsertionDeletionCurve:
    """The insertion or deletion curve (module docstring) of ``explanation`` (an :class:`Explanation` or an
    ``H x W`` heatmap) for ``target`` (default: the explanation's, else the top-1 class). ``fill`` defaults to the
    paper's (deletion: ``"constant"``, insertion: ``"blur"``). Cost: ``ceil(H*W / step) + 1`` forward passes
    (+1 clean). ``runtime``: of the passes, as for :func:`workbench.explain`.
    """
    pixels = as_image_tensor(image)
    heatmap = read_heatmap(explanation, tuple(pixels.shape[1:]))
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
    height, width = heatmap.shape
    step = check_count(width if step is None else step, "step", 1, height * width)
    fill = check_fill(PAPER_FILLS[kind] if fill is None else fill, METRIC_FILLS)
    if fill == "uniform":
        raise ValueError("fill: expected one of the deterministic fills "
                         f"{[f for f in METRIC_FILLS if f != 'uniform']}, got 'uniform'")
    target = explained_target(explanation, target)
    n = math.ceil(height * width / step)
    with open_run(model, pixels, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  target=target, channels_last=True, clean_pass=True, planned=1 + n + 1, runtime=runtime) as run:
        transform = score_transform(run.model, output, paper="probability")
        x, dev = run.x, run.device
        base = fill_image(fill, x, run.model.normalise, accepted=METRIC_FILLS, value=fill_value,
                          blur_sigma=blur_sigma)
        ranks = pixel_ranks(heatmap.to(dev))
        counts = torch.clamp(torch.arange(n + 1, device=dev) * step, max=height * width)

        def masks(start: int, stop: int) -> torch.Tensor:
            """1 = the image's pixel: those not yet deleted, or those inserted so far."""
            inserted = ranks[None, None] < counts[start:stop, None, None, None]
            return (~inserted if kind == "deletion" else inserted).to(x.dtype)

        scores = run.engine.score_masks(x, masks, n=n + 1, baseline=base, target=run.target, transform=transform)
        scores = scores.double().cpu().numpy()
    return InsertionDeletionCurve(kind=kind, changed=counts.cpu().numpy(), scores=scores,
                                  auc=area_under_curve(scores), step=step, fill=fill, target=run.target,
                                  cost=Cost(forward_passes=run.forward_passes, seconds=run.seconds))
