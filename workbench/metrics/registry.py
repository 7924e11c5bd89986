"""The metrics of one explanation that :func:`evaluate` (``wb.evaluate``), the evaluation runner, the CLI and the
Workbench know by name: :data:`METRIC_INFO` says each one's paper, what it measures, which way is better and its
cost; :func:`evaluate` computes those asked for, each family's curves once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..progress import Controls, ProgressArg
from .complexity import complexity, sparseness
from .faithfulness import faithfulness_correlation
from .insertion_deletion import insertion_deletion_curve
from .perturbation import CURVE_METRICS, region_metrics
from .road import ROAD_ORDERS, road_curve
from .robustness import max_sensitivity


@dataclass(frozen=True)
class MetricInfo:
    """What the README's metrics table says of a metric; ``higher_is_better`` is ``None`` for a baseline."""

    paper: str
    measures: str
    higher_is_better: bool | None
    cost: str


_SAMEK = "Samek et al., IEEE TNNLS 2017"
METRIC_INFO = {
    "aopc_morf": MetricInfo(_SAMEK, "mean score drop, most relevant regions first", True, "steps + 1 passes"),
    "aopc_lerf": MetricInfo(_SAMEK, "mean score drop, least relevant regions first", False, "steps + 1 passes"),
    "aopc_random": MetricInfo(_SAMEK, "mean score drop, regions in random order (baseline)", None,
                              "steps + 1 passes"),
    "abpc": MetricInfo(_SAMEK, "area between the LeRF and MoRF curves", True, "2 (steps + 1) passes"),
    "aopc_morf_minus_random": MetricInfo(_SAMEK, "AOPC(MoRF) - AOPC(random)", True, "2 (steps + 1) passes"),
    "road_morf": MetricInfo("Rong et al., ICML 2022", "mean score drop, most relevant pixels removed and "
                            "imputed from their neighbours", True, "9 passes + 9 sparse solves"),
    "road_lerf": MetricInfo("Rong et al., ICML 2022", "mean score drop, least relevant pixels removed and "
                            "imputed", False, "9 passes + 9 sparse solves"),
    "road_combined": MetricInfo("Rong et al., ICML 2022", "(road_morf - road_lerf) / 2", True,
                                "18 passes + 18 sparse solves"),
    "insertion_auc": MetricInfo("Petsiuk et al., BMVC 2018", "area under the score as pixels are put back into "
                                "a blurred image, most relevant first", True, "W + 1 passes (H x W image)"),
    "deletion_auc": MetricInfo("Petsiuk et al., BMVC 2018", "area under the score as pixels are deleted, most "
                               "relevant first", False, "W + 1 passes (H x W image)"),
    "faithfulness_correlation": MetricInfo("Bhatt et al., IJCAI 2020", "correlation of a random subset's heat "
                                           "with the score it costs", True, "100 passes"),
    "max_sensitivity": MetricInfo("Yeh et al., NeurIPS 2019", "largest relative change of the map under small "
                                  "input noise", False, "10 explanations"),
    "sparseness": MetricInfo("Chalasani et al., ICML 2020", "Gini index of the absolute heat", True, "none"),
    "complexity": MetricInfo("Bhatt et al., IJCAI 2020", "entropy of the heat's fractional contributions", False,
                             "none"),
}
EXPLANATION_METRICS = tuple(METRIC_INFO)
ROAD_METRICS = ("road_morf", "road_lerf", "road_combined")
INSERTION_DELETION_METRICS = ("insertion_auc", "deletion_auc")
# the options evaluate() passes on: to every metric that scores the model, and to the region perturbation only
RUN_OPTIONS = ("device", "batch_size", "runtime")
REGION_OPTIONS = ("fill_value", "blur_sigma", "output")


def check_metrics(metrics: Sequence[str]) -> tuple[str, ...]:
    """``metrics`` as a tuple, or ``ValueError`` listing the known names."""
    if isinstance(metrics, str) or any(m not in METRIC_INFO for m in metrics) or not len(metrics):
        raise ValueError(f"metrics: expected some of {list(EXPLANATION_METRICS)}, got {metrics!r}")
    return tuple(metrics)


