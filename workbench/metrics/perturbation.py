"""Region perturbation and AOPC (Samek, Binder, Montavon, Bach & Mueller, "Evaluating the visualization of
what a deep neural network has learned", IEEE TNNLS 2017).

The image is tiled into non-overlapping ``region x region`` squares (default 9; the last row and column
of squares are cut short when the size is not a multiple). Squares are ranked by their summed heat: most
relevant first (``"morf"``), least relevant first (``"lerf"``) or in a seeded random order (``"random"``,
the baseline). Step ``k`` perturbs the ``k``-th square in that order, cumulatively, so ``x^(k)`` has the
first ``k`` squares perturbed (eq. 7). The curve is ``f_c(x^(k))`` for ``k = 0..L`` and

    AOPC = 1/(L+1) * sum_{k=0..L} (f_c(x^(0)) - f_c(x^(k)))          (eq. 12)

averaged over ``repeats`` draws of the noise (and of the order for ``"random"``). Perturbation fills
(:mod:`workbench.fills`, :data:`~workbench.fills.METRIC_FILLS`): ``"uniform"`` noise U(0,1) in pixel space
(Samek et al.; one seeded noise image per repeat, so a square keeps its noise once perturbed),
``"constant"`` ``fill_value`` in the model's normalised space (0 = data-set mean colour), ``"black"``,
``"blur"`` a Gaussian blur of the image (``blur_sigma``) or ``"image-mean"``.

Each metric of :func:`region_metrics` declares the curves it needs (:data:`CURVES_FOR`); only those are computed.

All ``(L+1) x repeats`` images of a curve are built on the device from one rank map (pixel -> position of
its square in the order) and scored in engine batches. Ties in the ranking keep the squares' row-major order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .. import seeding
from ..fills import BLUR_SIGMA, METRIC_FILLS, check_fill, fill_image
from ..images import as_image_tensor
from ..progress import Controls, ProgressArg
from ..results import Cost
from ..run import open_run
from ..scores import score_transform
from .inputs import explained_target, read_heatmap

ORDERS = ("morf", "lerf", "random")
# the curves each metric of region_metrics() needs
CURVES_FOR = {"aopc_morf": ("morf",), "aopc_lerf": ("lerf",), "aopc_random": ("random",), "abpc": ("morf", "lerf"),
              "aopc_morf_minus_random": ("morf", "random")}
CURVE_METRICS = tuple(CURVES_FOR)


@dataclass(frozen=True)
class Curve:
    """A region-perturbation curve: ``scores[k] = f_c(x^(k))`` for ``k = 0..steps`` (mean over repeats).

    ``aopc`` follows eq. 12 of Samek et al. 2017; for ``"morf"`` higher is better, for ``"lerf"`` lower.
    """

    order: str
    steps: np.ndarray
    scores: np.ndarray
    aopc: float
    all_scores: np.ndarray
    region: int
    fill: str
    target: int
    cost: Cost

    @property
    def drops(self) -> np.ndarray:
        """``f_c(x^(0)) - f_c(x^(k))`` for ``k = 0..steps``."""
        return self.scores[0] - self.scores


def region_ranks(heatmap: torch.Tensor, region: int, order: str, generator: torch.Generator | None) -> torch.Tensor:
    """``H x W`` long map: for each pixel, the position of its square in the perturbation order."""
    height, width = heatmap.shape
    rows, cols = math.ceil(height / region), math.ceil(width / region)
    padded = torch.zeros(rows * region, cols * region, dtype=torch.float64, device=heatmap.device)
    padded[:height, :width] = heatmap
    sums = padded.view(rows, region, cols, region).sum(dim=(1, 3)).flatten()
    if order == "morf":
        ranking = torch.argsort(-sums, stable=True)
    elif order == "lerf":
        ranking = torch.argsort(sums, stable=True)
    else:
        ranking = seeding.on_device(torch.randperm(len(sums), generator=generator), heatmap.device)
    rank_of_square = torch.empty_like(ranking)
    rank_of_square[ranking] = torch.arange(len(ranking), device=heatmap.device)
    squares = (torch.arange(height, device=heatmap.device)[:, None] // region) * cols \
        + torch.arange(width, device=heatmap.device)[None, :] // region
    return rank_of_square[squares]


def _check(order: str, region: int, steps: int, fill: str, repeats: int, height: int, width: int) -> None:
    if order not in ORDERS:
        raise ValueError(f"order: expected one of {ORDERS}, got {order!r}")
    check_fill(fill, METRIC_FILLS)
    if isinstance(region, bool) or not isinstance(region, int) or not 1 <= region <= min(height, width):
        raise ValueError(f"region: expected an integer from 1 to the image side {min(height, width)}, got {region!r}")
    n_squares = math.ceil(height / region) * math.ceil(width / region)
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= n_squares:
        raise ValueError(f"steps: expected an integer from 1 to the number of regions {n_squares}, got {steps!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected a positive integer, got {repeats!r}")


def perturbation_curve(model, image, explanation, target=None, order: str = "morf", region: int = 9,
                       steps: int = 100, fill: str = "uniform", repeats: int = 1, seed: int = 0,
                       fill_value: float = 0.0, blur_sigma: float = BLUR_SIGMA, output: str = "logit",
                       device="auto", batch_size: int | None = None, progress: ProgressArg = None,
                       cancel=None, runtime: str | None = None) -> Curve:
    """One region-perturbation curve (module docstring) of ``explanation`` (an :class:`Explanation` or an
    ``H x W`` heatmap). ``target`` defaults to the explanation's target, else the top-1 class.
    Cost: ``(steps + 1) * repeats`` forward passes (+1 clean), reported to ``progress``; ``cancel`` stops it
    between batches (:mod:`workbench.progress`). ``runtime``: of the passes, as for :func:`workbench.explain`.

    >>> import workbench as wb
    >>> m = wb.load_model("shapes", device="cpu"); img = wb.data.make_scene(0).image
    >>> e = wb.explain(m, img, "occlusion", patch=28, stride=28)
    >>> c = wb.perturbation_curve(m, img, e, steps=20, fill="constant")
    >>> c.scores.shape
    (21,)
    """
    pixels = as_image_tensor(image)
    heatmap = read_heatmap(explanation, tuple(pixels.shape[1:]))
    target = explained_target(explanation, target)
    height, width = heatmap.shape
    _check(order, region, steps, fill, repeats, height, width)
    with open_run(model, pixels, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  target=target, channels_last=True, clean_pass=True, planned=1 + (steps + 1) * repeats,
                  runtime=runtime) as run:
        entry, engine, dev, x, target_index = run.model, run.engine, run.device, run.x, run.target
        transform = score_transform(entry, output, paper="logit")   # names a bad output
        generator = seeding.cpu_generator(seed)   # the same order and fill on every device
        curves = []
        for _ in range(repeats):
            ranks = region_ranks(heatmap.to(dev), region, order, generator)
            base = fill_image(fill, x, entry.normalise, accepted=METRIC_FILLS, value=fill_value,
                              blur_sigma=blur_sigma, generator=generator)
            ks = torch.arange(steps + 1, device=dev)
            scores = engine.score_masks(
                x, lambda a, b: (ranks[None, None] >= ks[a:b, None, None, None]).to(x.dtype), n=steps + 1,
                baseline=base, target=target_index, transform=transform)
            curves.append(scores.double().cpu().numpy())
    all_scores = np.stack(curves)
    aopc = float(np.mean(all_scores[:, :1] - all_scores))
    cost = Cost(forward_passes=run.forward_passes, seconds=run.seconds)
    return Curve(order=order, steps=np.arange(steps + 1), scores=all_scores.mean(axis=0), aopc=aopc,
                 all_scores=all_scores, region=region, fill=fill, target=target_index, cost=cost)


def curves_for(metrics) -> tuple[str, ...]:
    """The curve orders ``metrics`` (names of :data:`CURVES_FOR`) need, in :data:`ORDERS` order."""
    unknown = [m for m in metrics if m not in CURVES_FOR]
    if isinstance(metrics, str) or unknown:
        raise ValueError(f"metrics: expected some of {list(CURVE_METRICS)}, got {metrics!r}")
    return tuple(order for order in ORDERS if any(order in CURVES_FOR[m] for m in metrics))


def region_metrics(model, image, explanation, target=None, region: int = 9, steps: int = 100,
                   fill: str = "uniform", repeats: int = 1, seed: int = 0, metrics=CURVE_METRICS,
                   progress: ProgressArg = None, cancel=None, **options) -> dict:
    """The region-perturbation metrics of one explanation: AOPC of the MoRF, LeRF and random curves, ABPC (area
    between the LeRF and MoRF curves, ``mean_k (f(x_lerf^k) - f(x_morf^k))``) and AOPC(MoRF) - AOPC(random).
    Only the curves that ``metrics`` need are computed (:data:`CURVES_FOR`; all by default). ``progress``
    counts the passes of those curves; ``cancel`` stops between batches (:mod:`workbench.progress`).

    Returns ``{"curves": {order: Curve}}`` and one entry per metric asked, e.g. ``"aopc_morf"``, ``"abpc"``.
    """
    orders = curves_for(metrics)
    with Controls(progress, cancel) as controls:
        curves = {order: perturbation_curve(model, image, explanation, target=target, order=order, region=region,
                                            steps=steps, fill=fill, repeats=repeats, seed=seed, cancel=cancel,
                                            progress=controls.part(i, len(orders)), **options)
                  for i, order in enumerate(orders)}
    values = {
        "aopc_morf": lambda: curves["morf"].aopc, "aopc_lerf": lambda: curves["lerf"].aopc,
        "aopc_random": lambda: curves["random"].aopc,
        "abpc": lambda: float(np.mean(curves["lerf"].scores - curves["morf"].scores)),
        "aopc_morf_minus_random": lambda: curves["morf"].aopc - curves["random"].aopc,
    }
    return {"curves": curves, **{m: values[m]() for m in CURVE_METRICS if m in metrics}}
