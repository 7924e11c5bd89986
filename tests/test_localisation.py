"""Pointing game: TorchRay's acceptance disc, size-scaled tolerance, whole max set on ties."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.metrics import pointing_game


def _mask():
    mask = np.zeros((224, 224), dtype=bool)
    mask[80:120, 80:120] = True
    return mask


def _peak(r, c, shape=(224, 224)):
    heat = np.random.default_rng(0).uniform(0, 0.5, size=shape)
    heat[r, c] = 1.0
    return heat


# the mask's last column is 119: column 129 is 10 px outside it, column 139 is 20 px outside
@pytest.mark.parametrize("point,expected", [((100, 100), 1.0), ((100, 129), 1.0), ((100, 139), 0.0)])
def test_inside_ten_and_twenty_pixels_outside(point, expected):
    assert pointing_game(_peak(*point), _mask()) == expected


def test_tolerance_is_strict_and_scales_with_size():
    mask = np.zeros((112, 112), dtype=bool)
    mask[40:60, 40:60] = True
    assert pointing_game(_peak(50, 66, (112, 112)), mask) == 1.0   # 7 px < 7.5
    assert pointing_game(_peak(50, 67, (112, 112)), mask) == 0.0   # 8 px >= 7.5


def test_ties_count_the_whole_max_set():
    heat = np.zeros((224, 224))
    heat[100, 100] = 1.0   # inside
    heat[10, 10] = 1.0     # far away
    assert pointing_game(heat, _mask()) == 0.5  # TorchRay's first argmax would say miss


def test_bad_input():
    with pytest.raises(ValueError, match="mask: expected the heatmap's shape"):
        pointing_game(np.zeros((10, 10)), np.zeros((10, 11), bool))
    with pytest.raises(ValueError, match="mask: the object mask is empty"):
        pointing_game(np.zeros((10, 10)), np.zeros((10, 10), bool))


def test_energy_pointing_share_inside():
    from workbench.metrics import energy_pointing_game

    mask = _mask()
    heat = np.zeros((224, 224))
    heat[100, 100] = 3.0   # inside
    heat[10, 10] = 1.0     # outside
    heat[20, 20] = -5.0    # negative heat does not count
    assert energy_pointing_game(heat, mask) == 0.75
    assert energy_pointing_game(np.zeros((224, 224)), mask) == 0.0


def test_top_iou():
    from workbench.metrics import top_iou

    mask = _mask()
    assert top_iou(mask.astype(float), mask) == 1.0          # q defaults to the mask's share
    shifted = np.roll(mask, 20, axis=1).astype(float)        # half of the 40 columns overlap
    assert abs(top_iou(shifted, mask) - 20 / 60) < 1e-12
    with pytest.raises(ValueError, match="q: expected a share in"):
        top_iou(shifted, mask, q=0)
