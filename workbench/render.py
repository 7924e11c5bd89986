"""Heatmaps to pictures without a figure: colour maps and overlays as ``H x W x 3`` uint8 arrays
(used by the CLI's PNG output and by the widget's image layers)."""
from __future__ import annotations

from functools import lru_cache

import numpy as np

# Anchor colours (0..255) of each map, interpolated linearly by matplotlib: a perceptually ordered sequential
# map for unsigned heat (black-purple-orange-yellow, five samples of "inferno") and a diverging blue-white-red map
# for signed heat (ColorBrewer's five-class RdBu). matplotlib's own "inferno" and "RdBu_r" (the 11-class RdBu,
# darker at the ends) differ from these by up to 35/255 and 76/255: kept, so that pictures stay as they were.
TABLE_SIZE = 257
_ANCHORS = {
    "heat": [(0.0, (0, 0, 4)), (0.25, (87, 16, 110)), (0.5, (188, 55, 84)), (0.75, (249, 142, 9)),
             (1.0, (252, 255, 164))],
    "signed": [(0.0, (33, 102, 172)), (0.25, (103, 169, 207)), (0.5, (247, 247, 247)), (0.75, (239, 138, 98)),
               (1.0, (178, 24, 43))],
}


@lru_cache(maxsize=None)
def colour_table(name: str) -> np.ndarray:
    """``257 x 3`` uint8 table (read-only) of a colour map (``"heat"`` or ``"signed"``); odd, so 0.5 has its
    own entry."""
    from matplotlib.colors import LinearSegmentedColormap

    if name not in _ANCHORS:
        raise ValueError(f"cmap: expected one of {sorted(_ANCHORS)}, got {name!r}")
    anchors = [(position, tuple(c / 255 for c in colour)) for position, colour in _ANCHORS[name]]
    cmap = LinearSegmentedColormap.from_list(name, anchors, N=TABLE_SIZE)
    table = (cmap(np.linspace(0, 1, TABLE_SIZE))[:, :3] * 255).round().astype(np.uint8)
    table.flags.writeable = False
    return table


def normalise_heat(heatmap: np.ndarray, signed: bool) -> np.ndarray:
    """Map heat to [0, 1]: min-max for unsigned maps, symmetric around 0 (0 -> 0.5) for signed maps."""
    heat = np.asarray(heatmap, dtype=np.float64)
    if signed:
        scale = np.abs(heat).max()
        return 0.5 + 0.5 * heat / scale if scale > 0 else np.full_like(heat, 0.5)
    low, high = heat.min(), heat.max()
    return (heat - low) / (high - low) if high > low else np.zeros_like(heat)


def is_signed(heatmap: np.ndarray, may_be_signed: bool = True) -> bool:
    """Whether to draw ``heatmap`` on a symmetric scale around 0: it has negative values and its method may give
    signed maps (the one rule for every picture and figure of a map)."""
    return may_be_signed and bool((np.asarray(heatmap) < 0).any())


def colourise(heatmap: np.ndarray, signed: bool | None = None) -> np.ndarray:
    """``H x W x 3`` uint8 picture of a heatmap; ``signed=None`` decides from the data (:func:`is_signed`)."""
    signed = is_signed(heatmap) if signed is None else signed
    index = (normalise_heat(heatmap, signed) * (TABLE_SIZE - 1)).round().astype(np.intp)
    return colour_table("signed" if signed else "heat")[index]


def overlay(image: np.ndarray, heatmap: np.ndarray, opacity: float = 0.6, signed: bool | None = None) -> np.ndarray:
    """The heatmap's colours blended over the image (``H x W x 3`` uint8 both)."""
    if not 0 <= opacity <= 1:
        raise ValueError(f"opacity: expected a number in [0, 1], got {opacity!r}")
    image = np.asarray(image)
    if image.shape[:2] != np.shape(heatmap):
        raise ValueError(f"heatmap: expected the image's size {image.shape[:2]}, got {np.shape(heatmap)}")
    base = image.astype(np.float64) if image.dtype == np.uint8 else np.asarray(image, np.float64) * 255
    mixed = (1 - opacity) * base + opacity * colourise(heatmap, signed).astype(np.float64)
    return mixed.round().clip(0, 255).astype(np.uint8)


