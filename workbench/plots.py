"""Static matplotlib figures for notebooks, papers and slides (the live views are in :mod:`workbench.ui`).

Each function returns the ``matplotlib.figure.Figure``; in a notebook it shows as a PNG, so committed
notebooks read on GitHub without running.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .render import overlay


def _figure(columns: int, rows: int = 1, size: float = 2.6):
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(rows, columns, figsize=(size * columns, size * rows + 0.3), squeeze=False)
    plt.close(figure)   # shown once, by the notebook's display of the returned figure
    return figure, axes


def show_maps(image: np.ndarray, maps: Sequence[np.ndarray], titles: Sequence[str], opacity: float = 0.6,
              outlines: Sequence[np.ndarray | None] | None = None, columns: int | None = None):
    """The image, then each heatmap superimposed on it (signed maps in blue-white-red, unsigned in
    black-purple-yellow); ``outlines`` (boolean maps) are drawn in green over the matching heatmap."""
    columns = columns or len(maps) + 1
    rows = -(-(len(maps) + 1) // columns)
    figure, axes = _figure(columns, rows)
    panels = [np.asarray(image)] + [overlay(image, m, opacity) for m in maps]
    outlines = [None] + list(outlines or [None] * len(maps))
    for ax, panel, title, edge in zip(axes.flat, panels, ["image", *titles], outlines):
        ax.imshow(panel)
        if edge is not None:
            ax.contour(edge.astype(float), levels=[0.5], colors="lime", linewidths=0.8)
        ax.set_title(title, fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    figure.tight_layout()
    return figure


def plot_curves(results: dict[str, dict], orders: tuple[str, ...] = ("morf", "lerf")):
    """Region-perturbation curves of several methods (``{method: wb.evaluate(...) result}``): one panel per
    order in ``orders``, one line per method with its AOPC in the legend, and the random order dashed in every
    panel as the reference. The random order does not depend on the map, so when every method's random curve is
    the same (same image, target and seed) it is drawn once, in black."""
    figure, axes = _figure(len(orders), size=3.4)
    randoms = [result["curves"]["random"] for result in results.values() if "random" in result["curves"]]
    shared = bool(randoms) and all(np.array_equal(r.scores, randoms[0].scores) for r in randoms)
    for ax, which in zip(axes[0], orders):
        for index, (name, result) in enumerate(results.items()):
            curve = result["curves"][which]
            colour = f"C{index % 10}"
            ax.plot(curve.steps, curve.scores, color=colour, label=f"{name} (AOPC {curve.aopc:.3f})")
            if "random" in result["curves"] and not shared:
                ax.plot(result["curves"]["random"].steps, result["curves"]["random"].scores, color=colour,
                        linestyle="--", linewidth=1)
        if shared:
            ax.plot(randoms[0].steps, randoms[0].scores, color="black", linestyle="--", linewidth=1,
                    label=f"random order (AOPC {randoms[0].aopc:.3f})")
        ax.set_title(f"{ {'morf': 'MoRF', 'lerf': 'LeRF'}.get(which, which)} region perturbation", fontsize=10)
        ax.set_xlabel("regions perturbed")
        ax.set_ylabel("target score")
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def plot_matrix(matrix: np.ndarray, title: str = "correlation"):
    """A ``K x K`` matrix in blue-white-red from -1 to 1."""
    figure, axes = _figure(1, size=4.0)
    ax = axes[0, 0]
    shown = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
    figure.colorbar(shown, ax=ax, fraction=0.046)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("object")
    ax.set_ylabel("object")
    figure.tight_layout()
    return figure


def plot_losses(histories: dict[str, dict[str, list[float]]]):
    """One panel per method: each loss term against the iteration."""
    figure, axes = _figure(len(histories), size=3.2)
    for ax, (name, history) in zip(axes[0], histories.items()):
        for term, values in history.items():
            ax.plot(values, label=term)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("iteration")
        ax.legend(fontsize=7)
    figure.tight_layout()
    return figure


def plot_spray(result, marked: np.ndarray | None = None):
    """SpRAy at a glance (``result`` from ``wb.spray``): left, the 2-D embedding coloured by cluster (images
    flagged in ``marked``, e.g. those with a watermark, drawn as crosses); right, each cluster's mean pooled
    heatmap with its size."""
    from matplotlib import colormaps

    n = result.n_clusters
    figure, axes = _figure(n + 1, size=2.8)
    colours = colormaps["tab10"](np.arange(n) % 10)
    flagged = np.zeros(len(result.labels), bool) if marked is None else np.asarray(marked, bool)
    ax = axes[0, 0]
    for c in range(n):
        for hit, symbol in ((False, "o"), (True, "x")):
            chosen = (result.labels == c) & (flagged == hit)
            ax.scatter(*result.layout[chosen].T, s=12, marker=symbol, color=colours[c],
                       label=f"cluster {c}" if not hit else None)
    ax.set_title(f"embedding: {n} clusters" + (" (x: marked)" if marked is not None else ""), fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=6)
    for c, ax in enumerate(axes[0, 1:]):
        mean = result.cluster_means[c]
        limit = float(np.abs(mean).max()) or 1.0
        ax.imshow(mean, cmap="RdBu_r", vmin=-limit, vmax=limit)
        members = int((result.labels == c).sum())
        share = f", {flagged[result.labels == c].mean():.0%} marked" if marked is not None else ""
        ax.set_title(f"cluster {c}: {members} images{share}", fontsize=8, color=colours[c])
        ax.axis("off")
    figure.tight_layout()
    return figure


def plot_summary(table, metrics: Sequence[str] | None = None):
    """One panel per metric of an evaluation results table: a bar per method at the mean over the rows
    without error, with its standard error, and which way is better in the title."""
    from .evaluation import HIGHER_IS_BETTER, METRICS, summarise

    summary = summarise(table)
    present = list(dict.fromkeys(summary["metric"]))
    metrics = list(metrics) if metrics is not None else [m for m in METRICS if m in present] + \
        [m for m in present if m not in METRICS]
    if not metrics:
        raise ValueError("table: no rows without error to plot")
    methods = list(dict.fromkeys(table["method"]))
    columns = min(4, len(metrics))
    figure, axes = _figure(columns, -(-len(metrics) // columns), size=3.0)
    colours = [f"C{i}" for i in range(len(methods))]
    for ax, metric in zip(axes.flat, metrics):
        rows = summary[summary["metric"] == metric].set_index("method").reindex(methods)
        ax.bar(range(len(methods)), rows["mean"], yerr=rows["sem"].fillna(0), color=colours, capsize=3)
        ax.set_xticks(range(len(methods)), methods, rotation=30, ha="right", fontsize=8)
        better = {True: " (higher is better)", False: " (lower is better)"}.get(HIGHER_IS_BETTER.get(metric), "")
        ax.set_title(metric + better, fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    ok = table[table["error"].fillna("") == ""]
    figure.suptitle(f"mean ± standard error over {ok.groupby(['image', 'target']).ngroups} (image, target) pairs "
                    f"without error", fontsize=9)
    figure.tight_layout()
    return figure
