"""Plotly ``FigureWidget`` views of the Workbench. Each view owns one figure and redraws it with
``batch_update`` from plain numpy results; images travel as PNG layers and heatmaps as block-averaged
``go.Heatmap`` grids of at most ``MAX_SIDE`` cells a side, so a 224x224 update is a small message."""
from __future__ import annotations

from copy import deepcopy
from typing import Any, Callable

import base64

import numpy as np
import plotly.graph_objects as go
from plotly.serializers import _js_to_py, _py_to_js
from plotly.subplots import make_subplots
from traitlets import Dict, List, observe

from ..render import colour_range, downsample, outline_rgba, png_data_uri, round_for_display
from ..superpixels import boundaries

MAX_SIDE = 112
COLOUR_SCALES = ("Inferno", "Viridis", "Hot", "Greys", "RdBu_r", "PiYG", "PuOr_r")
SIGNED_SCALE = "RdBu_r"
HIT_COLOUR, MISS_COLOUR = "#00c853", "#ff1744"
TRUTH_COLOUR = (0, 229, 255)
_CURVE_COLOURS = {"morf": "#d62728", "lerf": "#1f77b4", "random": "#7f7f7f"}
_CURVE_NAMES = {"morf": "MoRF", "lerf": "LeRF", "random": "random"}
_INSERTION_DELETION_COLOURS = {"insertion": "#2ca02c", "deletion": "#d62728"}
_MARGIN = dict(l=10, r=10, t=40, b=10)
TOOLBAR = 28      # px of Plotly's toolbar at the top of a figure: titles go below it, never under it
CAPTION_LINE = 15  # px per line of a tile's caption (font 11)
COLOUR_BAR = 30   # px under a tile for its horizontal colour bar


def _title(text: str) -> dict:
    """A title left-aligned just below the toolbar (``TOOLBAR`` px from the top)."""
    return dict(text=text, font=dict(size=13), x=0.02, xanchor="left", y=1, yref="container", yanchor="top",
                pad=dict(t=TOOLBAR))


_TYPED = {"f": "f4", "i1": "i1", "i2": "i2", "i4": "i4", "u1": "u1", "u2": "u2", "u4": "u4"}


def _to_js(value, manager=None):
    """Plotly's serialiser, but a numeric array of two or more dimensions travels as plotly.js's typed-array
    spec (``dtype``, base64 ``bdata``, ``shape``; floats as float32, enough for maps drawn to 3 significant
    digits) instead of nested lists: one string, where nested lists cost the kernel a walk over every cell of
    a heatmap for each edit and each state sync."""
    if isinstance(value, dict):
        return {key: _to_js(item, manager) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_js(item, manager) for item in value]
    if isinstance(value, np.ndarray) and value.ndim >= 2 and value.size:
        code = _TYPED.get(value.dtype.kind if value.dtype.kind == "f" else value.dtype.str[1:])
        if code is not None:
            data = np.ascontiguousarray(value, dtype=np.dtype("<" + code))
            return {"dtype": code, "bdata": base64.b64encode(data.tobytes()).decode("ascii"),
                    "shape": ",".join(str(n) for n in value.shape)}
    return _py_to_js(value, manager)


def _synced(trait):
    """A synced figure trait that serialises with :func:`_to_js`."""
    return trait.tag(sync=True, to_json=_to_js, from_json=_js_to_py)


