"""The curves component: the curves of the map on screen, one family at a time (region perturbation, ROAD or
insertion / deletion), with the region-perturbation settings and a CSV export."""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from ...fills import METRIC_FILLS
from ..exports import csv_link
from ..figures import CURVE_COLOURS, TOOLBAR, curve_lines, title
from ..lane import Handlers
from ..style import AUTO, STYLE, row_layout, show_if
from ..transport import LiveFigure
from .base import Component, register

FAMILIES = {"region": "region perturbation", "road": "ROAD", "insertion_deletion": "insertion / deletion"}
_TEXT = {
    "region": "Region perturbation (Samek et al. 2017) of the map on screen: the target logit as the most (MoRF) or "
              "least (LeRF) relevant regions are removed first.",
    "road": "ROAD (Rong et al. 2022) of the map on screen: the target score as 10-90 % of the pixels, most (MoRF) "
            "or least (LeRF) relevant first, are removed and imputed from their neighbours.",
    "insertion_deletion": "Insertion and deletion (Petsiuk et al. 2018) of the map on screen: the target score as "
                          "the most relevant pixels are put back into a blurred image or deleted to the mean "
                          "colour; the areas under the curves in the legend.",
}


def curves_table(result: dict):
    """The drawn curves as one table (the CSV export) and its file name."""
    import pandas as pd

    if "road" in result:
        road = result["road"]
        first = next(iter(road.values()))
        return "road_curves", pd.DataFrame({"% pixels removed": first.percentages,
                                            **{f"{order} score": road[order].scores for order in road}})
    if "insertion_deletion" in result:
        tables = [pd.DataFrame({"curve": kind, "share of pixels": c.fractions, "score": c.scores})
                  for kind, c in result["insertion_deletion"].items()]
        return "insertion_deletion_curves", pd.concat(tables, ignore_index=True)
    curves = result["curves"]
    return "perturbation_curves", pd.DataFrame({"regions perturbed": curves["morf"].steps,
                                                **{f"{order} score": curves[order].scores for order in curves}})


@register
class Curves(Component):
    name, place, order, title = "curves", "tab", 10, "curves"
    fresh_keys = ("image", "model", "target", "method")

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(
            data=[go.Scatter(name=order, mode="lines", line=dict(color=colour))
                  for order, colour in CURVE_COLOURS.items()],
            layout=go.Layout(width=430, height=360, margin=dict(l=50, r=10, t=TOOLBAR + 26, b=90),
                             title=title("Region perturbation"), xaxis_title="regions perturbed",
                             yaxis_title="target logit", legend=dict(x=0, y=-0.3, yanchor="top", orientation="h")))
        self.family = widgets.Dropdown(options=[(label, name) for name, label in FAMILIES.items()], value="region",
                                       description="curve", style=STYLE, layout=row_layout())
        self.region = widgets.IntSlider(value=9, min=1, max=56, description="region px", style=STYLE,
                                        layout=row_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=50, min=5, max=500, description="steps", style=STYLE,
                                       layout=row_layout(), continuous_update=False)
        self.fill = widgets.Dropdown(options=list(METRIC_FILLS), value="uniform", description="fill", style=STYLE,
                                     layout=row_layout())
        self.button = widgets.Button(description="evaluate", icon="line-chart", layout=AUTO)
        self.button.on_click(lambda _: self.request())
        self.description = widgets.HTML(_TEXT["region"])
        self.region_settings = widgets.VBox([self.region, self.steps, self.fill])
        self.family.observe(lambda _: self._choose(), names="value")
        self.export = widgets.HTML()
        self.widget = widgets.VBox([widgets.VBox([self.description, self.family, self.region_settings, self.button]),
                                    self.freshness.banner, self.until_shown(
                                        "Perturbation curves of the map on screen (the score as its most or least "
                                        "relevant regions are removed, and a random order): press <b>evaluate</b>.",
                                        self.figure), self.export])

    def _choose(self) -> None:
        """The chosen family's description; the region settings only for region perturbation."""
        self.description.value = _TEXT[self.family.value]
        show_if(self.region_settings, self.family.value == "region")

    def values(self) -> dict[str, Any]:
        """The region-perturbation settings (the quality column of the comparison uses them too)."""
        return {"region": self.region.value, "steps": self.steps.value, "fill": self.fill.value}

    def request(self) -> None:
        """The chosen curves of the explanation on screen, with this tab's settings."""
        explanation = self.context.results.explanation
        if explanation is None:
            self.report_error("evaluation: no explanation yet")
            return
        self.session.request_evaluation(explanation, self.values(), Handlers(
            on_done=self.shown_by(self.show), on_error=self.report_error), curve=self.family.value)

    def show(self, result: dict) -> None:
        self.reveal()
        lines, heading, x_title, y_title = curve_lines(result)
        with self.figure.batch_update():
            for i, trace in enumerate(self.figure.data):
                name, colour, x, y = lines[i] if i < len(lines) else ("", "#7f7f7f", [], [])
                trace.x, trace.y, trace.name, trace.line.color = x, y, name, colour
                trace.visible = i < len(lines)
            self.figure.layout.title.text = heading
            self.figure.layout.xaxis.title.text, self.figure.layout.yaxis.title.text = x_title, y_title
        self.export.value = csv_link(*curves_table(result))
