"""Synthetic scenes: deterministic, masks consistent with labels, watermark confounder."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.data.scenes import add_watermark, class_index, images_with_class, make_scene, watermark_box


def test_same_seed_same_scene_and_other_seed_differs():
    a, b, c = make_scene(11), make_scene(11), make_scene(12)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.masks, b.masks) and a.labels == b.labels
    assert not np.array_equal(a.image, c.image)


def test_masks_are_exact_visible_objects():
    for seed in range(40):
        s = make_scene(seed)
        assert 1 <= len(s.labels) <= 3 and s.masks.shape == (len(s.labels), 224, 224)
        assert not np.logical_and(s.masks[:, None], s.masks[None, :]).any(axis=(2, 3))[~np.eye(len(s.labels), dtype=bool)].any()
        for m in s.masks:
            assert m.sum() > 300  # a visible object
        # object pixels differ from the background around them
        union = s.masks.any(0)
        assert np.abs(s.image[union].mean(0) - s.image[~union].mean(0)).sum() > 0 or len(s.labels) == 0


def test_class_mask_and_multi_hot():
    s = make_scene(5)
    for label in set(s.labels):
        assert s.class_mask(label).sum() == sum(m.sum() for m, c in zip(s.masks, s.labels) if c == label)
    assert s.multi_hot.sum() == len(set(s.labels))
    with pytest.raises(ValueError, match="target: unknown class name"):
        s.class_mask("hexagon")


def test_watermark_appears_only_with_its_class():
    with_star = [make_scene(i, watermark_class="star") for i in range(60)]
    for s in with_star:
        assert s.watermark == (wb.data.SHAPE_CLASSES.index("star") in s.labels)
        left, top, right, bottom = watermark_box(224)
        corner = s.image[top:bottom, left:right]
        assert (np.array_equal(corner, add_watermark(s.image)[top:bottom, left:right])) == s.watermark or not s.watermark


def test_watermark_probability():
    scenes = [make_scene(i, watermark_class="star", watermark_prob=0.5) for i in range(200)]
    marked = [s.watermark for s in scenes if 4 in s.labels]
    assert 0.3 < np.mean(marked) < 0.7


def test_bad_options():
    with pytest.raises(ValueError, match="size"):
        make_scene(0, size=8)
    with pytest.raises(ValueError, match="n_objects"):
        make_scene(0, n_objects=(0, 2))


def test_sample_photos_offline():
    photos = wb.data.sample_images(size=64)
    assert {"astronaut", "chelsea", "coffee", "rocket"} <= set(photos)
    for image in photos.values():
        assert image.shape == (64, 64, 3) and image.dtype == np.uint8


def test_load_image_sources(tmp_path):
    from PIL import Image

    path = tmp_path / "scene.png"
    Image.fromarray(make_scene(3).image).save(path)
    assert np.array_equal(wb.load_image(path), make_scene(3).image)
    assert np.array_equal(wb.load_image("scene:3"), make_scene(3).image)
    assert wb.load_image("chelsea", size=100).shape == (100, 100, 3)


def test_images_with_class_holds_the_class_and_marks_the_first_ones():
    images = images_with_class("star", 6, seed=31, marked=3)
    assert len(images) == 6
    star = class_index("star")
    expected, i = [], 0
    while len(expected) < 6:   # the scenes it promises, in order
        scene = make_scene((31, i))
        i += 1
        if star in scene.labels:
            expected.append(scene.image)
    for k, (image, plain) in enumerate(zip(images, expected)):
        np.testing.assert_array_equal(image, add_watermark(plain) if k < 3 else plain)


def test_images_with_class_rejects_a_class_the_scenes_do_not_have():
    # e.g. an ImageNet class index from the Workbench's SpRAy tab: an error, not an endless search
    with pytest.raises(ValueError, match="target"):
        images_with_class(281, 4, seed=0)
