"""The overlay component: the heatmap over the image with its view controls (opacity, colour scale, colour range
with reset, the map shown: final or one FMO level, outlines, truth + pointing). It draws the explanation on
screen and any map a connector hands it (:meth:`Overlay.show_map`)."""
from __future__ import annotations

import ipywidgets as widgets

from ...explainers.registry import get_method
from ...render import RANGE_MODES, is_signed
from ..figures import COLOUR_SCALES
from ..overlay_view import VISITED_COLOUR, OverlayView
from ..style import AUTO, show_if
from .base import Component, register

FINAL = "final"


@register
class Overlay(Component):
    name, place, order = "overlay", "main", 10

    def __init__(self, context):
        super().__init__(context)
        self.view = OverlayView()
        self.opacity = widgets.FloatSlider(value=self.view.opacity, min=0, max=1, step=0.05, description="opacity",
                                           continuous_update=True, layout=widgets.Layout(width="260px"))
        self.opacity.observe(lambda change: self.view.set_opacity(change["new"]), names="value")
        self.colour_scale = widgets.Dropdown(options=list(COLOUR_SCALES), value=self.view.drawn_scale,
                                             description="colours", layout=widgets.Layout(width="200px"),
                                             tooltip="the colour scale of the map on screen (signed and unsigned "
                                                     "maps keep one each)")
        self.colour_scale.observe(lambda change: self._quiet or self.view.set_colour_scale(change["new"]),
                                  names="value")
        self.colour_range = widgets.Dropdown(options=list(RANGE_MODES), value="auto", description="range",
                                             layout=widgets.Layout(width="160px"), style={"description_width": "40px"},
                                             tooltip="auto: min-max (signed maps: +-max|v|); symmetric: +-max|v|; "
                                                     "fixed: the low and high values typed here")
        self.range_low = widgets.FloatText(description="low", layout=widgets.Layout(width="120px"),
                                           style={"description_width": "30px"})
        self.range_high = widgets.FloatText(description="high", layout=widgets.Layout(width="120px"),
                                            style={"description_width": "30px"})
        self.range_reset = widgets.Button(description="reset", icon="undo", tooltip="back to the automatic range",
                                          layout=widgets.Layout(width="80px"))
        for control in (self.colour_range, self.range_low, self.range_high):
            control.observe(lambda _: self._range_changed(), names="value")
        self.range_reset.on_click(lambda _: setattr(self.colour_range, "value", "auto"))
        self.layer = widgets.Dropdown(options=[FINAL], value=FINAL, description="map",
                                      layout=widgets.Layout(width="200px"),
                                      tooltip="FMO: the final map or one level's map")
        self.layer.observe(lambda _: self._quiet or self.draw(), names="value")
        self.outlines = widgets.Checkbox(value=True, description="outlines", indent=False, layout=AUTO,
                                         tooltip="superpixel outlines (LIME, Ablation-CA), FMO's visited regions")
        self.outlines.observe(lambda _: self._draw_outline(), names="value")
        self.truth = widgets.Checkbox(value=True, description="truth + pointing", indent=False, layout=AUTO,
                                      tooltip="generated scenes: the target's true outline (cyan) and a cross where "
                                              "the map peaks (green: inside, red: outside)")
        self.truth.observe(lambda _: self.draw(), names="value")
        self._show_range_controls()
        self.widget = widgets.VBox([
            widgets.HBox([self.opacity, self.colour_scale]),
            widgets.HBox([self.colour_range, self.range_low, self.range_high, self.range_reset]),
            widgets.HBox([self.layer, self.outlines, self.truth]), self.view.figure])
        self.view.show_image(self.state.image)
        self.state.observe(lambda _: self.view.show_image(self.state.image), names="image")
        results = context.results
        results.observe(lambda change: change["new"] is not None and self._partial(change["new"]), names="partial")
        results.observe(lambda change: self._explained(change["new"]), names="explanation")

    @property
    def explanation(self):
        return self.context.results.explanation

    # -- drawing --------------------------------------------------------------------------------------------
    def show_map(self, heatmap, method: str, title: str) -> None:
        """Draw a map of ``method`` (signed maps on a symmetric scale, a flat map on the method's value range and
        said to be flat); the colour drop-down names its scale."""
        from ...flatness import flat_note, is_flat

        info = get_method(method)
        if is_flat(heatmap):
            title = f"{title}<br><span style='font-size:12px'>{flat_note(heatmap)}</span>"
        self.view.show_heatmap(heatmap, is_signed(heatmap, info.signed), title, info.value_range)
        self._name_scale()

    def _partial(self, partial) -> None:
        self.show_map(partial.heatmap, self.state.method, f"{self.state.method}: {partial.label} ...")

    def _explained(self, explanation) -> None:
        levels = explanation.levels if explanation is not None else None
        with self.quietly():
            options = (FINAL, *(f"level {i + 1}" for i in range(len(levels.maps) if levels else 0)))
            if tuple(self.layer.options) != options:      # unchanged: no new options sent to the browser
                self.layer.options = options
            self.layer.value = FINAL
        self.draw()

    def level(self) -> int | None:
        """The FMO level chosen in the map drop-down (0-based), or None for the final map."""
        return None if self.layer.value == FINAL else int(self.layer.value.split()[-1]) - 1

    def draw(self) -> None:
        """The explanation on screen (or the chosen level's map), its outlines, truth and pointing marker."""
        e = self.explanation
        if e is None:
            return
        heat, title, level = e.heatmap, f"{e.method} for {e.target_name}", self.level()
        if level is not None:
            heat = e.levels.maps[level]
            title = f"{title}: level {level + 1} {tuple(e.levels.schedule[level])}"
        with self.view.figure.batch_update():     # one message to the browser, one synced-state copy
            self.show_map(heat, e.method, title)
            self._draw_outline()
            self._draw_truth(heat)

    def _draw_truth(self, heat) -> None:
        """On generated scenes: the target's true outline and the pointing-game marker (green hit, red miss; none
        for a flat map, which points nowhere). The check box is shown only when there is a truth to draw."""
        from ...metrics.localisation import NO_POINT, peak, pointing_outcome

        mask = self.session.scene_mask(self.explanation.target)
        show_if(self.truth, mask is not None)
        mask = mask if self.truth.value else None
        self.view.show_truth(mask)
        outcome = None if mask is None else pointing_outcome(heat, mask)
        self.view.show_pointing(None if outcome in (None, NO_POINT) else peak(heat), outcome == "hit")

    def _draw_outline(self) -> None:
        e, level = self.explanation, self.level()
        if e is None or not self.outlines.value:
            self.view.show_outline(None)
        elif e.segments is not None:
            self.view.show_segments(e.segments)
        elif e.levels is not None and level is not None:
            self.view.show_regions(e.levels.visited[level], VISITED_COLOUR)
        else:
            self.view.show_outline(None)

    def outline_segments(self, highlight: tuple[int, ...]) -> None:
        """Outline the segments ``highlight`` of the explanation on screen (a connector's request)."""
        if self.explanation is not None and self.explanation.segments is not None:
            self.view.show_segments(self.explanation.segments, highlight=highlight)

    # -- colours --------------------------------------------------------------------------------------------
    def _show_range_controls(self) -> None:
        for control in (self.range_low, self.range_high):
            show_if(control, self.colour_range.value == "fixed")

    def _range_changed(self) -> None:
        """Apply the colour-range control; choosing "fixed" starts from the range on screen."""
        if self._quiet:
            return
        mode = self.colour_range.value
        if mode == "fixed" and self.view.range_mode != "fixed":
            drawn = self.view.drawn_range
            with self.quietly():
                self.range_low.value, self.range_high.value = drawn if drawn else (0.0, 1.0)
        self._show_range_controls()
        try:
            self.view.set_range(mode, (self.range_low.value, self.range_high.value) if mode == "fixed" else None)
        except ValueError as error:
            self.report_error(f"colour range: {error}")
        self._name_scale()

    def _name_scale(self) -> None:
        """The colour drop-down shows the scale on screen, marked (±) when it is drawn around zero."""
        with self.quietly():
            self.colour_scale.value = self.view.drawn_scale
            self.colour_scale.description = "colours (±)" if self.view.diverging else "colours"
