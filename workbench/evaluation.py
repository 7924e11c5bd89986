"""Dataset-scale evaluation: methods x images x targets x metrics, one row per (image, target, method,
metric), resumable, in-process or on Dask.

A *job* is one (image, target, method): it explains once and computes every metric. Finished jobs are
appended to a journal (``<out>.journal.csv``) in one write each, so a killed run loses at most the jobs
in flight; a new run reads the journal and the results file and skips jobs already there. At the end the
rows are written to ``out`` (``.parquet`` or ``.csv``). A method that raises on one image records the
error in that job's rows (value NaN) and the run goes on; so do bad data (an unreadable image, a missing or
malformed annotation, a class the model does not know: rows for target ``-1`` when no class could be
resolved). A failed job is run again by the next run on the same ``out``, so fixing a file and rerunning
fills its rows in.

Images go through the model's framing (:func:`workbench.data.framing_for`); masks and boxes are framed the
same way, and boxes play the pointing game as TorchRay's VOC/COCO protocol does (:func:`workbench.metrics.box_mask`).

Metrics: ``aopc_morf``, ``aopc_lerf``, ``aopc_random``, ``abpc``, ``aopc_morf_minus_random`` (region
perturbation, Samek et al. 2017; a job computes only the curves the asked ones need), ``pointing``, ``energy``, ``iou`` (against the object mask, or the union of its
boxes, when the image has one), ``passes`` and ``seconds`` (cost of the explanation); by name also ``road_morf``,
``road_lerf``, ``road_combined``, ``insertion_auc``, ``deletion_auc``, ``faithfulness_correlation``,
``max_sensitivity``, ``sparseness`` and ``complexity`` (:mod:`workbench.metrics.registry`).

>>> import workbench as wb, tempfile, os
>>> out = os.path.join(tempfile.mkdtemp(), "r.csv")
>>> table = wb.run_evaluation("shapes", wb.evaluation.scene_items(2), ["occlusion"], out=out,
...                           params={"occlusion": {"patch": 56, "stride": 56}}, steps=4, region=56, progress=False)
>>> sorted(table["metric"].unique())[:3]
['abpc', 'aopc_lerf', 'aopc_morf']
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .data.items import NO_TARGET, Item
from .data.scenes import make_scene
from .metrics.registry import EXPLANATION_METRICS, METRIC_INFO
from .progress import Controls, ProgressArg

PERTURBATION_METRICS = ("aopc_morf", "aopc_lerf", "aopc_random", "abpc", "aopc_morf_minus_random")
LOCALISATION_METRICS = ("pointing", "energy", "iou")
COST_METRICS = ("passes", "seconds")
# every metric of one explanation that wb.evaluate computes (workbench.metrics.registry), region perturbation first
METRICS = EXPLANATION_METRICS + LOCALISATION_METRICS + COST_METRICS
# what a run computes unless told: the cheap metrics (ROAD, insertion/deletion, faithfulness correlation and
# max-sensitivity cost 9-224 passes or explanations more per job; ask for them by name)
DEFAULT_METRICS = PERTURBATION_METRICS + LOCALISATION_METRICS + COST_METRICS
# which way is better, for tables and plots (aopc_random is a baseline, neither)
HIGHER_IS_BETTER = {**{m: info.higher_is_better for m, info in METRIC_INFO.items() if info.higher_is_better is not None},
                    "pointing": True, "energy": True, "iou": True, "passes": False, "seconds": False}
COLUMNS = ("image", "target", "method", "metric", "value", "error", "params", "forward_passes", "backward_passes",
           "seconds", "seed")


def scene_items(n: int, seed: int = 123) -> list[Item]:
    """``n`` fresh synthetic scenes (scene ``i`` = ``make_scene((seed, i))``), every present class a target,
    with its exact mask."""
    items = []
    for i in range(n):
        scene = make_scene((seed, i))
        targets = tuple(sorted(set(scene.labels)))
        items.append(Item(image_id=f"scene:{seed}:{i}", source=scene.image, targets=targets,
                          masks={t: scene.class_mask(t) for t in targets}))
    return items


def _jobs(items: Sequence[Item], methods: Sequence[str]) -> list[tuple[Item, int, str]]:
    """One job per (item, target, method); an item with a data error adds one job per method for target
    :data:`NO_TARGET` that only records the error."""
    return [(item, target, method) for item in items
            for target in item.targets + ((NO_TARGET,) if item.error else ()) for method in methods]


_MODELS: dict[str, Any] = {}


def _by_name(model) -> bool:
    return isinstance(model, str) or (isinstance(model, tuple) and len(model) == 2 and isinstance(model[0], str))


def _model(model):
    """Models travel to Dask workers by name (or ``(name, weights file)``) and are loaded once per worker
    process."""
    if not _by_name(model):
        return model
    if model not in _MODELS:
        from .models import load_model

        name, weights = (model, None) if isinstance(model, str) else model
        _MODELS[model] = load_model(name, weights=weights)
    return _MODELS[model]


def _steps_for(shape: tuple[int, int], steps: int, region: int) -> int:
    """``steps``, or all the regions of an image that has fewer (a small image in a data set of larger ones)."""
    if isinstance(region, bool) or not isinstance(region, int) or region < 1:
        return steps      # perturbation_curve names the bad value
    return min(steps, math.ceil(shape[0] / region) * math.ceil(shape[1] / region))


def run_job(model, item: Item, target: int, method: str, params: dict, metrics: Sequence[str], steps: int,
            region: int, fill: str, seed: int, keep: Callable[[Any], None] | None = None, cancel=None,
            record_errors: bool = True) -> list[dict]:
    """Explain one (image, target) with one method and compute its metrics: a row per metric. ``keep``
    receives the explanation (sweeps use it for the stability of random methods); ``cancel`` (a
    ``threading.Event``) stops the job with :class:`workbench.Cancelled`, which is raised, not recorded. A
    failure is recorded in the rows, or raised as it is with ``record_errors=False``."""
    from .api import explain
    from .engine import Cancelled
    from .metrics import energy_pointing_game, evaluate, pointing_game, top_iou

    base = {"image": item.image_id, "target": int(target), "method": method, "params": json.dumps(params,
            sort_keys=True, default=str), "seed": seed, "error": "", "forward_passes": 0, "backward_passes": 0,
            "seconds": 0.0}
    if target == NO_TARGET:
        return [{**base, "metric": m, "value": math.nan, "error": item.error} for m in metrics]
    try:
        entry = _model(model)
        image, regions = item.prepare(entry)
        e = explain(entry, image, method, target=target, seed=seed, cancel=cancel, **params)
        if keep is not None:
            keep(e)
        values: dict[str, float] = {"passes": float(e.cost.forward_passes + e.cost.backward_passes),
                                    "seconds": e.cost.seconds}
        errors: dict[str, str] = {}
        explanation_metrics = [m for m in metrics if m in EXPLANATION_METRICS]
        if explanation_metrics:   # only the curves these metrics need (a sweep on AOPC-MoRF: the MoRF curve)
            result = evaluate(entry, image, e, region=region, steps=_steps_for(e.heatmap.shape, steps, region),
                              fill=fill, seed=seed, cancel=cancel, metrics=explanation_metrics)
            values.update({m: float(result[m]) for m in explanation_metrics})
        region_mask = regions.get(target)
        if region_mask is not None and not region_mask.any():
            errors.update(dict.fromkeys(LOCALISATION_METRICS, "annotations: the object lies outside the "
                                                              "model's crop of the image"))
            values.update(dict.fromkeys(LOCALISATION_METRICS, math.nan))
        elif region_mask is not None:
            values.update({"pointing": pointing_game(e.heatmap, region_mask),
                           "energy": energy_pointing_game(e.heatmap, region_mask),
                           "iou": top_iou(e.heatmap, region_mask)})
        base.update(forward_passes=e.cost.forward_passes, backward_passes=e.cost.backward_passes,
                    seconds=e.cost.seconds)
        return [{**base, "metric": m, "value": values[m], "error": errors.get(m, "")}
                for m in metrics if m in values]
    except Cancelled:
        raise
    except Exception as error:  # recorded in the table; the run goes on
        if not record_errors:
            raise
        message = f"{type(error).__name__}: {error}"
        return [{**base, "metric": m, "value": math.nan, "error": message} for m in metrics]


def _journal_path(out: Path) -> Path:
    return out.with_name(out.name + ".journal.csv")


def read_results(path: str | Path):
    """A results file written by :func:`run_evaluation` (``.parquet`` or ``.csv``) as a DataFrame."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"results: no file at {str(path)!r}")
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"results: expected a .parquet or .csv file, got {str(path)!r}")
    table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, dtype={"error": str})
    missing = sorted({"method", "metric", "value", "error"} - set(table.columns))
    if missing:
        raise ValueError(f"results: {str(path)!r} lacks the columns {missing}; expected a file written by "
                         f"workbench evaluate")
    table["error"] = table["error"].fillna("").astype(str)
    return table


