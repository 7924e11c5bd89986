"""LIME: exact recovery of an additive model, equality with the lime package's LimeBase, validation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import LinearInPixels


def block_segments(height=24, width=36, rows=2, cols=3):
    r = np.arange(height)[:, None] * rows // height
    c = np.arange(width)[None, :] * cols // width
    return (r * cols + c).astype(np.int64)


def additive_model(image, segments, w):
    """f(x) = sum_j w_j * (share of segment j's pixel mass still visible), with hidden pixels set to 0."""
    x = torch.from_numpy(image).permute(2, 0, 1)
    weights = torch.zeros(2, *x.shape)
    for j, wj in enumerate(w):
        inside = torch.from_numpy(segments == j)
        weights[0][:, inside] = wj / x[:, inside].sum()
    return LinearInPixels(weights)


def test_recovers_an_additive_model_exactly():
    """With alpha=0 (LIME's ridge without shrinkage) the weighted least squares fit is exact; LIME's
    default alpha=1 shrinks coefficients slightly, checked loosely below."""
    rng = np.random.default_rng(0)
    segments = block_segments()
    image = rng.uniform(0.2, 1.0, size=(24, 36, 3)).astype(np.float32)
    w = np.array([2.0, -1.0, 0.5, 3.0, -2.5, 1.5])
    model = additive_model(image, segments, w)
    e = wb.explain(model, image, "lime", target=0, segments=segments, fill="constant", fill_value=0.0,
                   output="logit", alpha=0.0, num_samples=500)
    np.testing.assert_allclose(e.extras["coefficients"], w, rtol=1e-3)
    assert abs(e.extras["intercept"]) < 1e-4 and e.extras["score"] > 0.999999
    for j, wj in enumerate(w):
        assert np.allclose(e.heatmap[segments == j], wj, rtol=1e-3)
    shrunk = wb.explain(model, image, "lime", target=0, segments=segments, fill="constant", output="logit")
    np.testing.assert_allclose(shrunk.extras["coefficients"], w, rtol=0.1)


def test_equals_lime_package_on_the_same_samples(shapes, scene):
    from lime.lime_base import LimeBase
    from sklearn.metrics import pairwise_distances

    e = wb.explain(shapes, scene.image, "lime", n_segments=30, num_samples=200, seed=3, fill="segment-mean",
                   output="probability")  # the package regresses what its classifier_fn returns (hide_color None)
    segments, samples = e.segments, e.extras["samples"].astype(np.float64)
    # Score the same perturbed images independently: hidden segments take their mean colour.
    x = shapes.preprocess(scene.image)[0].numpy()
    means = np.stack([x[:, segments == j].mean(axis=1) for j in range(segments.max() + 1)])  # (K, 3)
    fill = means[segments].transpose(2, 0, 1)
    batch = np.stack([np.where(z[segments][None].astype(bool), x, fill) for z in samples]).astype(np.float32)
    with torch.no_grad():  # the model's own probability function: the target is nearly saturated here, so
        # R^2 divides by a tiny variance and 1e-8 differences (sigmoid vs exp(logsigmoid)) would swing it
        probs = shapes.probabilities(shapes.module(torch.from_numpy(batch))).numpy()
    distances = pairwise_distances(samples, samples[:1], metric="cosine").ravel()
    base = LimeBase(kernel_fn=lambda d: np.sqrt(np.exp(-(d ** 2) / 0.25 ** 2)), random_state=0)
    intercept, local_exp, score, _ = base.explain_instance_with_data(
        samples, probs, distances, e.target, num_features=samples.shape[1], feature_selection="none")
    reference = np.zeros(samples.shape[1])
    for feature, weight in local_exp:
        reference[feature] = weight
    np.testing.assert_allclose(e.extras["coefficients"], reference, atol=1e-6)
    assert abs(e.extras["intercept"] - intercept) <= 1e-6 and abs(e.extras["score"] - score) <= 1e-6


def test_seed_and_batch_size(shapes, scene):
    a = wb.explain(shapes, scene.image, "lime", num_samples=100, seed=1, batch_size=1).heatmap
    b = wb.explain(shapes, scene.image, "lime", num_samples=100, seed=1, batch_size=64).heatmap
    c = wb.explain(shapes, scene.image, "lime", num_samples=100, seed=2).heatmap
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("params,match", [
    ({"n_segments": 1}, "n_segments: expected an integer >= 2"),
    ({"num_samples": 9}, "num_samples: expected an integer >= 10"),
    ({"kernel_width": 0}, "kernel_width: expected a number >= 0.01"),
    ({"fill": "noise"}, "fill: expected one of"),
    ({"segments": np.zeros((5, 5), dtype=int)}, r"segments: expected an integer label map of shape \(224, 224\)"),
])
def test_bad_parameters(shapes, scene, params, match):
    with pytest.raises(ValueError, match=match):
        wb.explain(shapes, scene.image, "lime", **params)


def test_given_segments_are_renumbered_in_value_order_without_touching_them():
    """Negative, sparse and unsorted labels become 0..K-1 in the order of their values (int64)."""
    from workbench.superpixels import check_segments

    given = np.array([[40, -3, 7], [7, 1000, -3]], dtype=np.int32)
    before = given.copy()
    np.testing.assert_array_equal(check_segments(given, 2, 3), [[2, 0, 1], [1, 3, 0]])
    assert check_segments(given, 2, 3).dtype == np.int64
    np.testing.assert_array_equal(given, before)
    with pytest.raises(ValueError, match="segments: expected at least two segments"):
        check_segments(np.full((2, 3), 5), 2, 3)
    with pytest.raises(ValueError, match="segments: expected an integer label map"):
        check_segments(given.astype(float), 2, 3)
