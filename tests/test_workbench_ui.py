"""The Workbench widget without a browser: every control type drives the figure through the worker thread,
a newer change cancels the running job, cached settings never recompute, errors show in the panel, and
FMO/RISE draw intermediate maps (progressive display)."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import workbench as wb
from workbench.ui.components.spray import clusters
from workbench.ui.lane import Handlers, Lane

DEBOUNCE = 0.02


class CountingExplain:
    """``wb.explain`` that counts its calls (what the cache must avoid)."""

    def __init__(self):
        self.calls = []

    def __call__(self, model, image, method, **kwargs):
        self.calls.append(method)
        return wb.explain(model, image, method, **kwargs)


@pytest.fixture
def bench(shapes, scene):
    compute = CountingExplain()
    w = wb.Workbench(shapes, scene.image, method="occlusion", debounce=DEBOUNCE, compute=compute)
    w.explainer.controls["patch"].value, w.explainer.controls["stride"].value = 56, 28   # a quick first map
    assert w.wait(60)
    w.compute = compute
    return w


def heat(w) -> np.ndarray:
    return np.array(w.overlay.view.figure.data[1].z, dtype=float)


def change(w, apply) -> np.ndarray:
    """Apply a control change, wait for the worker, return the drawn heatmap; fail on a panel error."""
    apply()
    assert w.wait(120)
    assert w.status.error.value == "", w.status.error.value
    return heat(w)


def test_every_control_type_changes_the_figure(bench):
    w = bench
    first = heat(w)
    assert w.explanation.method == "occlusion" and first.size > 0
    # no loss history for Occlusion: a sentence naming the methods that have one, no empty axes
    assert w.loss.plot.layout.display == "none"
    assert "Occlusion Test</b> learns no mask" in w.loss.note.value
    assert all(name in w.loss.note.value for name in ("NeuroMask", "Meaningful", "Extremal"))

    # a method (drop-down) -> its generated panel, with the FMO schedule editor
    fmo_map = change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    assert w.explanation.method == "fmo" and w.explainer.controls["schedule"] is not None
    assert not np.allclose(fmo_map, first)

    # an FMO level's stride (integer box in the schedule editor)
    finest = len(w.explainer.controls["schedule"].levels) - 1
    patch, stride = w.explainer.controls["schedule"].levels[finest]
    finer_map = change(w, lambda: setattr(w.explainer.controls["schedule"].stride_box(finest), "value", stride // 2))
    assert w.explanation.levels.schedule[finest] == (patch, stride // 2)
    assert not np.allclose(finer_map, fmo_map)

    # adding a level (button)
    levels = len(w.explainer.controls["schedule"].levels)
    change(w, w.explainer.controls["schedule"].add_button.click)
    assert len(w.explanation.levels.schedule) == levels + 1

    # the superpixel count (slider shared by LIME and Ablation-CA)
    w.explainer.picker.value = "lime"
    w.explainer.controls["num_samples"].value = 200
    lime_50 = change(w, lambda: None)
    lime_12 = change(w, lambda: setattr(w.explainer.superpixels, "value", 12))
    assert w.explanation.params["n_segments"] == 12
    assert len(np.unique(w.explanation.segments)) < 20
    assert not np.allclose(lime_12, lime_50)
    assert w.state.params_for("ablation_ca")["n_segments"] == 12

    # a NeuroMask weight (log slider in the mask-learning panel)
    w.explainer.picker.value = "neuromask"
    w.explainer.controls["iterations"].value = 30
    loose = change(w, lambda: None)
    sparse = change(w, lambda: setattr(w.explainer.controls["l_sparse"], "value", 3.0))
    assert w.explanation.params["l_sparse"] == pytest.approx(3.0)
    assert not np.allclose(sparse, loose)
    assert len(w.loss.figure.data) >= 3   # the loss history view shows each term
    assert w.loss.plot.layout.display is None and w.loss.note.value == ""

    # the target (drop-down of the top-5 classes with their scores)
    second = w.model.target.options[2][1]
    change(w, lambda: setattr(w.model.target, "value", second))
    assert w.explanation.target == second

    # opacity (a view control: no recomputation)
    calls = len(w.compute.calls)
    w.overlay.opacity.value = 0.25
    assert w.overlay.view.figure.data[1].opacity == pytest.approx(0.25)
    assert len(w.compute.calls) == calls


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
    calls = list(w.compute.calls)
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 28))   # back to the first setting
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 14))
    assert w.compute.calls == calls
    assert "(cached)" in w.status.message.value
    assert [e for e, _ in w.session.explanations.log[-2:]] == ["cached", "cached"]


def test_going_back_to_the_default_fmo_preset_answers_from_the_cache(bench):
    w = bench
    change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    editor = w.explainer.controls["schedule"]
    change(w, lambda: setattr(editor.presets, "value", "coarse (ends 14,7)"))
    assert len(w.explanation.levels.schedule) == len(editor.default) - 1
    calls = list(w.compute.calls)
    change(w, lambda: setattr(editor.presets, "value", "default"))     # the schedule first computed
    assert w.compute.calls == calls and "(cached)" in w.status.message.value
    change(w, lambda: setattr(editor.stride_box(0), "value", editor.default[0][1] - 1))
    change(w, lambda: setattr(editor.stride_box(0), "value", editor.default[0][1]))   # back by hand
    assert len(w.compute.calls) == len(calls) + 1 and "(cached)" in w.status.message.value


def test_invalid_setting_shows_error_and_keeps_last_figure(bench):
    w = bench
    change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    good, title = heat(w), w.overlay.view.figure.layout.title.text
    finest = len(w.explainer.controls["schedule"].levels) - 1
    patch = w.explainer.controls["schedule"].levels[finest][0]
    w.explainer.controls["schedule"].stride_box(finest).value = patch + 1
    assert w.wait(30)
    assert "stride" in w.status.error.value and "larger than its patch" in w.status.error.value
    np.testing.assert_array_equal(heat(w), good)
    assert w.overlay.view.figure.layout.title.text == title
    # the UI stays usable: fixing the setting draws again
    change(w, lambda: setattr(w.explainer.controls["schedule"].stride_box(finest), "value", max(1, patch // 2)))
    assert w.status.error.value == ""


def test_fmo_draws_each_level_before_the_final_map(bench):
    w = bench
    draws = w.overlay.view.draws
    change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    levels = len(w.explanation.levels.schedule)
    assert w.overlay.view.draws - draws >= levels + 1        # one per level, then the final map


def test_rise_draws_intermediate_maps(shapes, scene):
    shown = []
    e = wb.explain(shapes, scene.image, "rise", num_masks=4000, partial=shown.append)
    assert len(shown) >= 1 and all(p.fraction < 1 for p in shown)
    assert shown[-1].heatmap.shape == e.heatmap.shape
    # the last partial map (most masks) already looks like the final one
    assert np.corrcoef(shown[-1].heatmap.ravel(), e.heatmap.ravel())[0, 1] > 0.9


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


def test_ablation_ca_shows_sensitivity_before_the_contexts(shapes, scene):
    shown = []
    e = wb.explain(shapes, scene.image, "ablation_ca", contexts=16, partial=shown.append)
    assert len(shown) == 1 and shown[0].fraction < 1
    np.testing.assert_allclose(shown[0].heatmap, e.heatmap, atol=1e-6)   # step 2 is final before step 3


def test_sweep_and_sanity_views_update(bench):
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

    w.explainer.picker.value = "gradient"
    assert w.wait(60)
    w.sanity.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    layers = list(w.sanity.figure.data[0].x)
    assert len(layers) == len(w.sanity.result.layers) and w.sanity.figure.data[0].y[-1] < 0.5
    assert len(w.sanity.maps.data) >= 2
    lowest = min(min(trace.y) for trace in w.sanity.figure.data)
    assert w.sanity.figure.layout.yaxis.range[0] < lowest              # negative correlations stay visible


def test_spray_view_shows_clusters_and_a_clicked_heatmap(bench):
    w = bench
    w.explainer.picker.value = "gradient"
    assert w.wait(60)
    assert w.spray.source.value == "lrp_epsilon_gamma_box" and w.spray.images.value == 60
    w.spray.images.value = 12
    w.spray.request()
    assert w.wait(180) and w.status.error.value == "", w.status.error.value
    result = w.spray.result
    assert sum(len(t.x) for t in w.spray.figure.data) == 12
    assert len(w.spray.figure.data) == result.n_clusters
    title = w.spray.figure.layout.title.text
    assert title.startswith(f"{clusters(result.n_clusters)} ("), title
    assert (clusters(1), clusters(3)) == ("1 cluster", "3 clusters")
    w.spray.show_point(3)
    titles = [a.text for a in w.spray.maps.layout.annotations]
    assert titles[0] == "image 3" and titles[1].startswith(f"cluster {result.labels[3]}")
    # the tab's heatmaps: LRP by default (the paper's), the current explainer's on request
    from workbench.analysis.spray import pool_heatmaps
    from workbench.data.scenes import images_with_class

    target = w.state.resolved_target()
    first = images_with_class(target, 1, seed=9191, marked=1)
    for source, method in (("lrp_epsilon_gamma_box", "lrp_epsilon_gamma_box"), ("current", "gradient")):
        w.spray.source.value = source
        w.spray.request()
        assert w.wait(180) and w.status.error.value == "", w.status.error.value
        expected = pool_heatmaps(wb.explain_batch(w.state.model, first, method, target=target), 32)[0]
        np.testing.assert_allclose(w.spray.result.heatmaps[0], expected, rtol=1e-5, atol=1e-9)


def drawn(w) -> tuple[float, float, float, float]:
    """(zmin, zmax) the figure tells the browser, and the min/max of the map it draws."""
    trace = w.overlay.view.figure.data[1]
    z = np.array(trace.z, dtype=float)
    assert trace.zauto is False, "zauto must be off so the browser uses this map's zmin/zmax"
    return trace.zmin, trace.zmax, z.min(), z.max()


def test_colour_range_follows_every_switch_and_the_range_control(shapes, scene):
    w = wb.Workbench(shapes, scene.image, method="gradient", debounce=DEBOUNCE)
    for method, name, value in (("lime", "num_samples", 100), ("rise", "num_masks", 300),
                                ("ablation_ca", "contexts", 16)):
        w.state.set_param(name, value, method)
    assert w.wait(60)
    for method in ("lime", "rise", "gradient", "fmo", "ablation_ca", "fmo", "gradient", "fmo", "rise"):
        w.explainer.picker.value = method
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        low, high, z_low, z_high = drawn(w)
        if wb.explainers.registry.get_method(method).signed and z_low < 0:
            peak = max(abs(z_low), abs(z_high))
            assert (low, high) == pytest.approx((-peak, peak)), method
        else:
            assert (low, high) == pytest.approx((z_low, z_high)), method
        assert w.overlay.colour_scale.value == w.overlay.view.drawn_scale      # the drop-down names what is drawn

    # unsigned (RISE) on screen: a scale change applies to it and leaves the range alone
    w.overlay.colour_scale.value = "Viridis"
    assert drawn(w)[:2] == pytest.approx(drawn(w)[2:])
    w.explainer.picker.value = "gradient"                      # signed maps keep their own scale
    assert w.wait(60)
    assert w.overlay.colour_scale.value == "RdBu_r" and w.overlay.colour_scale.description == "colours (±)"
    w.explainer.picker.value = "rise"
    assert w.wait(60)
    assert w.overlay.colour_scale.value == "Viridis"

    w.overlay.colour_range.value = "symmetric"
    low, high, z_low, z_high = drawn(w)
    assert (low, high) == pytest.approx((-max(abs(z_low), abs(z_high)), max(abs(z_low), abs(z_high))))
    # around zero an unsigned scale would paint the background mid-scale: the diverging scale is drawn
    import plotly.graph_objects as go
    assert w.overlay.view.figure.data[1].colorscale == go.Heatmap(colorscale="RdBu_r").colorscale
    assert w.overlay.colour_scale.value == w.overlay.view.drawn_scale == "RdBu_r" and w.overlay.colour_scale.description == "colours (±)"
    w.overlay.colour_range.value = "fixed"                          # starts from the range on screen
    assert (w.overlay.range_low.value, w.overlay.range_high.value) == pytest.approx((low, high))
    w.overlay.range_low.value, w.overlay.range_high.value = 0.1, 0.2
    assert drawn(w)[:2] == pytest.approx((0.1, 0.2))
    w.overlay.range_low.value = 0.3                                 # low above high: a clear error, range kept
    assert "colour range" in w.status.error.value and "low &lt; high" in w.status.error.value
    assert drawn(w)[:2] == pytest.approx((0.1, 0.2))
    w.overlay.range_reset.click()
    assert w.overlay.colour_range.value == "auto" and drawn(w)[:2] == pytest.approx(drawn(w)[2:])
    assert w.overlay.colour_scale.value == "Viridis" and w.overlay.colour_scale.description == "colours"   # its own scale again


def test_colour_range_modes():
    from workbench.render import colour_range

    heat = np.array([[-1.0, 0.5], [2.0, 0.0]])
    assert colour_range(heat, signed=True) == (-2.0, 2.0)
    assert colour_range(heat, signed=False) == (-1.0, 2.0)
    assert colour_range(heat + 5, signed=False, mode="symmetric") == (-7.0, 7.0)
    assert colour_range(heat, signed=False, mode="fixed", fixed=(0, 1)) == (0.0, 1.0)
    assert colour_range(np.full((2, 2), 3.0), signed=False) == (2.5, 3.5)      # constant maps still drawn
    for bad in (dict(mode="fixed"), dict(mode="fixed", fixed=(1, 0)), dict(mode="log")):
        with pytest.raises(ValueError, match="mode|fixed"):
            colour_range(heat, signed=False, **bad)


def test_results_of_another_image_model_target_or_method_are_marked_stale(bench):
    w = bench
    w.curves.steps.value = 5
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    curves = w.curves.freshness
    assert not curves.stale and len(w.curves.figure.data[0].x) > 0
    w.image.source.value = "scene"                           # another image
    assert w.wait(120)
    assert curves.stale and "another image" in curves.banner.value
    w.image.source.value = "given"                           # back to the image it was computed for
    assert w.wait(120)
    assert not curves.stale
    w.explainer.picker.value = "gradient"
    assert w.wait(60)
    assert "another method" in curves.banner.value
    w.sanity.request()
    assert w.wait(120) and not w.sanity.freshness.stale
    w.model.target.value = w.model.target.options[2][1]
    assert w.wait(60)
    assert "another target" in w.sanity.freshness.banner.value


def test_every_drop_down_option_is_accepted_by_what_it_feeds(bench):
    from workbench.analysis.sweep import DEFAULT_METRICS
    from workbench.explainers.registry import get_method
    from workbench.metrics import evaluate

    w = bench
    for fill in w.curves.fill.options:                              # evaluation fill
        evaluate(w.state.model, w.state.image, w.explanation, steps=2, fill=fill)
    compared = [name for _, name in w.comparison.methods.options]
    for method in compared:                                  # comparison list and explainer drop-down
        get_method(method)
    assert {value for _, value in w.explainer.picker.options} == set(compared)
    assert {name for _, name in w.sweep.metric.options} <= set(DEFAULT_METRICS)
    w.explainer.picker.value = "ablation_ca"                     # lists show words, not internal names
    assert w.wait(120)
    for listed in (w.comparison.methods, w.sweep.metric, w.sweep.param, w.explainer.picker):
        assert all("_" not in label for label, _ in listed.options), listed.options
    for scale in w.overlay.colour_scale.options:
        w.overlay.view.set_colour_scale(scale)
    for mode in w.overlay.colour_range.options:
        w.overlay.colour_range.value = mode
        assert w.status.error.value == "", w.status.error.value
    w.overlay.colour_range.value = "auto"
    for _, target in w.model.target.options:
        w.state.target = None if target == -1 else target
        w.state.resolved_target()
    for name in w.image.photo.options:
        from workbench.data.photos import photo
        assert photo(name).ndim == 3
    w.explainer.picker.value = "fmo"
    assert w.wait(120)
    editor = w.explainer.controls["schedule"]
    for preset in editor.presets.options:                     # FMO presets give schedules FMO accepts
        get_method("fmo").spec.from_dict({"schedule": editor.preset(preset)}).check_image(224, 224)
    for method in compared:                                   # every spec drop-down's choices are valid
        spec = get_method(method).spec
        for p in spec.params():
            for choice in p.choices or ():
                spec.from_dict({p.name: choice})


def test_errors_number_fmo_levels_as_the_editor_and_sweep_values_name_their_field(bench):
    w = bench
    w.explainer.picker.value = "fmo"
    assert w.wait(120)
    first_patch = w.explainer.controls["schedule"].levels[0][0]
    w.explainer.controls["schedule"].stride_box(0).value = first_patch + 8           # the row labelled "level 1"
    assert w.wait(30)
    assert "level 1 stride" in w.status.error.value, w.status.error.value
    assert w.explainer.controls["schedule"].rows.children[0].children[0].description == "level 1 patch"
    w.explainer.controls["schedule"].stride_box(0).value = first_patch // 2
    assert w.wait(120)
    for text in ("abc", "1,x", "0.1:0.5", ""):
        w.sweep.values.value = text
        w.sweep.request()
        assert "sweep: values: expected numbers separated by commas" in w.status.error.value, w.status.error.value
        assert "ast." not in w.status.error.value


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


def test_scene_truth_outline_and_pointing_marker(shapes):
    from workbench.data.scenes import make_scene
    from workbench.metrics.localisation import peak, pointing_game

    w = wb.Workbench(shapes, method="gradient", debounce=DEBOUNCE)          # scene 0 by default
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    mask = make_scene(0).class_mask(w.explanation.target)
    truth, marker = w.overlay.view.figure.data[4], w.overlay.view.figure.data[3]
    assert truth.source and truth.source.startswith("data:image/png")
    row, col = peak(w.explanation.heatmap)
    assert (list(marker.x), list(marker.y)) == ([col], [row])
    assert w.explanation.heatmap[row, col] == w.explanation.heatmap.max()
    hit = pointing_game(w.explanation.heatmap, mask) >= 0.5
    assert marker.marker.color == ("#00c853" if hit else "#ff1744")
    w.overlay.truth.value = False                                    # the check box hides both
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []
    w.overlay.truth.value = True
    absent = next(c for c in range(len(shapes.class_names)) if not make_scene(0).class_mask(c).any())
    w.model.target.value = absent                                         # a class not in the scene: no truth
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    assert w.explanation.target == absent
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []
    w.image.source.value = "photo"                                         # a photo has no ground truth
    assert w.wait(60)
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []


def test_descriptions_exports_quality_and_time_estimate(shapes):
    from workbench.explainers.registry import methods
    from workbench.render import colour_range
    from workbench.ui.components.explainer import Explainer
    from workbench.ui.components.status import Status
    from workbench.ui.exports import decode_csv_link

    for name, method in methods().items():                                 # every method explains itself
        assert len(method.spec.description) > 40, name
        assert method.spec.description in Explainer.description_html(name).value.replace("&#x27;", "'")
    assert Status.time_left(done=10, total=40, elapsed=2.0) == pytest.approx(6.0)   # 5 passes/s, 30 left
    assert Status.time_left(done=0, total=40, elapsed=2.0) is None

    w = wb.Workbench(shapes, method="gradient", debounce=DEBOUNCE)
    w.state.set_param("stride", 28, "occlusion")
    w.state.set_param("patch", 56, "occlusion")
    assert w.wait(60)
    assert "The gradient of the target logit" in w.explainer.controls_box.children[1].value
    w.curves.steps.value = 5
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    curves = decode_csv_link(w.curves.export.value)
    assert list(curves.columns) == ["regions perturbed", "morf score", "lerf score", "random score"]
    np.testing.assert_allclose(curves["morf score"], w.curves.figure.data[0].y)

    w.comparison.methods.value = ("gradient", "occlusion")
    shown = []
    w.status.message.observe(lambda c: shown.append(c["new"]), names="value")
    w.comparison.request()
    assert w.wait(240) and w.status.error.value == "", w.status.error.value
    assert "1/2 methods" in " ".join(shown) and "passes" not in " ".join(shown)   # it counts methods
    assert w.status.progress.value == w.status.progress.max and w.status.progress.bar_style == "success"   # the bar finishes
    assert w.status.message.value.startswith("comparison of 2 methods done"), w.status.message.value
    table = decode_csv_link(w.comparison.export.value)
    assert list(table["method"]) == ["gradient", "occlusion"] and table["aopc_morf"].notna().all()
    titles = [a.text for a in w.comparison.figure.layout.annotations]
    for title, (_, row) in zip(titles, table.iterrows()):                  # the figures drawn are those exported
        assert f"AOPC {row['aopc_morf']:.3f}" in title and ("pointing hit" if row["pointing hit"] else "miss") in title
        # one fact a line, so a caption stays over its own tile ("method: N passes, S s" ran into its neighbour's)
        method_line, cost_line, _ = title.split("<br>")
        assert method_line == row["method"] and cost_line.endswith(" s") and "passes" in cost_line
    from workbench.ui.figures import CAPTION_LINE, TOOLBAR
    assert w.comparison.figure.layout.margin.t >= TOOLBAR + 3 * CAPTION_LINE     # room for the three lines
    images = [t for t in w.comparison.figure.data if t.type == "image"]
    maps = [t for t in w.comparison.figure.data if t.type == "heatmap"]
    assert len(images) == len(maps) == 2 and all(m.showscale is not False and m.colorbar.orientation == "h"
                                                 for m in maps)
    for trace, method in zip(maps, ("gradient", "occlusion")):            # each colour bar spans its own map
        z = np.array(trace.z, dtype=float)
        assert (trace.zmin, trace.zmax) == pytest.approx(colour_range(z, signed=trace.zmin < 0))


def test_fast_toggle_explains_in_auto_precision_and_says_what_it_trades(bench):
    import torch
    from workbench.precision import resolve_precision

    w = bench
    seen = []
    counting = w.session.compute
    w.session.compute = lambda *args, **kwargs: (seen.append(kwargs["precision"]), counting(*args, **kwargs))[1]
    change(w, lambda: setattr(w.explainer.fast, "value", True))
    assert seen == ["auto"] and w.state.precision == "auto"
    assert w.explanation.extras.get("precision", "float32") == resolve_precision("auto", torch.device("cpu"))
    change(w, lambda: setattr(w.explainer.fast, "value", False))     # back to float32: the cached map, no new run
    assert seen == ["auto"] and w.state.precision == "float32"
    assert "reduced precision" in w.explainer.fast.description and "accuracy" in w.explainer.fast.tooltip


def test_switching_back_shows_the_kept_controls_with_their_values(bench):
    """A method's controls are built once per image size: switching back shows the same widgets with what the
    user set, and a value set from code (not through the control) builds them again to show it."""
    w = bench
    patch = w.explainer.controls["patch"]
    change(w, lambda: setattr(patch, "value", 48))
    change(w, lambda: setattr(w.explainer.picker, "value", "lime"))
    lime_samples = w.explainer.controls["num_samples"]
    change(w, lambda: setattr(w.explainer.picker, "value", "occlusion"))
    assert w.explainer.controls["patch"] is patch and patch.value == 48
    assert w.state.params_for("occlusion")["patch"] == 48
    w.state.set_param("stride", 16, "occlusion")               # from code: the kept panel would show 28
    change(w, lambda: setattr(w.explainer.picker, "value", "lime"))
    assert w.explainer.controls["num_samples"] is lime_samples
    change(w, lambda: setattr(w.explainer.picker, "value", "occlusion"))
    assert w.explainer.controls["patch"] is not patch and w.explainer.controls["stride"].value == 16
    assert w.explainer.controls["patch"].value == 48
    calls = len(w.compute.calls)
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 14))     # the rebuilt controls are live
    assert len(w.compute.calls) == calls + 1 and w.explanation.params["stride"] == 14


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


def test_no_slider_squeezes_its_default_against_an_end():
    """Every numeric control of every method, at the method's defaults: a linear slider shows its default at
    least 2% into its range (300 iterations on a 1-100000 slider sat at the left end, knob unmovable by
    hand), a log slider's range holds its default, and a number box holds it."""
    import ipywidgets as widgets

    from workbench.explainers.registry import get_method, methods
    from workbench.ui.controls import control_for

    checked = 0
    for name in methods():
        for p in get_method(name).params:
            if p.kind not in ("int", "float"):
                continue
            control = control_for(p, p.default, lambda *_: None)
            where = f"{name}.{p.name} ({type(control).__name__})"
            if isinstance(control, (widgets.IntSlider, widgets.FloatSlider)):
                share = (control.value - control.min) / (control.max - control.min)
                assert control.value == control.min or 0.02 <= share <= 1, (where, share)
            elif isinstance(control, widgets.FloatLogSlider):
                assert 10 ** control.min <= control.value <= 10 ** control.max, where
                assert control.max - control.min >= 1, where          # at least a decade to move in
            else:
                assert control.min <= control.value <= control.max, where
            checked += 1
    assert checked >= 50


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


