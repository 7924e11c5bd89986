"""The curves tab draws the family chosen for the map on screen: ROAD and insertion / deletion besides region
perturbation, each line the metric's own curve (the UI draws, the metrics compute)."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.metrics import insertion_deletion_curve, road_curve
from workbench.ui.exports import decode_csv_link

DEBOUNCE = 0.02


@pytest.fixture(scope="module")
def small_bench(shapes):
    image = wb.data.make_scene((777, 0)).image[::3, ::3]   # 75 x 75: quick curves
    w = wb.Workbench(shapes, image, method="gradient", debounce=DEBOUNCE)
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    return w, image


def drawn(w):
    return [(t.name, np.asarray(t.x, float), np.asarray(t.y, float)) for t in w.curves.figure.data if t.visible]


def test_road_curves_of_the_map_on_screen(shapes, small_bench):
    w, image = small_bench
    assert [value for _, value in w.curves.family.options] == ["region", "road", "insertion_deletion"]
    w.curves.family.value = "road"
    assert w.curves.region_settings.layout.display == "none"   # region settings do not apply
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    lines = drawn(w)
    assert [name.split()[0] for name, _, _ in lines] == ["MoRF", "LeRF"]
    for (name, x, y), order in zip(lines, ("morf", "lerf")):
        expected = road_curve(shapes, image, w.explanation, order=order)
        np.testing.assert_allclose(x, expected.percentages)
        np.testing.assert_allclose(y, expected.scores, rtol=1e-5, atol=1e-5)
        assert f"{expected.mean_drop:.3f}" in name
    assert w.curves.figure.layout.title.text.startswith("ROAD") and "removed" in w.curves.figure.layout.xaxis.title.text
    table = decode_csv_link(w.curves.export.value)
    assert list(table.columns) == ["% pixels removed", "morf score", "lerf score"]


def test_insertion_and_deletion_curves_of_the_map_on_screen(shapes, small_bench):
    w, image = small_bench
    w.curves.family.value = "insertion_deletion"
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    lines = drawn(w)
    assert [name.split()[0] for name, _, _ in lines] == ["insertion", "deletion"]
    for (name, x, y), kind in zip(lines, ("insertion", "deletion")):
        expected = insertion_deletion_curve(shapes, image, w.explanation, kind=kind)
        np.testing.assert_allclose(x, expected.fractions)
        np.testing.assert_allclose(y, expected.scores, rtol=1e-5, atol=1e-5)
        assert f"AUC {expected.auc:.3f}" in name
    assert len(w.curves.figure.data) == 3 and not w.curves.figure.data[2].visible   # the third line hidden
    table = decode_csv_link(w.curves.export.value)
    assert set(table["curve"]) == {"insertion", "deletion"}


def test_back_to_region_perturbation(small_bench):
    w, _ = small_bench
    w.curves.family.value = "region"
    assert w.curves.region_settings.layout.display is None
    w.curves.steps.value = 5
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    assert [name.split()[0] for name, _, _ in drawn(w)] == ["MoRF", "LeRF", "random"]
    assert w.curves.figure.layout.xaxis.title.text == "regions perturbed"


def test_an_unknown_family_is_refused(small_bench):
    w, _ = small_bench
    with pytest.raises(ValueError, match="curve: expected one of"):
        w.session.request_evaluation(w.explanation, {}, None, curve="roc")
