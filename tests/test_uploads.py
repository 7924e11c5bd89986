"""Uploads (workbench.data.uploads): framed exactly as the bundled photos are, refusals that name the file and
what is accepted, and notes for a multi-frame file and for an image blown up more than 4x; which model explains
an image (workbench.data.photos.model_for_image)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image

import workbench as wb
from workbench.data.photos import PHOTO_MODEL, SCENE_MODEL, model_for_image, photo
from workbench.data.uploads import ACCEPTED, MAX_PIXELS, read_upload


@pytest.fixture(scope="module")
def lite0():
    return wb.load_model("efficientnet_lite0", device="cpu")


def encoded(picture, fmt: str = "PNG", **save) -> bytes:
    buffer = io.BytesIO()
    (picture if isinstance(picture, Image.Image) else Image.fromarray(picture)).save(buffer, format=fmt, **save)
    return buffer.getvalue()


def test_the_model_follows_the_image_unless_the_user_chose_one():
    assert model_for_image("upload", None) == PHOTO_MODEL == "efficientnet_lite0"
    assert model_for_image("photo", None) == PHOTO_MODEL
    assert model_for_image("scene", None) == SCENE_MODEL == "shapes"
    assert model_for_image("given", None) is None                      # no rule: the model stays
    for source in ("upload", "photo", "scene", "given"):               # the user's explicit choice wins
        assert model_for_image(source, "shapes") == "shapes"
        assert model_for_image(source, "resnet50") == "resnet50"


@pytest.mark.parametrize("height, width", [(300, 451), (100, 150), (451, 300)])
def test_an_upload_is_framed_as_torchvision_frames_imagenet_photos(lite0, height, width):
    """Shorter side 256, centre crop 224 (torchvision's Resize(256) + CenterCrop(224), antialiased bilinear):
    the aspect ratio is kept, nothing is squashed."""
    from torchvision.transforms import v2

    picture = np.asarray(Image.fromarray(photo("chelsea")).resize((width, height), Image.BILINEAR))
    read = read_upload("cat.png", encoded(picture), lite0)
    assert read.image.shape == (224, 224, 3) and read.size == (height, width) and read.notes == ()
    reference = v2.Compose([v2.Resize(256, antialias=True), v2.CenterCrop(224)])(
        torch.from_numpy(picture.copy()).permute(2, 0, 1).float() / 255)
    np.testing.assert_allclose(read.image, reference.permute(1, 2, 0).numpy(), atol=2e-3)
    np.testing.assert_array_equal(read.image, lite0.frame(picture))          # the framing of the bundled photos


def test_a_bundled_photo_uploaded_is_the_bundled_photo(lite0):
    read = read_upload("chelsea.png", encoded(photo("chelsea")), lite0)
    np.testing.assert_array_equal(read.image, wb.data.photo_for("chelsea", lite0))


def test_a_file_that_is_not_an_image_is_refused_naming_it(lite0):
    content = b"this is a text file, not a JPEG\n"
    with pytest.raises(ValueError) as refused:
        read_upload("notimage.jpg", content, lite0)
    assert str(refused.value) == ("notimage.jpg: not an image file this workbench can read "
                                  "(PNG, JPEG, BMP, TIFF, WebP, GIF)")
    assert content == b"this is a text file, not a JPEG\n"
    with pytest.raises(ValueError, match=r"^cut\.jpg: not an image file"):      # a JPEG cut short
        read_upload("cut.jpg", encoded(photo("chelsea"), "JPEG")[:600], lite0)
    with pytest.raises(ValueError, match=r"^icon\.ico: not an image file .*, got ICO"):
        read_upload("icon.ico", encoded(photo("chelsea")[:64, :64], "ICO"), lite0)


def test_an_empty_file_is_refused_naming_it(lite0):
    with pytest.raises(ValueError, match=r"^empty\.png: the file is empty \(0 bytes\); expected an image file "
                                         r"\(PNG, JPEG"):
        read_upload("empty.png", b"", lite0)


def test_a_huge_image_is_refused_with_its_size_and_the_limit(lite0):
    huge = encoded(Image.new("1", (8000, 6000)))            # 48 M pixels, a few kB as a 1-bit PNG
    assert 8000 * 6000 > MAX_PIXELS
    with pytest.raises(ValueError) as refused:
        read_upload("huge.png", huge, lite0)
    assert str(refused.value) == ("huge.png: 8000 x 6000 = 48,000,000 pixels, more than the 40,000,000 this "
                                  "workbench reads; make it smaller first")


@pytest.mark.parametrize("fmt", ["GIF", "TIFF"])
def test_a_multi_frame_file_gives_its_first_frame_and_says_so(lite0, fmt):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    frames = [Image.new("RGB", (320, 240), colour) for colour in colours]
    content = encoded(frames[0], fmt, save_all=True, append_images=frames[1:])
    read = read_upload(f"anim.{fmt.lower()}", content, lite0)
    assert read.notes == (f"anim.{fmt.lower()} has 3 frames; the first is used",)
    np.testing.assert_allclose(read.image.reshape(-1, 3).mean(0), np.array(colours[0]) / 255, atol=0.02)


def test_an_image_upscaled_more_than_4x_is_said_to_be(lite0, shapes):
    tiny = encoded(np.full((12, 16, 3), 128, np.uint8))
    read = read_upload("tiny.png", tiny, lite0)                # shorter side 12 -> 256: 21x
    assert read.image.shape == (224, 224, 3)
    assert read.notes == ("tiny.png is 16 x 12 px, enlarged 21x for the model: its details are blurred guesses",)
    assert read_upload("tiny.png", tiny, shapes).notes[0].startswith("tiny.png is 16 x 12 px, enlarged 19x")
    assert read_upload("small.png", encoded(np.zeros((64, 80, 3), np.uint8)), lite0).notes == ()   # 4x: no word
