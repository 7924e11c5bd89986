"""The lane and the live explanation: superseded results are dropped, a newer change cancels the running job, a cached
setting never recomputes."""
from __future__ import annotations

import threading
import time

from workbench.ui.lane import Handlers, Lane

from .helpers import change


def test_jobs_report_errors_and_drop_superseded_results():
    jobs = Lane(debounce=0.0)
    seen, errors = [], []
    release = threading.Event()

    def slow(cancel, progress, partial):
        release.wait(5)
        return "old"

    jobs.submit("a", slow, Handlers(on_done=lambda r, c: seen.append(r)))
    jobs.submit("b", lambda c, p, q: "new", Handlers(on_done=lambda r, c: seen.append(r)))
    release.set()
    assert jobs.wait(10)
    time.sleep(0.05)
    assert seen == ["new"]
    jobs.submit("c", lambda c, p, q: 1 / 0, Handlers(on_error=errors.append))
    assert jobs.wait(10)
    assert errors and errors[0].startswith("ZeroDivisionError")


def test_newer_change_cancels_the_running_job(bench):
    w = bench
    w.state.method = "rise"
    w.state.set_param("num_masks", 1000000)   # minutes of work: it cannot end by itself on any device
    w.request(debounce=False)
    deadline = time.monotonic() + 30
    while not any(event == "started" for event, key in w.session.explanations.log[-1:]) and time.monotonic() < deadline:
        time.sleep(0.01)
    slow_key = w.state.key()
    time.sleep(0.3)                            # well inside the job
    w.state.method = "occlusion"
    w.request(debounce=False)
    assert w.wait(120)
    events = [(e, k[4]) for e, k in w.session.explanations.log]
    assert ("cancelled", slow_key) in w.session.explanations.log, events
    assert ("done", slow_key) not in w.session.explanations.log
    assert w.explanation.method == "occlusion"
    assert "occlusion" in w.overlay.view.figure.layout.title.text


def test_cached_setting_does_not_recompute(bench):
    w = bench
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 14))
    calls = list(w.session.compute.calls)
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 28))   # back to the first setting
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 14))
    assert w.session.compute.calls == calls
    assert "(cached)" in w.status.message.value
    assert [e for e, _ in w.session.explanations.log[-2:]] == ["cached", "cached"]