def test_cam_layer_picker_lists_the_model_layers_and_each_cam_draws(shapes, scene):
    """A CAM's ``layer`` control is a drop-down of the model's feature-map layers, ``auto (<resolved>)`` first;
    choosing a layer recomputes on it; every CAM chosen in the picker draws its map."""
    import ipywidgets as widgets

    w = wb.Workbench(shapes, scene.image, method="grad_cam", debounce=DEBOUNCE)
    try:
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        picker = w.explainer.controls["layer"]
        assert isinstance(picker, widgets.Dropdown) and picker.value == "auto" and picker.label == "auto (features)"
        names = [name for _, name in picker.options]
        assert names[0] == "auto" and {"features", "features.2", "features.17"} <= set(names)
        assert "pool" not in names and "classifier" not in names
        assert dict((name, label) for label, name in picker.options)["features.2"] == "features.2 (16x112x112)"
        assert w.explanation.extras["layer"] == "features"
        first = heat(w).copy()
        picker.value = "features.8"
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        assert w.explanation.params["layer"] == "features.8" and w.explanation.extras["layer"] == "features.8"
        assert heat(w).shape == first.shape and not np.allclose(heat(w), first)
        w.state.set_param("layer", "features.8", "layer_cam")
        w.state.set_param("layer", "no_such_layer", "hirescam")    # e.g. set for another model: back to auto
        w.explainer.rebuild()
        assert w.state.params_for("hirescam")["layer"] == "auto"
        assert w.state.params_for("layer_cam")["layer"] == "features.8"
        for method in ("grad_cam_plus_plus", "hirescam", "layer_cam", "eigen_cam", "score_cam"):
            w.explainer.picker.value = method
            if method == "score_cam":     # 16 channels: 16 masked images
                w.explainer.controls["layer"].value = "features.2"
            assert w.wait(180) and w.status.error.value == "", (method, w.status.error.value)
            assert w.explanation.method == method and "layer" in w.explainer.controls
            assert np.isfinite(heat(w)).all() and heat(w).max() > 0, method
    finally:
        w.close()
