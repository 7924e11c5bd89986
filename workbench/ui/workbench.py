"""``Workbench``: one widget that drives every registered method live (DESIGN.md, "The UI").

Left: image, model, target and explainer pickers, the chosen method's controls generated from its spec
(with the FMO schedule editor, the shared superpixel-count slider and the mask-learning hyper-parameters as
dedicated panels), the evaluation and comparison panels, progress, cost and errors. Right: Plotly views
(the heatmap superimposed on the image, perturbation curves, Ablation-CA correlations, a method comparison
grid and the loss history of mask learning). All computing goes through :class:`~workbench.ui.session.Session`
on worker threads; this module only arranges widgets and forwards values.
"""
from __future__ import annotations

import contextlib
import html
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..explainers.registry import get_method, methods
from ..models.zoo import available_models, load_model
from ..targets import top_classes
from .controls import ScheduleEditor, control_for, row_layout
from .session import Handlers, Session
from ..render import RANGE_MODES
from .views import (COLOUR_SCALES, ComparisonView, CorrelationView, CurvesView, LossView, OverlayView, SanityView,
                    SprayView, SweepView)

SUPERPIXEL_METHODS = ("lime", "ablation_ca")
MASK_LEARNING_FAMILY = "mask learning"

_STYLE = {"description_width": "110px"}


def _signed(method: str, heatmap: np.ndarray) -> bool:
    """Draw on a symmetric scale: the method gives signed maps and this one has negative values."""
    return get_method(method).signed and bool((heatmap < 0).any())


def _photos() -> list[str]:
    from ..data.photos import PHOTOS
    return list(PHOTOS)


