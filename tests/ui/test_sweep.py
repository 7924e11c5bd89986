"""The sweep component."""
from __future__ import annotations

from workbench.ui.components.sweep import integer_ticks




def test_sweep_view_updates_and_a_clicked_point_shows_its_map(bench):
    w = bench
    w.explainer.picker.value = "occlusion"
    assert w.wait(60)
    assert "stride" in [name for _, name in w.sweep.param.options]
    w.sweep.param.value = "stride"
    w.sweep.values.value = "28,56"
    w.curves.steps.value = 5
    w.sweep.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    assert list(w.sweep.figure.data[0].x) == [28, 56]
    passes = list(w.sweep.figure.data[1].y)
    assert passes[0] > passes[1]                          # a coarser stride costs fewer passes
    assert list(w.sweep.figure.layout.yaxis2.tickvals) == sorted(int(p) for p in passes)   # whole counts ticked
    assert list(w.sweep.figure.layout.xaxis.tickvals) == [28, 56]
    w.sweep.metric.value = "passes"                       # another metric: redrawn from the same result
    assert list(w.sweep.figure.data[0].y) == list(w.sweep.figure.data[1].y)
    w.sweep.on_point(56)                             # clicking a point shows that heatmap
    assert "stride=56" in w.overlay.view.figure.layout.title.text

    w.sweep.param.value = "patch"                         # change the parameter choice: a new sweep
    w.sweep.values.value = "32,56"
    w.sweep.request()
    assert w.wait(120) and w.status.error.value == ""
    label = dict((name, label) for label, name in w.sweep.param.options)["patch"]   # the control's words
    assert list(w.sweep.figure.data[0].x) == [32, 56] and label in w.sweep.figure.layout.title.text

    w.sweep.values.value = "0,4"                          # stride/patch 0 is invalid: reported, nothing runs
    w.sweep.request()
    assert "patch" in w.status.error.value


def test_count_axes_are_ticked_with_whole_counts():
    assert integer_ticks([75.0, 135.0, 105.0, 105.0]) == [75, 105, 135]
    assert integer_ticks(range(1, 11), most=4) == [1, 4, 7, 10]        # first and last kept
    assert integer_ticks([float("nan"), 3.0]) == [3]