def downsample(heatmap: np.ndarray, max_side: int) -> tuple[np.ndarray, int]:
    """Block-mean ``heatmap`` by the smallest integer factor that brings both sides to ``<= max_side``
    (edges padded by replication); returns ``(small, factor)``. Views send this, not the full map."""
    heat = np.asarray(heatmap, dtype=np.float32)
    factor = max(1, -(-max(heat.shape) // max_side))
    if factor == 1:
        return heat, 1
    h, w = heat.shape
    padded = np.pad(heat, ((0, -h % factor), (0, -w % factor)), mode="edge")
    small = padded.reshape(padded.shape[0] // factor, factor, padded.shape[1] // factor, factor).mean(axis=(1, 3))
    return small, factor


def outline_rgba(edges: np.ndarray, colour: tuple[int, int, int] = (255, 255, 255), alpha: int = 220) -> np.ndarray:
    """``H x W x 4`` uint8 picture, transparent except where the boolean ``edges`` map is set."""
    edges = np.asarray(edges, dtype=bool)
    picture = np.zeros((*edges.shape, 4), dtype=np.uint8)
    picture[edges] = (*colour, alpha)
    return picture


def png_data_uri(picture: np.ndarray) -> str:
    """A ``data:image/png;base64,...`` URI of an ``H x W x 3|4`` picture (uint8, or float in [0, 1]) (what Plotly image layers take)."""
    import base64
    import io

    from PIL import Image

    picture = np.asarray(picture)
    if picture.dtype != np.uint8:  # float images in [0, 1]
        picture = (np.clip(picture, 0, 1) * 255).round().astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(picture)).save(buffer, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def round_for_display(values: np.ndarray, digits: int = 3) -> np.ndarray:
    """``values`` (float64) rounded to ``digits`` significant digits of their largest magnitude, so that a
    heatmap serialised as JSON text is a few characters a cell instead of seventeen."""
    values = np.asarray(values, dtype=np.float64)
    peak = float(np.abs(values).max(initial=0.0))
    if peak == 0 or not np.isfinite(peak):
        return values
    decimals = digits - 1 - int(np.floor(np.log10(peak)))
    return np.round(values, decimals)


RANGE_MODES = ("auto", "symmetric", "fixed")


def colour_range(heatmap: np.ndarray, signed: bool, mode: str = "auto",
                 fixed: tuple[float, float] | None = None,
                 bounds: tuple[float, float] | None = None) -> tuple[float, float]:
    """The ``(low, high)`` values the ends of the colour scale stand for: ``"auto"`` gives ``[min, max]`` for an
    unsigned map and ``+-max|v|`` for a signed one, ``"symmetric"`` always ``+-max|v|``, ``"fixed"`` the given
    ``fixed`` pair. A flat map (:func:`workbench.flatness.is_flat`) is not stretched: ``"auto"`` draws it on
    ``bounds``, the interval the method's maps lie in by construction (a mask: ``(0, 1)``), when known, else
    on a unit-wide range around its mean (drawn as the scale's middle colour)."""
    from .flatness import is_flat

    if mode not in RANGE_MODES:
        raise ValueError(f"mode: expected one of {RANGE_MODES}, got {mode!r}")
    if mode == "fixed":
        if fixed is None or len(fixed) != 2 or not all(np.isfinite(v) for v in fixed) or not fixed[0] < fixed[1]:
            raise ValueError(f"fixed: expected two finite numbers (low, high) with low < high, got {fixed!r}")
        return float(fixed[0]), float(fixed[1])
    heat = np.asarray(heatmap, dtype=np.float64)
    flat = heat.size > 0 and np.isfinite(heat).all() and is_flat(heat)
    if flat and mode == "auto" and bounds is not None:
        return float(bounds[0]), float(bounds[1])
    if signed or mode == "symmetric":
        peak = float(np.abs(heat).max(initial=0.0))
        return (-peak, peak) if peak > 0 else (-1.0, 1.0)
    low, high = float(heat.min(initial=np.inf)), float(heat.max(initial=-np.inf))
    if flat:
        return float(heat.mean()) - 0.5, float(heat.mean()) + 0.5
    if not low < high:
        low, high = (low - 0.5, low + 0.5) if np.isfinite(low) else (0.0, 1.0)
    return low, high
