"""The Workbench's panels: one class per panel, each owning its widgets (and its view, see ``views.py``) and
drawing plain results; the :class:`~workbench.ui.workbench.Workbench` wires them to the
:class:`~workbench.ui.session.Session`. No tensor math and no compute calls here.

Left column: :class:`ImagePanel`, :class:`ModelPanel`, :class:`ExplainerPanel`, :class:`StatusPanel`.
Right column: :class:`OverlayPanel` (the heatmap over the image and its view controls) above the tabs
:class:`CurvesPanel`, :class:`CorrelationPanel`, :class:`ComparisonPanel`, :class:`LossPanel`,
:class:`SweepPanel`, :class:`SanityPanel` and :class:`SprayPanel`.
"""
from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass
from typing import Any, Callable

import ipywidgets as widgets

from ..analysis.sweep import DEFAULT_METRICS
from ..explainers.registry import get_method, methods
from ..fills import METRIC_FILLS
from ..render import RANGE_MODES
from .controls import ScheduleEditor, control_for, row_layout
from .views import (COLOUR_SCALES, ComparisonView, CorrelationView, CurvesView, LossView, OverlayView, SanityView,
                    SprayView, SweepView)

METRIC_LABELS = {"aopc_morf": "AOPC (MoRF)", "pointing": "pointing game", "passes": "forward passes",
                 "seconds": "seconds"}   # the sweep's metrics in words
SUPERPIXELS = "n_segments"   # the superpixel count: every method with this parameter shares one slider
STYLE = {"description_width": "110px"}
AUTO = {"width": "auto"}     # buttons and check boxes as wide as their text (never cut short)

# Inside the Workbench: long control labels wrap onto a second line instead of being cut with an ellipsis,
# tabs keep their full names (wrapping to a second row when the column is narrow), and boxes never scroll
# sideways.
CSS = """<style>
.workbench .widget-label { white-space: normal; overflow-wrap: anywhere; line-height: 13px; font-size: 12px; }
.workbench .widget-tab > .lm-TabBar .lm-TabBar-content { flex-wrap: wrap; }
.workbench .widget-tab > .lm-TabBar .lm-TabBar-tab { flex: 0 0 auto; min-width: fit-content; max-width: none; }
.workbench .lm-TabBar-tabLabel { overflow: visible; text-overflow: clip; }
.workbench .widget-tab > .lm-TabBar { min-height: fit-content; }
.workbench .workbench-right { min-width: 0; }
</style>"""


def superpixel_methods() -> list[str]:
    """The registered methods with a superpixel count (parameter ``n_segments``)."""
    return [name for name, m in sorted(methods().items()) if any(p.name == SUPERPIXELS for p in m.params)]


def _photos() -> list[str]:
    from ..data.photos import PHOTOS
    return list(PHOTOS)


def clusters(n: int) -> str:
    """``"1 cluster"``, ``"3 clusters"``."""
    return f"{n} cluster{'' if n == 1 else 's'}"


def csv_link(name: str, table) -> str:
    """An HTML link that downloads ``table`` (a pandas DataFrame) as ``name.csv`` from the browser."""
    data = base64.b64encode(table.to_csv(index=False).encode("utf-8")).decode("ascii")
    return (f"<a download='{html.escape(name)}.csv' href='data:text/csv;base64,{data}' "
            f"title='download this table as CSV'>&#11015; {html.escape(name)}.csv</a>")


def decode_csv_link(link: str):
    """The DataFrame a :func:`csv_link` carries (tests, and anyone reading an exported link back)."""
    import io

    import pandas as pd

    data = link.split("base64,", 1)[1].split("'", 1)[0]
    return pd.read_csv(io.StringIO(base64.b64decode(data).decode("utf-8")))


