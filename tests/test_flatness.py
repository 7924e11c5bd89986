"""Flat maps (workbench.flatness): one rule for every method; a flat map scores "no point" in the pointing game,
is drawn on its method's value range, and the collapsed NeuroMask case (sparsity weight 100, temperature 0.01)
is one."""
from __future__ import annotations

import math

import numpy as np
import pytest

import workbench as wb
from workbench.flatness import FLAT_TOLERANCE, flat_note, is_flat, relative_range
from workbench.metrics.localisation import NO_POINT, pointing_game, pointing_outcome
from workbench.render import colour_range


def _mask() -> np.ndarray:
    mask = np.zeros((224, 224), bool)
    mask[90:110, 90:110] = True
    return mask


def test_relative_range_by_hand_and_flat_maps():
    assert relative_range(np.array([[2.0, -1.0], [0.0, 1.0]])) == 1.5          # (2 - -1) / 2
    assert relative_range(np.zeros((3, 3))) == 0.0
    assert is_flat(np.zeros((8, 8))) and is_flat(np.full((8, 8), 0.5))
    almost = np.full((8, 8), 1.0)
    almost[0, 0] = 1.0 - 0.5 * FLAT_TOLERANCE                                 # 0.05 % variation: flat
    assert is_flat(almost)
    almost[0, 0] = 1.0 - 2 * FLAT_TOLERANCE                                   # 0.2 %: not flat
    assert not is_flat(almost)
    tiny = np.zeros((8, 8))
    tiny[3, 3] = 1e-12                                                         # tiny but it varies: not flat
    assert not is_flat(tiny) and not is_flat(tiny * 1e9)                      # scale does not matter
    with pytest.raises(ValueError, match="heatmap: expected a non-empty map of finite values"):
        is_flat(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="tolerance"):
        is_flat(np.zeros(3), tolerance=1.5)
    assert flat_note(np.full((4, 4), 0.5)).startswith("flat map: every pixel is 0.5 (relative range 0.0e+00")


def test_pointing_game_gives_no_point_for_a_flat_map_and_still_scores_a_faint_one():
    mask = _mask()
    constant = np.full((224, 224), 0.5)            # TorchRay's argmax: (0, 0), a miss at the top-left corner
    assert math.isnan(pointing_game(constant, mask)) and pointing_outcome(constant, mask) == NO_POINT == "no point"
    noise = constant + np.random.default_rng(0).uniform(0, 1e-5, constant.shape)    # noise on a plateau
    assert is_flat(noise) and pointing_outcome(noise, mask) == "no point"
    faint = np.zeros((224, 224))
    faint[100, 100] = 1e-9                         # a faint but real peak inside the object
    assert pointing_game(faint, mask) == 1.0 and pointing_outcome(faint, mask) == "hit"
    faint[100, 100], faint[5, 5] = 0, 1e-9
    assert pointing_outcome(faint, mask) == "miss"


def test_a_flat_map_is_drawn_on_its_true_range():
    constant = np.zeros((10, 10))
    assert colour_range(constant, False, bounds=(0.0, 1.0)) == (0.0, 1.0)      # a mask on [0, 1]
    assert colour_range(constant, False) == (-0.5, 0.5)                          # no bounds known: around 0
    assert colour_range(np.full((4, 4), 0.8) + np.eye(4) * 1e-6, False) == pytest.approx((0.3, 1.3), abs=1e-5)
    varied = np.linspace(0.2, 0.3, 16).reshape(4, 4)                             # not flat: min-max as before
    assert colour_range(varied, False, bounds=(0.0, 1.0)) == pytest.approx((0.2, 0.3))
    assert colour_range(constant, False, "fixed", (0.1, 0.2), bounds=(0.0, 1.0)) == (0.1, 0.2)   # the user's
    assert wb.explainers.registry.get_method("neuromask").value_range == (0.0, 1.0)
    assert wb.explainers.registry.get_method("gradient").value_range is None


def test_the_collapsed_neuromask_case_is_flat(shapes, scene):
    e = wb.explain(shapes, scene.image, "neuromask", l_sparse=100.0, temperature=0.01, iterations=5)
    assert e.flat and e.heatmap.max() == e.heatmap.min()         # every pixel hidden: a constant mask
    assert math.isnan(pointing_game(e.heatmap, scene.class_mask(e.target) | _mask()))
    assert not wb.explain(shapes, scene.image, "gradient").flat
