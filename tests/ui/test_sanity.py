"""The sanity component."""
from __future__ import annotations






def test_sanity_view_updates(bench):
    w = bench
    w.explainer.picker.value = "gradient"
    assert w.wait(60)
    w.sanity.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    layers = list(w.sanity.figure.data[0].x)
    assert len(layers) == len(w.sanity.result.layers) and w.sanity.figure.data[0].y[-1] < 0.5
    assert len(w.sanity.maps.data) >= 2
    lowest = min(min(trace.y) for trace in w.sanity.figure.data)
    assert w.sanity.figure.layout.yaxis.range[0] < lowest              # negative correlations stay visible
