"""The predictions view beside the map, always visible: the model's top-5 classes on the image with their
scores (softmax probabilities; independent sigmoid scores on a multi-label model), the explained class
highlighted. Clicking a class's bar explains that class (``state.target``). The scores come from
:func:`workbench.targets.top_classes`; this component only draws them.

It sits in the left column under the model and its target, so that it is beside the map at every width: at
1280 px with JupyterLab's file browser open the map's column is about 530 px wide, less than the map (468 px)
and a view of the classes side by side, and a view placed after the map wrapped under it, out of sight."""
from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ..figures import TOOLBAR, prediction_bars, title
from ..transport import LiveFigure
from .base import Component, register

TOP_K = 5


@register
class Predictions(Component):
    name, place, order = "predictions", "left", 25

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(
            data=[go.Bar(orientation="h", textposition="auto", hovertemplate="%{y}: %{x:.3f}<extra></extra>",
                         cliponaxis=False)],
            layout=go.Layout(width=310, height=210, margin=dict(l=10, r=20, t=TOOLBAR + 26, b=30),
                             xaxis=dict(range=[0, 1], title=None, tickformat=".1f"),
                             yaxis=dict(automargin=True), title=title("predictions")))
        self.figure.data[0].on_click(self._clicked)
        self.note = widgets.HTML()
        self.best: list[tuple[int, str, float]] = []
        self.widget = widgets.VBox([self.figure, self.note], layout=widgets.Layout(width="316px"))
        self.state.observe(lambda _: self.predict(), names=["model", "image"])
        self.state.observe(lambda _: self.draw(), names="target")
        self.predict()

    def predict(self) -> None:
        """The model's top classes on the current image (one forward pass), then drawn."""
        from ...targets import top_classes

        try:
            self.best = top_classes(self.state.model, self.state.image, k=TOP_K)
        except Exception as error:
            self.best = []
            self.report_error(f"predictions: {type(error).__name__}: {error}")
        self.draw()

    def draw(self) -> None:
        if not self.best:
            return
        explained = self.state.target if self.state.target is not None else self.best[0][0]
        bars = prediction_bars(self.best, explained)
        scores = "independent sigmoids: multi-label" if self.state.model.multilabel else "softmax"
        with self.figure.batch_update():
            trace = self.figure.data[0]
            trace.x, trace.y, trace.text, trace.customdata = bars["x"], bars["y"], bars["text"], bars["customdata"]
            trace.marker.color = bars["colours"]
            self.figure.layout.title = title(f"predictions ({scores})")
        self.note.value = (f"<span style='font-size:11px;color:#555'>top {len(self.best)} classes of "
                           f"{html.escape(self.state.model.name)}; click one to explain it "
                           "(<span style='color:#d62728'>red</span>: the class explained)</span>")

    def choose(self, index: int) -> None:
        """Explain class ``index`` (what a click on its bar does)."""
        self.state.target = None if self.best and index == self.best[0][0] else index   # top-1: the automatic target

    def _clicked(self, trace, points, state) -> None:
        if points.point_inds:
            self.choose(int(trace.customdata[points.point_inds[0]]))
