"""The live explanation: every change of the state's choices requests the explanation they describe (debounced,
cancelling the running one, from the cache when seen) and puts what comes back into the shown results, where the
components that draw it observe it (docs/DESIGN.md, "UI data flow")."""
from __future__ import annotations

import html

from ..flatness import flat_note
from .lane import Handlers

CHOICES = ["image_key", "model", "target", "method", "params", "seed", "precision"]


class LiveExplanation:
    """Requests an explanation when a choice changes and reports its progress on the status component."""

    def __init__(self, context):
        self.context = context
        self.partials = 0
        context.state.observe(lambda _: self.request(), names=CHOICES)

    def request(self, debounce: bool = True) -> bool:
        """Explain with the current choices; False (and the error shown) when they are invalid."""
        status, results = self.context.status, self.context.results
        method = self.context.state.method

        def partial(value) -> None:
            self.partials += 1
            results.partial = value

        def done(explanation, cached: bool) -> None:
            cost = explanation.cost
            status.finished(
                f"<b>{html.escape(explanation.method)}</b> for <b>{html.escape(explanation.target_name)}</b>: "
                f"{cost.forward_passes} forward + {cost.backward_passes} backward passes, "
                f"{cost.seconds:.2f} s{' (cached)' if cached else ''}"
                + (f"<br><b>{html.escape(flat_note(explanation.heatmap))}</b>" if explanation.flat else ""))
            if results.explanation is explanation:     # drawn again: a partial map may be on screen since
                results.redraw()
            else:
                results.explanation = explanation
        valid = self.context.session.request_explanation(Handlers(
            on_start=lambda: status.started(method), on_progress=status.progressed, on_partial=partial,
            on_done=done, on_error=status.show_error, on_stage=status.stage), debounce=debounce)
        if valid:
            status.clear_error()        # the setting that caused an error is fixed: the error goes at once
        return valid
