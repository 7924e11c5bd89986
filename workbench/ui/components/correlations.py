"""The correlations component: Ablation-CA's object correlation matrix (Wang et al. 2024) and its ranked groups;
hovering a cell names a pair of objects (``on_pair``, which a connector links to the overlay)."""
from __future__ import annotations

import html
from typing import Callable

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go

from ..exports import csv_link
from ..figures import SIGNED_SCALE, TOOLBAR, title
from ..transport import LiveFigure
from .base import Component, register


def groups_html(groups) -> str:
    if not groups:
        return "<i>no correlated groups</i>"
    rows = "".join(f"<li>superpixels {html.escape(', '.join(map(str, g.members)))}: score {g.score:.3f}, "
                   f"mean |r| {g.mean_abs_r:.2f}</li>" for g in groups[:10])
    return f"<b>Ranked groups</b><ol>{rows}</ol>"


@register
class Correlations(Component):
    name, place, order, title = "correlations", "tab", 20, "correlations"
    fresh_keys = ("image", "model", "target")

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(
            data=[go.Heatmap(colorscale=SIGNED_SCALE, zmin=-1, zmax=1, zmid=0,
                             hovertemplate="objects %{y} and %{x}: r = %{z:.2f}<extra></extra>")],
            layout=go.Layout(width=430, height=430, margin=dict(l=40, r=10, t=TOOLBAR + 26, b=40),
                             title=title("Ablation-CA correlation"), yaxis=dict(autorange="reversed", scaleanchor="x")))
        self.on_pair: Callable[[int, int], None] | None = None
        self.figure.data[0].on_hover(self._hovered)
        self.groups = widgets.HTML()
        self.widget = widgets.VBox([self.freshness.banner, self.until_shown(
            "How the superpixels' effects on the score correlate, and the groups they form: computed by an "
            "<b>Ablation-CA</b> explanation (choose it in the explainer).", self.figure), self.groups])
        context.results.observe(lambda change: self._explained(change["new"]), names="explanation")

    def _hovered(self, trace, points, state) -> None:
        if self.on_pair and points.xs and not self.freshness.stale:
            self.on_pair(int(points.ys[0]), int(points.xs[0]))

    def _explained(self, explanation) -> None:
        if explanation is not None and explanation.correlation is not None:
            self.shown_by(self.show)(explanation.correlation, False)

    def show(self, correlation) -> None:
        import pandas as pd

        self.reveal()
        self.figure.data[0].z = np.asarray(correlation.matrix, dtype=np.float32)
        groups = correlation.groups
        table = pd.DataFrame([{"superpixels": " ".join(map(str, g.members)), "score": g.score,
                               "mean |r|": g.mean_abs_r} for g in groups], columns=["superpixels", "score", "mean |r|"])
        self.groups.value = groups_html(groups) + "<br>" + csv_link("ablation_ca_groups", table)
