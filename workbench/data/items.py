"""Evaluation items: one image, its targets and its ground truth (masks or boxes), loaded lazily.

An :class:`Item` holds *how to load* its image and masks (a path, ``"scene:SEED"`` or an array), so a list of
items is small, pickles cheaply and Dask workers read the files themselves. :meth:`Item.prepare` frames the
image for the model (:func:`framing_for`) and puts masks and boxes through the same
:class:`~workbench.geometry.Framing`, so ground truth stays on the pixels it belongs to.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..geometry import Framing

NO_TARGET = -1  # the target of an item's error rows when no class could be resolved


@dataclass(frozen=True)
class Item:
    """One image to evaluate.

    Attributes:
        image_id: the row key in results tables (a path relative to the data set's folder for files).
        source: how to load the image: a file path, ``"scene:SEED"``, a bundled photo name or an array.
        targets: class indices (into the model's class names) to explain.
        masks: per target, a boolean ``H x W`` mask at the source image's size, or the path of a PNG whose
            non-zero pixels are the object (read when the item is prepared).
        boxes: per target, ``(K, 4)`` boxes ``(x0, y0, x1, y1)`` in the source image's pixel coordinates
            (pixel ``i`` spans ``[i, i + 1)``); used where a target has no mask.
        error: what went wrong reading this item's data (unreadable annotation, unknown class, ...); the
            evaluation records it in error rows instead of stopping.
        frame: frame the image (and its masks and boxes) for the model when prepared (:func:`framing_for`):
            True for images read from files; False (the default) for images already at the model's view
            (scenes, the image shown in the Workbench), which are used as they are.
    """

    image_id: str
    source: Any
    targets: tuple[int, ...]
    masks: dict[int, Any] | None = None
    boxes: dict[int, np.ndarray] | None = None
    error: str = ""
    frame: bool = False

    def load(self) -> np.ndarray:
        """The image as it is stored (``H x W x 3``)."""
        from ..images import load_image

        if isinstance(self.source, np.ndarray):
            return self.source
        if isinstance(self.source, Path):
            if not self.source.is_file():
                raise FileNotFoundError(f"image: no file at {str(self.source)!r}")
            try:
                return load_image(self.source)
            except (OSError, ValueError) as error:  # PIL: unidentified or truncated file
                raise OSError(f"image: cannot read {self.source.name} ({error})") from None
        return load_image(self.source)

    def prepare(self, entry) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """Load the image and frame it for ``entry`` (a ModelEntry); returns the framed image and, per target
        with ground truth, its boolean region in the framed image (a mask, else the union of its boxes)."""
        image = self.load()
        height, width = image.shape[:2]
        framing = framing_for(entry, height, width) if self.frame else None
        if framing is not None:
            from ..images import as_image_tensor

            image = framing.image(as_image_tensor(image)).permute(1, 2, 0).cpu().numpy()
        regions = {}
        for target in self.targets:
            mask = (self.masks or {}).get(target)
            if mask is not None:
                mask = read_mask(mask, (height, width))
                regions[target] = framing.mask(mask) if framing is not None else mask
            elif (self.boxes or {}).get(target) is not None:
                from ..metrics.localisation import box_mask

                boxes = np.asarray(self.boxes[target], dtype=np.float64).reshape(-1, 4)
                if framing is not None:
                    boxes = framing.boxes(boxes, height, width)
                regions[target] = box_mask(boxes, image.shape[:2])
        return image, regions


def framing_for(entry, height: int, width: int) -> Framing | None:
    """How an ``height x width`` image is framed for ``entry``: the entry's own :class:`Framing` when it has one;
    else, for an image of another size than the model's ``input_size``, resize the shorter side to the input's
    longer side and centre-crop ``input_size`` (a folder of arbitrary photos for the 224 px shapes model);
    ``None`` (used as it is) when the size already matches or the model has no fixed input size."""
    if getattr(entry, "framing", None) is not None:
        return entry.framing
    size = tuple(getattr(entry, "input_size", (0, 0)) or (0, 0))
    if min(size, default=0) <= 0 or (height, width) == size:
        return None
    return Framing(max(size), size)


def read_mask(mask, shape: tuple[int, int]) -> np.ndarray:
    """A mask given as an array or a PNG path -> boolean ``H x W`` (non-zero pixels are the object), checked
    against the image's ``shape``."""
    if isinstance(mask, (str, Path)):
        from PIL import Image

        path = Path(mask)
        if not path.is_file():
            raise FileNotFoundError(f"mask: no file at {str(path)!r}")
        with Image.open(path) as img:
            array = np.asarray(img.convert("L")) > 0
    else:
        array = np.asarray(mask).astype(bool)
    if array.shape != tuple(shape):
        raise ValueError(f"mask: expected the image's size {tuple(shape)}, got {array.shape}"
                         + (f" ({str(mask)!r})" if isinstance(mask, (str, Path)) else ""))
    return array
