"""Insertion and deletion (Petsiuk et al. 2018): curves equal to the hand-computed ones of a model linear in the
pixels, the paper's area formula, and argument checks."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter

import workbench as wb
from conftest import LinearInPixels, assert_same_state, model_state
from workbench.metrics.insertion_deletion import area_under_curve, insertion_deletion_curve


def linear_case(size=(12, 10), seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2, 3, *size)).astype(np.float32)
    image = rng.uniform(0.1, 1.0, size=(*size, 3)).astype(np.float32)
    heat = rng.normal(size=size)      # no ties
    return LinearInPixels(torch.from_numpy(w)), w[0], image, heat


def expected_curve(w, image, substrate, heat, step, kind):
    """f_0 of each step, pixel by pixel: the image where kept, the substrate elsewhere."""
    pixels = image.transpose(2, 0, 1).astype(np.float64)
    order = np.argsort(-heat.ravel(), kind="stable")
    total = heat.size
    scores = []
    for k in range(int(np.ceil(total / step)) + 1):
        changed = np.zeros(total, bool)
        changed[order[:min(k * step, total)]] = True
        changed = changed.reshape(heat.shape)
        keep = ~changed if kind == "deletion" else changed
        composed = np.where(keep[None], pixels, substrate)
        scores.append(float((w * composed).sum()))
    return np.array(scores)


@pytest.mark.parametrize("step", [1, 7, 10])
def test_deletion_equals_the_hand_computed_curve(step):
    model, w, image, heat = linear_case()
    before = model_state(model)
    c = insertion_deletion_curve(model, image, heat, target=0, kind="deletion", step=step, output="logit")
    expected = expected_curve(w, image, 0.0, heat, step, "deletion")   # constant 0: the paper's zero substrate
    np.testing.assert_allclose(c.scores, expected, rtol=1e-5, atol=1e-4)
    # the trapezoid by hand: unit-width axis over n steps
    n = len(expected) - 1
    assert abs(c.auc - sum((expected[k] + expected[k + 1]) / 2 for k in range(n)) / n) <= 1e-4
    assert c.fill == "constant" and c.changed[-1] == heat.size and c.fractions[-1] == 1.0
    assert c.cost.forward_passes == len(expected) + 1
    assert_same_state(before, model_state(model))


def test_insertion_starts_from_the_blurred_image():
    model, w, image, heat = linear_case(size=(40, 36), seed=3)
    c = insertion_deletion_curve(model, image, heat, target=0, kind="insertion", step=36 * 4, output="logit")
    # scipy's Gaussian with the same truncation (3 sigma) and reflect padding (scipy's "mirror")
    blurred = np.stack([gaussian_filter(image[..., ch].astype(np.float64), 5.0, truncate=3.0, mode="mirror")
                        for ch in range(3)])
    expected = expected_curve(w, image, blurred, heat, 36 * 4, "insertion")
    np.testing.assert_allclose(c.scores, expected, rtol=1e-5, atol=1e-3)
    assert c.fill == "blur" and len(c.scores) == 11


def test_area_formula():
    assert area_under_curve([1.0, 1.0, 1.0]) == 1.0
    assert area_under_curve([1.0, 0.0]) == 0.5
    assert abs(area_under_curve([0.0, 1.0, 0.0, 0.0]) - 1 / 3) < 1e-12


def test_a_good_map_deletes_faster_than_its_opposite(shapes):
    scene = wb.data.make_scene((777, 0))
    image = scene.image[::2, ::2]
    target = scene.labels[0]
    good = scene.class_mask(target)[::2, ::2].astype(float)
    good_curve = insertion_deletion_curve(shapes, image, good, target=target, kind="deletion", step=112 * 4)
    bad_curve = insertion_deletion_curve(shapes, image, -good, target=target, kind="deletion", step=112 * 4)
    assert good_curve.auc < bad_curve.auc


@pytest.mark.parametrize("kwargs,match", [
    ({"kind": "both"}, "kind: expected one of"),
    ({"step": 0}, "step: expected an integer from 1 to 1024"),
    ({"fill": "zeros"}, "fill: expected one of"),
    ({"fill": "uniform"}, "fill: expected one of the deterministic fills"),
])
def test_bad_arguments(shapes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        insertion_deletion_curve(shapes, np.zeros((32, 32, 3), np.float32), np.zeros((32, 32)), **kwargs)