def _read_rows(out: Path):
    import pandas as pd

    frames = []
    if out.is_file():
        frames.append(pd.read_parquet(out) if out.suffix == ".parquet" else pd.read_csv(out, dtype={"error": str}))
    journal = _journal_path(out)
    if journal.is_file() and journal.stat().st_size:
        frames.append(pd.read_csv(journal, dtype={"error": str}))
    if not frames:
        return pd.DataFrame(columns=list(COLUMNS))
    table = pd.concat(frames, ignore_index=True)
    table["error"] = table["error"].fillna("").astype(str)
    # a job run again (it had failed before) appends newer rows: the last ones count
    return table.drop_duplicates(subset=["image", "target", "method", "metric"], keep="last", ignore_index=True)


def _finished_jobs(table) -> set[tuple[str, int, str]]:
    """Jobs with at least one row without error; a job whose every row is an error (unreadable image, a
    method that raised, a data error) is run again by the next run."""
    ok = table[table["error"] == ""]
    return set(zip(ok["image"], ok["target"].astype(int), ok["method"]))


def _append(journal: Path, rows: list[dict]) -> None:
    import pandas as pd

    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    header = not journal.is_file() or journal.stat().st_size == 0
    with open(journal, "a", newline="") as handle:
        frame.to_csv(handle, header=header, index=False)
        handle.flush()
        os.fsync(handle.fileno())


