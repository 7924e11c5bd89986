"""Image input: one place that turns what users pass into a checked ``3 x H x W`` float tensor in [0, 1]."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from . import geometry


def _to_rgb(t: torch.Tensor, given: tuple, what: str) -> torch.Tensor:
    """``C x H x W`` with C = 1 (grayscale, replicated), 3 (RGB) or 4 (RGBA, alpha dropped as PIL's
    ``convert("RGB")`` does) -> ``3 x H x W``."""
    channels = t.shape[0]
    if channels == 3:
        return t
    if channels == 1:
        return t.expand(3, *t.shape[1:])
    if channels == 4:
        return t[:3]
    raise ValueError(f"image: expected {what}, got shape {given}")


def as_image_tensor(image) -> torch.Tensor:
    """Convert and check an image; never modifies ``image``.

    Accepts a numpy array ``H x W x 3`` (RGB), ``H x W x 4`` (RGBA: alpha dropped), ``H x W`` or ``H x W x 1``
    (grayscale: replicated to RGB), uint8 or float in [0, 1]; a PIL image of any mode; a tensor ``3 x H x W``
    (or ``1 x 3 x H x W``; also ``H x W``, ``1 x H x W`` and ``4 x H x W``), uint8 or float in [0, 1]; or a
    source :func:`load_image` reads (path, ``"scene:SEED"``, photo name). Returns a new float32
    ``3 x H x W`` tensor on the CPU (a tensor input keeps its device).
    """
    if isinstance(image, (str, Path)):
        image = load_image(image)
    if isinstance(image, torch.Tensor):
        t = image.detach()
        if t.dim() == 4 and t.shape[0] == 1:
            t = t[0]
        if t.dim() == 2:
            t = t[None]
        if t.dim() != 3:
            raise ValueError(f"image: expected a tensor of shape 3 x H x W (or H x W, 1 x H x W, 4 x H x W), "
                             f"got {tuple(image.shape)}")
        t = _to_rgb(t, tuple(image.shape), "a tensor of shape 3 x H x W (or H x W, 1 x H x W, 4 x H x W)")
        if t.dtype == torch.uint8:
            t = t.to(torch.float32) / 255.0
        elif t.dtype.is_floating_point:
            t = t.to(torch.float32).clone()
        else:
            raise TypeError(f"image: expected a tensor of dtype uint8 or float, got {t.dtype}")
    else:
        if hasattr(image, "convert") and hasattr(image, "size"):  # PIL
            image = np.asarray(image.convert("RGB"))
        if not isinstance(image, np.ndarray):
            raise TypeError(
                f"image: expected a numpy array H x W x 3, a PIL image or a tensor 3 x H x W, got {type(image).__name__}")
        shape = image.shape
        if image.ndim == 2:
            image = image[:, :, None]
        if image.ndim != 3 or image.shape[2] not in (1, 3, 4):
            raise ValueError(f"image: expected a numpy array of shape H x W x 3 (RGB; also H x W, H x W x 1 or "
                             f"H x W x 4), got {shape}")
        if image.dtype == np.uint8:
            t = torch.from_numpy(image.astype(np.float32) / 255.0)
        elif np.issubdtype(image.dtype, np.floating):
            t = torch.from_numpy(image.astype(np.float32, copy=True))
        else:
            raise TypeError(f"image: expected dtype uint8 or float, got {image.dtype}")
        t = _to_rgb(t.permute(2, 0, 1), shape, "a numpy array H x W x 3").contiguous()
    if t.numel() == 0 or min(t.shape[1:]) < 2:
        raise ValueError(f"image: expected at least 2 x 2 pixels, got {tuple(t.shape[1:])}")
    if not torch.isfinite(t).all():
        raise ValueError("image: contains NaN or infinite values")
    if t.min() < 0 or t.max() > 1:
        raise ValueError(f"image: float values must lie in [0, 1], got range [{t.min():.3g}, {t.max():.3g}]")
    return t.contiguous()


def as_numpy_image(image) -> np.ndarray:
    """Any accepted image -> ``H x W x 3`` float32 numpy array in [0, 1] (for drawing and segmentation)."""
    return as_image_tensor(image).permute(1, 2, 0).cpu().numpy()


def resize(image, size: int | tuple[int, int]) -> np.ndarray:
    """Resize any accepted image to ``size`` (int: square) -> ``H x W x 3`` uint8 (:func:`workbench.geometry.resize`)."""
    return geometry.resize(as_numpy_image(image), size)


def load_image(source, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """Load an image as ``H x W x 3`` uint8: a file path, ``"scene:SEED"``, a bundled photo name
    (``"astronaut"``, ``"chelsea"``, ...), or an array/PIL/tensor. ``size`` resizes (int: square)."""
    if isinstance(source, (str, Path)):
        text = str(source)
        if text.startswith("scene:"):
            from .data.scenes import make_scene

            image = make_scene(int(text.split(":", 1)[1])).image
        elif Path(text).is_file():
            from PIL import Image

            with Image.open(text) as img:
                image = np.asarray(img.convert("RGB"))
        else:
            from .data.photos import photo

            image = photo(text)
    else:
        image = (as_numpy_image(source) * 255).round().astype(np.uint8)
    return resize(image, size) if size is not None else image
