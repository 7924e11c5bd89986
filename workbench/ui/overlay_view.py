"""The overlay's figure: the image, the heatmap over it, outlines and the pointing-game marker, and the colour
state of the map on screen (scale per signedness, range mode). Drawn from plain arrays; no controls here."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ..render import colour_range, downsample, outline_rgba, png_data_uri, round_for_display
from ..superpixels import boundaries
from .figures import COLOUR_SCALES, MAX_SIDE, SIGNED_SCALE, TOOLBAR, image_axes, title
from .transport import LiveFigure

HIT_COLOUR, MISS_COLOUR = "#00c853", "#ff1744"
TRUTH_COLOUR = (0, 229, 255)
VISITED_COLOUR = (0, 255, 120)     # FMO's visited regions and highlighted segments
OUTLINES_KEPT = 8                  # outline PNGs kept (OverlayView._outline_source)


class OverlayView:
    """The heatmap superimposed on the image: a PNG image layer, a block-averaged heatmap layer with
    opacity, colour scale and an explicit colour range, and an outline layer (superpixels, FMO's visited
    regions, highlighted segments, the ground-truth outline) plus a marker for the pointing game.

    Every draw sets ``zauto=False`` with explicit ``zmin``/``zmax`` (:func:`~workbench.render.colour_range`):
    a trace left with ``zauto=False`` and null limits keeps the previous map's range in the browser. Signed and
    unsigned maps each keep their own colour scale (``scales``; a map on a symmetric range takes the signed
    maps' diverging one); ``drawn_scale`` is the one on screen."""

    def __init__(self, size: int = 430):
        self.figure = LiveFigure(
            data=[go.Image(name="image", hoverinfo="skip"),
                  go.Heatmap(name="heatmap", showscale=True, opacity=0.6, colorscale="Inferno", hoverinfo="z",
                             colorbar=dict(thickness=12, len=0.8, exponentformat="e")),
                  go.Image(name="outline", hoverinfo="skip"),
                  go.Scatter(name="pointing", mode="markers", x=[], y=[], hoverinfo="text", showlegend=False,
                             marker=dict(symbol="x-thin", size=16, line=dict(width=4))),
                  go.Image(name="ground truth", hoverinfo="skip")],
            layout=go.Layout(width=size, height=size + 20, margin=dict(l=10, r=10, t=TOOLBAR + 26, b=10),
                             title=title("")))
        self.opacity = 0.6
        self.scales = {False: "Inferno", True: SIGNED_SCALE}   # by signedness of the drawn map
        self.signed = False     # the drawn map's signedness
        self.range_mode = "auto"
        self.fixed_range: tuple[float, float] | None = None
        self.bounds: tuple[float, float] | None = None   # of the shown map's method (workbench.render.colour_range)
        self.shown: np.ndarray | None = None   # the drawn (block-averaged) map
        self._outlines: list[tuple[np.ndarray, tuple[int, int, int], str]] = []
        self.draws = 0          # heatmap redraws (partial and final), for tests and the latency benchmark

    @property
    def diverging(self) -> bool:
        """Whether the map is drawn around zero: a signed map, or any map on a symmetric range (an unsigned
        scale there would paint zero, the background, in the middle of its colours)."""
        return self.signed or self.range_mode == "symmetric"

    @property
    def drawn_scale(self) -> str:
        return self.scales[self.diverging]

    @property
    def drawn_range(self) -> tuple[float, float] | None:
        trace = self.figure.data[1]
        return None if trace.z is None else (trace.zmin, trace.zmax)

    def show_image(self, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        with self.figure.batch_update():
            self.figure.data[0].source = png_data_uri(image)
            self.figure.data[1].z = None
            self.figure.data[2].source = None
            self.figure.data[3].x, self.figure.data[3].y = [], []
            self.figure.data[4].source = None
            image_axes(self.figure, height, width)
        self.shown = None

    def show_heatmap(self, heatmap: np.ndarray, signed: bool, title: str,
                     bounds: tuple[float, float] | None = None) -> None:
        """Draw ``heatmap``; ``bounds``: the interval its method's maps lie in (a flat map is drawn on it)."""
        small, factor = downsample(heatmap, MAX_SIDE)
        small = round_for_display(small)
        offset = (factor - 1) / 2
        self.signed, self.shown, self.bounds = signed, small, bounds
        with self.figure.batch_update():
            trace = self.figure.data[1]
            trace.z, trace.x0, trace.dx, trace.y0, trace.dy = small, offset, factor, offset, factor
            trace.opacity = self.opacity
            self._apply_scale()
            self.figure.layout.title.text = title
        self.draws += 1

    def _apply_scale(self) -> None:
        """Colour scale and explicit range of the shown map (inside a batch update)."""
        trace = self.figure.data[1]
        trace.colorscale = self.drawn_scale
        if self.shown is None:
            return
        low, high = colour_range(self.shown, self.signed, self.range_mode, self.fixed_range, self.bounds)
        trace.zauto, trace.zmid = False, None
        trace.zmin, trace.zmax = low, high

    def set_range(self, mode: str, fixed: tuple[float, float] | None = None) -> None:
        """``"auto"`` (min-max, or symmetric for signed maps), ``"symmetric"`` (+-max|v|) or ``"fixed"``
        (``fixed=(low, high)``); redraws the shown map's colours."""
        colour_range(np.zeros(1), False, mode, fixed)   # validates before anything changes
        self.range_mode, self.fixed_range = mode, (None if fixed is None else (float(fixed[0]), float(fixed[1])))
        with self.figure.batch_update():
            self._apply_scale()

    def show_outline(self, edges: np.ndarray | None, colour: tuple[int, int, int] = (255, 255, 255)) -> None:
        """Draw a boolean edge map (``None`` clears it)."""
        self.figure.data[2].source = None if edges is None else png_data_uri(outline_rgba(edges, colour))

    def show_regions(self, labels: np.ndarray | None, colour: tuple[int, int, int] = (255, 255, 255)) -> None:
        """Outline the boundaries between the regions of an integer (or boolean) label map; ``None`` clears."""
        self.figure.data[2].source = None if labels is None else self._outline_source(labels, colour)

    def show_segments(self, labels: np.ndarray | None, highlight: tuple[int, ...] = ()) -> None:
        """Superpixel outlines; segments in ``highlight`` are outlined in a strong colour instead."""
        if labels is not None and highlight:
            return self.show_regions(np.isin(labels, highlight), VISITED_COLOUR)
        return self.show_regions(labels)

    def show_truth(self, mask: np.ndarray | None) -> None:
        """Outline the target's true object mask (generated scenes) in cyan; ``None`` clears it."""
        self.figure.data[4].source = None if mask is None else self._outline_source(mask, TRUTH_COLOUR)

    def _outline_source(self, labels: np.ndarray, colour: tuple[int, int, int]) -> str:
        """The PNG of ``labels``' region boundaries in ``colour``, kept for the last :data:`OUTLINES_KEPT` label
        maps: going back to a map drawn before (a cached explanation, a level) encodes no PNG again."""
        labels = np.asarray(labels)
        for kept, kept_colour, source in self._outlines:
            if kept_colour == colour and kept.shape == labels.shape and np.array_equal(kept, labels):
                return source
        source = png_data_uri(outline_rgba(boundaries(labels.astype(np.int32)), colour))
        self._outlines = [(labels.copy(), colour, source)] + self._outlines[:OUTLINES_KEPT - 1]
        return source

    def show_pointing(self, point: tuple[int, int] | None, hit: bool = False) -> None:
        """A cross at ``(row, col)``: green for a pointing-game hit, red for a miss (``None`` clears it)."""
        marker = self.figure.data[3]
        with self.figure.batch_update():
            if point is None:
                marker.x, marker.y = [], []
                return
            marker.x, marker.y = [point[1]], [point[0]]
            marker.marker.line.color = HIT_COLOUR if hit else MISS_COLOUR
            marker.marker.color = HIT_COLOUR if hit else MISS_COLOUR
            marker.hovertext = ["pointing game: hit" if hit else "pointing game: miss"]

    def set_opacity(self, opacity: float) -> None:
        self.opacity = float(opacity)
        self.figure.data[1].opacity = self.opacity

    def set_colour_scale(self, name: str) -> None:
        """The colour scale of maps like the one shown (signed and unsigned maps keep one each)."""
        if name not in COLOUR_SCALES:
            raise ValueError(f"colour scale: expected one of {COLOUR_SCALES}, got {name!r}")
        self.scales[self.diverging] = name
        self.figure.data[1].colorscale = name
