"""The status component: the current state only (an error goes when fixed or when a later run starts), the cancel
button (stops a run within a second, the last finished map stays) and the one-time preparation message."""
from __future__ import annotations

import time

import numpy as np

import workbench as wb

from .helpers import DEBOUNCE, heat


def test_an_error_goes_when_the_setting_that_caused_it_is_fixed(bench):
    bench.explainer.controls["patch"].value = 300            # larger than the 64 px scene
    assert bench.wait(30)
    assert "patch" in bench.status.error.value
    bench.explainer.controls["patch"].value = 16
    assert bench.status.error.value == ""                    # at once, before the run has even started
    assert bench.wait(60)
    assert bench.status.error.value == "" and "occlusion" in bench.status.message.value


def test_a_run_that_starts_clears_an_earlier_error(bench):
    bench.status.show_error("ValueError: something earlier")
    bench.status.started("rise")
    assert bench.status.error.value == "" and bench.status.cancel.layout.display is None


def test_cancel_stops_a_run_within_a_second_and_keeps_the_last_map(bench):
    before = heat(bench)
    shown = bench.explanation
    assert bench.status.cancel.layout.display == "none"       # nothing runs
    bench.explainer.picker.value = "rise"
    bench.explainer.controls["num_masks"].value = 200000         # minutes on a CPU
    deadline = time.monotonic() + 30
    while not bench.session.explanations.log or bench.session.explanations.log[-1][0] != "started":
        bench.session.explanations.deliver_news()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.5)
    bench.session.explanations.deliver_news()
    assert bench.status.cancel.layout.display is None         # shown while it runs
    start = time.monotonic()
    bench.status.cancel.click()
    assert bench.wait(1.0), "the run did not stop within a second"
    assert time.monotonic() - start < 1.0
    assert bench.session.explanations.log[-1][0] == "cancelled"
    assert "cancelled" in bench.status.message.value and bench.status.cancel.layout.display == "none"
    assert bench.explanation is shown
    np.testing.assert_array_equal(heat(bench), before)       # no partial RISE map left on screen


def test_the_preparation_stage_is_shown_while_it_runs(shapes, scene):
    seen = []

    def compute(model, image, method, progress=None, **kwargs):
        progress.stage("preparing the compiled runtime for shapes (once)")
        return wb.explain(model, image, method, progress=progress, **kwargs)

    w = wb.Workbench(shapes, scene.image, method="gradient", debounce=DEBOUNCE, compute=compute)
    w.status.message.observe(lambda change: seen.append(change["new"]), names="value")
    w.request(debounce=False)
    assert w.wait(60)
    assert any("preparing the compiled runtime for shapes (once)" in m for m in seen), seen
    assert "gradient" in w.status.message.value and "preparing" not in w.status.message.value


def test_the_time_left_past_a_minute_reads_in_minutes(bench):
    bench.status.started("rise")
    bench.status.since = time.perf_counter() - 10.0             # 10 passes in 10 s: 2532 s left
    bench.status.progressed(10, 2542)
    assert "10/2542 passes, about 42 min left" in bench.status.message.value
    bench.status.since = time.perf_counter() - 10.0
    bench.status.progressed(200, 240)                            # 2 s left
    assert "about 2 s left" in bench.status.message.value
