"""The status component: progress bar, status line, the cancel button and the error box (everything reports
here). It shows the current state only: a run that starts, or a valid setting, clears an earlier error."""
from __future__ import annotations

import html
import time

import ipywidgets as widgets

from ...estimate import duration_text
from ..style import show_if
from .base import Component, register


@register
class Status(Component):
    name, place, order = "status", "left", 90

    def __init__(self, context):
        super().__init__(context)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="210px"))
        self.message = widgets.HTML()
        self.error = widgets.HTML()
        self.cancel = widgets.Button(description="cancel", icon="stop", button_style="warning",
                                     tooltip="stop the running computation; the last finished map stays",
                                     layout=widgets.Layout(width="90px", min_width="90px"))
        self.cancel.on_click(lambda _: self.cancelled())
        show_if(self.cancel, False)
        self.what, self.since = "", time.perf_counter()
        self.widget = widgets.VBox([widgets.HBox([self.progress, self.cancel]), self.message, self.error])

    def started(self, what: str) -> None:
        """A run starts: the bar at zero, the cancel button shown, any earlier error gone."""
        self.progress.value, self.progress.bar_style = 0, "info"
        self.what, self.since = what, time.perf_counter()
        self.message.value = f"computing {html.escape(what)}..."
        self.clear_error()
        show_if(self.cancel, True)

    def stage(self, message: str) -> None:
        """A step of the run not counted in passes (``Controls.stage``: the one-time preparation of a model)."""
        self.message.value = f"{html.escape(self.what)}: {html.escape(message)}..."

    def cancelled(self) -> None:
        """The cancel button: stop every running job; the last finished map is drawn again (not a partial one)."""
        self.session.cancel()
        show_if(self.cancel, False)
        self.progress.bar_style = "warning"
        self.message.value = (f"<b>cancelled</b> {html.escape(self.what)}"
                              + ("; the map shown is the last one finished" if self.context.results.explanation
                                 is not None else ""))
        self.context.results.redraw()

    def clear_error(self) -> None:
        """The input that caused the error is fixed (or a later run started): the error goes."""
        if self.error.value:
            self.error.value = ""
            if self.progress.bar_style == "danger":
                self.progress.bar_style = ""

    def say(self, message_html: str) -> None:
        """A status line of the caller's (HTML)."""
        self.message.value = message_html

    def progressed(self, done: int, total: int, unit: str = "passes") -> None:
        """``done`` of ``total`` ``unit`` (passes of one explanation, methods of a comparison) and the time left."""
        self.progress.max, self.progress.value = max(total, 1), min(done, max(total, 1))
        left = self.time_left(done, total, time.perf_counter() - self.since)
        if left is not None:
            self.message.value = (f"computing {html.escape(self.what)}: {done}/{total} {unit}, "
                                  f"{duration_text(left)} left")

    @staticmethod
    def time_left(done: int, total: int, elapsed: float) -> float | None:
        """Seconds left at the rate so far (passes done per second); None until there is a rate to go by."""
        if done <= 0 or elapsed <= 0 or total <= done:
            return None
        return (total - done) / (done / elapsed)

    def finished(self, message_html: str) -> None:
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        self.message.value = message_html
        self.error.value = ""
        show_if(self.cancel, False)

    def show_error(self, message: str) -> None:
        self.progress.bar_style = "danger"
        self.message.value = ""
        show_if(self.cancel, False)
        self.error.value = f"<pre style='color:#b00020;white-space:pre-wrap'>{html.escape(message)}</pre>"
