"""The explainer component: every control type drives the figure, kept controls, sliders, the CAM layer picker, the
fast toggle, drop-downs accepted by what they feed."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb

from .helpers import DEBOUNCE, change, heat


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
    calls = len(w.session.compute.calls)
    w.overlay.opacity.value = 0.25
    assert w.overlay.view.figure.data[1].opacity == pytest.approx(0.25)
    assert len(w.session.compute.calls) == calls


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
    calls = len(w.session.compute.calls)
    change(w, lambda: setattr(w.explainer.controls["stride"], "value", 14))     # the rebuilt controls are live
    assert len(w.session.compute.calls) == calls + 1 and w.explanation.params["stride"] == 14


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


def test_fast_toggle_explains_in_auto_precision_and_says_what_it_trades(bench):
    w = bench
    seen = []
    counting = w.session.compute
    w.session.compute = lambda *args, **kwargs: (seen.append(kwargs["precision"]), counting(*args, **kwargs))[1]
    change(w, lambda: setattr(w.explainer.fast, "value", True))
    assert seen == ["auto"] and w.state.precision == "auto"
    extras = w.explanation.extras                          # the probe's choice (workbench.execution), said
    assert extras["precision"] in ("float32", "bfloat16") and extras["runtime"].endswith("bfloat16") == (
        extras["precision"] == "bfloat16") and "agree with float32 torch" in extras["execution"]
    tip = w.explainer.fast.tooltip                         # what the box means, then what this run chose
    assert "where the probe shows the map unchanged" in tip and "AVX512" not in tip
    assert f"Last run: precision {extras['precision']}, runtime {extras['runtime']} ({extras['execution']})." in tip
    change(w, lambda: setattr(w.explainer.fast, "value", False))     # back to float32: the cached map, no new run
    assert seen == ["auto"] and w.state.precision == "float32"
    assert "reduced precision" in w.explainer.fast.description and "Last run" not in w.explainer.fast.tooltip


def test_every_drop_down_option_is_accepted_by_what_it_feeds(bench):
    from workbench.analysis.sweep import DEFAULT_METRICS
    from workbench.explainers.registry import get_method, methods
    from workbench.metrics import evaluate

    w = bench
    for fill in w.curves.fill.options:                              # evaluation fill
        evaluate(w.state.model, w.state.image, w.explanation, steps=2, fill=fill)
    compared = [name for _, name in w.comparison.methods.options]
    for method in compared:                                  # comparison list and explainer drop-down
        get_method(method)
    refused = {name for name, m in methods().items() if m.refusal(w.state.model.module) is not None}
    assert refused == {"attention_rollout", "attnlrp"}                 # the comparison offers what the model takes
    assert {value for _, value in w.explainer.picker.options} == set(compared) | refused
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


def test_the_estimate_shows_a_long_run_at_the_current_settings_from_the_last_runs_rate(bench):
    """The explainer panel's estimate: planned passes (Occlusion: one per window and the clean pass) at the rate
    the last run of the method measured here; shown only when over five seconds; it follows the settings."""
    w = bench
    shown = w.explanation                                     # the bench's first run recorded its own rate
    assert w.session.pass_rates.rate(w.state.model.name, shown.shape, "occlusion") == pytest.approx(
        shown.cost.forward_passes / shown.cost.seconds)
    size = w.state.image.shape[:2]

    def at_ten_passes_a_second(apply):                      # a slow machine's rate, set before each change
        w.session.pass_rates.record(w.state.model.name, size, "occlusion", wb.Cost(forward_passes=10, seconds=1.0))
        apply()
        return w.explainer.estimate.value

    text = at_ten_passes_a_second(lambda: setattr(w.explainer.controls["patch"], "value", 16)
                                  or setattr(w.explainer.controls["stride"], "value", 8))
    assert "about 1 min</b>" in text and "730 passes at 10 per s" in text     # 27 x 27 windows + 1: 73 s
    text = at_ten_passes_a_second(lambda: setattr(w.explainer.controls["stride"], "value", 16))
    assert "about 20 s</b>" in text and "197 passes" in text                  # 14 x 14 + 1: 19.7 s
    text = at_ten_passes_a_second(lambda: setattr(w.explainer.controls["stride"], "value", 56))
    assert text == ""                                                         # 4 x 4 + 1: 1.7 s, not shown
    w.session.pass_rates.record(w.state.model.name, size, "occlusion", wb.Cost(forward_passes=1, seconds=1.0))
    w.explainer.controls["patch"].value = 56                  # back to the bench's run: 7 x 7 + 1 passes, 50 s at
    w.explainer.controls["stride"].value = 28                 # 1 per s, but its map is kept: nothing to estimate
    assert w.state.key() in w.session.explanations.cache and w.explainer.estimate.value == ""
    w.session.pass_rates.record(w.state.model.name, size, "occlusion", wb.Cost(forward_passes=1, seconds=1.0))
    w.explainer.controls["stride"].value = 27                 # 8 x 8 + 1 at 1 per s: not run yet, shown
    assert "about 1 min</b>" in w.explainer.estimate.value and "65 passes" in w.explainer.estimate.value
    w.session.pass_rates.record(w.state.model.name, size, "occlusion", wb.Cost(forward_passes=10, seconds=1.0))
    w.explainer.picker.value = "rise"                          # no run of RISE here yet: no rate, no estimate
    assert w.explainer.estimate.value == ""
    w.session.cancel()
    assert w.wait(60)
