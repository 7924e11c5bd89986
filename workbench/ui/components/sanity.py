"""The sanity component: cascading model-parameter randomisation (Adebayo et al. 2018), the similarity curves
and the maps after each step."""
from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ..exports import csv_link
from ..figures import TOOLBAR, maps_grid, replace, title
from ..lane import Handlers
from ..style import AUTO
from ..transport import LiveFigure
from .base import Component, register

STEPS_SHOWN = 7


@register
class Sanity(Component):
    name, place, order, title = "sanity", "tab", 60, "sanity"
    fresh_keys = ("image", "model", "target", "method")

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(
            data=[go.Scatter(name=name, mode="lines+markers") for name in ("spearman", "ssim", "hog")],
            layout=go.Layout(width=430, height=300, margin=dict(l=50, r=10, t=TOOLBAR + 26, b=90),
                             title=title("Model randomisation"),
                             yaxis=dict(range=[-0.2, 1.05], title="similarity to original"), xaxis=dict(tickangle=-45)))
        self.result = None
        self.export = widgets.HTML()
        self.maps = LiveFigure()
        self.button = widgets.Button(description="randomise the model", icon="random", layout=AUTO)
        self.button.on_click(lambda _: self.request())
        self.widget = widgets.VBox([widgets.HTML("Cascading randomisation from the output layer back (Adebayo et "
                                                 "al. 2018): a useful explanation changes."),
                                    self.button, self.freshness.banner, self.until_shown(
                                        "How far the map moves as the model's layers are randomised, and the maps "
                                        "at each step: press <b>randomise the model</b>.", self.figure, self.maps),
                                    self.export])

    def request(self) -> None:
        self.context.status.say(f"randomising the model for {html.escape(self.state.method)}...")
        self.session.request_sanity(Handlers(on_done=self.shown_by(self.show), on_error=self.report_error))

    def show(self, result) -> None:
        self.reveal()
        self.result = result
        table = result.table
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y = list(result.layers), list(table[trace.name])
            lowest = min(float(table[trace.name].min()) for trace in self.figure.data)
            self.figure.layout.yaxis.range = [min(-0.2, lowest - 0.05), 1.05]   # Spearman can reach -1
            final = table["spearman"].iloc[-1]
            self.figure.layout.title.text = f"{result.method}: Spearman after all layers {final:.2f}"
        steps = list(zip(result.layers, result.heatmaps))[::max(1, len(result.layers) // STEPS_SHOWN)][:STEPS_SHOWN]
        titles = ["original"] + [f"after {name}" for name, _ in steps]
        replace(self.maps, maps_grid(titles, [result.original] + [heat for _, heat in steps], columns=3, tile=150))
        self.export.value = csv_link("sanity", table)
        self.context.status.say(f"sanity check of <b>{html.escape(result.method)}</b> done")
