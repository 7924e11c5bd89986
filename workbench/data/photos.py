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
_SCENE_MODELS = ("shapes", "shapes-watermark", "shapes-vit")


def default_model_for(source: str, current: str) -> str:
    """The zoo model an image ``source`` (``"scene"``, ``"photo"``, anything else) is shown with, given the
    ``current`` zoo model's name: photos move a shapes model to :data:`PHOTO_MODEL` (the shapes models only
    know synthetic scenes), scenes move :data:`PHOTO_MODEL` back to :data:`SCENE_MODEL`; any other choice is
    the user's and is kept.

    >>> default_model_for("photo", "shapes"), default_model_for("photo", "resnet50")
    ('efficientnet_lite0', 'resnet50')
    """
    if source == "photo" and current in _SCENE_MODELS:
        return PHOTO_MODEL
    if source == "scene" and current == PHOTO_MODEL:
        return SCENE_MODEL
    return current


def photo_for(name: str, entry) -> np.ndarray:
    """Bundled photo ``name`` as model ``entry`` sees it: framed (shorter side resized, centre crop) when the
    entry has a :attr:`~workbench.models.ModelEntry.framing`, else resized to its ``input_size`` (as is when
    that is unknown); ``H x W x 3``."""
    if entry.framing is not None:
        return entry.frame(photo(name))
    size = tuple(entry.input_size)
    return resize(photo(name), size) if min(size) > 0 else photo(name)
