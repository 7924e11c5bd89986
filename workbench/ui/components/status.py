"""The status component: progress bar, status line and the error box (everything reports here)."""
from __future__ import annotations

import html
import time

import ipywidgets as widgets

from .base import Component, register


@register
class Status(Component):
    name, place, order = "status", "left", 90

    def __init__(self, context):
        super().__init__(context)
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="300px"))
        self.message = widgets.HTML()
        self.error = widgets.HTML()
        self.what, self.since = "", time.perf_counter()
        self.widget = widgets.VBox([self.progress, self.message, self.error])

    def started(self, what: str) -> None:
        self.progress.value, self.progress.bar_style = 0, "info"
        self.what, self.since = what, time.perf_counter()
        self.message.value = f"computing {html.escape(what)}..."

    def say(self, message_html: str) -> None:
        """A status line of the caller's (HTML)."""
        self.message.value = message_html

    def progressed(self, done: int, total: int, unit: str = "passes") -> None:
        """``done`` of ``total`` ``unit`` (passes of one explanation, methods of a comparison) and the time left."""
        self.progress.max, self.progress.value = max(total, 1), min(done, max(total, 1))
        left = self.time_left(done, total, time.perf_counter() - self.since)
        if left is not None:
            self.message.value = (f"computing {html.escape(self.what)}: {done}/{total} {unit}, "
                                  f"about {left:.0f} s left")

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

    def show_error(self, message: str) -> None:
        self.progress.bar_style = "danger"
        self.message.value = ""
        self.error.value = f"<pre style='color:#b00020;white-space:pre-wrap'>{html.escape(message)}</pre>"
