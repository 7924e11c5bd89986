"""Pure figure functions: plain results in, Plotly figures (or the lines and titles to draw) out. No widgets and
no state here; a component puts what these return into its :class:`~workbench.ui.transport.LiveFigure`."""
from __future__ import annotations

from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..render import colour_range, downsample, is_signed, png_data_uri, round_for_display

MAX_SIDE = 112     # heatmaps travel block-averaged to at most this many cells a side
COLOUR_SCALES = ("Inferno", "Viridis", "Hot", "Greys", "RdBu_r", "PiYG", "PuOr_r")
SIGNED_SCALE = "RdBu_r"
CURVE_COLOURS = {"morf": "#d62728", "lerf": "#1f77b4", "random": "#7f7f7f"}
_CURVE_NAMES = {"morf": "MoRF", "lerf": "LeRF", "random": "random"}
_INSERTION_DELETION_COLOURS = {"insertion": "#2ca02c", "deletion": "#d62728"}
TOOLBAR = 28      # px of Plotly's toolbar at the top of a figure: titles go below it, never under it
CAPTION_LINE = 15  # px per line of a tile's caption (font 11)
COLOUR_BAR = 30   # px under a tile for its horizontal colour bar
MARGIN = dict(l=10, r=10, t=TOOLBAR + 26, b=10)


def title(text: str) -> dict:
    """A title left-aligned just below the toolbar (``TOOLBAR`` px from the top)."""
    return dict(text=text, font=dict(size=13), x=0.02, xanchor="left", y=1, yref="container", yanchor="top",
                pad=dict(t=TOOLBAR))


def image_axes(figure: go.Figure, height: int, width: int) -> None:
    """Axes that show an image of ``height x width`` pixels, rows downwards, square pixels."""
    figure.update_xaxes(visible=False, range=[-0.5, width - 0.5], constrain="domain")
    figure.update_yaxes(visible=False, range=[height - 0.5, -0.5], scaleanchor="x", constrain="domain")


def replace(live: go.FigureWidget, figure: go.Figure, **layout: Any) -> None:
    """Redraw ``live`` as ``figure`` (its traces and layout, then ``layout``) in one update."""
    with live.batch_update():
        live.data = ()
        live.layout = figure.layout
        live.add_traces(list(figure.data))
        live.update_layout(**layout)


def curve_lines(result: dict) -> tuple[list[tuple[str, str, Any, Any]], str, str, str]:
    """What to draw for an evaluation ``result`` (``wb.evaluate``'s dict): ``(name, colour, x, y)`` per line,
    the title and the axis titles."""
    if "road" in result:
        road = result["road"]
        lines = [(f"{_CURVE_NAMES[o]} (mean drop {road[o].mean_drop:.3f})", CURVE_COLOURS[o],
                  road[o].percentages, road[o].scores) for o in ("morf", "lerf") if o in road]
        name = f"ROAD: combined {result['road_combined']:.3f}" if "road_combined" in result else "ROAD"
        return lines, name, "% pixels removed and imputed", "target score"
    if "insertion_deletion" in result:
        curves = result["insertion_deletion"]
        lines = [(f"{kind} (AUC {curves[kind].auc:.3f})", _INSERTION_DELETION_COLOURS[kind],
                  curves[kind].fractions, curves[kind].scores) for kind in ("insertion", "deletion")
                 if kind in curves]
        return lines, "Insertion and deletion", "share of pixels inserted or deleted", "target score"
    curves = result["curves"]
    lines = [(f"{_CURVE_NAMES[o]} (AOPC {curves[o].aopc:.3f})", CURVE_COLOURS[o], curves[o].steps,
              curves[o].scores) for o in CURVE_COLOURS if o in curves]
    name = (f"Region perturbation: ABPC {result['abpc']:.3f}, "
            f"AOPC MoRF - random {result['aopc_morf_minus_random']:.3f}")
    return lines, name, "regions perturbed", "target logit"


def loss_figure(history: dict[str, list[float]]) -> go.Figure:
    """The total the optimiser minimises on top, then each raw term on its own y scale (raw terms differ by
    orders of magnitude: one shared axis hides the total)."""
    names = (["total"] if "total" in history else []) + [n for n in history if n != "total"]
    rows = max(1, len(names))
    grid = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.04)
    for i, name in enumerate(names):
        grid.add_scatter(y=history[name], name=name, mode="lines", row=i + 1, col=1, showlegend=False)
        grid.update_yaxes(title_text=name if name == "total" else f"{name} (raw)", title_font_size=10,
                          row=i + 1, col=1)
    grid.update_xaxes(title_text="iteration", row=rows, col=1)
    grid.update_layout(height=80 + 110 * rows if names else 260, margin=dict(l=60, r=10, t=TOOLBAR + 26, b=40),
                       title=title("Loss: the minimised total, then each term" if names
                                   else "Loss history (mask-learning methods)"))
    return grid