class LiveFigure(go.FigureWidget):
    """A ``FigureWidget`` whose synced state always holds the figure as drawn.

    Plotly sends each edit to the browser as a one-off message (``_py2js_restyle`` set, then reset to None) and
    leaves the synced ``_widget_data``/``_widget_layout`` as they were at construction. A browser view that
    starts after an edit, because the page loads the 5 MB widget bundle more slowly than a fast method
    computes, or because the notebook is reopened, drew the figure's first state: an empty heatmap under a
    finished explanation. Here every edit also refreshes the synced state, so a late view draws what is
    current (live views already applied the edit and do not redraw on a state change).

    A page that loads the bundle slowly also loses the edit messages sent while it loads, and then draws the
    state it got first. A view reports the edit it drew when it starts (``_js2py_layoutDelta`` with its
    ``layout_edit_id``); an older one than the last edit sent gets the whole figure again (:meth:`redraw`)."""

    _widget_layout = _synced(Dict())
    _widget_data = _synced(List())
    _py2js_addTraces = _synced(Dict(allow_none=True))
    _py2js_restyle = _synced(Dict(allow_none=True))
    _py2js_relayout = _synced(Dict(allow_none=True))
    _py2js_update = _synced(Dict(allow_none=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._answered: set[int] = set()       # stale edit ids already answered with a redraw
        self._view_traces = 0                  # traces the last reporting view holds
        self.observe(self._traces_reported, names="_js2py_traceDeltas")
        self.observe(self._view_reported, names="_js2py_layoutDelta")

    @observe("_js2py_traceDeltas")
    def _handler_js2py_traceDeltas(self, change) -> None:
        """Plotly's handler of the defaults a view reports per trace, less the array properties this figure set
        itself: a view reports an array it received as a typed-array spec (:func:`_to_js`) back as a
        "default" (its decoded ``fullData`` differs from the spec), and plotly then failed on it
        (``ValueError: The truth value of an array ... is ambiguous``, once per redraw in the log)."""
        message = change["new"]
        for delta in (message or {}).get("trace_deltas") or []:
            trace = next((t for t in self.data if t.uid == delta.get("uid")), None)
            if trace is not None:
                for key in [k for k, v in trace._props.items() if isinstance(v, np.ndarray) and k in delta]:
                    del delta[key]
        go.FigureWidget._handler_js2py_traceDeltas.func(self, change)

    def _traces_reported(self, change) -> None:
        if change["new"]:
            self._view_traces = len(change["new"].get("trace_deltas") or [])

    def _view_reported(self, change) -> None:
        message = change["new"]
        if not message:
            return
        drawn = message.get("layout_edit_id")
        if isinstance(drawn, int) and drawn < self._last_layout_edit_id and drawn not in self._answered:
            self._answered.add(drawn)
            self.redraw()

    def redraw(self) -> None:
        """Send the whole layout and every trace the view holds (a view reports its traces before its layout) as
        edits that any view applies."""
        self._send_relayout_msg(deepcopy(self._layout_obj._props))
        for index, trace in enumerate(self._data[:self._view_traces]):
            self._send_restyle_msg({key: [value] for key, value in trace.items() if key not in ("type", "uid")},
                                   trace_indexes=[index])

    def _sync_state(self) -> None:
        self._widget_data = deepcopy(self._data)
        self._widget_layout = deepcopy(self._layout_obj._props)


def _then_sync(name: str):
    """``FigureWidget.<name>`` (one edit message to the views) followed by :meth:`LiveFigure._sync_state`."""
    send = getattr(go.FigureWidget, name)

    def send_and_sync(self, *args, **kwargs):
        send(self, *args, **kwargs)
        self._sync_state()

    send_and_sync.__name__ = name
    return send_and_sync


# every kind of edit Plotly sends: relayout, restyle, update, add/delete/move traces
for _name in ("_send_relayout_msg", "_send_restyle_msg", "_send_update_msg", "_send_addTraces_msg",
              "_send_deleteTraces_msg", "_send_moveTraces_msg"):
    setattr(LiveFigure, _name, _then_sync(_name))


def _image_axes(figure: go.FigureWidget, height: int, width: int) -> None:
    figure.update_xaxes(visible=False, range=[-0.5, width - 0.5], constrain="domain")
    figure.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain")


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
                             title=_title("")))
        self.opacity = 0.6
        self.scales = {False: "Inferno", True: SIGNED_SCALE}   # by signedness of the drawn map
        self.signed = False     # the drawn map's signedness
        self.range_mode = "auto"
        self.fixed_range: tuple[float, float] | None = None
        self.shown: np.ndarray | None = None   # the drawn (block-averaged) map
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
            _image_axes(self.figure, height, width)
        self.shown = None

    def show_heatmap(self, heatmap: np.ndarray, signed: bool, title: str) -> None:
        small, factor = downsample(heatmap, MAX_SIDE)
        small = round_for_display(small)
        offset = (factor - 1) / 2
        self.signed, self.shown = signed, small
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
        low, high = colour_range(self.shown, self.signed, self.range_mode, self.fixed_range)
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

    def show_segments(self, labels: np.ndarray | None, highlight: tuple[int, ...] = ()) -> None:
        """Superpixel outlines; segments in ``highlight`` are outlined in a strong colour instead."""
        if labels is None:
            return self.show_outline(None)
        if highlight:
            return self.show_outline(boundaries(np.isin(labels, highlight).astype(np.int32)), (0, 255, 120))
        return self.show_outline(boundaries(labels))

    def show_truth(self, mask: np.ndarray | None) -> None:
        """Outline the target's true object mask (generated scenes) in cyan; ``None`` clears it."""
        self.figure.data[4].source = None if mask is None else png_data_uri(
            outline_rgba(boundaries(np.asarray(mask, dtype=np.int32)), TRUTH_COLOUR))

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


