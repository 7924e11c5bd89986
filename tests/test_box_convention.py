"""One box convention, ``(x0, y0, x1, y1)`` half-open pixel corners (docs/DESIGN.md, "Boxes"): every producer's
boxes cover the pixels it means, read back with the one consumer, :func:`workbench.metrics.box_mask`."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from workbench.data.scenes import add_watermark, watermark_box
from workbench.explainers.windows import WindowGrid
from workbench.metrics import box_mask


@pytest.mark.parametrize("edges", ["truncate", "flush"])
def test_occlusion_windows_boxes_cover_the_pixels_their_masks_hide(edges):
    """A non-square image (30 x 47) so that swapped axes cannot pass; the hidden pixels come from the grid's
    0/1 row and column indicators, an independent path."""
    grid = WindowGrid(30, 47, 9, 7, edges=edges)
    flat = torch.arange(grid.count)
    boxes = grid.boxes(flat)
    assert boxes.shape == (grid.count, 4)
    assert int(boxes[:, 2].max()) <= 47 and int(boxes[:, 3].max()) <= 30
    hidden = 1 - grid.keep_masks(flat)[:, 0].numpy()
    for box, expected in zip(boxes.tolist(), hidden):
        np.testing.assert_array_equal(box_mask([box], (30, 47)), expected.astype(bool))


@pytest.mark.parametrize("size", [224, 100])
def test_the_watermark_box_is_where_the_watermark_is_drawn(size):
    grey = np.full((size, size, 3), 128, np.uint8)
    drawn = (add_watermark(grey) != grey).any(axis=2)
    x0, y0, x1, y1 = watermark_box(size)
    assert x1 - x0 == y1 - y0 > 0 and (x1, y1) < (size, size)
    np.testing.assert_array_equal(box_mask([watermark_box(size)], (size, size)), drawn)