class Freshness:
    """What a shown result was computed for (image, model, target, method); a banner marks it stale once the
    Workbench shows something else, naming what changed."""

    def __init__(self, keys: tuple[str, ...] = ("image", "model", "target", "method")):
        self.keys = keys
        self.context: dict[str, Any] | None = None
        self.banner = widgets.HTML()
        self.banner.add_class("workbench-stale")

    @property
    def stale(self) -> bool:
        return bool(self.banner.value)

    def shown(self, context: dict[str, Any], current: dict[str, Any]) -> None:
        """A result computed for ``context`` is drawn while the Workbench is at ``current``."""
        self.context = {k: context[k] for k in self.keys}
        self.check(current)

    def check(self, current: dict[str, Any]) -> None:
        if self.context is None:
            return
        changed = [k for k in self.keys if current[k] != self.context[k]]
        self.banner.value = "" if not changed else (
            f"<div style='background:#fff3cd;color:#7a4d00;padding:2px 6px;border-radius:3px'>&#9888; stale: "
            f"computed for another {' and '.join(changed)}; run it again</div>")


class ImagePanel:
    """Where the image comes from: the given image, a generated scene (seed), a bundled photo or an upload."""

    def __init__(self, given: bool, on_change: Callable[[], None]):
        self.source = widgets.ToggleButtons(options=(["given"] if given else []) + ["scene", "photo", "upload"],
                                            value="given" if given else "scene", style={"button_width": "70px"})
        self.scene_seed = widgets.BoundedIntText(value=0, min=0, max=10**6, description="scene seed", style=STYLE,
                                                 layout=row_layout())
        self.photo = widgets.Dropdown(options=_photos(), description="photo", style=STYLE, layout=row_layout())
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload",
                                         layout=widgets.Layout(width="auto"))
        for control in (self.source, self.scene_seed, self.photo, self.upload):
            control.observe(lambda _: on_change(), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Image</b>"), self.source, self.scene_seed, self.photo,
                                    self.upload])
        self.show_controls()

    def show_controls(self) -> None:
        """Only the control of the chosen source is visible."""
        source = self.source.value
        self.scene_seed.layout.display = None if source == "scene" else "none"
        self.photo.layout.display = None if source == "photo" else "none"
        self.upload.layout.display = None if source == "upload" else "none"


