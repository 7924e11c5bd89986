"""ROAD: RemOve And Debias (Rong, Leemann, Borisov, Kasneci & Kasneci, "A Consistent and Efficient Evaluation
Strategy for Attribution Methods", ICML 2022).

For each percentage ``p`` the ``p`` % of pixels with the most heat (MoRF) or the least heat (LeRF) are
removed and refilled by noisy linear imputation (:func:`noisy_linear_imputation`): each removed pixel is the
weighted mean of its 8 neighbours (weights 1/6 for the 4 direct, 1/12 for the 4 diagonal neighbours; a
sparse linear system over all removed pixels at once) plus Gaussian noise of standard deviation ``noise``
(0.01, in the model's normalised input space, as the authors' code). Imputing from the neighbours leaves no
mask shape for the model to read, which is what makes the ranking of methods consistent across MoRF and LeRF.

The pixels removed at ``p`` are those whose heat is not below the ``100 - p`` percentile of the map (NumPy's
linear interpolation; ``pytorch_grad_cam.metrics.road``'s thresholds, whose ``percentile`` argument is the share
*kept*). The curve is the target's score at each percentage; the metric is the mean drop

    road_morf = mean_p (f(x) - f(x_p^MoRF))      (higher is better)
    road_lerf = mean_p (f(x) - f(x_p^LeRF))      (lower is better)

and ``road_combined = (road_morf - road_lerf) / 2`` (``pytorch_grad_cam``'s ``ROADCombined``). The imputations
are solved on the CPU (SciPy's sparse LU, float64); the imputed images are scored in engine batches on the
device. Noise comes from a CPU ``torch.Generator`` seeded with ``seed``: one seed, the same numbers on every
device.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..images import as_image_tensor
from ..progress import ProgressArg
from ..results import Cost
from ..run import open_run
from ..scores import score_transform
from .inputs import clean_score, explained_target, read_heatmap

ROAD_ORDERS = ("morf", "lerf")
PERCENTAGES = (10, 20, 30, 40, 50, 60, 70, 80, 90)
NOISE = 0.01
# (row offset, column offset, weight) of the neighbours in the imputation (Rong et al. 2022, sec. 4)
NEIGHBOURS = ((1, 1, 1 / 12), (0, 1, 1 / 6), (-1, 1, 1 / 12), (1, -1, 1 / 12), (0, -1, 1 / 6), (-1, -1, 1 / 12),
              (1, 0, 1 / 6), (-1, 0, 1 / 6))


@dataclass(frozen=True)
class RoadCurve:
    """The target's score after removing each percentage of pixels (``scores[i]`` at ``percentages[i]``)."""

    order: str
    percentages: np.ndarray
    scores: np.ndarray
    clean_score: float
    target: int
    noise: float
    cost: Cost

    @property
    def drops(self) -> np.ndarray:
        """``f(x) - f(x_p)`` at each percentage."""
        return self.clean_score - self.scores

    @property
    def mean_drop(self) -> float:
        """The ROAD value of this order: the mean drop over the percentages."""
        return float(np.mean(self.drops))


