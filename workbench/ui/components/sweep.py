"""The sweep component: a numeric parameter of the current method over typed values, a metric and the cost
against it; clicking a point names that setting (``on_point``, which a connector links to the overlay)."""
from __future__ import annotations

import html
from typing import Any, Callable

import ipywidgets as widgets
import plotly.graph_objects as go

from ...analysis.sweep import DEFAULT_METRICS
from ...explainers.registry import get_method
from ..controls import param_label
from ..exports import csv_link
from ..figures import TOOLBAR, title
from ..lane import Handlers
from ..style import AUTO
from ..transport import LiveFigure
from .base import Component, register

METRIC_LABELS = {"aopc_morf": "AOPC (MoRF)", "pointing": "pointing game", "passes": "forward passes",
                 "seconds": "seconds"}   # the sweep's metrics in words
WIDE = dict(layout=widgets.Layout(width="240px"))


def integer_ticks(counts, most: int = 6) -> list[int]:
    """Up to ``most`` of the distinct whole ``counts`` (first and last kept), as ticks of a count axis."""
    values = sorted({int(round(c)) for c in counts if c == c})
    if len(values) <= most:
        return values
    step = (len(values) - 1) / (most - 1)
    return [values[round(i * step)] for i in range(most)]


@register
class Sweep(Component):
    name, place, order, title = "sweep", "tab", 50, "sweep"
    fresh_keys = ("image", "model", "target", "method")

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(
            data=[go.Scatter(name="metric", mode="lines+markers", error_y=dict(type="data", visible=True)),
                  go.Scatter(name="passes", mode="lines+markers", yaxis="y2", line=dict(dash="dot", color="#7f7f7f"))],
            layout=go.Layout(width=430, height=340, margin=dict(l=64, r=50, t=TOOLBAR + 26, b=80), title=title("Sweep"),
                             yaxis2=dict(overlaying="y", side="right", title="passes", showgrid=False),
                             legend=dict(x=0, y=-0.25, yanchor="top", orientation="h")))
        self.on_point: Callable[[Any], None] | None = None
        self.figure.data[0].on_click(self._clicked)
        self.result = None
        self.param = widgets.Dropdown(description="parameter", **WIDE)
        self.values = widgets.Text(description="values", placeholder="4,8,16 or 0.1:0.7:0.1", **WIDE)
        self.metric = widgets.Dropdown(options=[(METRIC_LABELS[m], m) for m in DEFAULT_METRICS], value="aopc_morf",
                                       description="metric", **WIDE)
        self.metric.observe(lambda _: self.draw(), names="value")
        self.button = widgets.Button(description="sweep", icon="sliders", layout=AUTO)
        self.button.on_click(lambda _: self.request())
        self.export = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.param, self.values]), widgets.HBox([self.metric, self.button]),
                                    self.freshness.banner, self.until_shown(
                                        "A metric of the map (and the passes it took) across values of one "
                                        "parameter: choose them and press <b>sweep</b>.", self.figure),
                                    self.export])
        self.state.observe(lambda _: self._offer_params(), names="method")
        self._offer_params()

    def _clicked(self, trace, points, state) -> None:
        if self.on_point and points.xs:
            self.on_point(points.xs[0])

    def _offer_params(self) -> None:
        """The current method's numeric parameters; the same method's keep the choice."""
        params = [(param_label(p), p.name) for p in get_method(self.state.method).params if p.kind in ("int", "float")]
        if [tuple(option) for option in self.param.options] != params:
            self.param.options = params
            self.param.value = params[0][1] if params else None

    def request(self) -> None:
        """Sweep the chosen parameter over the typed values on the current image (checked before any compute)."""
        from ...analysis.sweep import check_sweep
        from ...cli import parse_values

        param, state = self.param.value, self.state
        try:
            if not param:
                raise ValueError(f"parameter: {state.method!r} has no numeric parameter to sweep")
            values = parse_values(self.values.value, field="values")
            check_sweep(state.method, param, values, state.params_for())
        except (ValueError, SyntaxError, TypeError) as error:
            self.report_error(f"sweep: {error}")
            return
        mask = self.session.scene_mask()
        metrics = ("aopc_morf", "passes", "seconds") + (("pointing",) if mask is not None else ())
        steps = self.context.components["curves"].steps.value if "curves" in self.context.components else 20
        self.context.status.say(f"sweeping {html.escape(param)} over {len(values)} values...")
        self.session.request_sweep(param, values, metrics, Handlers(
            on_done=self.shown_by(self.show), on_error=self.report_error), mask=mask, steps=steps)

    def show(self, result) -> None:
        """Draw a sweep; the metric drop-down offers the metrics it has (pointing only on generated scenes)."""
        self.reveal()
        self.result = result
        present = [m for m in DEFAULT_METRICS if m in set(result.summary["metric"])]
        if [name for _, name in self.metric.options] != present:
            chosen = self.metric.value if self.metric.value in present else present[0]
            self.metric.options = [(METRIC_LABELS[m], m) for m in present]
            self.metric.value = chosen
        self.export.value = csv_link("sweep", result.summary)
        self.draw()
        self.context.status.say(f"sweep of <b>{html.escape(result.param)}</b> done")

    def draw(self) -> None:
        result = self.result
        if result is None:
            return
        metric = self.metric.value if self.metric.value in set(result.summary["metric"]) else "passes"
        settings, means, errors = result.series(metric)
        _, passes, _ = result.series("passes")
        param = dict((name, label) for label, name in self.param.options).get(result.param, result.param)
        metric_label = METRIC_LABELS.get(metric, metric)
        with self.figure.batch_update():
            self.figure.data[0].x, self.figure.data[0].y = list(settings), list(means)
            self.figure.data[0].error_y.array = list(errors)
            self.figure.data[0].name = metric_label
            self.figure.data[1].x, self.figure.data[1].y = list(settings), list(passes)
            self.figure.layout.xaxis.title = param
            self.figure.layout.yaxis.title = metric_label
            # counts are ticked at the counts measured (Plotly's own ticks read 75.5 / 105.6 passes)
            self.figure.layout.yaxis2.update(tickmode="array", tickvals=integer_ticks(passes), tickformat="d")
            self.figure.layout.xaxis.update(tickmode="array", tickvals=list(settings))
            self.figure.layout.title.text = f"{metric_label} and cost against {param}"

    def heatmap_at(self, setting):
        """The map the last sweep made at ``setting`` (None when there is none)."""
        result = self.result
        chosen = [heat for (value, *_), heat in result.heatmaps.items() if value == setting] if result else []
        return chosen[0] if chosen else None
