"""A tab with nothing yet says in one line what it will show and which button computes it, its empty figure
hidden; the figure shows (and the hint goes) once a result is drawn."""
from __future__ import annotations

import pytest

BUTTONS = {"curves": "evaluate", "comparison": "compare", "sweep": "sweep", "sanity": "randomise the model",
           "spray": "SpRAy", "correlations": "Ablation-CA"}


@pytest.mark.parametrize("name", sorted(BUTTONS))
def test_an_empty_tab_names_its_button_and_hides_its_empty_figure(bench, name):
    tab = getattr(bench, name)
    assert BUTTONS[name] in tab.hint.value and tab.hint.layout.display is None
    shown = tab.grid if name == "comparison" else tab.figure          # the comparison's tiles sit on a grid
    assert tab.shown.layout.display == "none" and shown in tab.shown.children


def test_the_curves_appear_and_the_hint_goes_after_evaluate(bench):
    bench.curves.request()
    assert bench.wait(120)
    assert bench.curves.shown.layout.display is None and bench.curves.hint.layout.display == "none"
    assert len(bench.curves.figure.data[0].y) > 1


def test_the_loss_tab_says_which_methods_have_a_loss_history(bench):
    assert "NeuroMask" in bench.loss.note.value and bench.loss.plot.layout.display == "none"
