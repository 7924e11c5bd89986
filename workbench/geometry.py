"""One geometric transform, applied alike to images, masks and boxes: resize the shorter side, then centre-crop.

This is the framing ImageNet models are evaluated with (torchvision's ``Resize(256)`` + ``CenterCrop(224)``).
A model entry carries its :class:`Framing` (``None``: the image is used as it is); whatever is framed for the
model, an image, a ground-truth mask or a set of boxes, goes through the same :class:`Framing`, so pixels keep
their correspondence.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

INTERPOLATIONS = ("bilinear", "bicubic")


def resize(pixels: np.ndarray, size: int | tuple[int, int]) -> np.ndarray:
    """``H x W x 3`` array (uint8, or float in [0, 1]) resized to ``size`` (int: square; ``(H, W)``) with
    scikit-image's antialiased bilinear resize -> ``H x W x 3`` uint8. Any other image goes through
    :func:`workbench.images.resize`."""
    from skimage.transform import resize as _resize

    pixels = np.asarray(pixels)
    values = pixels.astype(np.float32) / 255.0 if pixels.dtype == np.uint8 else pixels.astype(np.float32)
    shape = (size, size) if isinstance(size, int) else tuple(size)
    out = _resize(values, shape, order=1, anti_aliasing=True)
    return (np.clip(out, 0, 1) * 255).round().astype(np.uint8)


@dataclass(frozen=True)
class Framing:
    """Resize so that the shorter side is ``shorter_side`` (aspect kept), then centre-crop ``crop`` = (H, W).

    Attributes:
        shorter_side: target length of the image's shorter side after resizing.
        crop: ``(H, W)`` of the centred crop taken from the resized image (at most the resized size).
        interpolation: ``"bilinear"`` or ``"bicubic"`` (as the model's weights were evaluated with, e.g.
            torchvision's Swin transformers use bicubic), both with antialiasing.
    """

    shorter_side: int
    crop: tuple[int, int]
    interpolation: str = "bilinear"

    def __post_init__(self):
        if int(self.shorter_side) < 1:
            raise ValueError(f"shorter_side: expected a positive int, got {self.shorter_side!r}")
        if len(self.crop) != 2 or min(self.crop) < 1 or max(self.crop) > self.shorter_side:
            raise ValueError(f"crop: expected (H, W) with 1 <= H, W <= shorter_side={self.shorter_side}, "
                             f"got {self.crop!r}")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation: expected one of {INTERPOLATIONS}, got {self.interpolation!r}")

    def resized_shape(self, height: int, width: int) -> tuple[int, int]:
        """``(H, W)`` after the resize step: the shorter side becomes ``shorter_side``, the longer one is
        truncated as torchvision's ``Resize`` does."""
        scale = self.shorter_side / min(height, width)
        return (max(self.crop[0], int(height * scale)), max(self.crop[1], int(width * scale)))

    def crop_offset(self, height: int, width: int) -> tuple[int, int]:
        """Top-left corner ``(y, x)`` of the crop in the resized image."""
        rh, rw = self.resized_shape(height, width)
        return (rh - self.crop[0]) // 2, (rw - self.crop[1]) // 2

    def image(self, image: torch.Tensor) -> torch.Tensor:
        """``(3, H, W)`` or ``(N, 3, H, W)`` float tensor -> framed (resized with :attr:`interpolation` and
        antialiasing), values kept in the input's range."""
        batch = image if image.dim() == 4 else image.unsqueeze(0)
        h, w = batch.shape[-2:]
        resized = F.interpolate(batch, size=self.resized_shape(h, w), mode=self.interpolation, align_corners=False,
                                antialias=True)
        y, x = self.crop_offset(h, w)
        out = resized[..., y:y + self.crop[0], x:x + self.crop[1]].clamp(float(batch.min()), float(batch.max()))
        return out if image.dim() == 4 else out[0]

    def mask(self, mask: np.ndarray) -> np.ndarray:
        """``H x W`` boolean (or label) mask -> framed by nearest-neighbour resizing; dtype kept."""
        mask = np.asarray(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask: expected an H x W array, got shape {mask.shape}")
        h, w = mask.shape
        rh, rw = self.resized_shape(h, w)
        rows = np.minimum((np.arange(rh) + 0.5) * h / rh, h - 1).astype(int)
        cols = np.minimum((np.arange(rw) + 0.5) * w / rw, w - 1).astype(int)
        y, x = self.crop_offset(h, w)
        return mask[rows[y:y + self.crop[0]]][:, cols[x:x + self.crop[1]]]

    def boxes(self, boxes, height: int, width: int) -> np.ndarray:
        """``(K, 4)`` boxes ``(x0, y0, x1, y1)`` in pixel coordinates of an ``height x width`` image -> the same
        boxes in the framed image, clipped to it; boxes that fall outside the crop are dropped."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        rh, rw = self.resized_shape(height, width)
        y, x = self.crop_offset(height, width)
        scaled = b * np.array([rw / width, rh / height, rw / width, rh / height]) - np.array([x, y, x, y])
        scaled[:, [0, 2]] = scaled[:, [0, 2]].clip(0, self.crop[1])
        scaled[:, [1, 3]] = scaled[:, [1, 3]].clip(0, self.crop[0])
        keep = (scaled[:, 2] > scaled[:, 0]) & (scaled[:, 3] > scaled[:, 1])
        return scaled[keep]
