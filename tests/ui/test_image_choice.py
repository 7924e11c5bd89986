"""The image component: an upload is read as the bundled photos are (framed for the model), explained by the
ImageNet model unless the user chose a model (or the Workbench was given one); a file that is not an image is
refused with a message naming it, and the last image stays, said to be the previous one."""
from __future__ import annotations

import datetime
import io

import numpy as np
from PIL import Image

import workbench as wb
from workbench.data.uploads import read_upload

WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)   # the upload widget wants a date


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def uploaded(name: str, content: bytes) -> tuple[dict, ...]:
    return ({"name": name, "type": "image/png", "size": len(content), "content": memoryview(content),
             "last_modified": WHEN},)


def test_an_upload_to_a_given_model_is_explained_by_it_and_bad_bytes_are_refused(shapes):
    picture = wb.data.make_scene(11).image
    w = wb.Workbench(shapes, method="gradient", debounce=0.0)
    assert w.wait(60)
    w.image.source.value = "upload"
    assert w.image.upload.layout.display is None and w.image.scene_seed.layout.display == "none"
    content = png_bytes(picture)
    w.image.upload.value = uploaded("scene11.png", content)
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    assert w.state.model is shapes                                     # a Workbench given a model keeps it
    assert w.state.image_key == ("upload", "scene11.png", len(content))
    decoded = read_upload("scene11.png", content, shapes).image
    np.testing.assert_array_equal(w.state.image, wb.images.as_numpy_image(decoded))
    assert w.explanation.heatmap.shape == decoded.shape[:2]
    w.image.upload.value = uploaded("broken.png", b"bad")
    assert "broken.png: not an image file this workbench can read (PNG, JPEG" in w.status.error.value
    assert w.state.image_key == ("upload", "scene11.png", len(content))        # the last image stays
    assert "still the previous ones" in w.image.note.value


def test_an_upload_gets_the_imagenet_model_unless_the_user_chose_one():
    w = wb.Workbench(method="gradient", debounce=0.0)                  # the default scene view: shapes
    assert w.wait(60) and w.state.model.name == "shapes" and w.state.chosen_model is None
    cat = np.asarray(Image.fromarray(wb.data.photo("chelsea")).resize((451, 300)))
    w.image.source.value = "upload"
    w.image.upload.value = uploaded("cat.png", png_bytes(cat))
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    assert w.state.model.name == "efficientnet_lite0" and w.model.picker.value == "efficientnet_lite0"
    np.testing.assert_array_equal(w.state.image, w.state.model.frame(cat))     # framed, 224 x 224
    assert w.state.chosen_model is None and w.image.note.value == ""
    w.model.picker.value = "shapes"                                    # the user chooses: their choice stays
    assert w.state.chosen_model == "shapes"
    w.image.source.value = "photo"
    assert w.wait(60) and w.state.model.name == "shapes"
    assert "explained by shapes (your choice); a photo is otherwise explained by efficientnet_lite0" in \
        w.image.note.value
    w.image.source.value = "upload"
    assert w.wait(60) and w.state.model.name == "shapes" and w.state.image.shape[:2] == (224, 224)


def test_a_tiny_upload_is_said_to_be_enlarged(shapes):
    w = wb.Workbench(shapes, method="gradient", debounce=0.0)
    assert w.wait(60)
    w.image.source.value = "upload"
    w.image.upload.value = uploaded("tiny.png", png_bytes(np.full((12, 16, 3), 90, np.uint8)))
    assert w.wait(60) and "tiny.png is 16 x 12 px, enlarged 19x" in w.image.note.value
