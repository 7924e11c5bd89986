"""A component in one file, as a newcomer would write it: the model's top-5 classes on the image as bars.
``tests/ui/test_new_component.py`` imports it and finds it in a new Workbench, with no other file changed."""
from __future__ import annotations

import ipywidgets as widgets
import plotly.graph_objects as go

from workbench.targets import top_classes
from workbench.ui.components.base import Component, register
from workbench.ui.transport import LiveFigure


@register
class TopClasses(Component):
    name, place, order, title = "top_classes", "tab", 80, "top classes"

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(data=[go.Bar(orientation="h")], layout=go.Layout(width=430, height=260))
        self.widget = widgets.VBox([self.figure])
        self.state.observe(lambda _: self.draw(), names=["model", "image"])
        self.draw()

    def draw(self) -> None:
        best = top_classes(self.state.model, self.state.image, k=5)
        self.figure.data[0].x = [score for _, _, score in best]
        self.figure.data[0].y = [name for _, name, _ in best]