def _write(out: Path, table) -> None:
    tmp = out.with_name(out.name + ".tmp")
    if out.suffix == ".parquet":
        table.to_parquet(tmp, index=False)
    else:
        table.to_csv(tmp, index=False)
    os.replace(tmp, out)
    _journal_path(out).unlink(missing_ok=True)


def run_evaluation(model, items: Sequence[Item], methods: Sequence[str], out: str | Path,
                   metrics: Sequence[str] = DEFAULT_METRICS, params: dict[str, dict] | None = None, steps: int = 100,
                   region: int = 9, fill: str = "uniform", seed: int = 0, dask: str | None = None,
                   progress: ProgressArg = True, cancel=None):
    """Evaluate ``methods`` on ``items`` and write one row per (image, target, method, metric) to ``out``.

    Args:
        model: a zoo name or ``(zoo name, weights file)`` (needed for Dask: workers load it), or a ModelEntry /
            module (in-process only).
        params: per-method parameters, e.g. ``{"occlusion": {"patch": 32, "stride": 16}}``.
        metrics: names of :data:`METRICS` (default :data:`DEFAULT_METRICS`); the metrics of
            :mod:`workbench.metrics.registry` other than region perturbation run with their papers' settings.
        steps, region, fill: region-perturbation settings (see :func:`workbench.perturbation_curve`).
        dask: ``None`` to run in-process, ``"local"`` for a ``LocalCluster``, or a scheduler address.
        progress: ``progress(done, total)`` counts jobs (default ``True``: a progress bar); ``cancel`` (a
            ``threading.Event``) stops the run with :class:`workbench.Cancelled`, finished jobs kept in the
            journal (see :mod:`workbench.progress`).
    Returns the full table (pandas DataFrame), previously finished rows included.
    """
    out = Path(out)
    if out.suffix not in (".parquet", ".csv"):
        raise ValueError(f"out: expected a .parquet or .csv file name, got {str(out)!r}")
    unknown = sorted(set(metrics) - set(METRICS))
    if unknown:
        raise ValueError(f"metrics: unknown {unknown}; expected some of {list(METRICS)}")
    from .fills import METRIC_FILLS, check_fill

    check_fill(fill, METRIC_FILLS)   # before any job: each would record the same error
    if dask is not None and not _by_name(model):
        raise TypeError("model: pass the model's zoo name when running on Dask (workers load it by name)")
    params = params or {}
    done = _read_rows(out)
    finished = _finished_jobs(done)
    todo = [job for job in _jobs(items, methods) if (job[0].image_id, job[1], job[2]) not in finished]
    journal = _journal_path(out)
    settings = dict(metrics=tuple(metrics), steps=steps, region=region, fill=fill, seed=seed)
    controls = Controls(progress, cancel, desc="evaluate")
    if dask is None:
        for done, (item, target, method) in enumerate(todo, start=1):
            controls.check_cancel()
            _append(journal, run_job(model, item, target, method, params.get(method, {}), cancel=cancel, **settings))
            controls.report(done, len(todo))
    else:
        from distributed import Client, LocalCluster, as_completed

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
            if dask == "local" else None
        client = Client(cluster if cluster is not None else dask)
        try:
            futures = [client.submit(run_job, model, item, target, method, params.get(method, {}), **settings,
                                     pure=False) for item, target, method in todo]
            for done, future in enumerate(as_completed(futures), start=1):
                if controls.cancelled:
                    client.cancel(futures)
                    controls.check_cancel()
                _append(journal, future.result())
                controls.report(done, len(todo))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    controls.close()
    table = _read_rows(out)
    _write(out, table)
    return table


