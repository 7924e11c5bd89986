"""The notebooks' printed numbers are compared within what the computation guarantees (notebooks/compare.py):
rounding never fails a run, a real regression still does."""
from __future__ import annotations

import nbformat
import pytest

from notebooks.compare import align_within_tolerance, numbers_agree, stated_tolerance


@pytest.mark.parametrize("stored, fresh", [
    ("heat on the object=0.61", "heat on the object=0.61"),
    ("heat on the object=0.61", "heat on the object=0.60"),      # a value on a rounding boundary
    ("AOPC 19.241", "AOPC 19.242"),
    ("score -0.000", "score 0.000"),
    ("fmo     -0.001   1.519", "fmo      0.000   1.519"),      # a column whose sign changed lines up
])
def test_rounding_in_the_last_digit_agrees(stored, fresh):
    assert numbers_agree(stored, fresh)


@pytest.mark.parametrize("stored, fresh", [
    ("heat on the object=0.61", "heat on the object=0.59"),      # two units: more than rounding
    ("passes=150", "passes=151"),                                # integers are exact
    ("target=circle 0.61", "target=square 0.61"),                # so is every word
    ("heat 0.61", "heat 0.610"),                                 # and the printed precision
    ("heat 0.61", "heat 0.61 0.2"),                              # and the number of figures
])
def test_a_real_difference_fails_without_a_stated_tolerance(stored, fresh):
    assert not numbers_agree(stored, fresh)


def test_a_stated_tolerance_widens_decimals_only():
    assert numbers_agree("heat=0.61 passes=61", "heat=0.57 passes=61", tolerance=0.05)
    assert not numbers_agree("heat=0.61 passes=61", "heat=0.55 passes=61", tolerance=0.05)
    assert not numbers_agree("heat=0.61 passes=61", "heat=0.61 passes=62", tolerance=0.05)


def test_the_tolerance_is_read_from_the_cells_comment():
    assert stated_tolerance("x = 1\n# tolerance ±0.05: 60 optimisation steps amplify rounding\nprint(x)") == 0.05
    assert stated_tolerance("# tolerance +-0.1 (why)") == 0.1
    assert stated_tolerance("print('no tolerance here')") == 0.0


def identity(text):
    return text


def test_only_agreeing_texts_are_replaced_and_the_outputs_passed_in_are_kept():
    stored = [nbformat.v4.new_output("stream", name="stdout", text="heat=0.61\n"),
              nbformat.v4.new_output("execute_result", data={"text/plain": "0.25"}, execution_count=1)]
    fresh = [nbformat.v4.new_output("stream", name="stdout", text="heat=0.58\n"),
             nbformat.v4.new_output("execute_result", data={"text/plain": "0.31"}, execution_count=1)]
    aligned = align_within_tolerance(fresh, stored, 0.05, identity)
    assert aligned[0]["text"] == "heat=0.61\n"                 # within ±0.05: compared as the stored text
    assert aligned[1]["data"]["text/plain"] == "0.31"          # 0.06 away: left for nbval to report
    assert fresh[0]["text"] == "heat=0.58\n"                   # the run's own outputs are not changed


def test_the_plugin_wraps_nbvals_comparison(pytestconfig):
    from nbval.plugin import IPyNbCell

    assert getattr(IPyNbCell.compare_outputs, "within_tolerance", False)
