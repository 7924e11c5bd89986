"""Images a user uploads: the bytes of one file (PNG, JPEG, BMP, TIFF, WebP, GIF) to the image the model sees,
framed exactly as the bundled photos are (:func:`workbench.data.photos.frame_for`).

Every refusal is a ValueError that starts with the file's name and says what is accepted; what is read but
worth a word (a multi-frame file of which the first frame is used, an image blown up more than
:data:`UPSCALE_WARNING` times) is returned as notes.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np

ACCEPTED = ("PNG", "JPEG", "BMP", "TIFF", "WebP", "GIF")
MAX_PIXELS = 40_000_000      # about 7300 x 5500: a photo from any phone; more is refused before decoding
UPSCALE_WARNING = 4.0        # an image enlarged more than this to the model's input is said to be so


@dataclass(frozen=True)
class Upload:
    """A decoded upload: ``image`` (``H x W x 3`` as the model sees it), the file's ``name``, its original
    ``size`` ``(H, W)`` and ``notes`` (sentences about how it was read; empty when nothing is worth a word)."""

    image: np.ndarray
    name: str
    size: tuple[int, int]
    notes: tuple[str, ...] = ()


def not_readable(name: str) -> str:
    """The refusal for bytes that are not an image this workbench reads."""
    return f"{name}: not an image file this workbench can read ({', '.join(ACCEPTED)})"


def read_upload(name: str, content: bytes, entry) -> Upload:
    """Decode the uploaded file ``name`` with bytes ``content`` and frame it for model ``entry``.

    ValueError (message starting with ``name``) for an empty file, bytes that are not an image in
    :data:`ACCEPTED`, and an image of more than :data:`MAX_PIXELS` pixels; a multi-frame GIF or TIFF gives its
    first frame with a note; an image enlarged more than :data:`UPSCALE_WARNING` times gives a note."""
    from PIL import Image, UnidentifiedImageError

    from .photos import frame_for, upscale_for

    if len(content) == 0:
        raise ValueError(f"{name}: the file is empty (0 bytes); expected an image file ({', '.join(ACCEPTED)})")
    notes = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(bytes(content))) as picture:
                if picture.format not in {a.upper() for a in ACCEPTED}:
                    raise ValueError(not_readable(name) + f", got {picture.format}")
                width, height = picture.size
                if width * height > MAX_PIXELS:
                    raise ValueError(f"{name}: {width} x {height} = {width * height:,} pixels, more than the "
                                     f"{MAX_PIXELS:,} this workbench reads; make it smaller first")
                frames = getattr(picture, "n_frames", 1)
                if frames > 1:
                    picture.seek(0)
                    notes.append(f"{name} has {frames} frames; the first is used")
                pixels = np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as error:
        raise ValueError(not_readable(name)) from error
    factor = upscale_for(pixels.shape[:2], entry)
    if factor > UPSCALE_WARNING:
        notes.append(f"{name} is {width} x {height} px, enlarged {factor:.0f}x for the model: its details are "
                     "blurred guesses")
    return Upload(frame_for(pixels, entry), name, (height, width), tuple(notes))
