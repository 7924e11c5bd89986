"""The comparison component: the chosen methods, each with its current settings, side by side over the image
with its cost and, measured next, its AOPC and (on generated scenes) its pointing-game hit. Only methods that
accept the current model are offered; a line under the list says which are not and why."""
from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ...explainers.registry import get_method, methods
from ..exports import csv_link
from ..figures import map_tile, replace, tile_caption
from ..lane import Handlers
from ..style import AUTO
from ..transport import LiveFigure
from .base import Component, register

TILE = 160                   # px of a tile's figure
TILE_BOX = TILE + 8          # px of a tile's column: its figure and the widgets' 2 px margins, never scrolled
CAPTION_HEIGHT = "62px"     # four lines of 11 px text: the method, its cost, AOPC and pointing, "flat map"


class Tile:
    """One method's tile: its caption (a line a fact) above its own small figure. Tiles sit on the page's grid,
    so no tile's map, caption or colour bar can be drawn over another's (one figure of subplots drew a tile over
    its neighbour's caption in the browser after its rows changed, issue 41)."""

    def __init__(self):
        self.caption = widgets.HTML(layout=widgets.Layout(height=CAPTION_HEIGHT, width="auto"))
        self.caption.add_class("workbench-tile-caption")
        self.figure = LiveFigure(layout=go.Layout(width=TILE, height=TILE))
        self.widget = widgets.VBox([self.caption, self.figure], layout=widgets.Layout(width=f"{TILE_BOX}px"))
        self.drawn: tuple = ()               # (explanation, image) the figure shows

    def show(self, explanation, image, caption: str) -> None:
        """Caption the tile; draw its map only when it is a new one (a quality figure changes the caption)."""
        self.caption.value = f"<div style='text-align:center;font-size:11px;line-height:15px'>{caption}</div>"
        if len(self.drawn) != 2 or self.drawn[0] is not explanation or self.drawn[1] is not image:
            replace(self.figure, map_tile(explanation.heatmap, image, TILE, get_method(explanation.method).value_range))
            self.drawn = (explanation, image)


@register
class Comparison(Component):
    name, place, order, title = "comparison", "tab", 30, "comparison"
    fresh_keys = ("image", "model", "target")

    def __init__(self, context):
        super().__init__(context)
        registered = methods()
        self.tiles: list[Tile] = []          # made as needed and kept: a redraw edits them, sends no new widget
        # as many columns as fit (three in a wide tab, two in a narrow one): a tile is never cut at the tab's edge
        self.grid = widgets.GridBox(layout=widgets.Layout(grid_template_columns=f"repeat(auto-fill, {TILE_BOX}px)",
                                                          grid_gap="6px 6px", width="100%"))
        self.methods = widgets.SelectMultiple(
            rows=6, description="methods", style={"description_width": "60px"},
            layout=widgets.Layout(width="330px"))      # room for the longest label, "Ablation-CA (superpixel ...)"
        self.refused = widgets.HTML(layout=widgets.Layout(width="330px"))
        self.refused.add_class("workbench-refused")
        self.offer()
        self.methods.value = [m for m in ("fmo", "occlusion", "gradient") if m in registered]
        self.state.observe(lambda _: self.offer(), names="model")
        self.button = widgets.Button(description="compare", icon="th", layout=AUTO)
        self.button.on_click(lambda _: self.request())
        self.export = widgets.HTML()
        self.explanations, self.image, self.quality = [], None, {}
        self.widget = widgets.VBox([
            widgets.VBox([widgets.HTML("Each method with its current settings, over the image; AOPC (MoRF, the "
                                       "curves tab's settings) and, on generated scenes, the pointing game under "
                                       "each map."), self.methods, self.refused, self.button]),
            self.freshness.banner, self.until_shown(
                "The maps of the ticked methods side by side, each with its AOPC (and pointing on scenes): press "
                "<b>compare</b>.", self.grid), self.export])

    def offer(self) -> None:
        """List the methods that accept the current model (the ticked ones stay ticked); say which are refused
        and why (:meth:`~workbench.explainers.registry.Method.refusal`)."""
        module = self.state.model.module
        accepted, refused = [], {}
        for name, m in sorted(methods().items(), key=lambda item: item[1].label):
            why = m.refusal(module)
            if why is None:
                accepted.append((m.label, name))
            else:
                refused[name] = why
        ticked = [name for name in self.methods.value if name not in refused]
        if list(self.methods.options) != accepted:
            self.methods.options = accepted
            self.methods.value = ticked
        lines = "".join(f"<li><b>{html.escape(name)}</b>: {html.escape(why.removeprefix('model: '))}</li>"
                        for name, why in refused.items())
        self.refused.value = (f"<details style='font-size:12px;color:#555'><summary>{len(refused)} not offered for "
                              f"{html.escape(type(module).__name__)}</summary><ul style='margin:2px 0;"
                              f"padding-left:16px'>{lines}</ul></details>") if refused else ""

    def request(self) -> None:
        """Run every selected method with its current settings, then measure each map's quality."""
        chosen, image, status = list(self.methods.value), self.state.image, self.context.status
        settings = self.context.components["curves"].values() if "curves" in self.context.components else {}
        mask = self.session.scene_mask()
        measured = "AOPC" + (" and pointing" if mask is not None else "")
        methods_done = lambda done, total: status.progressed(done, total, "methods")   # noqa: E731

        def quality_done(quality, cached) -> None:
            self.show_quality(quality)
            status.finished(f"comparison of {len(chosen)} methods done, with {measured} under each map")

        def done(explanations) -> None:
            self.show(explanations, image)
            status.started(f"{measured} of the comparison")
            self.session.request_quality(explanations, settings, mask, Handlers(
                on_partial=self.show_quality, on_progress=methods_done, on_done=quality_done,
                on_error=self.report_error))
        status.started(f"comparison of {len(chosen)} methods")
        try:
            self.session.request_comparison(chosen, Handlers(
                on_partial=lambda explanations: self.show(explanations, image), on_progress=methods_done,
                on_done=self.shown_by(done), on_error=self.report_error))
        except ValueError as error:
            self.report_error(f"ValueError: {error}")

    def show(self, explanations, image=None) -> None:
        self.reveal()
        """Draw the maps over ``image``; quality figures come later (:meth:`show_quality`)."""
        self.explanations, self.image, self.quality = list(explanations), image, {}
        self._draw()

    def show_quality(self, quality: dict) -> None:
        self.quality = dict(quality)
        self._draw()

    def _draw(self) -> None:
        import pandas as pd

        while len(self.tiles) < len(self.explanations):
            self.tiles.append(Tile())
        for tile, e in zip(self.tiles, self.explanations):
            tile.show(e, self.image, tile_caption(e, self.quality.get(e.method)))
        shown = tuple(tile.widget for tile in self.tiles[:len(self.explanations)])
        if self.grid.children != shown:
            self.grid.children = shown
        table = pd.DataFrame([{"method": e.method, "forward passes": e.cost.forward_passes,
                               "backward passes": e.cost.backward_passes, "seconds": e.cost.seconds,
                               "aopc_morf": self.quality.get(e.method, {}).get("aopc"),
                               "pointing": self.quality.get(e.method, {}).get("pointing")}
                              for e in self.explanations])
        self.export.value = csv_link("comparison", table) if len(table) else ""
