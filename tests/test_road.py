"""ROAD (Rong et al. 2022): the imputation and the curves equal pytorch_grad_cam's on the same model, image, map
and noise draws (the global torch generator seeded as the metric's CPU generator)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.metrics.road import noisy_linear_imputation, removed_pixels, road_curve




def test_imputation_equals_pytorch_grad_cam():
    from pytorch_grad_cam.metrics.road import NoisyLinearImputer

    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(3, 23, 31)).astype(np.float32))
    removed = torch.from_numpy(rng.uniform(size=(23, 31)) < 0.6)
    removed[0, :] = True   # the border: fewer neighbours
    torch.manual_seed(4)
    reference = NoisyLinearImputer(noise=0.01)(x, (~removed).float())
    ours = noisy_linear_imputation(x, removed, 0.01, torch.Generator().manual_seed(4))
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(ours[:, ~removed].numpy(), x[:, ~removed].numpy())   # kept pixels untouched
    assert not torch.equal(ours, x)


def test_imputation_without_noise_is_the_neighbour_mean():
    x = torch.zeros(1, 5, 5)
    x[0, :, :] = torch.arange(5.0)[None, :]   # a linear ramp: each pixel is the mean of its neighbours
    removed = torch.zeros(5, 5, dtype=torch.bool)
    removed[1:4, 1:4] = True
    out = noisy_linear_imputation(x.clone().masked_fill(removed, 99.0), removed, noise=0.0)
    np.testing.assert_allclose(out.numpy(), x.numpy(), atol=1e-6)


@pytest.mark.parametrize("order", ["morf", "lerf"])
def test_curve_equals_pytorch_grad_cam(shapes, order):
    from pytorch_grad_cam.metrics.road import ROADLeastRelevantFirst, ROADMostRelevantFirst
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    image = wb.data.make_scene((777, 0)).image[::3, ::3]   # 75 x 75
    heat = np.random.default_rng(1).uniform(size=image.shape[:2]).astype(np.float32)   # no ties
    target, percentages = 2, (20, 50, 80)
    curve = road_curve(shapes, image, heat, target=target, order=order, percentages=percentages, seed=7,
                       output="logit")
    x = shapes.preprocess(image)
    reference_metric = ROADMostRelevantFirst if order == "morf" else ROADLeastRelevantFirst
    torch.manual_seed(7)
    with torch.no_grad():
        diffs = [reference_metric(percentile=100 - p)(x, heat[None], [ClassifierOutputTarget(target)],
                                                     shapes.module)[0] for p in percentages]
    np.testing.assert_allclose(curve.scores, curve.clean_score + np.array(diffs, np.float64), rtol=1e-4, atol=0)
    assert abs(curve.mean_drop + np.mean(diffs)) <= 1e-4 * max(1.0, abs(np.mean(diffs)))
    assert curve.cost.forward_passes == 1 + len(percentages)


def test_removed_share_and_orders():
    heat = torch.arange(100.0).reshape(10, 10)
    morf, lerf = removed_pixels(heat, 30, "morf"), removed_pixels(heat, 30, "lerf")
    assert morf.sum() == 30 and lerf.sum() == 30
    assert morf.flatten()[70:].all() and lerf.flatten()[:30].all()


@pytest.mark.parametrize("kwargs,match", [
    ({"order": "random"}, "order: expected one of"),
    ({"percentages": (0, 50)}, r"percentages: expected percentages of pixels to remove, each in \(0, 100\)"),
    ({"percentages": ()}, "percentages: expected"),
    ({"percentages": ["ten"]}, "percentages: expected"),
    ({"noise": -1.0}, "noise: expected a non-negative number"),
])
def test_bad_arguments(shapes, kwargs, match):
    with pytest.raises(ValueError, match=match):
        road_curve(shapes, np.zeros((32, 32, 3), np.float32), np.zeros((32, 32)), **kwargs)
