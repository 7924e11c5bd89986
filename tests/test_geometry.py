"""Framing (resize the shorter side, centre-crop) keeps images, masks and boxes in correspondence."""
import numpy as np
import pytest
import torch
from torchvision.transforms import v2

from workbench.geometry import Framing


def test_image_matches_torchvision_resize_and_centre_crop():
    image = torch.rand(3, 300, 451, generator=torch.Generator().manual_seed(0))
    framing = Framing(256, (224, 224))
    reference = v2.Compose([v2.Resize(256, antialias=True), v2.CenterCrop(224)])(image)
    ours = framing.image(image)
    assert ours.shape == (3, 224, 224)
    torch.testing.assert_close(ours, reference.clamp(0, 1), atol=1e-5, rtol=0)


def test_mask_and_boxes_follow_the_image_on_a_non_square_image():
    h, w = 300, 451
    framing = Framing(256, (224, 224))
    # a bright rectangle in the image, its mask and its box: after framing, all three still agree
    x0, y0, x1, y1 = 200, 90, 300, 210
    image = torch.zeros(3, h, w)
    image[:, y0:y1, x0:x1] = 1.0
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    framed_image = framing.image(image)[0].numpy() > 0.5
    framed_mask = framing.mask(mask)
    (bx0, by0, bx1, by1), = framing.boxes([[x0, y0, x1, y1]], h, w)
    assert framed_mask.shape == (224, 224)
    assert (framed_image != framed_mask).mean() < 0.01
    ys, xs = np.nonzero(framed_mask)
    assert abs(xs.min() - bx0) <= 1 and abs(xs.max() + 1 - bx1) <= 1
    assert abs(ys.min() - by0) <= 1 and abs(ys.max() + 1 - by1) <= 1


def test_boxes_outside_the_crop_are_dropped_and_bad_framings_rejected():
    framing = Framing(256, (224, 224))
    assert framing.boxes([[0, 0, 20, 20]], 256, 512).shape == (0, 4)  # left edge is cropped away
    with pytest.raises(ValueError, match="crop"):
        Framing(100, (224, 224))
    with pytest.raises(ValueError, match="mask"):
        framing.mask(np.zeros((2, 3, 4)))


def test_the_array_resize_gives_what_the_any_image_resize_gives():
    """data/photos resizes its uint8 arrays with geometry.resize (below images.py, which imports data): the
    same pixels as images.resize, which converts through as_numpy_image first, for uint8 and float input."""
    from workbench import geometry, images

    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    for size in (24, (40, 17)):
        np.testing.assert_array_equal(geometry.resize(photo, size), images.resize(photo, size))
        as_float = photo.astype(np.float32) / 255
        np.testing.assert_array_equal(geometry.resize(as_float, size), images.resize(as_float, size))
    assert geometry.resize(photo, (40, 17)).shape == (40, 17, 3)