class ModelPanel:
    """The model and the target class (top-5 classes with their scores, or the top-1 class)."""

    def __init__(self, models: list[str], value: str, on_model: Callable[[], None],
                 on_target: Callable[[int], None]):
        self.picker = widgets.Dropdown(options=models, value=value, description="model", style=STYLE,
                                       layout=row_layout())
        self.picker.observe(lambda _: on_model(), names="value")
        self.target = widgets.Dropdown(description="target", style=STYLE, layout=row_layout())
        self.target.observe(lambda change: on_target(change["new"]), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Model</b>"), self.picker, self.target])

    def set_targets(self, best: list[tuple[int, str, float]]) -> None:
        """Offer ``top-1 (auto)`` and the given ``(index, name, score)`` classes; ``auto`` is chosen."""
        self.target.options = [("top-1 (auto)", -1)] + [(f"{name} ({p:.2f})", i) for i, name, p in best]
        self.target.value = -1


FAST_TIP = ("Model passes in bfloat16 (precision='auto'): about 2-3x faster on GPUs and on CPUs with "
            "AMX/AVX512-BF16, float32 elsewhere. Trades accuracy: heatmaps differ slightly from float32's, "
            "more on models whose score changes are small (see README, Reduced precision).")


KEPT_PANELS = 32    # methods x image sizes whose controls are kept


def _same(a: Any, b: Any) -> bool:
    """``a == b`` for parameter values (anything that cannot be compared counts as different)."""
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


@dataclass
class _Built:
    """One method's built controls: the panel's children, the controls by parameter, the schedule editor and
    the values the controls show."""
    children: tuple
    controls: dict[str, widgets.Widget]
    schedule_editor: ScheduleEditor | None
    values: dict[str, Any]


class ExplainerPanel:
    """The explainer drop-down and the chosen method's controls generated from its spec (with the FMO schedule
    editor, the superpixel-count slider shared by every method with one, and the spec's heading)."""

    def __init__(self, method: str, on_method: Callable[[str], None], on_superpixels: Callable[[int], None],
                 on_fast: Callable[[bool], None]):
        registered = methods()
        # the method's name only (its family heads the controls below): the longest label fits the wider box
        self.picker = widgets.Dropdown(
            options=[(m.label, name) for name, m in sorted(registered.items())], value=method,
            description="explainer", style={"description_width": "60px"}, layout=widgets.Layout(width="316px"))
        self.picker.observe(lambda change: on_method(change["new"]), names="value")
        self.controls_box = widgets.VBox()
        self.superpixels = widgets.IntSlider(value=50, min=5, max=500, step=1, continuous_update=False,
                                             description="superpixels", style=STYLE, layout=row_layout(),
                                             tooltip=f"{SUPERPIXELS}, shared by every superpixel method")
        self.superpixels.observe(lambda change: on_superpixels(change["new"]), names="value")
        self.controls: dict[str, widgets.Widget] = {}
        self.schedule_editor: ScheduleEditor | None = None
        self._built: dict[tuple, _Built] = {}      # (method, image size) -> its controls, kept
        self.fast = widgets.Checkbox(value=False, description="fast (reduced precision)", indent=False,
                                     tooltip=FAST_TIP, layout=row_layout())
        self.fast.observe(lambda change: on_fast(change["new"]), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Explainer</b>"), self.picker, self.fast, self.controls_box])

    def build(self, method: str, values: dict[str, Any], size: tuple[int, int],
              on_param: Callable[[str, Any], None], layers: tuple[tuple[str, str], ...] = ()) -> None:
        """The controls of ``method`` showing ``values`` (``size``: the image's, for FMO's schedule; ``layers``:
        the model's ``(label, name)`` layer options, for a CAM's layer picker). The caller keeps the superpixel
        slider's own observer quiet while its value is set.

        A method's controls are built once per image size and kept: switching back shows the same widgets (a
        cached switch sends no new widgets to the browser), unless ``values`` differ from what they show (a
        value set from code), which builds them again."""
        key = (method, tuple(size), tuple(layers))
        kept = self._built.get(key)
        if kept is None or not all(_same(values[name], shown) for name, shown in kept.values.items()):
            kept = self._built[key] = self._new_panel(method, values, size, on_param, layers)
        if SUPERPIXELS in kept.controls:
            self.superpixels.value = values[SUPERPIXELS]
        self.controls, self.schedule_editor = dict(kept.controls), kept.schedule_editor
        if self.controls_box.children != kept.children:
            self.controls_box.children = kept.children

    def _new_panel(self, method: str, values: dict[str, Any], size: tuple[int, int],
                   on_param: Callable[[str, Any], None], layers: tuple[tuple[str, str], ...] = ()) -> "_Built":
        if len(self._built) >= KEPT_PANELS:
            self._built.clear()
        info = get_method(method)
        built = _Built(children=(), controls={}, schedule_editor=None, values={})

        def changed(name: str, value: Any) -> None:
            built.values[name] = value          # what the kept control shows now
            on_param(name, value)

        children = [widgets.HTML(f"<i>{html.escape(info.family)} · {html.escape(info.citation)}</i>"),
                    self.description_html(method)]
        if info.spec.heading:
            children.append(widgets.HTML(f"<b>{html.escape(info.spec.heading)}</b>"))
        for p in info.params:
            if p.name == SUPERPIXELS:
                built.controls[p.name] = self.superpixels
                shared = ", ".join(get_method(m).label.split(" (")[0] for m in superpixel_methods())
                children.append(widgets.VBox([widgets.HTML(f"<b>Superpixels</b> ({html.escape(shared)})"),
                                              self.superpixels]))
                continue
            control = control_for(p, values[p.name], changed, size, layers=layers)
            if control is None:
                continue
            if p.kind == "schedule":
                built.schedule_editor = control.editor
            built.controls[p.name] = control
            built.values[p.name] = values[p.name]
            children.append(control)
        built.children = tuple(children)
        return built

    @staticmethod
    def description_html(method: str) -> widgets.HTML:
        """The method's plain-language description from its spec (what is perturbed or propagated, what a
        bright pixel means)."""
        text = get_method(method).spec.description
        box = widgets.HTML(f"<div style='font-size:12px;line-height:1.3;color:#444'>{html.escape(text)}</div>",
                           layout=widgets.Layout(width="300px"))
        box.add_class("workbench-description")
        return box


class StatusPanel:
    """Progress bar, status line and the error box."""

    def __init__(self):
        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="300px"))
        self.status = widgets.HTML()
        self.error = widgets.HTML()
        self.widget = widgets.VBox([self.progress, self.status, self.error])

    def started(self, what: str) -> None:
        self.progress.value, self.progress.bar_style = 0, "info"
        self.what, self.since = what, time.perf_counter()
        self.status.value = f"computing {html.escape(what)}..."

    def progressed(self, done: int, total: int, unit: str = "passes") -> None:
        """``done`` of ``total`` ``unit`` (passes of one explanation, methods of a comparison) and the time left."""
        self.progress.max, self.progress.value = max(total, 1), min(done, max(total, 1))
        left = self.time_left(done, total, time.perf_counter() - getattr(self, "since", time.perf_counter()))
        if left is not None:
            self.status.value = (f"computing {html.escape(getattr(self, 'what', ''))}: {done}/{total} {unit}, "
                                 f"about {left:.0f} s left")

    @staticmethod
    def time_left(done: int, total: int, elapsed: float) -> float | None:
        """Seconds left at the rate so far (passes done per second); None until there is a rate to go by."""
        if done <= 0 or elapsed <= 0 or total <= done:
            return None
        return (total - done) / (done / elapsed)

    def finished(self, status_html: str) -> None:
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        self.status.value = status_html
        self.error.value = ""

    def show_error(self, message: str) -> None:
        self.progress.bar_style = "danger"
        self.status.value = ""
        self.error.value = f"<pre style='color:#b00020;white-space:pre-wrap'>{html.escape(message)}</pre>"