class CurvesView:
    """The curves of the map on screen, one family at a time: region perturbation (MoRF, LeRF, random, each AOPC
    in the legend), ROAD (MoRF, LeRF) or insertion and deletion (each area in the legend)."""

    def __init__(self, width: int = 430, height: int = 360):
        self.figure = LiveFigure(
            data=[go.Scatter(name=order, mode="lines", line=dict(color=colour))
                  for order, colour in _CURVE_COLOURS.items()],
            layout=go.Layout(width=width, height=height, margin=dict(l=50, r=10, t=TOOLBAR + 26, b=90),
                             title=_title("Region perturbation"),
                             xaxis_title="regions perturbed", yaxis_title="target logit",
                             legend=dict(x=0, y=-0.3, yanchor="top", orientation="h")))

    @staticmethod
    def lines(result: dict) -> tuple[list[tuple[str, str, Any, Any]], str, str, str]:
        """What to draw for an evaluation ``result`` (``wb.evaluate``'s dict): ``(name, colour, x, y)`` per line,
        the title and the axis titles."""
        if "road" in result:
            road = result["road"]
            lines = [(f"{_CURVE_NAMES[o]} (mean drop {road[o].mean_drop:.3f})", _CURVE_COLOURS[o],
                      road[o].percentages, road[o].scores) for o in ("morf", "lerf") if o in road]
            title = f"ROAD: combined {result['road_combined']:.3f}" if "road_combined" in result else "ROAD"
            return lines, title, "% pixels removed and imputed", "target score"
        if "insertion_deletion" in result:
            curves = result["insertion_deletion"]
            lines = [(f"{kind} (AUC {curves[kind].auc:.3f})", _INSERTION_DELETION_COLOURS[kind],
                      curves[kind].fractions, curves[kind].scores) for kind in ("insertion", "deletion")
                     if kind in curves]
            return lines, "Insertion and deletion", "share of pixels inserted or deleted", "target score"
        curves = result["curves"]
        lines = [(f"{_CURVE_NAMES[o]} (AOPC {curves[o].aopc:.3f})", _CURVE_COLOURS[o], curves[o].steps,
                  curves[o].scores) for o in _CURVE_COLOURS if o in curves]
        title = (f"Region perturbation: ABPC {result['abpc']:.3f}, "
                 f"AOPC MoRF - random {result['aopc_morf_minus_random']:.3f}")
        return lines, title, "regions perturbed", "target logit"

    def show(self, result: dict) -> None:
        lines, title, x_title, y_title = self.lines(result)
        with self.figure.batch_update():
            for i, trace in enumerate(self.figure.data):
                name, colour, x, y = lines[i] if i < len(lines) else ("", "#7f7f7f", [], [])
                trace.x, trace.y, trace.name, trace.line.color = x, y, name, colour
                trace.visible = i < len(lines)
            self.figure.layout.title.text = title
            self.figure.layout.xaxis.title.text, self.figure.layout.yaxis.title.text = x_title, y_title


class LossView:
    """Loss history of a mask-learning method: the total the optimiser minimises on top, then each raw term on
    its own y scale (raw terms differ by orders of magnitude: one shared axis hides the total)."""

    def __init__(self, width: int = 430, height: int = 260):
        self.width = width
        self.figure = LiveFigure(layout=go.Layout(
            width=width, height=height, margin=dict(l=60, r=10, t=TOOLBAR + 26, b=40),
            title=_title("Loss history")))

    def show(self, history: dict[str, list[float]] | None) -> None:
        history = dict(history or {})
        if not history and not self.figure.data:
            return                      # nothing shown, nothing to show: no message (cached switches stay fast)
        names = (["total"] if "total" in history else []) + [n for n in history if n != "total"]
        rows = max(1, len(names))
        grid = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04)
        for i, name in enumerate(names):
            grid.add_scatter(y=history[name], name=name, mode="lines", row=i + 1, col=1, showlegend=False)
            grid.update_yaxes(title_text=name if name == "total" else f"{name} (raw)", title_font_size=10,
                              row=i + 1, col=1)
        grid.update_xaxes(title_text="iteration", row=rows, col=1)
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = grid.layout
            self.figure.add_traces(list(grid.data))
            self.figure.update_layout(width=self.width, height=80 + 110 * rows if names else 260,
                                      margin=dict(l=60, r=10, t=TOOLBAR + 26, b=40),
                                      title=_title("Loss: the minimised total, then each term" if names
                                                   else "Loss history (mask-learning methods)"))


