"""Images a user uploads: encoded bytes (PNG, JPEG, ...) to an RGB array at the model's input size."""
from __future__ import annotations

import io

import numpy as np


def decode_upload(content: bytes, size=None) -> np.ndarray:
    """Decode an uploaded image file and load it as the model expects (``size``: its input size, see
    :func:`workbench.images.load_image`). ValueError when the bytes are not an image."""
    from PIL import Image, UnidentifiedImageError

    from ..images import load_image

    try:
        with Image.open(io.BytesIO(content)) as picture:
            pixels = np.asarray(picture.convert("RGB"))
    except UnidentifiedImageError as error:
        raise ValueError(f"upload: expected an image file (PNG, JPEG, ...), got {len(content)} bytes that are "
                         "not one") from error
    return load_image(pixels, size=size)
