"""Bad input raises ValueError/TypeError naming the argument and what was expected."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb


@pytest.mark.parametrize("image,error,match", [
    (np.zeros((32, 32, 2)), ValueError, "image: expected a numpy array of shape H x W x 3"),
    (np.zeros((2, 32, 32, 3), dtype=np.uint8), ValueError, "image: expected a numpy array of shape H x W x 3"),
    (torch.zeros(2, 32, 32), ValueError, "image: expected a tensor of shape 3 x H x W"),
    (torch.zeros(3, 32, 32, dtype=torch.int64), TypeError, "image: expected a tensor of dtype uint8 or float"),
    (np.zeros((0, 32, 3)), ValueError, "image: expected at least 2 x 2 pixels"),
    (np.full((32, 32, 3), np.nan, dtype=np.float32), ValueError, "image: contains NaN"),
    (np.full((32, 32, 3), 2.0, dtype=np.float32), ValueError, r"image: float values must lie in \[0, 1\]"),
    (np.zeros((32, 32, 3), dtype=np.int64), TypeError, "image: expected dtype uint8 or float"),
    ("not an image", ValueError, "image: unknown photo"),
    ([[1, 2, 3]], TypeError, "image: expected a numpy array"),
])
def test_bad_images(shapes, image, error, match):
    with pytest.raises(error, match=match):
        wb.explain(shapes, image, "occlusion")


def test_grayscale_rgba_and_uint8_tensors_are_the_rgb_image(shapes):
    """Grayscale is replicated to RGB, alpha is dropped (as PIL's convert("RGB")), uint8 tensors are /255."""
    from PIL import Image

    from workbench.images import as_image_tensor

    rgb = np.random.default_rng(0).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    gray = rgb[:, :, 0]
    expected_gray = as_image_tensor(np.repeat(gray[:, :, None], 3, axis=2))
    for form in (gray, gray[:, :, None], torch.from_numpy(gray), torch.from_numpy(gray)[None],
                 Image.fromarray(gray)):
        assert torch.equal(as_image_tensor(form), expected_gray)
    rgba = np.concatenate([rgb, np.full((20, 30, 1), 7, np.uint8)], axis=2)
    for form in (rgba, Image.fromarray(rgba), torch.from_numpy(rgba).permute(2, 0, 1),
                 torch.from_numpy(rgb).permute(2, 0, 1)):
        assert torch.equal(as_image_tensor(form), as_image_tensor(rgb))
    before = rgba.copy()
    a = wb.explain(shapes, rgba, "gradient").heatmap
    assert np.array_equal(rgba, before) and np.array_equal(a, wb.explain(shapes, rgb, "gradient").heatmap)


def test_unknown_method(shapes, scene):
    with pytest.raises(ValueError, match="method: unknown method 'oclusion'; expected one of"):
        wb.explain(shapes, scene.image, "oclusion")


def test_unknown_class_name(shapes, scene):
    with pytest.raises(ValueError, match="target: unknown class name 'hexagon'"):
        wb.explain(shapes, scene.image, "occlusion", target="hexagon")


@pytest.mark.parametrize("target", [5, -1, 100])
def test_target_index_out_of_range(shapes, scene, target):
    with pytest.raises(ValueError, match=r"target: class index .* out of range 0..4"):
        wb.explain(shapes, scene.image, "occlusion", target=target, patch=112, stride=112)


def test_target_of_wrong_type(shapes, scene):
    with pytest.raises(TypeError, match="target: expected a class index"):
        wb.explain(shapes, scene.image, "occlusion", target=1.5, patch=112, stride=112)


def test_patch_larger_than_image(shapes, scene):
    with pytest.raises(ValueError, match=r"patch: window 300 px is larger than the image \(224x224\)"):
        wb.explain(shapes, scene.image, "occlusion", patch=300)


@pytest.mark.parametrize("stride", [0, -3])
def test_stride_not_positive(shapes, scene, stride):
    with pytest.raises(ValueError, match=f"stride: expected an integer >= 1 and <= 4096, got {stride}"):
        wb.explain(shapes, scene.image, "occlusion", stride=stride)


def test_unknown_parameter(shapes, scene):
    with pytest.raises(TypeError, match="strides: not a parameter of this method"):
        wb.explain(shapes, scene.image, "occlusion", strides=3)


def test_parameter_of_wrong_type(shapes, scene):
    with pytest.raises(TypeError, match="patch: expected an integer"):
        wb.explain(shapes, scene.image, "occlusion", patch="16")
    with pytest.raises(ValueError, match="patch: expected an integer, got 16.5"):
        wb.explain(shapes, scene.image, "occlusion", patch=16.5)


def test_bad_seed_and_model(shapes, scene):
    with pytest.raises(ValueError, match="seed: expected a non-negative integer"):
        wb.explain(shapes, scene.image, "occlusion", seed=-1)
    with pytest.raises(TypeError, match="model: expected a ModelEntry or torch.nn.Module"):
        wb.explain("resnet", scene.image, "occlusion")


def test_unknown_model_and_missing_weights(tmp_path):
    with pytest.raises(ValueError, match="name: unknown model 'resnet9'"):
        wb.load_model("resnet9")
    with pytest.raises(FileNotFoundError, match="weights: no file at"):
        wb.load_model("resnet18", weights=tmp_path / "missing.pth")
    with pytest.raises(FileNotFoundError, match="weights: no file at"):
        wb.load_model("shapes", weights=tmp_path / "missing.pt")


def test_accepted_image_forms_give_the_same_heatmap(shapes, scene):
    as_uint8 = wb.explain(shapes, scene.image, "occlusion", patch=56, stride=56).heatmap
    as_float = wb.explain(shapes, scene.image.astype(np.float32) / 255, "occlusion", patch=56, stride=56).heatmap
    as_tensor = wb.explain(shapes, torch.from_numpy(scene.image).permute(2, 0, 1) / 255.0, "occlusion",
                           patch=56, stride=56).heatmap
    from PIL import Image
    as_pil = wb.explain(shapes, Image.fromarray(scene.image), "occlusion", patch=56, stride=56).heatmap
    for other in (as_float, as_tensor, as_pil):
        np.testing.assert_allclose(other, as_uint8, atol=1e-5)
