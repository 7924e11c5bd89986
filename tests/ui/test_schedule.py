"""FMO's schedule editor: presets, invalid settings, level numbering in errors, one drawn map per level."""
from __future__ import annotations

import numpy as np

from .helpers import change, heat


def test_going_back_to_the_default_fmo_preset_answers_from_the_cache(bench):
    w = bench
    change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    editor = w.explainer.controls["schedule"]
    change(w, lambda: setattr(editor.presets, "value", "coarse (ends 14,7)"))
    assert len(w.explanation.levels.schedule) == len(editor.default) - 1
    calls = list(w.session.compute.calls)
    change(w, lambda: setattr(editor.presets, "value", "default"))     # the schedule first computed
    assert w.session.compute.calls == calls and "(cached)" in w.status.message.value
    change(w, lambda: setattr(editor.stride_box(0), "value", editor.default[0][1] - 1))
    change(w, lambda: setattr(editor.stride_box(0), "value", editor.default[0][1]))   # back by hand
    assert len(w.session.compute.calls) == len(calls) + 1 and "(cached)" in w.status.message.value


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


def test_fmo_draws_each_level_before_the_final_map(bench):
    w = bench
    draws = w.overlay.view.draws
    change(w, lambda: setattr(w.explainer.picker, "value", "fmo"))
    levels = len(w.explanation.levels.schedule)
    assert w.overlay.view.draws - draws >= levels + 1        # one per level, then the final map


def test_the_preset_drop_down_names_the_schedule_or_says_custom():
    from workbench.explainers.fmo import default_schedule
    from workbench.ui.components.schedule import CUSTOM, ScheduleEditor

    sent = []
    editor = ScheduleEditor(None, (224, 224), sent.append)
    default = [tuple(level) for level in default_schedule(224, 224)]
    assert editor.presets.value == "default"
    assert editor.presets.options[1] == f"coarse (ends {default[-2][0]},{default[-2][1]})"   # its real last level
    editor.add_level()                                   # "add level": no longer a preset
    assert editor.presets.value == CUSTOM == "custom" and len(sent[-1]) == len(default) + 1
    editor.remove_level(len(editor.levels) - 1)          # back to the default by hand
    assert editor.presets.value == "default" and sent[-1] is None
    editor.presets.value = editor.presets.options[1]     # the coarse preset
    assert editor.levels == default[:-1] and editor.presets.value.startswith("coarse")
    editor.set_level(0, stride=default[0][1] - 1)
    assert editor.presets.value == "custom"
    editor.presets.value = "custom"                      # choosing custom changes nothing
    assert editor.levels[0][1] == default[0][1] - 1
    assert ScheduleEditor(default[:-1], (224, 224), sent.append).presets.value.startswith("coarse")
