"""Real photos bundled with scikit-image (installed with it; no download), and which model explains them.

Photos are explained with the real ImageNet model, ``efficientnet_lite0`` (pretrained, installed with the
workbench), framed as it expects (:meth:`~workbench.models.ModelEntry.frame`); the synthetic scenes keep the
``shapes`` model they were made for.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..geometry import resize


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
DEFAULT_PHOTO = "chelsea"   # the photo picker's first choice: the ImageNet model gets it right (tiger cat, 0.38;
                            # the cat classes 281-285 together 0.92), where astronaut's top-1 is "bobsled" (0.13)


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
    return {name: resize(photo(name), size) if size is not None else photo(name) for name in PHOTOS}


PHOTO_MODEL = "efficientnet_lite0"
SCENE_MODEL = "shapes"


def model_for_image(source: str, chosen: str | None) -> str | None:
    """The zoo model that explains an image from ``source`` (``"scene"``, ``"photo"``, ``"upload"``,
    ``"given"``): the model the user ``chosen`` themselves when there is one (their choice always wins); else
    :data:`PHOTO_MODEL` for a photo or an upload (real photos need the real ImageNet model; the shapes models
    only know synthetic scenes) and :data:`SCENE_MODEL` for a scene. None for a given image: no rule, the
    model stays.

    >>> model_for_image("upload", None), model_for_image("upload", "shapes"), model_for_image("scene", None)
    ('efficientnet_lite0', 'shapes', 'shapes')
    """
    if chosen is not None:
        return chosen
    if source in ("photo", "upload"):
        return PHOTO_MODEL
    if source == "scene":
        return SCENE_MODEL
    return None


def frame_for(image, entry) -> np.ndarray:
    """Any image as model ``entry`` sees it: framed (shorter side resized, centre crop) when the entry has a
    :attr:`~workbench.models.ModelEntry.framing`, else resized to its ``input_size`` (as is when that is
    unknown); ``H x W x 3``. Bundled photos and uploads go through here alike."""
    if entry.framing is not None:
        return entry.frame(image)
    size = tuple(entry.input_size)
    return resize(image, size) if min(size) > 0 else image


def upscale_for(shape: tuple[int, int], entry) -> float:
    """How many times an ``(H, W)`` image is enlarged on its way to model ``entry`` (below 1: shrunk)."""
    height, width = shape
    if entry.framing is not None:
        return entry.framing.shorter_side / min(height, width)
    size = tuple(entry.input_size)
    return max(size[0] / height, size[1] / width) if min(size) > 0 else 1.0


def photo_for(name: str, entry) -> np.ndarray:
    """Bundled photo ``name`` as model ``entry`` sees it (:func:`frame_for`); ``H x W x 3``."""
    return frame_for(photo(name), entry)
