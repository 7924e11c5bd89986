"""Ablation-CA: a toy model with a known interaction, sensitivity by hand, determinism, validation."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from workbench.analysis.ablation_ca import pearson_matrix


def three_segments(height=30, width=30):
    segments = np.zeros((height, width), dtype=np.int64)
    segments[:, 10:20] = 1
    segments[:, 20:] = 2
    return segments


class Interaction(nn.Module):
    """f = a*b + c with a, b, c the visible fractions (pixel mass) of segments 0, 1, 2 (hidden pixels = 0)."""

    def __init__(self, image: np.ndarray, segments: np.ndarray):
        super().__init__()
        x = torch.from_numpy(image).permute(2, 0, 1)
        ind = torch.stack([torch.from_numpy(segments == j).float() for j in range(3)])  # (3, H, W)
        self.register_buffer("indicators", ind / (x.sum(0) * ind).sum(dim=(1, 2))[:, None, None])

    def forward(self, x):
        a, b, c = torch.einsum("nchw,khw->nk", x, self.indicators).unbind(1)
        return torch.stack([a * b + c, torch.zeros_like(a)], dim=1)


@pytest.fixture
def toy():
    segments = three_segments()
    image = np.random.default_rng(0).uniform(0.2, 1.0, size=(30, 30, 3)).astype(np.float32)
    return Interaction(image, segments), image, segments


def test_finds_the_interacting_pair(toy):
    model, image, segments = toy
    c = wb.ablation_ca(model, image, target=0, segments=segments, fill="constant", contexts=256)
    assert c.matrix[0, 1] >= 0.9
    assert abs(c.matrix[0, 2]) <= 0.2 and abs(c.matrix[1, 2]) <= 0.2
    assert c.groups[0].members == (0, 1)
    assert c.matrix.shape == (3, 3) and c.effects.shape == (256, 3)


def test_sensitivity_equals_direct_ablation(toy):
    model, image, segments = toy
    c = wb.ablation_ca(model, image, target=0, segments=segments, fill="constant", contexts=16)
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    with torch.no_grad():
        clean = model(x)[0, 0]
        for i in range(3):
            hidden = x * torch.from_numpy(segments != i)[None, None]
            assert abs(c.sensitivity[i] - (clean - model(hidden)[0, 0]).item()) <= 1e-6
    assert np.allclose(c.heatmap[segments == 2], c.sensitivity[2])


def test_effects_match_their_definition(shapes, scene):
    """Every effect is f(x_t) - f(x_t without i), recomputed here with plain forward passes for a few contexts."""
    c = wb.ablation_ca(shapes, scene.image, n_segments=12, contexts=8, fill="segment-mean")
    x = shapes.preprocess(scene.image)
    segs = torch.from_numpy(c.segments)
    k = len(c.sensitivity)
    means = torch.stack([x[0][:, segs == j].mean(1) for j in range(k)])  # (K, 3)
    fill = means[segs].permute(2, 0, 1)[None]

    def f(keep):
        m = torch.from_numpy(keep.astype(np.float32))[segs][None, None]
        with torch.no_grad():
            return shapes.module(x * m + fill * (1 - m))[0, c.target].item()

    for t in range(3):
        ctx = c.contexts[t].copy()
        for i in range(k):
            without = ctx.copy()
            without[i] = False
            assert abs(c.effects[t, i] - (f(ctx) - f(without))) <= 1e-4


def test_same_seed_same_matrix_at_any_batch_size(shapes, scene):
    a = wb.ablation_ca(shapes, scene.image, n_segments=15, contexts=32, seed=4, batch_size=1)
    b = wb.ablation_ca(shapes, scene.image, n_segments=15, contexts=32, seed=4, batch_size=64)
    c = wb.ablation_ca(shapes, scene.image, n_segments=15, contexts=32, seed=5)
    assert np.abs(a.matrix - b.matrix).max() <= 1e-5
    assert not np.allclose(a.matrix, c.matrix)


def test_passes_skip_only_identical_images(shapes, scene):
    c = wb.ablation_ca(shapes, scene.image, n_segments=15, contexts=32)
    k = len(c.sensitivity)
    assert c.cost.forward_passes == 1 + k + 32 + int(c.contexts.sum())


def test_constant_effect_is_flagged_not_nan():
    effects = np.random.default_rng(0).normal(size=(50, 4))
    effects[:, 2] = 0.0
    matrix, constant = pearson_matrix(effects)
    assert constant.tolist() == [False, False, True, False]
    assert np.isfinite(matrix).all() and (matrix[2] == 0).all() and (matrix[:, 2] == 0).all()
    np.testing.assert_allclose(matrix[np.ix_([0, 1, 3], [0, 1, 3])],
                               np.corrcoef(effects[:, [0, 1, 3]], rowvar=False), atol=1e-12)


def test_sweep_reports_each_count(shapes, scene):
    rows = wb.ablation_ca_sweep(shapes, scene.image, n_segments=[8, 16], contexts=16)
    assert [r["n_segments"] for r in rows] == [8, 16]
    assert all(0.0 <= r["max_abs_r"] <= 1.0 and r["passes"] > 16 for r in rows)


@pytest.mark.parametrize("params,match", [
    ({"n_segments": 1}, "n_segments: expected an integer >= 2"),
    ({"contexts": 7}, "contexts: expected an integer >= 8"),
    ({"p_keep": 1.0}, "p_keep: expected a number > 0 and < 1"),
    ({"p_keep": 0}, "p_keep: expected a number > 0 and < 1"),
])
def test_bad_parameters(shapes, scene, params, match):
    with pytest.raises(ValueError, match=match):
        wb.ablation_ca(shapes, scene.image, **params)


class RecordsLayout(nn.Module):
    """A small convolutional model that records whether each batch it scores is channels-last."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.channels_last = []

    def forward(self, x):
        self.channels_last.append(x.is_contiguous(memory_format=torch.channels_last))
        return self.conv(x).mean(dim=(2, 3))


@pytest.mark.parametrize("method, forward_only", [("ablation_ca", True), ("gradient", False)])
def test_engine_only_methods_score_channels_last(method, forward_only):
    """Ablation-CA scores only through the engine, so it runs channels-last like the perturbation methods
    (issue 27: it ran without, being registered as an "analysis"); a gradient method does not."""
    model = RecordsLayout()
    image = np.random.default_rng(1).uniform(size=(24, 24, 3)).astype(np.float32)
    wb.explain(model, image, method, **({"n_segments": 4, "contexts": 8} if method == "ablation_ca" else {}))
    assert wb.methods()[method].forward_only == forward_only
    assert model.channels_last and set(model.channels_last) == {forward_only}, model.channels_last
