"""FMO: single level equals the Occlusion Test, the hierarchy only refines kept regions, the spec checks
its schedule."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import LinearInPixels, assert_same_state, model_state
from workbench.explainers.fmo import default_schedule, minmax
from workbench.metrics import pointing_game


def square_model(size=224, square=(96, 128, 40, 72), classes=2):
    """Class 0 scores the sum of the pixels inside ``square`` (top, bottom, left, right); nothing else counts."""
    weights = torch.zeros(classes, 3, size, size)
    top, bottom, left, right = square
    weights[0, :, top:bottom, left:right] = 1.0
    weights[1:] = 0.01
    return LinearInPixels(weights)


@pytest.mark.parametrize("patch,stride", [(28, 14), (20, 9)])
def test_single_level_equals_occlusion(shapes, scene, patch, stride):
    fmo = wb.explain(shapes, scene.image, "fmo", schedule=[(patch, stride)])
    occ = wb.explain(shapes, scene.image, "occlusion", patch=patch, stride=stride)
    np.testing.assert_allclose(fmo.extras["raw_level_maps"][0], occ.heatmap, atol=1e-6)
    np.testing.assert_allclose(fmo.heatmap, minmax(torch.tensor(occ.heatmap, dtype=torch.float64)).numpy(), atol=1e-6)
    assert fmo.cost.forward_passes == occ.cost.forward_passes


@pytest.mark.parametrize("keep_fraction", [0.25, 0.1])
def test_finer_levels_only_score_inside_kept_windows(keep_fraction):
    """The square straddles four 56 px level-0 windows equally; level 0 keeps all four (no cap there)."""
    square = (96, 128, 40, 72)
    model = square_model(square=square)
    image = np.random.default_rng(0).uniform(0.2, 1.0, size=(224, 224, 3)).astype(np.float32)
    e = wb.explain(model, image, "fmo", target=0, keep_fraction=keep_fraction)
    scored, kept = e.extras["scored_boxes"], e.extras["kept_boxes"]
    assert len(scored) == 4
    for level in range(1, len(scored)):
        centres = (scored[level][:, :2] + scored[level][:, 2:] - 1) / 2  # (x, y): boxes are (x0, y0, x1, y1)
        parents = kept[level - 1]
        inside = ((centres[:, None, 0] >= parents[None, :, 0]) & (centres[:, None, 0] < parents[None, :, 2])
                  & (centres[:, None, 1] >= parents[None, :, 1]) & (centres[:, None, 1] < parents[None, :, 3]))
        assert inside.any(axis=1).all(), f"level {level} scored a window outside every kept window"
        assert len(scored[level]) < (224 // e.levels.schedule[level][1]) ** 2  # it did not score everything
    r, c = np.unravel_index(np.argmax(e.heatmap), e.heatmap.shape)
    mask = np.zeros((224, 224), bool)
    mask[square[0]:square[1], square[2]:square[3]] = True
    assert square[0] <= r < square[1] and square[2] <= c < square[3]
    assert pointing_game(e.heatmap, mask) == 1.0
    assert e.cost.forward_passes == sum(e.extras["passes_per_level"]) + 1
    assert e.cost.forward_passes < 3025 / 10


@pytest.mark.parametrize("budget", [0.05, 0.1])
def test_the_budget_bounds_the_cost_when_evidence_is_everywhere(budget):
    """Every pixel counts equally: the threshold keeps every coarse window and only the budget limits the
    cost (passes, the clean one included, at most ``budget`` of Occlusion (8,4)'s 3026)."""
    model = LinearInPixels(torch.ones(2, 3, 224, 224))
    image = np.random.default_rng(1).uniform(0.2, 1.0, size=(224, 224, 3)).astype(np.float32)
    unbounded = wb.explain(model, image, "fmo", target=0, budget=1.0)
    assert unbounded.cost.forward_passes > 3026 * 0.1
    e = wb.explain(model, image, "fmo", target=0, budget=budget)
    assert e.cost.forward_passes <= budget * 3026
    assert e.cost.forward_passes == sum(e.extras["passes_per_level"]) + 1
    assert all(n > 0 for n in e.extras["passes_per_level"])  # every level refines something
    kept, free = e.extras["kept_boxes"][0], unbounded.extras["kept_boxes"][0]
    assert 1 <= len(kept) < len(free) == 16  # level 0's best windows (ties: in grid order), as many as fit
    np.testing.assert_array_equal(kept, free[:len(kept)])


def test_level_maps_and_visited(shapes, scene):
    e = wb.explain(shapes, scene.image, "fmo")
    assert e.levels.schedule == ((56, 56), (28, 14), (14, 7), (8, 4))
    assert len(e.levels.maps) == len(e.levels.visited) == 4
    assert e.levels.visited[0].all()  # level 0 covers the image
    assert all(v.dtype == bool and v.shape == (224, 224) for v in e.levels.visited)
    for finer, coarser in zip(e.levels.maps[1:], e.levels.maps):
        assert finer.shape == coarser.shape
    assert 0.0 <= e.heatmap.min() and e.heatmap.max() <= 1.0


def test_unvisited_pixels_take_the_coarser_value(shapes, scene):
    e = wb.explain(shapes, scene.image, "fmo")
    for level in range(1, 4):
        visited = e.levels.visited[level]
        np.testing.assert_array_equal(e.levels.maps[level][~visited], e.levels.maps[level - 1][~visited])
        inside = e.levels.maps[level][visited]  # normalised over the pixels this level scored
        assert abs(inside.min()) < 1e-6 and abs(inside.max() - 1) < 1e-6
        assert (e.extras["raw_level_maps"][level][~visited] == 0).all()


def test_level_weights_select_levels(shapes, scene):
    e = wb.explain(shapes, scene.image, "fmo", level_weights=[0, 0, 0, 1])
    np.testing.assert_allclose(e.heatmap, e.levels.maps[3], atol=1e-6)


def test_default_schedule_scales_with_the_image():
    assert default_schedule(224, 224) == ((56, 56), (28, 14), (14, 7), (8, 4))
    assert default_schedule(112, 160) == ((28, 28), (14, 7), (7, 4), (4, 2))


def test_deterministic_and_leaves_inputs_unchanged(shapes, scene):
    before = model_state(shapes.module)
    image = scene.image.copy()
    a = wb.explain(shapes, image, "fmo", seed=1)
    b = wb.explain(shapes, image, "fmo", seed=2)
    np.testing.assert_array_equal(a.heatmap, b.heatmap)
    assert np.array_equal(image, scene.image)
    assert_same_state(before, model_state(shapes.module))


@pytest.mark.parametrize("schedule,match", [
    ([], "schedule: expected at least one"),
    ([(28, 14), (56, 56)], r"schedule: level 2 \(56, 56\) is not finer than level 1 \(28, 14\)"),
    ([(28, 14), (28, 14)], "schedule: level 2 .* is not finer"),
    ([(56, 0)], "schedule: level 1 stride must be a positive integer"),
    ([(56, -4)], "schedule: level 1 stride must be a positive integer"),
    ([(28, 40)], "schedule: level 1 stride 40 is larger than its patch 28"),
    ([(300, 100)], r"schedule: level 1 patch 300 px is larger than the image \(224x224\)"),
    ("56,56", "schedule: expected a list of"),
])
def test_bad_schedules(shapes, scene, schedule, match):
    with pytest.raises((ValueError, TypeError), match=match):
        wb.explain(shapes, scene.image, "fmo", schedule=schedule)


@pytest.mark.parametrize("params,match", [
    ({"keep_threshold": 1.5}, "keep_threshold: expected a number >= 0 and <= 1"),
    ({"keep_fraction": 0.0}, "keep_fraction: expected a number > 0 and <= 1"),
    ({"budget": 0.0}, "budget: expected a number > 0 and <= 1"),
    ({"level_weights": [1, 1]}, "level_weights: expected 4 weights"),
    ({"level_weights": [0, 0, 0, 0]}, "level_weights: expected non-negative weights with a positive sum"),
])
def test_bad_parameters(shapes, scene, params, match):
    with pytest.raises(ValueError, match=match):
        wb.explain(shapes, scene.image, "fmo", **params)
