"""Ablation-CA as an analysis (Wang et al., J. Xiamen Univ. Nat. Sci. 2024, 63(3):562-569): the correlation
result of one run and a table over superpixel counts. The registered explainer (``"ablation_ca"``) and its
algorithm live in :mod:`workbench.explainers.ablation_ca`; its result types in :mod:`workbench.results`."""
from __future__ import annotations

from typing import Iterable

from ..explainers.ablation_ca import AblationCASpec, ablation_plan, pearson_matrix, rank_groups  # noqa: F401
from ..progress import Controls, ProgressArg
from ..results import Correlation, Group

__all__ = ["AblationCASpec", "Correlation", "Group", "ablation_ca", "ablation_ca_sweep", "ablation_plan",
           "pearson_matrix", "rank_groups"]


def ablation_ca(model, image, target=None, n_segments: int = 40, contexts: int = 256, p_keep: float = 0.5,
                fill: str = "image-mean", group_threshold: float = 0.5, seed: int = 0, **options) -> Correlation:
    """Run Ablation-CA (see :mod:`workbench.explainers.ablation_ca`) and return a :class:`Correlation`.

    ``options`` go to :func:`workbench.explain` (``device``, ``batch_size``, ``progress``, ``cancel``: see
    :mod:`workbench.progress`) or to the spec (``segments``, ``segmenter``, ``compactness``, ``fill_value``,
    ``output``).

    >>> import workbench as wb
    >>> m = wb.load_model("shapes", device="cpu")
    >>> c = wb.ablation_ca(m, wb.data.make_scene(0).image, n_segments=12, contexts=16)
    >>> c.matrix.shape[0] == len(c.sensitivity)
    True
    """
    from ..api import explain

    e = explain(model, image, "ablation_ca", target=target, seed=seed, n_segments=n_segments, contexts=contexts,
                p_keep=p_keep, fill=fill, group_threshold=group_threshold, **options)
    c = e.correlation
    return Correlation(segments=e.segments, sensitivity=c.sensitivity, effects=c.effects, contexts=c.contexts,
                       matrix=c.matrix, constant=c.constant, groups=c.groups,
                       target=e.target, target_name=e.target_name, params=e.params, cost=e.cost, heatmap=e.heatmap)


def ablation_ca_sweep(model, image, n_segments: Iterable[int] = range(10, 101, 10), progress: ProgressArg = None,
                      cancel=None, **options) -> list[dict]:
    """Ablation-CA at several superpixel counts: per count the objects found, the maximum |r| between
    two objects, the top group's score, passes and seconds (one row each, for a table or a plot).
    ``progress(done, total)`` counts superpixel counts; ``cancel`` stops the sweep with
    :class:`workbench.Cancelled` (see :mod:`workbench.progress`)."""
    counts = list(n_segments)
    rows = []
    with Controls(progress, cancel, desc="Ablation-CA sweep") as controls:
        for n in counts:
            rows.append(_sweep_row(int(n), ablation_ca(model, image, n_segments=int(n), cancel=cancel, **options)))
            controls.report(len(rows), len(counts))
    return rows


def _sweep_row(n: int, c: Correlation) -> dict:
    return {"n_segments": n, "objects": int(len(c.sensitivity)), "max_abs_r": c.max_abs_r,
            "top_group_score": c.groups[0].score if c.groups else 0.0,
            "top_group": c.groups[0].members if c.groups else (),
            "passes": c.cost.forward_passes, "seconds": c.cost.seconds}
