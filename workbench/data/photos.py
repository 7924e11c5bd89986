"""Real photos bundled with scikit-image (installed with it; no download)."""
from __future__ import annotations

from typing import Callable

import numpy as np


def _loaders() -> dict[str, Callable[[], np.ndarray]]:
    from skimage import data as sk

    return {
        "astronaut": sk.astronaut,
        "chelsea": sk.chelsea,          # a cat
        "coffee": sk.coffee,
        "rocket": sk.rocket,
        "motorcycle": lambda: sk.stereo_motorcycle()[0],
        "hubble_deep_field": sk.hubble_deep_field,
        "immunohistochemistry": sk.immunohistochemistry,
    }


PHOTOS: tuple[str, ...] = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle", "hubble_deep_field",
                           "immunohistochemistry")


def photo(name: str) -> np.ndarray:
    """One bundled photo as ``H x W x 3`` uint8."""
    if name not in PHOTOS:
        raise ValueError(f"image: unknown photo {name!r}; expected a file path, 'scene:SEED' or one of {PHOTOS}")
    image = _loaders()[name]()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def sample_images(size: int | tuple[int, int] | None = 224) -> dict[str, np.ndarray]:
    """The bundled photos, resized to ``size`` (None: original size), by name."""
    from ..images import resize

    return {name: resize(photo(name), size) if size is not None else photo(name) for name in PHOTOS}
