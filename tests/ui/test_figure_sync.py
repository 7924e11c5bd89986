"""What reaches the browser (ui/transport.py): the synced state holds every edit, a late view is redrawn, maps travel
as typed arrays, a view's report of a sent array changes nothing."""
from __future__ import annotations

import numpy as np

from .helpers import change, heat


def live_figures(widget, seen=None) -> list:
    """Every Plotly figure in a widget tree."""
    from workbench.ui.transport import LiveFigure

    seen = set() if seen is None else seen
    if id(widget) in seen:
        return []
    seen.add(id(widget))
    if isinstance(widget, LiveFigure):
        return [widget]
    return [f for child in getattr(widget, "children", ()) for f in live_figures(child, seen)]


def same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(np.asarray(a), np.asarray(b))
    return a == b


def test_a_view_opened_after_any_edit_draws_the_current_figure(bench):
    """Plotly sends edits as one-off messages; the synced state a late browser view draws (``_widget_data``,
    ``_widget_layout``) must hold every edit too (an empty heatmap under a finished map, seen in JupyterLab)."""
    w = bench
    change(w, lambda: setattr(w.explainer.picker, "value", "gradient"))
    w.overlay.view.set_opacity(0.3)
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    figures = live_figures(w)
    assert len(figures) >= 5 and w.overlay.view.figure in figures
    drawn = w.overlay.view.figure._widget_data[1]
    assert np.array_equal(np.asarray(drawn["z"], dtype=float), heat(w)) and drawn["opacity"] == 0.3
    for figure in figures:
        assert same(figure._widget_data, figure._data), figure.layout.title.text
        assert same(figure._widget_layout, figure._layout_obj._props), figure.layout.title.text


def test_a_view_that_drew_an_older_edit_gets_the_whole_figure_again():
    """A page that loaded slowly lost the edits sent meanwhile: its view reports an older edit id on start."""
    from workbench.ui.overlay_view import OverlayView

    view = OverlayView()
    view.show_image(np.zeros((8, 8, 3), dtype=np.uint8))
    view.show_heatmap(np.arange(64, dtype=np.float32).reshape(8, 8), False, "a map")
    sent = []
    view.figure.observe(lambda change: change["new"] and sent.append((change["name"], change["new"])),
                        names=["_py2js_relayout", "_py2js_restyle"])
    current = view.figure._last_layout_edit_id
    view.figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": current}   # an up-to-date view
    assert sent == []
    view.figure._js2py_traceDeltas = {"trace_deltas": [{}] * 5, "trace_edit_id": 0}   # a view of the first state
    view.figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": 0}
    relayouts = [m["relayout_data"] for name, m in sent if name == "_py2js_relayout"]
    restyles = {tuple(m["restyle_traces"]): m["restyle_data"] for name, m in sent if name == "_py2js_restyle"}
    assert relayouts[0]["title"]["text"] == "a map"
    assert np.array_equal(np.asarray(restyles[(1,)]["z"][0], dtype=float), np.arange(64).reshape(8, 8))
    assert restyles[(0,)]["source"][0].startswith("data:image/png")
    count = len(sent)
    view.figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": 0}         # answered once
    assert len(sent) == count


def test_a_late_view_that_reported_no_traces_gets_every_trace_again():
    """A view that reports an older edit without having reported its traces gets every trace of the figure
    (the predictions view's bars stayed at the first image's classes when only the layout was sent)."""
    import plotly.graph_objects as go

    from workbench.ui.transport import LiveFigure

    figure = LiveFigure(data=[go.Bar(orientation="h", x=[0.1, 0.9], y=["a", "b"])])
    with figure.batch_update():
        figure.data[0].x, figure.data[0].y = (0.2, 0.8), ("c", "d")
    sent = []
    figure.observe(lambda change: change["new"] and sent.append((change["name"], change["new"])),
                   names=["_py2js_relayout", "_py2js_restyle"])
    figure._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": 0}
    restyles = {tuple(m["restyle_traces"]): m["restyle_data"] for name, m in sent if name == "_py2js_restyle"}
    assert list(restyles[(0,)]["y"][0]) == ["c", "d"] and list(restyles[(0,)]["x"][0]) == [0.2, 0.8]


