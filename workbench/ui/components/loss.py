"""The loss-history component: the loss of a mask-learning method per iteration; for any other method, a
sentence naming the methods that have one instead of empty axes."""
from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ...explainers.registry import get_method, methods
from ..figures import TOOLBAR, loss_figure, replace, title
from ..style import show_if
from ..transport import LiveFigure
from .base import Component, register


@register
class Loss(Component):
    name, place, order, title = "loss", "tab", 40, "loss history"

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(layout=go.Layout(width=430, height=260, margin=dict(l=60, r=10, t=TOOLBAR + 26, b=40),
                                                  title=title("Loss history")))
        self.learners = [m.label for _, m in sorted(methods().items()) if m.learns_mask]
        self.note = widgets.HTML()
        self.plot = widgets.Box([self.figure])
        self.widget = widgets.VBox([self.note, self.plot])
        self.show(None, None)
        context.results.observe(lambda change: change["new"] is not None
                                and self.show(change["new"].loss_history, change["new"].method), names="explanation")

    def show(self, history: dict[str, list[float]] | None, method: str | None) -> None:
        """Draw ``history``; without one, hide the plot and say which methods have a loss history."""
        if history or self.figure.data:      # nothing shown, nothing to show: no message (cached switches stay fast)
            replace(self.figure, loss_figure(dict(history or {})), width=430)
        who = f"<b>{html.escape(get_method(method).label)}</b>" if method else "This method"
        note = (f"{who} learns no mask, so it has no loss history. Only the mask-learning methods have one: "
                f"{html.escape(', '.join(self.learners))}.") if not history else ""
        if self.note.value != note:                  # unchanged widgets send nothing (cached switches stay fast)
            self.note.value = note
        show_if(self.plot, bool(history))
