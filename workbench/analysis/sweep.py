"""Parameter sweeps: one numeric setting of a method against quality and cost, on many images.

For each value (and each repeat, seeded ``seed + repeat``), every (image, target) is explained and scored
through :func:`workbench.evaluation.run_job` (the same batched compute and metrics as the evaluation
runner, which computes only the curves the metrics need): AOPC-MoRF (Samek et al. 2017, the MoRF curve alone), the pointing game, passes and seconds. With ``repeats > 1`` the
*stability* of a random method is the mean pairwise Spearman rank correlation between its heatmaps of the
same (image, target) under different seeds.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

import numpy as np

from ..evaluation import COLUMNS, PERTURBATION_METRICS
from ..fills import METRIC_FILLS, check_fill
from ..progress import Controls, ProgressArg

DEFAULT_METRICS = ("aopc_morf", "pointing", "passes", "seconds")


@dataclass(frozen=True)
class SweepResult:
    """``table``: one row per value x image x target x repeat x metric; ``summary``: per value and metric,
    mean, standard error and count (plus ``stability`` rows when ``repeats > 1``)."""

    method: str
    param: str
    table: Any
    summary: Any
    heatmaps: dict = dataclasses.field(default_factory=dict, repr=False)   # (setting, image_id, target, repeat)

    def series(self, metric: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(values, means, standard errors)`` of one metric, in the order swept."""
        rows = self.summary[self.summary["metric"] == metric]
        return rows["value"].to_numpy(), rows["mean"].to_numpy(), rows["sem"].to_numpy()


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (0 when either is constant)."""
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def _items(model, images) -> list:
    """Evaluation items as given; plain images become items for their top-1 class, without a mask."""
    from ..evaluation import Item
    from ..targets import top_classes

    return [image if isinstance(image, Item) else
            Item(image_id=f"image{i}", source=image, targets=(top_classes(model, image, k=1)[0][0],))
            for i, image in enumerate(images)]


def _check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    from ..evaluation import METRICS

    if isinstance(metrics, str):
        metrics = (metrics,)
    metrics = tuple(metrics)
    unknown = [m for m in metrics if m not in METRICS]
    if not metrics or unknown:
        raise ValueError(f"metrics: expected one or more of {list(METRICS)}, got {list(metrics)}")
    return metrics


def _check_masks(items: list, metrics: tuple[str, ...]) -> None:
    """Localisation metrics need an object mask: fail before any compute when they are all that was asked
    for and no image has one (the sweep would measure nothing)."""
    from ..evaluation import LOCALISATION_METRICS

    wanted = [m for m in metrics if m in LOCALISATION_METRICS]
    if wanted and len(wanted) == len(metrics) and not any(item.masks for item in items):
        raise ValueError(f"metrics: {wanted} need object masks, and none of the images has one; pass evaluation "
                         f"Items with masks (e.g. workbench.evaluation.scene_items(n)) or drop {wanted}")


def check_sweep(method: str, param: str, values: Sequence, params: dict | None = None) -> None:
    """Raise ``ValueError`` naming the parameter when ``param`` is not one of ``method``'s parameters or a
    value in ``values`` is not valid for it (checked before any compute, here and in the Workbench)."""
    from ..explainers.registry import get_method

    info = get_method(method)
    if param not in {p.name for p in info.params}:
        raise ValueError(f"param: {method!r} has no parameter {param!r}; expected one of "
                         f"{[p.name for p in info.params]}")
    if not values:
        raise ValueError("values: expected at least one value")
    for value in values:
        info.spec.from_dict({**(params or {}), param: value})


def sweep(model, images: Sequence, method: str, param: str, values: Sequence, metrics: Sequence[str] = DEFAULT_METRICS,
          seed: int = 0, repeats: int = 1, steps: int = 50, region: int = 9, fill: str = "uniform",
          params: dict | None = None, keep_heatmaps: bool = False, progress: ProgressArg = None,
          cancel=None) -> SweepResult:
    """Sweep ``param`` of ``method`` over ``values`` on ``images`` (arrays, or evaluation ``Item``s with
    targets and masks, e.g. ``workbench.evaluation.scene_items(50)``; plain images use the top-1 class and
    have no pointing score). ``params`` fixes the method's other parameters; ``keep_heatmaps`` keeps every
    heatmap in ``result.heatmaps``. ``progress(done, total)`` counts runs (value x image x target x repeat);
    ``cancel`` (a ``threading.Event``) stops the sweep with ``Cancelled`` (see :mod:`workbench.progress`)."""
    import pandas as pd

    from ..evaluation import run_job, summarise

    check_sweep(method, param, values, params)
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats: expected an integer >= 1, got {repeats!r}")
    metrics = _check_metrics(metrics)
    if any(m in PERTURBATION_METRICS for m in metrics):
        check_fill(fill, METRIC_FILLS)
    images = list(images)
    if not images:
        raise ValueError("images: expected at least one image or evaluation Item, got none")
    items = _items(model, images)
    _check_masks(items, metrics)
    rows, stability, heatmaps = [], [], {}
    controls = Controls(progress, cancel, desc="sweep")
    total, done = len(values) * sum(len(item.targets) for item in items) * repeats, 0
    for setting in values:
        for item in items:
            for target in item.targets:
                maps: list[np.ndarray] = []
                for repeat in range(repeats):
                    controls.check_cancel()
                    # the first failure stops the sweep, raised as it is (a ValueError names the argument)
                    found = run_job(model, item, target, method, {**(params or {}), param: setting}, metrics, steps,
                                    region, fill, seed + repeat, keep=lambda e: maps.append(e.heatmap), cancel=cancel,
                                    record_errors=False)
                    if keep_heatmaps and len(maps) == repeat + 1:
                        heatmaps[(setting, item.image_id, target, repeat)] = maps[-1]
                    rows += [{**row, "setting": setting, "repeat": repeat} for row in found]
                    done += 1
                    controls.report(done, total)
                if len(maps) > 1:
                    pairs = [spearman(a, b) for a, b in combinations(maps, 2)]
                    stability.append({"setting": setting, "metric": "stability", "value": float(np.mean(pairs))})
    controls.close()
    table = pd.DataFrame(rows, columns=[*COLUMNS, "setting", "repeat"])
    measured = pd.concat([table[["setting", "metric", "value"]],
                          pd.DataFrame(stability, columns=["setting", "metric", "value"])])
    summary = summarise(measured, by=("metric", "setting"), sort=False)
    summary["sem"] = summary["sem"].fillna(0.0)        # one row per group: no spread to report
    summary = summary.rename(columns={"setting": "value"})
    return SweepResult(method=method, param=param, table=table, summary=summary, heatmaps=heatmaps)