def tile_caption(explanation, scores: dict | None) -> str:
    """A comparison tile's caption, one fact a line: the method; passes and seconds; AOPC and pointing."""
    cost = explanation.cost
    caption = f"{explanation.method}<br>{cost.forward_passes + cost.backward_passes} passes, {cost.seconds:.2f} s"
    if scores:
        parts = [f"AOPC {scores['aopc']:.3f}"] if "aopc" in scores else []
        if scores.get("pointing") is not None:
            parts.append(f"pointing {scores['pointing']}")
        caption += "<br>" + ", ".join(parts)
    return caption + ("<br><b>flat map</b>: it points nowhere" if explanation.flat else "")


def maps_grid(titles: list[str], heatmaps: list[np.ndarray], image: np.ndarray | None = None, columns: int = 3,
              tile: int = 200, bounds: list | None = None) -> go.Figure:
    """Titled heatmaps in a grid (over ``image`` when given), each with its own colour bar under it and the
    overlay's colour-range rule (``bounds``: each map's method's value range, on which a flat map is drawn)."""
    rows = max(1, -(-len(heatmaps) // columns))
    caption = CAPTION_LINE * max((t.count("<br>") + 1 for t in titles), default=1) + 8   # px above a tile
    figure_height = rows * (tile + caption + COLOUR_BAR) + TOOLBAR
    grid = make_subplots(rows=rows, cols=columns, subplot_titles=titles, horizontal_spacing=0.04,
                         vertical_spacing=min((caption + COLOUR_BAR) / (figure_height - TOOLBAR - caption - 10),
                                              0.9 / max(1, rows - 1)))   # a fraction of the plotting area
    background = png_data_uri(image) if image is not None else None
    for i, heat in enumerate(heatmaps):
        row, col = i // columns + 1, i % columns + 1
        small, factor = downsample(heat, MAX_SIDE // 2)
        small = round_for_display(small)
        signed = is_signed(heat)
        low, high = colour_range(small, signed, bounds=bounds[i] if bounds else None)
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
        grid.update_yaxes(range=[height - 0.5, -0.5], scaleanchor=f"x{'' if i == 0 else i + 1}", row=row, col=col)
    grid.update_xaxes(visible=False, constrain="domain")
    grid.update_yaxes(visible=False, constrain="domain")
    grid.update_annotations(font_size=11)
    grid.update_layout(width=columns * tile, height=figure_height, margin=dict(l=10, r=10, t=TOOLBAR + caption, b=10))
    return grid


def map_tile(heatmap: np.ndarray, image: np.ndarray | None = None, tile: int = 160,
             bounds: tuple[float, float] | None = None) -> go.Figure:
    """One tile of a grid laid out by the page (the comparison's): the map over ``image`` on a square plotting
    area, its colour bar in the bottom margin; the caption is the tile's own widget just above it (the toolbar
    shows over the map's top while the pointer is on it). Drawn as :func:`maps_grid` draws each map."""
    figure = maps_grid([""], [heatmap], image, columns=1, tile=tile, bounds=[bounds])
    figure.layout.annotations = ()
    side = tile - 20
    figure.update_layout(width=tile, height=side + 8 + COLOUR_BAR + 10,
                         margin=dict(l=10, r=10, t=8, b=COLOUR_BAR + 10))
    return figure


def spray_traces(layout: np.ndarray, labels: np.ndarray) -> list[go.Scattergl]:
    """SpRAy's 2-D embedding, one trace per cluster; each point's ``customdata`` is its image index."""
    traces = []
    for cluster in range(int(labels.max()) + 1):
        members = np.flatnonzero(labels == cluster)
        traces.append(go.Scattergl(x=layout[members, 0], y=layout[members, 1], mode="markers",
                                   name=f"cluster {cluster} ({len(members)})", customdata=members,
                                   hovertemplate="image %{customdata}<extra></extra>"))
    return traces


PREDICTED, EXPLAINED = "#9ecae1", "#d62728"   # bar colours: a predicted class, the class explained


def prediction_bars(best: list[tuple[int, str, float]], explained: int | None) -> dict[str, list]:
    """The predictions view's bars from ``top_classes``' ``(index, name, score)``, best at the top: ``y`` the
    class names, ``x`` the scores, ``text`` them rounded, ``colours`` with the ``explained`` class highlighted."""
    shown = list(reversed(best))          # Plotly stacks horizontal bars from the bottom
    return {"y": [f"{name} " for _, name, _ in shown], "x": [score for _, _, score in shown],
            "text": [f"{score:.2f}" for _, _, score in shown], "customdata": [index for index, _, _ in shown],
            "colours": [EXPLAINED if index == explained else PREDICTED for index, _, _ in shown]}