class CorrelationView:
    """Ablation-CA's object correlation matrix; hovering a cell calls ``on_pair(i, j)``."""

    def __init__(self, size: int = 430):
        self.figure = LiveFigure(
            data=[go.Heatmap(colorscale=SIGNED_SCALE, zmin=-1, zmax=1, zmid=0,
                             hovertemplate="objects %{y} and %{x}: r = %{z:.2f}<extra></extra>")],
            layout=go.Layout(width=size, height=size, margin=dict(l=40, r=10, t=TOOLBAR + 26, b=40),
                             title=_title("Ablation-CA correlation"),
                             yaxis=dict(autorange="reversed", scaleanchor="x")))
        self.on_pair: Callable[[int, int], None] | None = None
        self.figure.data[0].on_hover(self._hovered)

    def _hovered(self, trace, points, state) -> None:
        if self.on_pair and points.xs:
            self.on_pair(int(points.ys[0]), int(points.xs[0]))

    def show(self, matrix: np.ndarray) -> None:
        self.figure.data[0].z = np.asarray(matrix, dtype=np.float32)


class ComparisonView:
    """Maps side by side, each over its image, titled (method, cost, quality) and with its own colour bar under
    it (the same colour-range rule as the overlay). One figure, redrawn in place for each grid."""

    def __init__(self, columns: int = 3, tile: int = 200):
        self.columns, self.tile = columns, tile
        self.figure = LiveFigure(layout=go.Layout(width=columns * tile, height=tile, margin=_MARGIN))

    def show(self, explanations: list, image: np.ndarray | None = None, quality: dict | None = None
             ) -> go.FigureWidget:
        """Draw the explanations over ``image`` titled with their cost and, where ``quality[method]`` has them,
        their AOPC and pointing-game hit."""
        titles = []
        for e in explanations:
            # one fact a line: "method: N passes, S s" on one line overlapped the next tile's caption
            title = f"{e.method}<br>{e.cost.forward_passes + e.cost.backward_passes} passes, {e.cost.seconds:.2f} s"
            scores = (quality or {}).get(e.method, {})
            if scores:
                parts = [f"AOPC {scores['aopc']:.3f}"] if "aopc" in scores else []
                if scores.get("pointing") is not None:
                    parts.append("pointing hit" if scores["pointing"] else "pointing miss")
                title += "<br>" + ", ".join(parts)
            titles.append(title)
        return self.show_maps(titles, [e.heatmap for e in explanations], image)

    def show_maps(self, titles: list[str], heatmaps: list[np.ndarray], image: np.ndarray | None = None
                  ) -> go.FigureWidget:
        """Draw titled heatmaps in a grid (over ``image`` when given); returns the figure."""
        rows = max(1, -(-len(heatmaps) // self.columns))
        caption = CAPTION_LINE * max((t.count("<br>") + 1 for t in titles), default=1) + 8   # px above a tile
        figure_height = rows * (self.tile + caption + COLOUR_BAR) + TOOLBAR
        grid = make_subplots(rows=rows, cols=self.columns, subplot_titles=titles, horizontal_spacing=0.04,
                             vertical_spacing=min((caption + COLOUR_BAR) / (figure_height - TOOLBAR - caption - 10),
                                                  0.9 / max(1, rows - 1)))   # a fraction of the plotting area
        background = png_data_uri(image) if image is not None else None
        for i, heat in enumerate(heatmaps):
            row, col = i // self.columns + 1, i % self.columns + 1
            small, factor = downsample(heat, MAX_SIDE // 2)
            small = round_for_display(small)
            signed = bool((heat < 0).any())
            low, high = colour_range(small, signed)
            if background is not None:
                grid.add_trace(go.Image(source=background, hoverinfo="skip"), row=row, col=col)
            offset = (factor - 1) / 2
            axis = grid.get_subplot(row, col)
            domain_x, domain_y = axis.xaxis.domain, axis.yaxis.domain
            grid.add_trace(go.Heatmap(
                z=small, x0=offset, dx=factor, y0=offset, dy=factor, colorscale=SIGNED_SCALE if signed else "Inferno",
                zauto=False, zmin=low, zmax=high, opacity=0.6 if background is not None else 1.0, hoverinfo="skip",
                colorbar=dict(orientation="h", thickness=6, len=domain_x[1] - domain_x[0], lenmode="fraction",
                              x=(domain_x[0] + domain_x[1]) / 2, xanchor="center", y=domain_y[0] - 0.01,
                              yanchor="top", exponentformat="e", nticks=3, tickfont=dict(size=9))),
                row=row, col=col)
            height, width = heat.shape
            grid.update_xaxes(range=[-0.5, width - 0.5], row=row, col=col)
            grid.update_yaxes(range=[height - 0.5, -0.5], scaleanchor=f"x{'' if i == 0 else i + 1}", row=row,
                              col=col)
        grid.update_xaxes(visible=False, constrain="domain")
        grid.update_yaxes(visible=False, constrain="domain")
        grid.update_annotations(font_size=11)
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.layout = grid.layout
            self.figure.add_traces(list(grid.data))
            self.figure.update_layout(width=self.columns * self.tile, height=figure_height,
                                      margin=dict(l=10, r=10, t=TOOLBAR + caption, b=10))
        return self.figure


class SweepView:
    """A metric against a swept parameter with standard-error bars, and the cost (forward passes) on a second
    axis; clicking a point calls ``on_point(setting)``."""

    def __init__(self, width: int = 430, height: int = 300):
        self.figure = LiveFigure(
            data=[go.Scatter(name="metric", mode="lines+markers", error_y=dict(type="data", visible=True)),
                  go.Scatter(name="passes", mode="lines+markers", yaxis="y2", line=dict(dash="dot", color="#7f7f7f"))],
            layout=go.Layout(width=width, height=height + 40, margin=dict(l=64, r=50, t=TOOLBAR + 26, b=80),
                             title=_title("Sweep"),
                             yaxis2=dict(overlaying="y", side="right", title="passes", showgrid=False),
                             legend=dict(x=0, y=-0.25, yanchor="top", orientation="h")))
        self.on_point: Callable[[float], None] | None = None
        self.figure.data[0].on_click(self._clicked)

    def _clicked(self, trace, points, state) -> None:
        if self.on_point and points.xs:
            self.on_point(points.xs[0])

    def show(self, settings, means, errors, passes, param: str, metric: str) -> None:
        with self.figure.batch_update():
            self.figure.data[0].x, self.figure.data[0].y = list(settings), list(means)
            self.figure.data[0].error_y.array = list(errors)
            self.figure.data[0].name = metric
            self.figure.data[1].x, self.figure.data[1].y = list(settings), list(passes)
            self.figure.layout.xaxis.title = param
            self.figure.layout.yaxis.title = metric
            self.figure.layout.title.text = f"{metric} and cost against {param}"


class SanityView:
    """Similarity to the original heatmap after each randomisation step (Spearman, SSIM, HOG)."""

    def __init__(self, width: int = 430, height: int = 300):
        self.figure = LiveFigure(
            data=[go.Scatter(name=name, mode="lines+markers") for name in ("spearman", "ssim", "hog")],
            layout=go.Layout(width=width, height=height, margin=dict(l=50, r=10, t=TOOLBAR + 26, b=90),
                             title=_title("Model randomisation"),
                             yaxis=dict(range=[-0.2, 1.05], title="similarity to original"),
                             xaxis=dict(tickangle=-45)))

    def show(self, layers, table, title: str) -> None:
        with self.figure.batch_update():
            for trace in self.figure.data:
                trace.x, trace.y = list(layers), list(table[trace.name])
            lowest = min(float(table[trace.name].min()) for trace in self.figure.data)
            self.figure.layout.yaxis.range = [min(-0.2, lowest - 0.05), 1.05]   # Spearman can reach -1
            self.figure.layout.title.text = title


class SprayView:
    """SpRAy's 2-D embedding, one colour per cluster; clicking a point calls ``on_point(index)``."""

    def __init__(self, width: int = 430, height: int = 360):
        self.figure = LiveFigure(layout=go.Layout(
            width=width, height=height, margin=dict(l=30, r=10, t=TOOLBAR + 26, b=30),
            title=_title("SpRAy: heatmaps of one class"),
            xaxis=dict(showticklabels=False), yaxis=dict(showticklabels=False)))
        self.on_point: Callable[[int], None] | None = None

    def _clicked(self, trace, points, state) -> None:
        if self.on_point and points.point_inds:
            self.on_point(int(trace.customdata[points.point_inds[0]]))

    def show(self, layout: np.ndarray, labels: np.ndarray, title: str) -> None:
        with self.figure.batch_update():
            self.figure.data = ()
            for cluster in range(int(labels.max()) + 1):
                members = np.flatnonzero(labels == cluster)
                self.figure.add_scattergl(x=layout[members, 0], y=layout[members, 1], mode="markers",
                                          name=f"cluster {cluster} ({len(members)})", customdata=members,
                                          hovertemplate="image %{customdata}<extra></extra>")
            self.figure.layout.title.text = title
        for trace in self.figure.data:
            trace.on_click(self._clicked)
