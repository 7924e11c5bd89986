"""The image component: an uploaded file is decoded at the model's input size and explained; bytes that are not
an image are refused with a message naming the upload, and the last image stays."""
from __future__ import annotations

import datetime
import io

import numpy as np
import pytest
from PIL import Image

import workbench as wb
from workbench.data.uploads import decode_upload

WHEN = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)   # the upload widget wants a date


def png_bytes(picture: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(picture).save(buffer, format="PNG")
    return buffer.getvalue()


def test_an_upload_is_decoded_explained_and_bad_bytes_are_refused(shapes):
    picture = wb.data.make_scene(11).image
    decoded = decode_upload(png_bytes(picture), shapes.input_size)
    np.testing.assert_array_equal(decoded, wb.images.load_image(picture, size=shapes.input_size))   # PNG: lossless
    with pytest.raises(ValueError, match="upload: expected an image file"):
        decode_upload(b"not an image", shapes.input_size)

    w = wb.Workbench(shapes, method="gradient", debounce=0.0)
    assert w.wait(60)
    w.image.source.value = "upload"
    assert w.image.upload.layout.display is None and w.image.scene_seed.layout.display == "none"
    content = png_bytes(picture)
    w.image.upload.value = ({"name": "scene11.png", "type": "image/png", "size": len(content),
                             "content": memoryview(content), "last_modified": WHEN},)
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    assert w.state.image_key == ("upload", "scene11.png", len(content))
    np.testing.assert_array_equal(w.state.image, wb.images.as_numpy_image(decoded))
    assert w.explanation.heatmap.shape == decoded.shape[:2]
    w.image.upload.value = ({"name": "broken.png", "type": "image/png", "size": 3, "content": memoryview(b"bad"),
                             "last_modified": WHEN},)
    assert "upload: expected an image file" in w.status.error.value
    assert w.state.image_key == ("upload", "scene11.png", len(content))        # the last image stays