class OverlayPanel:
    """The heatmap over the image (:class:`OverlayView`) with its view controls: opacity, colour scale, colour
    range (auto / symmetric / fixed low-high, with reset), the map shown (FMO: final or one level) and
    outlines."""

    def __init__(self, on_layer: Callable[[], None], on_outlines: Callable[[], None],
                 on_error: Callable[[str], None]):
        self.view = OverlayView()
        self.on_error = on_error
        self._muted = 0
        self.opacity = widgets.FloatSlider(value=self.view.opacity, min=0, max=1, step=0.05, description="opacity",
                                           continuous_update=True, layout=widgets.Layout(width="260px"))
        self.opacity.observe(lambda change: self.view.set_opacity(change["new"]), names="value")
        self.colour_scale = widgets.Dropdown(options=list(COLOUR_SCALES), value=self.view.drawn_scale,
                                             description="colours", layout=widgets.Layout(width="200px"),
                                             tooltip="the colour scale of the map on screen (signed and unsigned "
                                                     "maps keep one each)")
        self.colour_scale.observe(lambda change: self._muted or self.view.set_colour_scale(change["new"]),
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
        self.layer = widgets.Dropdown(options=["final"], value="final", description="map",
                                      layout=widgets.Layout(width="200px"),
                                      tooltip="FMO: the final map or one level's map")
        self.layer.observe(lambda _: self._muted or on_layer(), names="value")
        self.outlines = widgets.Checkbox(value=True, description="outlines", indent=False, layout=AUTO,
                                         tooltip="superpixel outlines (LIME, Ablation-CA), FMO's visited regions")
        self.outlines.observe(lambda _: on_outlines(), names="value")
        self.truth = widgets.Checkbox(value=True, description="truth + pointing", indent=False, layout=AUTO,
                                      tooltip="generated scenes: the target's true outline (cyan) and a cross where "
                                              "the map peaks (green: inside, red: outside)")
        self.truth.observe(lambda _: on_layer(), names="value")
        self._show_range_controls()
        self.widget = widgets.VBox([
            widgets.HBox([self.opacity, self.colour_scale]),
            widgets.HBox([self.colour_range, self.range_low, self.range_high, self.range_reset]),
            widgets.HBox([self.layer, self.outlines, self.truth]), self.view.figure])

    def _show_range_controls(self) -> None:
        fixed = self.colour_range.value == "fixed"
        for control in (self.range_low, self.range_high):
            control.layout.display = None if fixed else "none"

    def _range_changed(self) -> None:
        """Apply the colour-range control; choosing "fixed" starts from the range on screen."""
        if self._muted:
            return
        mode = self.colour_range.value
        if mode == "fixed" and self.view.range_mode != "fixed":
            drawn = self.view.drawn_range
            self._muted += 1
            try:
                self.range_low.value, self.range_high.value = drawn if drawn else (0.0, 1.0)
            finally:
                self._muted -= 1
        self._show_range_controls()
        try:
            self.view.set_range(mode, (self.range_low.value, self.range_high.value) if mode == "fixed" else None)
        except ValueError as error:
            self.on_error(f"colour range: {error}")
        self._name_scale()

    def show_heatmap(self, heatmap, signed: bool, title: str) -> None:
        """Draw a map; the colour drop-down then names the scale it is drawn with."""
        self.view.show_heatmap(heatmap, signed, title)
        self._name_scale()

    def _name_scale(self) -> None:
        """The colour drop-down shows the scale on screen, marked (±) when it is drawn around zero."""
        self._muted += 1
        try:
            self.colour_scale.value = self.view.drawn_scale
            self.colour_scale.description = "colours (±)" if self.view.diverging else "colours"
        finally:
            self._muted -= 1

    def set_levels(self, count: int) -> None:
        """Offer the final map and ``count`` level maps; the final map is chosen."""
        self._muted += 1
        try:
            self.layer.options = ["final"] + [f"level {i + 1}" for i in range(count)]
            self.layer.value = "final"
        finally:
            self._muted -= 1

    def level(self) -> int | None:
        """The FMO level chosen in the map drop-down (0-based), or None for the final map."""
        return None if self.layer.value == "final" else int(self.layer.value.split()[-1]) - 1


CURVE_FAMILIES = {"region": "region perturbation", "road": "ROAD", "insertion_deletion": "insertion / deletion"}
_CURVE_TEXT = {
    "region": "Region perturbation (Samek et al. 2017) of the map on screen: the target logit as the most (MoRF) or "
              "least (LeRF) relevant regions are removed first.",
    "road": "ROAD (Rong et al. 2022) of the map on screen: the target score as 10-90 % of the pixels, most (MoRF) "
            "or least (LeRF) relevant first, are removed and imputed from their neighbours.",
    "insertion_deletion": "Insertion and deletion (Petsiuk et al. 2018) of the map on screen: the target score as "
                          "the most relevant pixels are put back into a blurred image or deleted to the mean "
                          "colour; the areas under the curves in the legend.",
}


class CurvesPanel:
    """The curves of the map on screen: a choice of family (region perturbation, ROAD, insertion / deletion),
    the region-perturbation settings, the evaluate button and the curves."""

    def __init__(self, on_evaluate: Callable[[], None]):
        self.view = CurvesView()
        self.curve = widgets.Dropdown(options=[(label, name) for name, label in CURVE_FAMILIES.items()],
                                      value="region", description="curve", style=STYLE, layout=row_layout())
        self.region = widgets.IntSlider(value=9, min=1, max=56, description="region px", style=STYLE,
                                        layout=row_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=50, min=5, max=500, description="steps", style=STYLE,
                                       layout=row_layout(), continuous_update=False)
        self.fill = widgets.Dropdown(options=list(METRIC_FILLS), value="uniform",
                                     description="fill", style=STYLE, layout=row_layout())
        self.button = widgets.Button(description="evaluate", icon="line-chart", layout=AUTO)
        self.button.on_click(lambda _: on_evaluate())
        self.description = widgets.HTML(_CURVE_TEXT["region"])
        self.region_settings = widgets.VBox([self.region, self.steps, self.fill])
        self.curve.observe(lambda _: self._choose(), names="value")
        self.settings = widgets.VBox([self.description, self.curve, self.region_settings, self.button])
        self.freshness = Freshness()
        self.export = widgets.HTML()
        self.widget = widgets.VBox([self.settings, self.freshness.banner, self.view.figure, self.export])

    def _choose(self) -> None:
        """The chosen family's description; the region settings only for region perturbation."""
        self.description.value = _CURVE_TEXT[self.curve.value]
        self.region_settings.layout.display = None if self.curve.value == "region" else "none"

    def values(self) -> dict[str, Any]:
        """The region-perturbation settings (the quality column of the comparison uses them too)."""
        return {"region": self.region.value, "steps": self.steps.value, "fill": self.fill.value}

    def show(self, result: dict) -> None:
        import pandas as pd

        self.view.show(result)
        if "road" in result:
            road = result["road"]
            first = next(iter(road.values()))
            table = pd.DataFrame({"% pixels removed": first.percentages,
                                  **{f"{order} score": road[order].scores for order in road}})
            self.export.value = csv_link("road_curves", table)
        elif "insertion_deletion" in result:
            tables = [pd.DataFrame({"curve": kind, "share of pixels": c.fractions, "score": c.scores})
                      for kind, c in result["insertion_deletion"].items()]
            self.export.value = csv_link("insertion_deletion_curves", pd.concat(tables, ignore_index=True))
        else:
            curves = result["curves"]
            table = pd.DataFrame({"regions perturbed": curves["morf"].steps,
                                  **{f"{order} score": curves[order].scores for order in curves}})
            self.export.value = csv_link("perturbation_curves", table)


class CorrelationPanel:
    """Ablation-CA's object correlation matrix and its ranked groups."""

    def __init__(self, on_pair: Callable[[int, int], None]):
        self.view = CorrelationView()
        self.view.on_pair = on_pair
        self.groups = widgets.HTML()
        self.freshness = Freshness(("image", "model", "target"))
        self.widget = widgets.VBox([self.freshness.banner, self.view.figure, self.groups])

    def show(self, matrix, groups) -> None:
        import pandas as pd

        self.view.show(matrix)
        table = pd.DataFrame([{"superpixels": " ".join(map(str, g.members)), "score": g.score,
                               "mean |r|": g.mean_abs_r} for g in groups], columns=["superpixels", "score", "mean |r|"])
        self.groups.value = self.groups_html(groups) + "<br>" + csv_link("ablation_ca_groups", table)

    @staticmethod
    def groups_html(groups) -> str:
        if not groups:
            return "<i>no correlated groups</i>"
        rows = "".join(f"<li>superpixels {', '.join(map(str, g.members))}: score {g.score:.3f}, mean |r| {g.mean_abs_r:.2f}</li>"
                       for g in groups[:10])
        return f"<b>Ranked groups</b><ol>{rows}</ol>"


class ComparisonPanel:
    """The methods to compare, the compare button and the grid of their maps."""

    def __init__(self, on_compare: Callable[[], None]):
        registered = methods()
        self.view = ComparisonView(columns=3, tile=160)
        self.methods = widgets.SelectMultiple(
            options=[(m.label, name) for name, m in sorted(registered.items(), key=lambda item: item[1].label)],
            value=[m for m in ("fmo", "occlusion", "gradient") if m in registered],
            rows=6, description="methods", style={"description_width": "60px"},
            layout=widgets.Layout(width="330px"))      # room for the longest label, "Ablation-CA (superpixel ...)"
        self.button = widgets.Button(description="compare", icon="th", layout=AUTO)
        self.button.on_click(lambda _: on_compare())
        self.settings = widgets.VBox([widgets.HTML("Each method with its current settings, over the image; "
                                                   "AOPC (MoRF, the curves tab's settings) and, on generated "
                                                   "scenes, the pointing game under each map."),
                                      self.methods, self.button])
        self.freshness = Freshness(("image", "model", "target"))
        self.export = widgets.HTML()
        self.explanations, self.image, self.quality = [], None, {}
        self.widget = widgets.VBox([self.settings, self.freshness.banner, self.view.figure, self.export])

    def show(self, explanations, image=None) -> None:
        """Draw the maps over ``image``; quality figures come later (:meth:`show_quality`)."""
        self.explanations, self.image, self.quality = list(explanations), image, {}
        self._draw()

    def show_quality(self, quality: dict) -> None:
        self.quality = dict(quality)
        self._draw()

    def _draw(self) -> None:
        import pandas as pd

        self.view.show(self.explanations, self.image, self.quality)
        table = pd.DataFrame([{"method": e.method, "forward passes": e.cost.forward_passes,
                               "backward passes": e.cost.backward_passes, "seconds": e.cost.seconds,
                               "aopc_morf": self.quality.get(e.method, {}).get("aopc"),
                               "pointing hit": self.quality.get(e.method, {}).get("pointing")}
                              for e in self.explanations])
        self.export.value = csv_link("comparison", table) if len(table) else ""


class LossPanel:
    """The loss history of a mask-learning method; for any other method, a sentence naming the methods that
    have one instead of empty axes."""

    def __init__(self):
        self.view = LossView()
        self.learners = [m.label for _, m in sorted(methods().items()) if m.learns_mask]
        self.note = widgets.HTML()
        self.plot = widgets.Box([self.view.figure])
        self.widget = widgets.VBox([self.note, self.plot])
        self.show(None, None)

    def show(self, history: dict[str, list[float]] | None, method: str | None) -> None:
        """Draw ``history``; without one, hide the plot and say which methods have a loss history."""
        self.view.show(history)
        empty = not history
        who = f"<b>{html.escape(get_method(method).label)}</b>" if method else "This method"
        note = (f"{who} learns no mask, so it has no loss history. Only the mask-learning methods have one: "
                f"{html.escape(', '.join(self.learners))}.") if empty else ""
        if self.note.value != note:                  # unchanged widgets send nothing (cached switches stay fast)
            self.note.value = note
        display = "none" if empty else None
        if self.plot.layout.display != display:
            self.plot.layout.display = display


class SweepPanel:
    """A parameter of the current method swept over typed values: a metric and the cost against it; clicking
    a point shows that setting's map (``on_point``)."""

    def __init__(self, on_sweep: Callable[[], None], on_point: Callable[[Any], None]):
        self.view = SweepView()
        self.view.on_point = on_point
        self.result = None
        self.param = widgets.Dropdown(description="parameter", layout=widgets.Layout(width="240px"))
        self.values = widgets.Text(description="values", placeholder="4,8,16 or 0.1:0.7:0.1",
                                   layout=widgets.Layout(width="240px"))
        self.metric = widgets.Dropdown(options=[(METRIC_LABELS[m], m) for m in DEFAULT_METRICS], value="aopc_morf",
                                       description="metric", layout=widgets.Layout(width="240px"))
        self.metric.observe(lambda _: self.draw(), names="value")
        self.button = widgets.Button(description="sweep", icon="sliders", layout=AUTO)
        self.button.on_click(lambda _: on_sweep())
        self.freshness = Freshness()
        self.export = widgets.HTML()
        self.widget = widgets.VBox([widgets.HBox([self.param, self.values]),
                                    widgets.HBox([self.metric, self.button]), self.freshness.banner,
                                    self.view.figure, self.export])

    def set_params(self, params: list[tuple[str, str]]) -> None:
        """The parameters to offer, as (label, name) pairs."""
        if [tuple(option) for option in self.param.options] == params:   # the same method's: keep the choice
            return
        self.param.options = params
        self.param.value = params[0][1] if params else None

    def show(self, result) -> None:
        """Draw a sweep; the metric drop-down offers the metrics it has (pointing only on generated scenes)."""
        self.result = result
        present = [m for m in DEFAULT_METRICS if m in set(result.summary["metric"])]
        if [name for _, name in self.metric.options] != present:
            chosen = self.metric.value if self.metric.value in present else present[0]
            self.metric.options = [(METRIC_LABELS[m], m) for m in present]
            self.metric.value = chosen
        self.export.value = csv_link("sweep", result.summary)
        self.draw()

    def draw(self) -> None:
        result = self.result
        if result is None:
            return
        metric = self.metric.value
        if metric not in set(result.summary["metric"]):
            metric = "passes"
        settings, means, errors = result.series(metric)
        _, passes, _ = result.series("passes")
        labels = {name: label for label, name in self.param.options}
        self.view.show(settings, means, errors, passes, labels.get(result.param, result.param),
                       METRIC_LABELS.get(metric, metric))

    def heatmap_at(self, setting):
        """The map the last sweep made at ``setting`` (None when there is none)."""
        result = self.result
        chosen = [heat for (value, *_), heat in result.heatmaps.items() if value == setting] if result else []
        return chosen[0] if chosen else None


class SanityPanel:
    """Cascading model randomisation (Adebayo et al. 2018): similarity curves and the maps after each step."""

    def __init__(self, on_run: Callable[[], None]):
        self.view = SanityView()
        self.result = None
        self.freshness = Freshness()
        self.export = widgets.HTML()
        self.grid = ComparisonView(columns=3, tile=150)
        self.button = widgets.Button(description="randomise the model", icon="random", layout=AUTO)
        self.button.on_click(lambda _: on_run())
        self.maps = widgets.VBox()
        self.widget = widgets.VBox([widgets.HTML("Cascading randomisation from the output layer back (Adebayo et "
                                                 "al. 2018): a useful explanation changes."),
                                    self.button, self.freshness.banner, self.view.figure, self.export, self.maps])

    def show(self, result) -> None:
        self.result = result
        final = result.table["spearman"].iloc[-1]
        self.view.show(result.layers, result.table, f"{result.method}: Spearman after all layers {final:.2f}")
        steps = list(zip(result.layers, result.heatmaps))[::max(1, len(result.layers) // 7)][:7]
        titles = ["original"] + [f"after {name}" for name, _ in steps]
        self.maps.children = [self.grid.show_maps(titles, [result.original] + [heat for _, heat in steps])]
        self.export.value = csv_link("sanity", result.table)


SPRAY_METHOD = "lrp_epsilon_gamma_box"   # workbench.analysis.spray's default, the paper's choice
CURRENT = "current"


class SprayPanel:
    """SpRAy (Lapuschkin et al. 2019) over generated scenes: the embedding by cluster and the cluster means;
    clicking a point shows that image's map next to its cluster's mean."""

    def __init__(self, on_run: Callable[[], None]):
        self.view = SprayView()
        self.view.on_point = self.show_point
        self.result = None
        # 60 scenes: on the confounded model SpRAy separates the watermarked half on 10 of 10 scene seeds with
        # LRP (40: 8 of 10; benchmarks/spray_purity.py)
        self.images = widgets.BoundedIntText(value=60, min=3, max=2000, description="scenes",
                                             layout=widgets.Layout(width="160px"))
        self.watermark = widgets.Checkbox(value=True, description="watermark on half", indent=False, layout=AUTO)
        self.source = widgets.Dropdown(options=[(f"{get_method(SPRAY_METHOD).label} (the paper's)", SPRAY_METHOD),
                                                ("the current explainer", CURRENT)],
                                       value=SPRAY_METHOD, description="heatmaps", layout=widgets.Layout(width="340px"))
        self.freshness = Freshness(("model", "target", "method"))
        self.grid = ComparisonView(columns=3, tile=150)
        self.button = widgets.Button(description="SpRAy", icon="object-group", layout=AUTO)
        self.button.on_click(lambda _: on_run())
        self.maps = widgets.VBox()
        self.widget = widgets.VBox([
            widgets.HTML("Spectral Relevance Analysis (Lapuschkin et al. 2019) of heatmaps for the target class "
                         "over generated scenes: clusters are prediction strategies. Perturbation maps of a "
                         "confident model rarely show a second cue such as the watermark; LRP does."),
            self.source, widgets.HBox([self.images, self.watermark, self.button]), self.freshness.banner,
            self.view.figure,
            self.maps])

    def show(self, result) -> None:
        self.result = result
        gaps = ", ".join(f"{v:.3f}" for v in result.eigenvalues[:5])
        self.view.show(result.layout, result.labels, f"{clusters(result.n_clusters)} (eigenvalues {gaps} ...)")
        titles = [f"cluster {c} mean ({int((result.labels == c).sum())})" for c in range(result.n_clusters)]
        self.maps.children = [self.grid.show_maps(titles, list(result.cluster_means))]

    def show_point(self, index: int) -> None:
        result = self.result
        cluster = int(result.labels[index])
        self.maps.children = [self.grid.show_maps(
            [f"image {index}", f"cluster {cluster} mean"], [result.heatmaps[index], result.cluster_means[cluster]])]