class Workbench(widgets.HBox):
    """Explain a model's prediction interactively: ``wb.Workbench()`` in a notebook cell.

    Args:
        model: a ``ModelEntry``/module or a zoo name (default the shipped ``"shapes"`` model).
        image: an image (numpy/PIL/tensor); default scene 0 of the shapes data set.
        method: the explainer shown first.
        device: ``"auto"`` computes where the model is (a GPU when the model is on one).
        debounce: seconds a control must rest before a computation starts.
    """

    def __init__(self, model=None, image=None, method: str = "fmo", device: str = "auto", debounce: float = 0.25,
                 compute=None):
        from ..data.scenes import make_scene

        get_method(method)
        entry = load_model(model or "shapes", device="cpu" if device == "auto" else device) \
            if model is None or isinstance(model, str) else model
        self.session = Session(entry, make_scene(0).image if image is None else image, method=method,
                               compute=compute, debounce=debounce, device=device,
                               image_key=("scene", 0) if image is None else None)
        self.explanation = None
        self.partials = 0
        self._muted = 0
        self._given_model = None if model is None or isinstance(model, str) else entry
        self._given_image = image

        self.overlay, self.curves, self.loss = OverlayView(), CurvesView(), LossView()
        self.correlation, self.comparison = CorrelationView(), ComparisonView()
        self.correlation.on_pair = self._highlight_pair
        self.sweep_view, self.sanity_view = SweepView(), SanityView()
        self.sweep_view.on_point = self._show_sweep_point
        self.spray_view = SprayView()
        self.spray_view.on_point = self._show_spray_point
        self.sweep_result = self.sanity_result = self.spray_result = None
        self._build_left()
        self._build_right()
        super().__init__([self.left, self.right], layout=widgets.Layout(align_items="flex-start"))
        self.add_class("workbench")      # the browser tests find the widget by this class
        self.overlay.show_image(self.session.image)
        self._refresh_targets()
        self._build_method_panel()
        self.request()

    def __repr__(self) -> str:
        return f"Workbench(model={self.session.model.name!r}, method={self.session.method!r})"

    # -- layout ---------------------------------------------------------------------------------------------
    def _build_left(self) -> None:
        self.image_source = widgets.ToggleButtons(options=["scene", "photo", "upload"], value="scene",
                                                  style={"button_width": "70px"})
        self.scene_seed = widgets.BoundedIntText(value=0, min=0, max=10**6, description="scene seed",
                                                 style=_STYLE, layout=row_layout())
        self.photo = widgets.Dropdown(options=_photos(), description="photo", style=_STYLE, layout=row_layout())
        self.upload = widgets.FileUpload(accept="image/*", multiple=False, description="upload")
        if self._given_image is not None:
            self.image_source.options = ["given", "scene", "photo", "upload"]
            self.image_source.value = "given"
        self.image_source.observe(lambda _: self._image_changed(), names="value")
        self.scene_seed.observe(lambda _: self._image_changed(), names="value")
        self.photo.observe(lambda _: self._image_changed(), names="value")
        self.upload.observe(lambda _: self._image_changed(), names="value")

        models = list(available_models())
        if self._given_model is not None:
            models = ["(given)"] + models
        self.model_picker = widgets.Dropdown(options=models, value=models[0] if self._given_model is not None
                                             else self.session.model.name, description="model", style=_STYLE,
                                             layout=row_layout())
        self.model_picker.observe(lambda _: self._model_changed(), names="value")
        self.target_picker = widgets.Dropdown(description="target", style=_STYLE, layout=row_layout())
        self.target_picker.observe(lambda change: self._target_changed(change["new"]), names="value")

        registered = methods()
        self.method_picker = widgets.Dropdown(
            options=[(f"{m.label}  [{m.family}]", name) for name, m in sorted(registered.items())],
            value=self.session.method, description="explainer", style=_STYLE, layout=row_layout())
        self.method_picker.observe(lambda change: self._method_changed(change["new"]), names="value")
        self.method_panel = widgets.VBox()
        self.superpixels = widgets.IntSlider(value=50, min=5, max=500, step=1, continuous_update=False,
                                             description="superpixels", style=_STYLE, layout=row_layout(),
                                             tooltip="n_segments, shared by LIME and Ablation-CA")
        self.superpixels.observe(lambda change: self._superpixels_changed(change["new"]), names="value")

        self.progress = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="300px"))
        self.status = widgets.HTML()
        self.error = widgets.HTML()

        self.region = widgets.IntSlider(value=9, min=1, max=56, description="region px", style=_STYLE,
                                        layout=row_layout(), continuous_update=False)
        self.steps = widgets.IntSlider(value=50, min=5, max=500, description="steps", style=_STYLE, layout=row_layout(),
                                       continuous_update=False)
        self.fill = widgets.Dropdown(options=["uniform", "baseline", "blur", "mean"], value="uniform",
                                     description="fill", style=_STYLE, layout=row_layout())
        self.evaluate_button = widgets.Button(description="evaluate", icon="line-chart")
        self.evaluate_button.on_click(lambda _: self.request_evaluation())
        evaluation = widgets.VBox([widgets.HTML("<b>Evaluation</b> (region perturbation, Samek et al. 2017)"),
                                   self.region, self.steps, self.fill, self.evaluate_button])

        self.compare_methods = widgets.SelectMultiple(
            options=sorted(registered), value=[m for m in ("fmo", "occlusion", "gradient") if m in registered],
            rows=6, description="methods", style=_STYLE, layout=row_layout())
        self.compare_button = widgets.Button(description="compare", icon="th")
        self.compare_button.on_click(lambda _: self.request_comparison())
        comparison = widgets.VBox([widgets.HTML("<b>Comparison</b>"), self.compare_methods, self.compare_button])

        self.left = widgets.VBox([
            widgets.HTML("<b>Image</b>"), self.image_source, self.scene_seed, self.photo, self.upload,
            widgets.HTML("<b>Model</b>"), self.model_picker, self.target_picker,
            widgets.HTML("<b>Explainer</b>"), self.method_picker, self.method_panel,
            self.progress, self.status, self.error, evaluation, comparison,
        ], layout=widgets.Layout(width="330px"))
        self._show_image_controls()

    def _build_right(self) -> None:
        self.opacity = widgets.FloatSlider(value=self.overlay.opacity, min=0, max=1, step=0.05, description="opacity",
                                           continuous_update=True, layout=widgets.Layout(width="260px"))
        self.opacity.observe(lambda change: self.overlay.set_opacity(change["new"]), names="value")
        self.colour_scale = widgets.Dropdown(options=list(COLOUR_SCALES), value=self.overlay.drawn_scale,
                                             description="colours", layout=widgets.Layout(width="200px"),
                                             tooltip="the colour scale of the map on screen (signed and unsigned "
                                                     "maps keep one each)")
        self.colour_scale.observe(lambda change: self._muted or self.overlay.set_colour_scale(change["new"]),
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
        self.colour_range.observe(lambda _: self._range_changed(), names="value")
        self.range_low.observe(lambda _: self._range_changed(), names="value")
        self.range_high.observe(lambda _: self._range_changed(), names="value")
        self.range_reset.on_click(lambda _: setattr(self.colour_range, "value", "auto"))
        self.layer = widgets.Dropdown(options=["final"], value="final", description="map",
                                      layout=widgets.Layout(width="200px"),
                                      tooltip="FMO: the final map or one level's map")
        self.layer.observe(lambda _: self._muted or self._draw_heatmap(), names="value")
        self.outlines = widgets.Checkbox(value=True, description="outlines (segments / visited)", indent=False)
        self.outlines.observe(lambda _: self._draw_outline(), names="value")
        self.groups = widgets.HTML()
        self.comparison_box = widgets.VBox([self.comparison.figure])
        self.sweep_param = widgets.Dropdown(description="parameter", layout=widgets.Layout(width="250px"))
        self.sweep_values = widgets.Text(description="values", placeholder="4,8,16 or 0.1:0.7:0.1",
                                         layout=widgets.Layout(width="250px"))
        self.sweep_metric = widgets.Dropdown(options=["aopc_morf", "pointing", "passes", "seconds"],
                                             value="aopc_morf", description="metric", layout=widgets.Layout(width="250px"))
        self.sweep_metric.observe(lambda _: self._draw_sweep(), names="value")
        self.sweep_button = widgets.Button(description="sweep", icon="sliders")
        self.sweep_button.on_click(lambda _: self.request_sweep())
        self.sanity_button = widgets.Button(description="randomise the model", icon="random")
        self.sanity_button.on_click(lambda _: self.request_sanity())
        self.sanity_maps = widgets.VBox()
        sweep_tab = widgets.VBox([widgets.HBox([self.sweep_param, self.sweep_values]),
                                  widgets.HBox([self.sweep_metric, self.sweep_button]), self.sweep_view.figure])
        sanity_tab = widgets.VBox([widgets.HTML("Cascading randomisation from the output layer back (Adebayo et "
                                                "al. 2018): a useful explanation changes."),
                                   self.sanity_button, self.sanity_view.figure, self.sanity_maps])
        self.spray_images = widgets.BoundedIntText(value=40, min=3, max=2000, description="scenes",
                                                   layout=widgets.Layout(width="160px"))
        self.spray_watermark = widgets.Checkbox(value=True, description="watermark on half", indent=False)
        self.spray_button = widgets.Button(description="SpRAy", icon="object-group")
        self.spray_button.on_click(lambda _: self.request_spray())
        self.spray_maps = widgets.VBox()
        spray_tab = widgets.VBox([
            widgets.HTML("Spectral Relevance Analysis (Lapuschkin et al. 2019) of the current method's heatmaps "
                         "for the target class over generated scenes: clusters are prediction strategies."),
            widgets.HBox([self.spray_images, self.spray_watermark, self.spray_button]),
            self.spray_view.figure, self.spray_maps])
        self.tabs = widgets.Tab(children=[
            widgets.HBox([self.curves.figure]),
            widgets.HBox([self.correlation.figure, self.groups]),
            self.comparison_box,
            widgets.HBox([self.loss.figure]),
            sweep_tab,
            sanity_tab,
            spray_tab,
        ])
        for i, title in enumerate(["curves", "correlations", "comparison", "loss history", "sweep", "sanity",
                                   "SpRAy"]):
            self.tabs.set_title(i, title)
        view_controls = widgets.HBox([self.opacity, self.colour_scale])
        range_controls = widgets.HBox([self.colour_range, self.range_low, self.range_high, self.range_reset])
        self._show_range_controls()
        self.right = widgets.VBox([view_controls, range_controls, widgets.HBox([self.layer, self.outlines]),
                                   self.overlay.figure,
                                   self.tabs])

    def _show_image_controls(self) -> None:
        source = self.image_source.value
        self.scene_seed.layout.display = None if source == "scene" else "none"
        self.photo.layout.display = None if source == "photo" else "none"
        self.upload.layout.display = None if source == "upload" else "none"

    def _show_range_controls(self) -> None:
        fixed = self.colour_range.value == "fixed"
        for control in (self.range_low, self.range_high):
            control.layout.display = None if fixed else "none"

    def _range_changed(self) -> None:
        """Apply the colour-range control; choosing "fixed" starts from the range on screen."""
        if self._muted:
            return
        mode = self.colour_range.value
        if mode == "fixed" and self.overlay.range_mode != "fixed":
            drawn = self.overlay.drawn_range
            with self._quiet():
                self.range_low.value, self.range_high.value = drawn if drawn else (0.0, 1.0)
        self._show_range_controls()
        try:
            self.overlay.set_range(mode, (self.range_low.value, self.range_high.value) if mode == "fixed" else None)
        except ValueError as error:
            self._show_error(f"colour range: {error}")
            return
        self.error.value = ""

    def _sync_colour_controls(self) -> None:
        """The colour drop-down shows the scale of the map on screen."""
        with self._quiet():
            self.colour_scale.value = self.overlay.drawn_scale
            self.colour_scale.description = "colours (±)" if self.overlay.signed else "colours"

    def _build_method_panel(self) -> None:
        """The chosen method's controls, generated from its spec."""
        method = self.session.method
        info = get_method(method)
        values = self.session.params_for(method)
        size = self.session.image.shape[:2]
        self.controls: dict[str, widgets.Widget] = {}
        self.schedule_editor: ScheduleEditor | None = None
        children = [widgets.HTML(f"<i>{html.escape(info.citation)}</i>")]
        if info.family == MASK_LEARNING_FAMILY:
            children.append(widgets.HTML("<b>Mask-learning hyper-parameters</b>"))
        for p in info.params:
            if p.name == "n_segments" and method in SUPERPIXEL_METHODS:
                with self._quiet():
                    self.superpixels.value = values["n_segments"]
                self.controls[p.name] = self.superpixels
                children.append(widgets.VBox([widgets.HTML("<b>Superpixels</b> (LIME, Ablation-CA)"),
                                              self.superpixels]))
                continue
            control = control_for(p, values[p.name], self._param_changed, size)
            if control is None:
                continue
            if p.kind == "schedule":
                self.schedule_editor = control.editor
            self.controls[p.name] = control
            children.append(control)
        self.method_panel.children = children
        numeric = [p.name for p in info.params if p.kind in ("int", "float")]
        self.sweep_param.options = numeric
        self.sweep_param.value = numeric[0] if numeric else None

    # -- changes --------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _quiet(self):
        """Programmatic control updates inside this block do not trigger the change handlers (ipywidgets'
        own observers, which sync values to the browser, keep running)."""
        self._muted += 1
        try:
            yield
        finally:
            self._muted -= 1

    def _param_changed(self, name: str, value: Any) -> None:
        self.session.set_param(name, value)
        self.request()

    def _superpixels_changed(self, value: int) -> None:
        if self._muted:
            return
        for method in SUPERPIXEL_METHODS:
            self.session.set_param("n_segments", value, method)
        self.request()

    def _method_changed(self, method: str) -> None:
        self.session.method = method
        self._build_method_panel()
        self.request()

    def _target_changed(self, value: int) -> None:
        if self._muted:
            return
        self.session.target = None if value == -1 else value
        self.request()

    def _model_changed(self) -> None:
        name = self.model_picker.value
        if name == "(given)":
            self.session.set_model(self._given_model)
        else:
            self.session.set_model(load_model(name, device="cpu" if self.session.device == "auto"
                                              else self.session.device))
        self._refresh_targets()
        self.request()

    def _image_changed(self) -> None:
        from ..data.photos import photo
        from ..data.scenes import make_scene
        from ..images import load_image

        self._show_image_controls()
        source = self.image_source.value
        try:
            if source == "scene":
                image, key = make_scene(int(self.scene_seed.value)).image, ("scene", int(self.scene_seed.value))
            elif source == "photo":
                side = self.session.model.input_size
                image, key = load_image(photo(self.photo.value), size=side), ("photo", self.photo.value)
            elif source == "given":
                image, key = self._given_image, ("given", id(self._given_image))
            else:
                files = self.upload.value
                if not files:
                    return
                import io

                from PIL import Image
                upload = files[0]
                with Image.open(io.BytesIO(bytes(upload["content"]))) as picture:
                    image = load_image(np.asarray(picture.convert("RGB")), size=self.session.model.input_size)
                key = ("upload", upload["name"], len(upload["content"]))
        except Exception as error:
            self._show_error(f"image: {type(error).__name__}: {error}")
            return
        self.session.set_image(image, key)
        self.overlay.show_image(self.session.image)
        self._refresh_targets()
        self._build_method_panel()   # image-size dependent defaults (FMO schedule)
        self.request()

    def _refresh_targets(self) -> None:
        try:
            best = top_classes(self.session.model, self.session.image, k=5)
        except Exception as error:
            self._show_error(f"model: {type(error).__name__}: {error}")
            return
        options = [("top-1 (auto)", -1)] + [(f"{name} ({p:.2f})", i) for i, name, p in best]
        with self._quiet():
            self.target_picker.options = options
            self.target_picker.value = -1
        self.session.target = None

    # -- compute and draw -----------------------------------------------------------------------------------
    def request(self, debounce: bool = True) -> bool:
        """Explain with the current settings (debounced, cancelling the running job, from cache if seen)."""
        handlers = Handlers(on_start=self._started, on_progress=self._progressed, on_partial=self._partial,
                            on_done=self._done, on_error=self._show_error)
        return self.session.request_explanation(handlers, debounce=debounce)

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until every computation has finished (notebooks, tests)."""
        return self.session.wait(timeout)

    def _started(self) -> None:
        self.progress.value, self.progress.bar_style = 0, "info"
        self.status.value = f"computing {html.escape(self.session.method)}..."

    def _progressed(self, done: int, total: int) -> None:
        self.progress.max, self.progress.value = max(total, 1), min(done, max(total, 1))

    def _partial(self, partial) -> None:
        self.partials += 1
        self.overlay.show_heatmap(partial.heatmap, _signed(self.session.method, partial.heatmap),
                                  f"{self.session.method}: {partial.label} ...")
        self._sync_colour_controls()

    def _done(self, explanation, cached: bool) -> None:
        self.explanation = explanation
        cost = explanation.cost
        self.progress.value, self.progress.bar_style = self.progress.max, "success"
        self.status.value = (f"<b>{html.escape(explanation.method)}</b> for <b>{html.escape(explanation.target_name)}"
                             f"</b>: {cost.forward_passes} forward + {cost.backward_passes} backward passes, "
                             f"{cost.seconds:.2f} s{' (cached)' if cached else ''}")
        self.error.value = ""
        levels = explanation.extras.get("level_maps")
        with self._quiet():
            self.layer.options = ["final"] + [f"level {i + 1}" for i in range(len(levels or []))]
            self.layer.value = "final"
        self._draw_heatmap()
        self.loss.show(explanation.extras.get("loss_history"))
        matrix = explanation.extras.get("matrix")
        if matrix is not None:
            self.correlation.show(matrix)
            self.groups.value = self._groups_html(explanation.extras.get("groups", []))

    def _draw_heatmap(self) -> None:
        e = self.explanation
        if e is None:
            return
        heat, title = e.heatmap, f"{e.method} for {e.target_name}"
        level = self._level()
        if level is not None:
            heat = e.extras["level_maps"][level]
            title = f"{title}: level {level + 1} {tuple(e.extras['schedule'][level])}"
        self.overlay.show_heatmap(heat, _signed(e.method, heat), title)
        self._sync_colour_controls()
        self._draw_outline()

    def _level(self) -> int | None:
        """The FMO level chosen in the map drop-down (0-based), or None for the final map."""
        return None if self.layer.value == "final" else int(self.layer.value.split()[-1]) - 1

    def _draw_outline(self) -> None:
        e = self.explanation
        if e is None or not self.outlines.value:
            self.overlay.show_outline(None)
            return
        if "segments" in e.extras:
            self.overlay.show_segments(e.extras["segments"])
        elif "visited" in e.extras and self._level() is not None:
            from ..superpixels import boundaries
            visited = e.extras["visited"][self._level()]
            self.overlay.show_outline(boundaries(visited.astype(np.int32)), (0, 255, 120))
        else:
            self.overlay.show_outline(None)

    def _highlight_pair(self, i: int, j: int) -> None:
        if self.explanation is not None and "segments" in self.explanation.extras:
            self.overlay.show_segments(self.explanation.extras["segments"], highlight=(i, j))

    @staticmethod
    def _groups_html(groups) -> str:
        if not groups:
            return "<i>no correlated groups</i>"
        rows = "".join(f"<li>objects {', '.join(map(str, g.members))}: score {g.score:.3f}, mean |r| {g.mean_abs_r:.2f}</li>"
                       for g in groups[:10])
        return f"<b>Ranked groups</b><ol>{rows}</ol>"

    def _show_error(self, message: str) -> None:
        self.progress.bar_style = "danger"
        self.status.value = ""
        self.error.value = f"<pre style='color:#b00020;white-space:pre-wrap'>{html.escape(message)}</pre>"

    def request_evaluation(self) -> None:
        """MoRF/LeRF/random curves of the shown explanation with the evaluation panel's settings."""
        if self.explanation is None:
            self._show_error("evaluation: no explanation yet")
            return
        settings = {"region": self.region.value, "steps": self.steps.value, "fill": self.fill.value}
        self.session.request_evaluation(self.explanation, settings, Handlers(
            on_done=lambda result, cached: self.curves.show(result), on_error=self._show_error))

    def request_comparison(self) -> None:
        """Run every selected method with its current settings; the grid shows each with its cost."""
        chosen = list(self.compare_methods.value)
        try:
            self.session.request_comparison(chosen, Handlers(on_partial=self._draw_comparison,
                                                             on_done=lambda result, cached: self._draw_comparison(result),
                                                             on_error=self._show_error))
        except ValueError as error:
            self._show_error(f"ValueError: {error}")

    def _draw_comparison(self, explanations) -> None:
        self.comparison_box.children = [self.comparison.show(explanations)]

    # -- sweeps and sanity checks ---------------------------------------------------------------------------
    def request_sweep(self) -> None:
        """Sweep the chosen parameter of the current method over the typed values on the current image."""
        from ..analysis.sweep import check_sweep
        from ..cli import parse_values

        param = self.sweep_param.value
        try:
            if not param:
                raise ValueError(f"parameter: {self.session.method!r} has no numeric parameter to sweep")
            values = parse_values(self.sweep_values.value)
            check_sweep(self.session.method, param, values, self.session.params_for())   # before any compute
        except (ValueError, SyntaxError, TypeError) as error:
            self._show_error(f"sweep: {error}")
            return
        mask = self._scene_mask()
        metrics = ("aopc_morf", "passes", "seconds") + (("pointing",) if mask is not None else ())
        self.status.value = f"sweeping {html.escape(param)} over {len(values)} values..."
        self.session.request_sweep(param, values, metrics, Handlers(
            on_done=lambda result, cached: self._sweep_done(result), on_error=self._show_error), mask=mask,
            steps=self.steps.value)

    def _scene_mask(self):
        """The target's exact mask when the image is a generated scene (for the pointing game)."""
        key = self.session.image_key
        if not (isinstance(key, tuple) and key[0] == "scene"):
            return None
        from ..data.scenes import make_scene

        return make_scene(key[1]).class_mask(self.session.resolved_target())

    def _sweep_done(self, result) -> None:
        self.sweep_result = result
        self.status.value = f"sweep of <b>{html.escape(result.param)}</b> done"
        self._draw_sweep()

    def _draw_sweep(self) -> None:
        result = self.sweep_result
        if result is None:
            return
        metric = self.sweep_metric.value
        if metric not in set(result.summary["metric"]):
            metric = "passes"
        settings, means, errors = result.series(metric)
        _, passes, _ = result.series("passes")
        self.sweep_view.show(settings, means, errors, passes, result.param, metric)

    def _show_sweep_point(self, setting) -> None:
        result = self.sweep_result
        chosen = [heat for (value, *_), heat in result.heatmaps.items() if value == setting] if result else []
        if chosen:
            self.overlay.show_heatmap(chosen[0], _signed(result.method, chosen[0]),
                                      f"{result.method} with {result.param}={setting}")
            self._sync_colour_controls()

    def request_sanity(self) -> None:
        self.status.value = f"randomising the model for {html.escape(self.session.method)}..."
        self.session.request_sanity(Handlers(on_done=lambda result, cached: self._sanity_done(result),
                                             on_error=self._show_error))

    def _sanity_done(self, result) -> None:
        self.sanity_result = result
        final = result.table["spearman"].iloc[-1]
        self.sanity_view.show(result.layers, result.table, f"{result.method}: Spearman after all layers {final:.2f}")
        grid = ComparisonView(columns=4, tile=150)
        steps = list(zip(result.layers, result.heatmaps))[::max(1, len(result.layers) // 7)][:7]
        titles = ["original"] + [f"after {name}" for name, _ in steps]
        self.sanity_maps.children = [grid.show_maps(titles, [result.original] + [heat for _, heat in steps])]
        self.status.value = f"sanity check of <b>{html.escape(result.method)}</b> done"

    def request_spray(self) -> None:
        """SpRAy over generated scenes of the current target class with the current method."""
        self.status.value = f"SpRAy over {self.spray_images.value} scenes..."
        self.session.request_spray(self.spray_images.value, self.spray_watermark.value, Handlers(
            on_done=lambda result, cached: self._spray_done(result), on_error=self._show_error))

    def _spray_done(self, result) -> None:
        self.spray_result = result
        gaps = ", ".join(f"{v:.3f}" for v in result.eigenvalues[:5])
        self.spray_view.show(result.layout, result.labels, f"{result.n_clusters} clusters (eigenvalues {gaps} ...)")
        titles = [f"cluster {c} mean ({int((result.labels == c).sum())})" for c in range(result.n_clusters)]
        self.spray_maps.children = [ComparisonView(columns=4, tile=150).show_maps(titles, list(result.cluster_means))]
        self.status.value = f"SpRAy: {result.n_clusters} clusters"

    def _show_spray_point(self, index: int) -> None:
        result = self.spray_result
        cluster = int(result.labels[index])
        self.spray_maps.children = [ComparisonView(columns=4, tile=150).show_maps(
            [f"image {index}", f"cluster {cluster} mean"], [result.heatmaps[index], result.cluster_means[cluster]])]
