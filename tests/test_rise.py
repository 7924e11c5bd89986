"""RISE: the reference formula on the same masks, a toy model with a known square, seeds, batch sizes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import LinearInPixels
from workbench.explainers.rise import RiseMasks


def test_equals_the_reference_formula_on_the_same_masks(shapes, scene):
    n, grid, p = 150, 5, 0.4
    e = wb.explain(shapes, scene.image, "rise", num_masks=n, grid=grid, p_keep=p, seed=7)
    masks = RiseMasks(n, grid, p, 224, 224, seed=7, device="cpu")(0, n)  # (n,1,H,W)
    x = shapes.preprocess(scene.image)
    with torch.no_grad():
        probs = torch.cat([torch.sigmoid(shapes.module(x * masks[i:i + 50]))[:, e.target] for i in range(0, n, 50)])
    reference = (probs[:, None, None] * masks[:, 0]).sum(0) / (n * p)
    assert np.abs(e.heatmap - reference.numpy()).max() <= 1e-5


def test_masks_follow_the_reference_construction():
    masks = RiseMasks(200, 7, 0.5, 70, 90, seed=0, device="cpu")(0, 200)
    assert masks.shape == (200, 1, 70, 90)
    assert 0.0 <= masks.min() and masks.max() <= 1.0
    assert abs(masks.mean().item() - 0.5) < 0.05  # E[M] = p
    assert not torch.equal(masks[0], masks[1])


def test_each_mask_is_the_upsampled_grid_cropped_at_its_offset():
    """Rebuilt here from the same random draws (cells, then row and column offsets, per block of 64)."""
    n, grid, height, width, seed = 70, 5, 40, 50, 3
    masks = RiseMasks(n, grid, 0.5, height, width, seed=seed, device="cpu")(0, n)
    cell = (8, 10)                                           # ceil(40/5), ceil(50/5)
    for block, size in ((0, 64), (1, 6)):
        g = torch.Generator().manual_seed(seed * 1_000_003 + block)
        cells = (torch.rand(size, 1, grid, grid, generator=g) < 0.5).float()
        up = torch.nn.functional.interpolate(cells, size=(6 * 8, 6 * 10), mode="bilinear", align_corners=False)
        dy = torch.randint(0, cell[0], (size,), generator=g)
        dx = torch.randint(0, cell[1], (size,), generator=g)
        for i in range(size):
            expected = up[i, 0, dy[i]:dy[i] + height, dx[i]:dx[i] + width]
            assert torch.equal(masks[block * 64 + i, 0], expected)


def test_argmax_in_the_square_a_toy_model_responds_to():
    size, (top, left, side) = 64, (20, 30, 14)
    weights = torch.zeros(2, 3, size, size)
    weights[0, :, top:top + side, left:left + side] = 4.0 / (3 * side * side)
    model = LinearInPixels(weights)  # softmax prob of class 0 rises with the square's visibility
    image = np.random.default_rng(1).uniform(0.3, 1.0, size=(size, size, 3)).astype(np.float32)
    e = wb.explain(model, image, "rise", target=0, num_masks=1000, grid=8)
    r, c = np.unravel_index(np.argmax(e.heatmap), e.heatmap.shape)
    assert top <= r < top + side and left <= c < left + side


def test_seed_and_batch_size(shapes, scene):
    a = wb.explain(shapes, scene.image, "rise", num_masks=200, seed=1, batch_size=1).heatmap
    b = wb.explain(shapes, scene.image, "rise", num_masks=200, seed=1, batch_size=64).heatmap
    c = wb.explain(shapes, scene.image, "rise", num_masks=200, seed=2).heatmap
    assert np.abs(a - b).max() <= 1e-5
    assert not np.allclose(a, c)


@pytest.mark.parametrize("params,match", [
    ({"p_keep": 0.0}, "p_keep: expected a number > 0 and < 1"),
    ({"p_keep": 1.0}, "p_keep: expected a number > 0 and < 1"),
    ({"grid": 1}, "grid: expected an integer >= 2"),
    ({"num_masks": 0}, "num_masks: expected an integer >= 1"),
])
def test_bad_parameters(shapes, scene, params, match):
    with pytest.raises(ValueError, match=match):
        wb.explain(shapes, scene.image, "rise", **params)