def evaluate(model, image, explanation, target=None, region: int = 9, steps: int = 100, fill: str = "uniform",
             repeats: int = 1, seed: int = 0, metrics: Sequence[str] = CURVE_METRICS, progress: ProgressArg = None,
             cancel=None, **options) -> dict:
    """The metrics ``metrics`` (names of :data:`METRIC_INFO`; by default the region-perturbation ones) of one
    explanation (an :class:`~workbench.Explanation`, or an ``H x W`` heatmap: then max-sensitivity cannot re-run
    the method). ``region``, ``steps``, ``fill``, ``repeats`` and ``options`` ``fill_value``, ``blur_sigma``,
    ``output`` set the region perturbation (:func:`~workbench.perturbation_curve`); ``device`` and ``batch_size``
    apply to every metric; the other metrics run with their papers' settings, ``seed`` seeding their draws.
    ``progress`` counts the parts computed; ``cancel`` stops between batches (:mod:`workbench.progress`).

    Returns one entry per metric asked, and the curves computed: ``"curves"`` (region perturbation,
    ``{order: Curve}``), ``"road"`` (``{order: RoadCurve}``), ``"insertion_deletion"`` (``{kind: curve}``).

    >>> import workbench as wb
    >>> m = wb.load_model("shapes", device="cpu"); img = wb.data.make_scene(0).image
    >>> e = wb.explain(m, img, "gradient")
    >>> r = wb.evaluate(m, img, e, metrics=["sparseness", "deletion_auc"])
    >>> sorted(r)
    ['deletion_auc', 'insertion_deletion', 'sparseness']
    """
    metrics = check_metrics(metrics)
    unknown = sorted(set(options) - set(RUN_OPTIONS) - set(REGION_OPTIONS))
    if unknown:
        raise TypeError(f"evaluate() got unexpected options {unknown}; expected some of "
                        f"{list(RUN_OPTIONS + REGION_OPTIONS)}")
    run = {k: v for k, v in options.items() if k in RUN_OPTIONS}
    region_asked = [m for m in metrics if m in CURVE_METRICS]
    road_orders = [o for o in ROAD_ORDERS if any(m in (f"road_{o}", "road_combined") for m in metrics)]
    kinds = [k for k in ("insertion", "deletion") if f"{k}_auc" in metrics]
    parts = [("region", None)] * bool(region_asked) + [("road", o) for o in road_orders] + \
        [("insertion_deletion", k) for k in kinds] + \
        [(m, None) for m in ("faithfulness_correlation", "max_sensitivity") if m in metrics]
    result: dict = {}
    with Controls(progress, cancel) as controls:
        for i, (part, which) in enumerate(parts):
            bar = controls.part(i, len(parts))
            if part == "region":
                result.update(region_metrics(model, image, explanation, target=target, region=region, steps=steps,
                                             fill=fill, repeats=repeats, seed=seed, metrics=region_asked,
                                             progress=bar, cancel=cancel, **options))
            elif part == "road":
                result.setdefault("road", {})[which] = road_curve(model, image, explanation, target=target,
                                                                  order=which, seed=seed, progress=bar,
                                                                  cancel=cancel, **run)
            elif part == "insertion_deletion":
                result.setdefault("insertion_deletion", {})[which] = insertion_deletion_curve(
                    model, image, explanation, target=target, kind=which, progress=bar, cancel=cancel, **run)
            elif part == "faithfulness_correlation":
                result[part] = faithfulness_correlation(model, image, explanation, target=target, seed=seed,
                                                        progress=bar, cancel=cancel, **run).value
            else:
                result[part] = max_sensitivity(model, image, explanation, target=target, seed=seed, progress=bar,
                                               cancel=cancel, **run).value
    road = result.get("road", {})
    values = {
        "road_morf": lambda: road["morf"].mean_drop, "road_lerf": lambda: road["lerf"].mean_drop,
        "road_combined": lambda: (road["morf"].mean_drop - road["lerf"].mean_drop) / 2,
        "insertion_auc": lambda: result["insertion_deletion"]["insertion"].auc,
        "deletion_auc": lambda: result["insertion_deletion"]["deletion"].auc,
        "sparseness": lambda: sparseness(_heatmap(explanation)),
        "complexity": lambda: complexity(_heatmap(explanation)),
    }
    result.update({m: float(values[m]()) for m in metrics if m in values})
    return result


def _heatmap(explanation) -> np.ndarray:
    return np.asarray(getattr(explanation, "heatmap", explanation))