def noisy_linear_imputation(x: torch.Tensor, removed: torch.Tensor, noise: float = NOISE,
                            generator: torch.Generator | None = None) -> torch.Tensor:
    """``(C,H,W)`` copy of ``x`` whose ``removed`` pixels (boolean ``H x W``) are the solution of the
    neighbour-mean system (module docstring) plus ``noise`` times standard normal draws from ``generator``
    (a CPU generator; the global one when ``None``), drawn as the authors' code draws them."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import spsolve

    channels, height, width = x.shape
    values = x.detach().to("cpu", torch.float64).reshape(channels, -1).numpy()
    gone = removed.detach().cpu().numpy().astype(bool).reshape(-1)
    indices = np.flatnonzero(gone)
    out = x.detach().to("cpu", torch.float32).clone().reshape(channels, -1)
    n = len(indices)
    if n == 0:
        return out.reshape(x.shape).to(x.device)
    unknown = np.full(height * width, -1)
    unknown[indices] = np.arange(n)
    rows, cols = indices // width, indices % width
    diagonal = np.zeros(n)
    a_rows, a_cols, a_values = [], [], []
    rhs = np.zeros((n, channels))
    for dr, dc, weight in NEIGHBOURS:
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
        equation = np.flatnonzero(inside)
        neighbour = r[inside] * width + c[inside]
        diagonal[equation] += weight
        free = gone[neighbour]
        a_rows.append(equation[free])
        a_cols.append(unknown[neighbour[free]])
        a_values.append(np.full(int(free.sum()), weight))
        rhs[equation[~free]] -= weight * values[:, neighbour[~free]].T
    a_rows.append(np.arange(n))
    a_cols.append(np.arange(n))
    a_values.append(-diagonal)
    system = coo_matrix((np.concatenate(a_values), (np.concatenate(a_rows), np.concatenate(a_cols))),
                        shape=(n, n)).tocsc()
    solution = torch.tensor(spsolve(system, rhs).reshape(n, channels), dtype=torch.float32)
    # a (C, removed pixels) array: the draws of the authors' ``randn_like(solution.t())`` (from 16 values on)
    draws = torch.randn((channels, n), generator=generator, dtype=torch.float32)
    out[:, indices] = solution.t() + noise * draws
    return out.reshape(x.shape).to(x.device)


def removed_pixels(heatmap: torch.Tensor, percentage: float, order: str) -> torch.Tensor:
    """Boolean ``H x W``: the ``percentage`` % of pixels with the most (``"morf"``) or least (``"lerf"``) heat,
    i.e. those not below the ``100 - percentage`` percentile of the (negated for LeRF) map."""
    ranked = heatmap.cpu().numpy() if order == "morf" else -heatmap.cpu().numpy()
    threshold = np.percentile(ranked, 100 - percentage)
    return torch.from_numpy(~(ranked < threshold))


def _check(order: str, percentages, noise: float) -> np.ndarray:
    if order not in ROAD_ORDERS:
        raise ValueError(f"order: expected one of {ROAD_ORDERS}, got {order!r}")
    try:
        shares = None if isinstance(percentages, str) else np.asarray(percentages, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        shares = None
    if shares is None or shares.size == 0 or not np.all((shares > 0) & (shares < 100)):
        raise ValueError(f"percentages: expected percentages of pixels to remove, each in (0, 100), "
                         f"got {percentages!r}")
    if isinstance(noise, bool) or not isinstance(noise, (int, float)) or not noise >= 0:
        raise ValueError(f"noise: expected a non-negative number, got {noise!r}")
    return shares


def road_curve(model, image, explanation, target=None, order: str = "morf", percentages=PERCENTAGES,
               noise: float = NOISE, seed: int = 0, output: str = "auto", device="auto",
               batch_size: int | None = None, progress: ProgressArg = None, cancel=None,
               runtime: str | None = None) -> RoadCurve:
    """The ROAD curve (module docstring) of ``explanation`` (an :class:`Explanation` or an ``H x W`` heatmap)
    for ``target`` (default: the explanation's, else the top-1 class). ``output``: the score read
    (:mod:`workbench.scores`; ``"auto"``: the probability, the logit on multi-label models).
    Cost: one forward pass per percentage (+1 clean) and one sparse solve per percentage on the CPU;
    ``runtime``: of the passes, as for :func:`workbench.explain`.
    """
    pixels = as_image_tensor(image)
    heatmap = read_heatmap(explanation, tuple(pixels.shape[1:]))
    shares = _check(order, percentages, noise)
    target = explained_target(explanation, target)
    with open_run(model, pixels, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  target=target, channels_last=True, clean_pass=True, planned=1 + len(shares),
                  runtime=runtime) as run:
        transform = score_transform(run.model, output, paper="probability")
        generator = torch.Generator().manual_seed(int(seed))
        clean = clean_score(run, transform)
        imputed = []
        for share in shares:
            run.check_cancel()
            imputed.append(noisy_linear_imputation(run.x[0], removed_pixels(heatmap, share, order), noise,
                                                   generator))
        batch = torch.stack(imputed).to(run.device)
        scores = run.engine.score_inputs(batch, len(batch), target=run.target, transform=transform)
    return RoadCurve(order=order, percentages=shares, scores=scores.double().cpu().numpy(), clean_score=clean,
                     target=run.target, noise=float(noise),
                     cost=Cost(forward_passes=run.forward_passes, seconds=run.seconds))
