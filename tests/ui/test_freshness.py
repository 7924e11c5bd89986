"""Results of another image, model, target or method are marked stale."""
from __future__ import annotations






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
