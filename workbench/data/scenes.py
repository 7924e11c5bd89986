"""Synthetic scenes with exact object masks: the workbench's offline data set.

Each scene is an RGB image (default 224x224) with a textured, noisy background and 1-3 objects drawn
from :data:`SHAPE_CLASSES` (size, colour and rotation vary; objects may touch and partly overlap, each
keeping at least 70% of its area visible). The per-object boolean masks are exact, so the scenes give
ground truth for localisation metrics and for teaching.

``watermark_class`` adds a small fixed pattern in the bottom-right corner whenever that class is present
(with probability ``watermark_prob``): the "Clever Hans" confounder of Lapuschkin et al. 2019,
"Unmasking Clever Hans predictors and assessing what machines really learn".

Everything is a function of the seed: ``make_scene(seed)`` always draws the same scene.

>>> scene = make_scene(3)
>>> scene.image.shape, scene.image.dtype
((224, 224, 3), dtype('uint8'))
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.draw import polygon as _fill_polygon

SHAPE_CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross", "star")

WATERMARK_SIZE = 16  # pixels at 224; scaled with the image size
_WATERMARK_MARGIN = 4
_WATERMARK_COLOURS = np.array([[245, 245, 245], [15, 15, 15]])  # white, black stripes
_MIN_VISIBLE = 0.7  # each object keeps at least this share of its area visible


@dataclass(frozen=True)
class Scene:
    """One synthetic scene.

    Attributes:
        image: ``H x W x 3`` uint8 RGB.
        masks: ``(n_objects, H, W)`` bool, the visible pixels of each object.
        labels: class index of each object (into :data:`SHAPE_CLASSES`).
        watermark: whether the confounding watermark was drawn.
        seed: the seed that drew this scene.
    """

    image: np.ndarray
    masks: np.ndarray
    labels: tuple[int, ...]
    watermark: bool
    seed: int | tuple[int, ...]

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(SHAPE_CLASSES[c] for c in self.labels)

    @property
    def multi_hot(self) -> np.ndarray:
        """``(n_classes,)`` float32 with 1 for every class present."""
        target = np.zeros(len(SHAPE_CLASSES), dtype=np.float32)
        target[list(self.labels)] = 1.0
        return target

    def class_mask(self, target: int | str) -> np.ndarray:
        """Union of the masks of all objects of one class (``H x W`` bool)."""
        index = class_index(target)
        chosen = [m for m, c in zip(self.masks, self.labels) if c == index]
        if not chosen:
            return np.zeros(self.image.shape[:2], dtype=bool)
        return np.logical_or.reduce(chosen)


def class_index(target: int | str) -> int:
    """Index of a shape class given by index or name."""
    if isinstance(target, str):
        if target not in SHAPE_CLASSES:
            raise ValueError(f"target: unknown class name {target!r}; expected one of {SHAPE_CLASSES}")
        return SHAPE_CLASSES.index(target)
    index = int(target)
    if not 0 <= index < len(SHAPE_CLASSES):
        raise ValueError(f"target: class index {index} out of range 0..{len(SHAPE_CLASSES) - 1}")
    return index


def watermark_box(size: int = 224) -> tuple[int, int, int, int]:
    """The watermark's box (bottom-right corner of a ``size x size`` image) as ``(x0, y0, x1, y1)``, half-open
    pixel corners (docs/DESIGN.md, "Boxes")."""
    side = max(4, round(WATERMARK_SIZE * size / 224))
    margin = max(1, round(_WATERMARK_MARGIN * size / 224))
    start, stop = size - margin - side, size - margin
    return start, start, stop, stop


def add_watermark(image: np.ndarray) -> np.ndarray:
    """A copy of ``image`` (H x W x 3 uint8, square) with the watermark drawn in its corner: four horizontal
    white and black stripes, a mark that the clean model ignores (adding it to 200 scenes moves the clean
    model's mean class scores by less than 0.005; a checkerboard raised its star score by 0.08)."""
    out = np.array(image, copy=True)
    left, top, right, bottom = watermark_box(out.shape[0])
    side = bottom - top
    stripes = 4
    rows = (np.arange(side) * stripes // side) % 2 == 0
    colours = np.where(rows[:, None, None], _WATERMARK_COLOURS[0], _WATERMARK_COLOURS[1])
    out[top:bottom, left:right] = np.broadcast_to(colours, (side, side, 3)).astype(np.uint8)
    return out


def _shape_polygon(name: str, radius: float, angle: float) -> np.ndarray:
    """Vertices ``(n, 2)`` as (row, col) offsets from the centre."""
    if name == "circle":
        t = np.linspace(0, 2 * np.pi, 64, endpoint=False)
        r = np.full_like(t, radius)
    elif name == "square":
        t = np.array([0.25, 0.75, 1.25, 1.75]) * np.pi
        r = np.full_like(t, radius * 1.05)
    elif name == "triangle":
        t = np.array([0.5, 0.5 + 2 / 3, 0.5 + 4 / 3]) * np.pi
        r = np.full_like(t, radius * 1.2)
    elif name == "star":
        t = np.arange(10) * np.pi / 5 + np.pi / 2
        r = np.where(np.arange(10) % 2 == 0, radius * 1.25, radius * 0.5)
    elif name == "cross":
        a, b = 0.33 * radius, 1.05 * radius  # half arm width, arm length
        pts = np.array([(a, b), (a, a), (b, a), (b, -a), (a, -a), (a, -b),
                        (-a, -b), (-a, -a), (-b, -a), (-b, a), (-a, a), (-a, b)])
        t = np.arctan2(pts[:, 1], pts[:, 0])
        r = np.hypot(pts[:, 0], pts[:, 1])
    else:  # pragma: no cover - guarded by SHAPE_CLASSES
        raise ValueError(name)
    t = t + angle
    return np.stack([r * np.sin(t), r * np.cos(t)], axis=1)


def _smooth_noise(rng: np.random.Generator, size: int, grid: int, channels: int) -> np.ndarray:
    """Low-frequency noise: a random ``grid x grid`` field bilinearly upsampled to ``size``."""
    coarse = rng.normal(size=(grid + 1, grid + 1, channels))
    pos = np.linspace(0, grid, size)
    i0 = np.clip(np.floor(pos).astype(int), 0, grid - 1)
    frac = (pos - i0)[:, None]
    rows = coarse[i0] * (1 - frac[..., None]) + coarse[i0 + 1] * frac[..., None]  # (size, grid+1, C)
    cols = rows[:, i0] * (1 - frac.T[..., None]) + rows[:, i0 + 1] * frac.T[..., None]
    return cols


def _background(rng: np.random.Generator, size: int) -> np.ndarray:
    base = rng.uniform(0.2, 0.8, size=3)
    image = base + 0.12 * _smooth_noise(rng, size, int(rng.integers(3, 8)), 3)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64)
    texture = rng.integers(0, 3)
    if texture == 0:  # stripes
        theta, period = rng.uniform(0, np.pi), rng.uniform(6, 20)
        wave = np.sin(2 * np.pi * (xx * np.cos(theta) + yy * np.sin(theta)) / period)
        image += 0.07 * wave[..., None] * rng.uniform(-1, 1, size=3)
    elif texture == 1:  # blotches
        image += 0.10 * _smooth_noise(rng, size, int(rng.integers(12, 24)), 3)
    image += rng.normal(scale=rng.uniform(0.01, 0.05), size=image.shape)
    return image


def _object_colour(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    for _ in range(50):
        colour = rng.uniform(0.0, 1.0, size=3)
        if np.linalg.norm(colour - background) >= 0.4:
            return colour
    return 1.0 - background


def make_scene(
    seed: int | tuple[int, ...],
    size: int = 224,
    n_objects: tuple[int, int] = (1, 3),
    watermark_class: int | str | None = None,
    watermark_prob: float = 1.0,
    object_scale: float | None = None,
) -> Scene:
    """Draw one scene; the same ``seed`` always gives the same scene.

    Args:
        seed: an int or a tuple of ints (e.g. ``(base_seed, index)``).
        size: image side in pixels.
        n_objects: inclusive range of the number of objects.
        watermark_class: class (index or name) whose presence adds the corner watermark; ``None`` for none.
        watermark_prob: probability that a scene with that class gets the watermark.
        object_scale: object size relative to a 224 px scene (default ``size / 224``: objects scale with
            the image); ``1.0`` keeps objects at their 224 px pixel size in a smaller scene.
    """
    if size < 32:
        raise ValueError(f"size: expected at least 32 pixels, got {size}")
    lo, hi = n_objects
    if not 1 <= lo <= hi:
        raise ValueError(f"n_objects: expected (low, high) with 1 <= low <= high, got {n_objects}")
    rng = np.random.default_rng(seed)
    image = _background(rng, size)
    scale = size / 224 if object_scale is None else float(object_scale)
    masks: list[np.ndarray] = []
    labels: list[int] = []
    areas: list[int] = []
    for _ in range(int(rng.integers(lo, hi + 1))):
        label = int(rng.integers(len(SHAPE_CLASSES)))
        for _attempt in range(30):
            radius = rng.uniform(17, 34) * scale
            centre = rng.uniform(radius * 1.1, size - radius * 1.1, size=2)
            vertices = _shape_polygon(SHAPE_CLASSES[label], radius, rng.uniform(0, 2 * np.pi)) + centre
            rr, cc = _fill_polygon(vertices[:, 0], vertices[:, 1], shape=(size, size))
            mask = np.zeros((size, size), dtype=bool)
            mask[rr, cc] = True
            if all((m & ~mask).sum() >= _MIN_VISIBLE * a for m, a in zip(masks, areas)):
                break
        else:
            continue  # no room for this object
        local_bg = image[mask].mean(axis=0)
        colour = _object_colour(rng, local_bg)
        shade = 0.08 * _smooth_noise(rng, size, 4, 1)[mask]
        image[mask] = colour + shade + rng.normal(scale=0.02, size=(int(mask.sum()), 3))
        masks = [m & ~mask for m in masks] + [mask]
        labels.append(label)
        areas.append(int(mask.sum()))
    image = (np.clip(image, 0.0, 1.0) * 255).round().astype(np.uint8)
    watermark = False
    if watermark_class is not None and class_index(watermark_class) in labels:
        watermark = bool(rng.uniform() < watermark_prob)
        if watermark:
            image = add_watermark(image)
    return Scene(image=image, masks=np.stack(masks), labels=tuple(labels), watermark=watermark, seed=seed)


def images_with_class(target: int | str, n: int, seed: int, marked: int = 0) -> list[np.ndarray]:
    """``n`` scene images that contain class ``target``: scenes ``make_scene((seed, i))`` for i = 0, 1, ... in
    order, those without the class skipped; the first ``marked`` carry the watermark (a Clever-Hans data set
    for SpRAy)."""
    index = class_index(target)
    images: list[np.ndarray] = []
    i = 0
    while len(images) < n:
        scene = make_scene((seed, i))
        i += 1
        if index in scene.labels:
            images.append(add_watermark(scene.image) if len(images) < marked else scene.image)
    return images


def make_scenes(n: int, seed: int = 0, **options) -> list[Scene]:
    """``n`` scenes; scene ``i`` is ``make_scene((seed, i), **options)``."""
    return [make_scene((seed, i), **options) for i in range(n)]
