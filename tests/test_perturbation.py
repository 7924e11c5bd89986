"""Region perturbation and AOPC: an analytic linear case, MoRF beats LeRF and random, equality with Quantus."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import LinearInPixels


def linear_case(size=(18, 27), region=9, seed=0):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(2, 3, *size)).astype(np.float32)
    image = rng.uniform(0.1, 1.0, size=(*size, 3)).astype(np.float32)
    contribution = (w[0] * image.transpose(2, 0, 1)).sum(0)  # f_0 = sum of these
    return LinearInPixels(torch.from_numpy(w)), image, contribution


def test_morf_curve_equals_the_analytic_curve():
    model, image, contribution = linear_case()
    c = wb.perturbation_curve(model, image, contribution, target=0, order="morf", region=9, steps=6,
                              fill="constant")
    # squares of 9x9 on an 18x27 image: 2 rows x 3 columns, ranked by summed contribution
    sums = {(r, q): contribution[r * 9:(r + 1) * 9, q * 9:(q + 1) * 9].sum() for r in range(2) for q in range(3)}
    ranked = sorted(sums, key=lambda k: -sums[k])
    expected = [contribution.sum()]
    for square in ranked:
        expected.append(expected[-1] - sums[square])  # baseline 0 removes the square's contribution
    np.testing.assert_allclose(c.scores, expected, atol=1e-5)
    aopc = np.mean([expected[0] - e for e in expected])  # 1/(L+1) sum_k (f(x0) - f(xk))
    assert abs(c.aopc - aopc) <= 1e-5
    assert c.cost.forward_passes == 7 + 1


def test_partial_edge_squares():
    model, image, contribution = linear_case(size=(20, 20), region=9)
    c = wb.perturbation_curve(model, image, contribution, target=0, order="morf", region=9, steps=9, fill="constant")
    assert abs(c.scores[-1]) <= 1e-4  # all 3x3 squares (the last row/column 2 px wide) perturbed: f = 0


def test_true_relevance_orders_morf_above_lerf_and_random():
    model, image, contribution = linear_case(size=(36, 36), seed=2)
    result = wb.evaluate(model, image, contribution, target=0, region=6, steps=36, fill="constant", repeats=3)
    assert result["aopc_morf"] > result["aopc_random"] > result["aopc_lerf"]
    assert result["abpc"] > 0 and result["aopc_morf_minus_random"] > 0


def test_uniform_noise_is_seeded_and_repeats_average(shapes, scene):
    e = wb.explain(shapes, scene.image, "occlusion", patch=28, stride=14)
    a = wb.perturbation_curve(shapes, scene.image, e, steps=10, repeats=2, seed=1)
    b = wb.perturbation_curve(shapes, scene.image, e, steps=10, repeats=2, seed=1)
    c = wb.perturbation_curve(shapes, scene.image, e, steps=10, repeats=2, seed=2)
    np.testing.assert_array_equal(a.scores, b.scores)
    assert not np.allclose(a.scores, c.scores)
    np.testing.assert_allclose(a.scores, a.all_scores.mean(0))
    assert a.all_scores.shape == (2, 11) and not np.allclose(a.all_scores[0, 1:], a.all_scores[1, 1:])
    assert a.cost.forward_passes == 2 * 11 + 1


def test_equals_quantus_region_perturbation(shapes, scene):
    import quantus

    heat = np.random.default_rng(5).uniform(size=(224, 224)).astype(np.float32)  # no ties
    target = 2
    c = wb.perturbation_curve(shapes, scene.image, heat, target=target, order="morf", region=8, steps=30,
                              fill="constant", fill_value=0.0)
    x = shapes.preprocess(scene.image).numpy()
    metric = quantus.RegionPerturbation(patch_size=8, regions_evaluation=30, order="morf", perturb_baseline=0.0,
                                        normalise=False, abs=False, disable_warnings=True)
    drops = metric(model=shapes.module, x_batch=x, y_batch=np.array([target]), a_batch=heat[None, None],
                   softmax=False, device="cpu", channel_first=True)
    np.testing.assert_allclose(np.asarray(drops[0]), c.scores[0] - c.scores[1:], atol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    ({"order": "best"}, "order: expected one of"),
    ({"region": 0}, "region: expected an integer from 1"),
    ({"steps": 10000}, "steps: expected an integer from 1 to the number of regions"),
    ({"fill": "zeros"}, "fill: expected one of"),
    ({"repeats": 0}, "repeats: expected a positive integer"),
])
def test_bad_arguments(shapes, scene, kwargs, match):
    with pytest.raises(ValueError, match=match):
        wb.perturbation_curve(shapes, scene.image, np.zeros((224, 224)), **kwargs)


def test_heatmap_of_the_wrong_shape(shapes, scene):
    with pytest.raises(ValueError, match=r"explanation: expected a heatmap of the image's shape \(224, 224\)"):
        wb.perturbation_curve(shapes, scene.image, np.zeros((10, 10)))
