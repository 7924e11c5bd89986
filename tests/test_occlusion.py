"""Occlusion Test: equal to Captum's Occlusion, to a hand-computed linear case and a slow reference loop."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from captum.attr import Occlusion

import workbench as wb
from conftest import LinearInPixels


def captum_occlusion(module, x, target, patch, stride):
    attr = Occlusion(module).attribute(x, sliding_window_shapes=(3, patch, patch), strides=(3, stride, stride),
                                       baselines=0, target=target, perturbations_per_eval=16)
    return (attr.sum(dim=1)[0] / 3).numpy()


@pytest.mark.parametrize("size,patch,stride", [((224, 224), 48, 20), ((96, 160), 24, 10), ((96, 160), 32, 20)])
def test_equals_captum_on_shapes_model(shapes, scene, size, patch, stride):
    image = wb.images.resize(scene.image, size)
    e = wb.explain(shapes, image, "occlusion", patch=patch, stride=stride)
    with torch.no_grad():
        reference = captum_occlusion(shapes.module, shapes.preprocess(image), e.target, patch, stride)
    # float32 to about 6 significant digits: the workbench runs convolutions channels-last, Captum does not, so
    # the sums are taken in another order
    assert np.abs(e.heatmap - reference).max() <= 1e-5 * max(1.0, np.abs(reference).max())
    assert np.abs(reference).max() > 1e-3  # the comparison is not between two zero maps
    rows = math.ceil((size[0] - patch) / stride) + 1  # Captum's count; the last window is truncated
    cols = math.ceil((size[1] - patch) / stride) + 1
    assert e.cost.forward_passes == rows * cols + 1


@pytest.mark.parametrize("size,patch,stride", [((96, 160), 32, 20), ((64, 64), 24, 24)])
def test_equals_captum_on_resnet18(size, patch, stride):
    torch.manual_seed(0)
    resnet = wb.load_model("resnet18", device="cpu")
    image = np.random.default_rng(1).uniform(size=(*size, 3)).astype(np.float32)
    e = wb.explain(resnet, image, "occlusion", patch=patch, stride=stride, target=7)
    with torch.no_grad():
        reference = captum_occlusion(resnet.module, resnet.preprocess(image), 7, patch, stride)
    assert np.abs(e.heatmap - reference).max() <= 1e-5
    assert np.abs(reference).max() > 1e-4


def test_linear_model_by_hand():
    """For f = sum(w * x) with baseline 0, a window's drop is the sum of w*x inside it."""
    rng = np.random.default_rng(3)
    w = torch.from_numpy(rng.normal(size=(2, 3, 12, 10)).astype(np.float32))
    image = rng.uniform(size=(12, 10, 3)).astype(np.float32)
    model = LinearInPixels(w)
    e = wb.explain(model, image, "occlusion", patch=4, stride=3, target=1)
    contrib = (w[1].numpy() * image.transpose(2, 0, 1)).sum(0)  # (12, 10)
    total, count = np.zeros((12, 10)), np.zeros((12, 10))
    for r in (0, 3, 6, 9):     # ceil((12-4)/3)+1 = 4 rows of windows; the one at 9 is truncated to 9..11
        for c in (0, 3, 6):    # ceil((10-4)/3)+1 = 3 columns; 6..9 fits exactly
            total[r:r + 4, c:c + 4] += contrib[r:r + 4, c:c + 4].sum()
            count[r:r + 4, c:c + 4] += 1
    assert count.min() >= 1
    np.testing.assert_allclose(e.heatmap, total / count, atol=1e-5)
    assert e.cost.forward_passes == 4 * 3 + 1


def test_flush_edges_keep_full_size_windows():
    rng = np.random.default_rng(4)
    w = torch.from_numpy(rng.normal(size=(1, 3, 12, 10)).astype(np.float32))
    image = rng.uniform(0.2, 1.0, size=(12, 10, 3)).astype(np.float32)
    e = wb.explain(LinearInPixels(w), image, "occlusion", patch=4, stride=3, edges="flush")
    contrib = (w[0].numpy() * image.transpose(2, 0, 1)).sum(0)
    total, count = np.zeros((12, 10)), np.zeros((12, 10))
    for r in (0, 3, 6, 8):     # the truncated window at 9 moves to 8, flush with the bottom edge
        for c in (0, 3, 6):
            total[r:r + 4, c:c + 4] += contrib[r:r + 4, c:c + 4].sum()
            count[r:r + 4, c:c + 4] += 1
    np.testing.assert_allclose(e.heatmap, total / count, atol=1e-5)


@pytest.mark.parametrize("batch_size", [1, 7, 64])
def test_same_heatmap_at_every_batch_size(shapes, scene, batch_size):
    reference = wb.explain(shapes, scene.image, "occlusion", patch=40, stride=24, batch_size=5).heatmap
    e = wb.explain(shapes, scene.image, "occlusion", patch=40, stride=24, batch_size=batch_size)
    assert np.abs(e.heatmap - reference).max() <= 1e-5


def test_object_evidence_lies_on_the_object(shapes):
    """On a single-object scene, the occlusion peak falls on the object the model detects."""
    hits = 0
    scenes = [s for s in wb.data.make_scenes(30, seed=4242) if len(s.labels) == 1][:8]
    for s in scenes:
        e = wb.explain(shapes, s.image, "occlusion", patch=24, stride=12, target=s.labels[0])
        r, c = np.unravel_index(np.argmax(e.heatmap), e.heatmap.shape)
        hits += bool(s.masks[0][max(0, r - 12):r + 12, max(0, c - 12):c + 12].any())
    assert hits >= len(scenes) - 1