def summarise(table, by: Sequence[str] = ("method", "metric"), sort: bool = True) -> "Any":
    """Per group (default: method and metric): mean, standard error and count of the rows without error."""
    ok = table[table["error"].fillna("") == ""] if "error" in table else table
    grouped = ok.groupby(list(by), sort=sort)["value"]
    summary = grouped.agg(["mean", "count", "std"]).reset_index()
    summary["sem"] = summary["std"] / np.sqrt(summary["count"].clip(lower=1))
    return summary.drop(columns="std")


def summary_table(table, digits: int = 3):
    """The per-method table people read: one row per method, one column per metric (in :data:`METRICS`
    order, arrows saying which way is better), cells ``"mean ± standard error"`` over the rows without
    error, and a column ``n`` with the number of jobs that succeeded."""
    import pandas as pd

    summary = summarise(table)
    order = [m for m in METRICS if m in set(summary["metric"])] + sorted(set(summary["metric"]) - set(METRICS))
    methods = list(dict.fromkeys(table["method"]))
    cells = {(r.method, r.metric): f"{r.mean:.{digits}g}" + ("" if pd.isna(r.sem) else f" ± {r.sem:.2g}")
             for r in summary.itertuples()}   # one value: no standard error
    arrow = {True: " ↑", False: " ↓"}
    frame = pd.DataFrame({f"{metric}{arrow.get(HIGHER_IS_BETTER.get(metric), '')}":
                          [cells.get((method, metric), "-") for method in methods] for metric in order},
                         index=pd.Index(methods, name="method"))
    ok = table[table["error"] == ""]
    frame["n"] = [ok[ok["method"] == m].groupby(["image", "target"]).ngroups for m in methods]
    return frame


def error_report(table, examples: int = 3) -> str:
    """The line a run ends with: how many rows (and of how many images) are errors, with the most frequent
    messages; ``"no errors"`` when there are none."""
    failed = table[table["error"].fillna("") != ""]
    if failed.empty:
        return "no errors"
    jobs = failed.drop_duplicates(subset=["image", "target", "method"])
    common = jobs["error"].value_counts().head(examples)
    shown = "; ".join(f"{count} x {message}" for message, count in common.items())
    return (f"{len(failed)} error rows ({len(jobs)} jobs, {failed['image'].nunique()} images): {shown}"
            + (" ..." if jobs["error"].nunique() > examples else ""))