def test_maps_travel_to_the_browser_as_typed_arrays_that_decode_to_the_drawn_values(bench):
    """The heatmap is sent as plotly.js's typed-array spec (base64 float32 with its shape), in edits and in the
    synced state a new view draws; decoded it is the drawn map to float32 precision."""
    import base64
    import json

    from workbench.ui.transport import to_js

    w = bench
    figure = w.overlay.view.figure
    sent = []
    figure.observe(lambda c: c["new"] and sent.append(c["new"]), names=["_py2js_update", "_py2js_restyle"])
    change(w, lambda: setattr(w.explainer.controls["patch"], "value", 40))
    edits = [m.get("restyle_data") or m.get("style_data") or {} for m in sent]
    z = [edit["z"][0] for edit in edits if "z" in edit][-1]
    for spec in (to_js(z), figure.get_state("_widget_data")["_widget_data"][1]["z"]):
        assert spec["dtype"] == "f4" and spec["shape"] == ",".join(map(str, heat(w).shape))
        decoded = np.frombuffer(base64.b64decode(spec["bdata"]), dtype="<f4").reshape(heat(w).shape)
        np.testing.assert_allclose(decoded, heat(w), rtol=1e-6)
        json.dumps(spec)          # plain JSON: no nested lists of every cell
    assert to_js(np.arange(3.0))["dtype"] == "float64"                  # 1-D arrays keep plotly's binary buffers
    assert to_js(np.array([["a", "b"]])) == [["a", "b"]]                 # non-numeric arrays as lists


def test_a_view_reporting_a_sent_array_back_as_a_default_changes_nothing():
    """A browser view reports each trace's defaults; a map sent as a typed array comes back among them (the
    view's decoded copy differs from the spec it got). That must neither raise (66 ``truth value of an array is
    ambiguous`` errors in a session's log) nor replace the drawn map; real defaults are still recorded."""
    from workbench.ui.overlay_view import OverlayView
    from workbench.ui.transport import to_js

    view = OverlayView()
    view.show_image(np.zeros((8, 8, 3), dtype=np.uint8))
    heat = np.arange(64, dtype=np.float64).reshape(8, 8)
    view.show_heatmap(heat, False, "a map")
    figure = view.figure
    trace = figure.data[1]
    figure._js2py_traceDeltas = {"trace_edit_id": figure._last_trace_edit_id,
                                 "trace_deltas": [{"uid": trace.uid, "z": to_js(np.asarray(trace.z) + 1),
                                                   "xgap": 0, "zsmooth": False}]}
    assert np.array_equal(np.asarray(figure.data[1].z, dtype=float), heat)
    assert figure.data[1].xgap == 0 and trace._prop_defaults.get("zsmooth") is False
    assert "z" not in trace._prop_defaults


def test_the_synced_layout_serialises_as_plotly_would_and_follows_every_edit():
    """The synced state shares the layout's template and arrays (not copied at each edit) yet equals the figure
    after each edit, and the serialised layout (the template's JSON kept) equals serialising it afresh."""
    from workbench.ui.transport import _layout_to_js, to_js
    from workbench.ui.overlay_view import OverlayView

    view = OverlayView()
    view.show_image(np.zeros((8, 8, 3), dtype=np.uint8))
    for i, title in enumerate(["one", "two"]):
        view.show_heatmap(np.arange(64, dtype=np.float32).reshape(8, 8) * (i + 1), False, title)
        figure = view.figure
        assert same(figure._widget_layout, figure._layout_obj._props)
        assert figure._widget_layout["title"]["text"] == title
        assert same(figure._widget_data, figure._data)
        assert _layout_to_js(figure._widget_layout, figure) == to_js(figure._layout_obj._props, figure)
        assert figure._widget_layout["title"] is not figure._layout_obj._props["title"]   # edited in place: copied
