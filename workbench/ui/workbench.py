"""``Workbench``: one widget that drives every registered method live (DESIGN.md, "The UI").

Left: image, model/target and explainer panels (the chosen method's controls generated from its spec), the
evaluation and comparison settings, progress, cost and errors. Right: the heatmap over the image with its
view controls, and tabs (perturbation curves, Ablation-CA correlations, a method comparison grid, the loss
history of mask learning, sweeps, sanity checks, SpRAy). Each panel is a class in :mod:`.panels`; all
computing goes through :class:`~workbench.ui.session.Session` on worker threads; this module only wires the
panels to the session.
"""
from __future__ import annotations

import contextlib
import html
from typing import Any

import ipywidgets as widgets
import numpy as np

from ..explainers.registry import get_method
from ..models.zoo import available_models, load_model
from ..targets import top_classes
from .controls import param_label
from .panels import (CSS, CURRENT, SUPERPIXELS, ComparisonPanel, CorrelationPanel, CurvesPanel, ExplainerPanel,
                     ImagePanel, LossPanel, ModelPanel, OverlayPanel, SanityPanel, SprayPanel, StatusPanel,
                     SweepPanel, clusters, superpixel_methods)
from .session import Handlers, Session

TAB_TITLES = ("curves", "correlations", "comparison", "loss history", "sweep", "sanity", "SpRAy")


def _signed(method: str, heatmap: np.ndarray) -> bool:
    """Draw on a symmetric scale: the method gives signed maps and this one has negative values."""
    return get_method(method).signed and bool((heatmap < 0).any())


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

        self.image_panel = ImagePanel(image is not None, self._image_changed)
        models = list(available_models())
        if self._given_model is not None:
            models = ["(given)"] + models
        self.model_panel = ModelPanel(models, models[0] if self._given_model is not None else self.session.model.name,
                                      self._model_changed, self._target_changed)
        self.explainer_panel = ExplainerPanel(self.session.method, self._method_changed, self._superpixels_changed,
                                              self._fast_changed)
        self.status_panel = StatusPanel()
        self.overlay_panel = OverlayPanel(self._draw_heatmap, self._draw_outline, self._show_error)
        self.curves_panel = CurvesPanel(self.request_evaluation)
        self.correlation_panel = CorrelationPanel(self._highlight_pair)
        self.comparison_panel = ComparisonPanel(self.request_comparison)
        self.loss_panel = LossPanel()
        self.sweep_panel = SweepPanel(self.request_sweep, self._show_sweep_point)
        self.sanity_panel = SanityPanel(self.request_sanity)
        self.spray_panel = SprayPanel(self.request_spray)
        self._alias_controls()

        self.left = widgets.VBox([widgets.HTML(CSS), self.image_panel.widget, self.model_panel.widget,
                                  self.explainer_panel.widget, self.status_panel.widget],
                                 layout=widgets.Layout(width="320px", min_width="320px"))
        self.tabs = widgets.Tab(children=[self.curves_panel.widget, self.correlation_panel.widget,
                                          self.comparison_panel.widget, self.loss_panel.widget,
                                          self.sweep_panel.widget, self.sanity_panel.widget, self.spray_panel.widget])
        for i, title in enumerate(TAB_TITLES):
            self.tabs.set_title(i, title)
        # side by side when the notebook is wide enough, the right column below the left one when not (1024 px)
        self.right = widgets.VBox([self.overlay_panel.widget, self.tabs],
                                  layout=widgets.Layout(flex="1 1 500px", min_width="500px"))
        self.right.add_class("workbench-right")
        super().__init__([self.left, self.right], layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"))
        self.add_class("workbench")      # the browser tests find the widget by this class
        self.overlay.show_image(self.session.image)
        self._refresh_targets()
        self._build_method_panel()
        self.request()

    def __repr__(self) -> str:
        return f"Workbench(model={self.session.model.name!r}, method={self.session.method!r})"

    def close(self) -> None:
        """Cancel and join the running jobs, drop the caches and close the widgets (see ``Session.close``)."""
        self.session.close()
        super().close()

    def _alias_controls(self) -> None:
        """The panels' controls and views under short names (``wb.method_picker``, ``wb.overlay``, ...)."""
        i, m, x, s, o = (self.image_panel, self.model_panel, self.explainer_panel, self.status_panel,
                         self.overlay_panel)
        self.image_source, self.scene_seed, self.photo, self.upload = i.source, i.scene_seed, i.photo, i.upload
        self.model_picker, self.target_picker = m.picker, m.target
        self.method_picker, self.superpixels, self.method_panel, self.fast = (x.picker, x.superpixels,
                                                                             x.controls_box, x.fast)
        self.progress, self.status, self.error = s.progress, s.status, s.error
        self.overlay, self.opacity, self.colour_scale, self.layer, self.outlines = (o.view, o.opacity, o.colour_scale,
                                                                                   o.layer, o.outlines)
        self.colour_range, self.range_low, self.range_high, self.range_reset = (o.colour_range, o.range_low,
                                                                                o.range_high, o.range_reset)
        c = self.curves_panel
        self.curves, self.region, self.steps, self.fill, self.evaluate_button = (c.view, c.region, c.steps, c.fill,
                                                                                 c.button)
        self.curve_family = c.curve
        self.correlation, self.groups = self.correlation_panel.view, self.correlation_panel.groups
        self.comparison, self.compare_methods = self.comparison_panel.view, self.comparison_panel.methods
        self.compare_button, self.comparison_box = self.comparison_panel.button, self.comparison_panel.widget
        self.loss = self.loss_panel.view
        w = self.sweep_panel
        self.sweep_view, self.sweep_param, self.sweep_values, self.sweep_metric, self.sweep_button = (
            w.view, w.param, w.values, w.metric, w.button)
        self.sanity_view, self.sanity_button, self.sanity_maps = (self.sanity_panel.view, self.sanity_panel.button,
                                                                  self.sanity_panel.maps)
        r = self.spray_panel
        self.spray_view, self.spray_images, self.spray_watermark, self.spray_button, self.spray_maps = (
            r.view, r.images, r.watermark, r.button, r.maps)

    @property
    def controls(self) -> dict[str, widgets.Widget]:
        """The current method's controls by parameter name."""
        return self.explainer_panel.controls

    @property
    def schedule_editor(self):
        """FMO's schedule editor when the current method has one, else None."""
        return self.explainer_panel.schedule_editor

    @property
    def sweep_result(self):
        return self.sweep_panel.result

    @property
    def sanity_result(self):
        return self.sanity_panel.result

    @property
    def spray_result(self):
        return self.spray_panel.result

    def context(self) -> dict[str, Any]:
        """What a result computed now belongs to: the image, the model, the target and the method."""
        session = self.session
        return {"image": session.image_key, "model": (session.model.name, id(session.model)),
                "target": session.target, "method": session.method}

    def _freshness(self):
        return [panel.freshness for panel in (self.curves_panel, self.correlation_panel, self.comparison_panel,
                                              self.sweep_panel, self.sanity_panel, self.spray_panel)]

    def _mark_stale(self) -> None:
        """Mark every result that belongs to another image, model, target or method."""
        current = self.context()
        for freshness in self._freshness():
            freshness.check(current)

    def _build_method_panel(self) -> None:
        """The chosen method's controls, generated from its spec (a CAM's layer picker lists the model's layers)."""
        method = self.session.method
        info = get_method(method)
        layers = self._layer_options() if any(p.kind == "layer" for p in info.params) else ()
        with self._quiet():
            self.explainer_panel.build(method, self.session.params_for(method), self.session.image.shape[:2],
                                       self._param_changed, layers=layers)
        self.sweep_panel.set_params([(param_label(p), p.name) for p in info.params if p.kind in ("int", "float")])

    def _layer_options(self) -> tuple[tuple[str, str], ...]:
        """``(label, name)`` options of a layer picker: ``auto (<the layer it resolves to>)`` first, then each
        feature-map layer of the current model with its output shape; a layer set earlier that the model does not
        have goes back to ``auto`` (for every method). Empty when the model has no feature maps (the run says why)."""
        from ..explainers.cam_layer import AUTO, default_layer, feature_map_layers

        module, size = self.session.model.module, tuple(self.session.image.shape[:2])
        try:
            found, default = feature_map_layers(module, size), default_layer(module, size)
        except (ValueError, RuntimeError):
            return ()
        options = ((f"{AUTO} ({default})", AUTO),) + tuple(
            (f"{layer.name} ({'x'.join(str(n) for n in layer.shape)})", layer.name) for layer in found)
        names = {name for _, name in options}
        for method, values in self.session.params.items():
            for p in get_method(method).params:
                if p.kind == "layer" and values.get(p.name, p.default) not in names:
                    values.pop(p.name, None)
        return options

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
        if self._muted:
            return
        self.session.set_param(name, value)
        self.request()

    def _superpixels_changed(self, value: int) -> None:
        if self._muted:
            return
        for method in superpixel_methods():
            self.session.set_param(SUPERPIXELS, value, method)
        self.request()

    def _fast_changed(self, fast: bool) -> None:
        self.session.precision = "auto" if fast else "float32"
        self.request()

    def _method_changed(self, method: str) -> None:
        self.session.method = method
        self._build_method_panel()
        self._mark_stale()
        self.request()

    def _target_changed(self, value: int) -> None:
        if self._muted:
            return
        self.session.target = None if value == -1 else value
        self._mark_stale()
        self.request()

    def _model_changed(self) -> None:
        name = self.model_picker.value
        if name == "(given)":
            self.session.set_model(self._given_model)
        else:
            self.session.set_model(load_model(name, device="cpu" if self.session.device == "auto"
                                              else self.session.device))
        self._build_method_panel()      # a CAM's layer picker lists the new model's layers
        self._refresh_targets()
        self._mark_stale()
        self.request()

    def _image_changed(self) -> None:
        from ..data.photos import default_model_for, photo_for
        from ..data.scenes import make_scene
        from ..images import load_image

        self.image_panel.show_controls()
        source = self.image_source.value
        if self._given_model is None:   # photos use the real ImageNet model, scenes the shapes model
            self.model_picker.value = default_model_for(source, self.model_picker.value)
        try:
            if source == "scene":
                image, key = make_scene(int(self.scene_seed.value)).image, ("scene", int(self.scene_seed.value))
            elif source == "photo":
                image, key = photo_for(self.photo.value, self.session.model), ("photo", self.photo.value)
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
        self._mark_stale()
        self.request()

    def _refresh_targets(self) -> None:
        try:
            best = top_classes(self.session.model, self.session.image, k=5)
        except Exception as error:
            self._show_error(f"model: {type(error).__name__}: {error}")
            return
        with self._quiet():
            self.model_panel.set_targets(best)
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
        self.status_panel.started(self.session.method)

    def _progressed(self, done: int, total: int) -> None:
        self.status_panel.progressed(done, total)

    def _methods_progressed(self, done: int, total: int) -> None:
        self.status_panel.progressed(done, total, "methods")

    def _partial(self, partial) -> None:
        self.partials += 1
        self.overlay_panel.show_heatmap(partial.heatmap, _signed(self.session.method, partial.heatmap),
                                        f"{self.session.method}: {partial.label} ...")

    def _done(self, explanation, cached: bool) -> None:
        self.explanation = explanation
        cost = explanation.cost
        self.status_panel.finished(
            f"<b>{html.escape(explanation.method)}</b> for <b>{html.escape(explanation.target_name)}</b>: "
            f"{cost.forward_passes} forward + {cost.backward_passes} backward passes, "
            f"{cost.seconds:.2f} s{' (cached)' if cached else ''}")
        self.overlay_panel.set_levels(len(explanation.extras.get("level_maps") or []))
        self._draw_heatmap()
        self.loss_panel.show(explanation.extras.get("loss_history"), explanation.method)
        matrix = explanation.extras.get("matrix")
        if matrix is not None:
            self.correlation_panel.show(matrix, explanation.extras.get("groups", []))
            self.correlation_panel.freshness.shown(self.context(), self.context())

    def _draw_heatmap(self) -> None:
        e = self.explanation
        if e is None:
            return
        heat, title = e.heatmap, f"{e.method} for {e.target_name}"
        level = self.overlay_panel.level()
        if level is not None:
            heat = e.extras["level_maps"][level]
            title = f"{title}: level {level + 1} {tuple(e.extras['schedule'][level])}"
        with self.overlay.figure.batch_update():     # one message to the browser, one synced-state copy
            self.overlay_panel.show_heatmap(heat, _signed(e.method, heat), title)
            self._draw_outline()
            self._draw_truth(heat)

    def _draw_truth(self, heat) -> None:
        """On generated scenes: the target's true outline and the pointing-game marker (green hit, red miss)."""
        from ..metrics.localisation import peak, pointing_game

        mask = self._scene_mask(self.explanation.target) if self.overlay_panel.truth.value else None
        self.overlay.show_truth(mask)
        self.overlay.show_pointing(None if mask is None else peak(heat),
                                   mask is not None and pointing_game(heat, mask) >= 0.5)

    def _draw_outline(self) -> None:
        e = self.explanation
        if e is None or not self.outlines.value:
            self.overlay.show_outline(None)
            return
        level = self.overlay_panel.level()
        if "segments" in e.extras:
            self.overlay.show_segments(e.extras["segments"])
        elif "visited" in e.extras and level is not None:
            from ..superpixels import boundaries
            visited = e.extras["visited"][level]
            self.overlay.show_outline(boundaries(visited.astype(np.int32)), (0, 255, 120))
        else:
            self.overlay.show_outline(None)

    def _highlight_pair(self, i: int, j: int) -> None:
        """Outline objects ``i`` and ``j`` of the correlated map on screen (only that map has these objects)."""
        if (self.explanation is not None and "matrix" in self.explanation.extras
                and not self.correlation_panel.freshness.stale and "segments" in self.explanation.extras):
            self.overlay.show_segments(self.explanation.extras["segments"], highlight=(i, j))

    def _show_error(self, message: str) -> None:
        self.status_panel.show_error(message)

    def request_evaluation(self) -> None:
        """The curves chosen in the curves tab (region perturbation, ROAD or insertion / deletion) of the shown
        explanation, with the tab's settings."""
        if self.explanation is None:
            self._show_error("evaluation: no explanation yet")
            return
        self.session.request_evaluation(self.explanation, self.curves_panel.values(), Handlers(
            on_done=self._shown_by(self.curves_panel, self.curves_panel.show), on_error=self._show_error),
            curve=self.curves_panel.curve.value)

    def _shown_by(self, panel, show):
        """``on_done`` that draws a result with ``show`` and records the context it was requested in (a result
        that lands after a change is marked stale at once)."""
        context = self.context()

        def done(result, cached) -> None:
            show(result)
            panel.freshness.shown(context, self.context())
        return done

    def request_comparison(self) -> None:
        """Run every selected method with its current settings; the grid shows each with its cost."""
        chosen = list(self.compare_methods.value)
        image = self.session.image

        def show(explanations) -> None:
            self.comparison_panel.show(explanations, image)

        mask = self._scene_mask()
        measured = "AOPC" + (" and pointing" if mask is not None else "")

        def quality_done(quality, cached) -> None:
            self.comparison_panel.show_quality(quality)
            self.status_panel.finished(f"comparison of {len(chosen)} methods done, with {measured} under each map")

        def done(explanations) -> None:
            show(explanations)
            self.status_panel.started(f"{measured} of the comparison")
            self.session.request_quality(explanations, self.curves_panel.values(), mask, Handlers(
                on_partial=self.comparison_panel.show_quality, on_progress=self._methods_progressed,
                on_done=quality_done, on_error=self._show_error))
        self.status_panel.started(f"comparison of {len(chosen)} methods")
        try:
            self.session.request_comparison(chosen, Handlers(on_partial=show, on_progress=self._methods_progressed,
                                                             on_done=self._shown_by(self.comparison_panel, done),
                                                             on_error=self._show_error))
        except ValueError as error:
            self._show_error(f"ValueError: {error}")

    # -- sweeps and sanity checks ---------------------------------------------------------------------------
    def request_sweep(self) -> None:
        """Sweep the chosen parameter of the current method over the typed values on the current image."""
        from ..analysis.sweep import check_sweep
        from ..cli import parse_values

        param = self.sweep_param.value
        try:
            if not param:
                raise ValueError(f"parameter: {self.session.method!r} has no numeric parameter to sweep")
            values = parse_values(self.sweep_values.value, field="values")
            check_sweep(self.session.method, param, values, self.session.params_for())   # before any compute
        except (ValueError, SyntaxError, TypeError) as error:
            self._show_error(f"sweep: {error}")
            return
        mask = self._scene_mask()
        metrics = ("aopc_morf", "passes", "seconds") + (("pointing",) if mask is not None else ())
        self.status.value = f"sweeping {html.escape(param)} over {len(values)} values..."
        self.session.request_sweep(param, values, metrics, Handlers(
            on_done=self._shown_by(self.sweep_panel, self._sweep_done), on_error=self._show_error), mask=mask,
            steps=self.steps.value)

    def _scene_mask(self, target: int | None = None):
        """The exact mask of ``target`` (default the resolved target) when the image is a generated scene (for
        the pointing game and the ground-truth outline), else None; None too when the class is not in the
        scene (nothing to point at: explaining an absent class is a normal question, not an error)."""
        key = self.session.image_key
        if not (isinstance(key, tuple) and key[0] == "scene"):
            return None
        from ..data.scenes import make_scene

        if getattr(self, "_scene", (None, None))[0] != key[1]:
            self._scene = (key[1], make_scene(key[1]))      # one scene kept: masks at every redraw, no regeneration
        mask = self._scene[1].class_mask(self.session.resolved_target() if target is None else target)
        return mask if mask.any() else None

    def _sweep_done(self, result) -> None:
        self.sweep_panel.show(result)
        self.status.value = f"sweep of <b>{html.escape(result.param)}</b> done"

    def _show_sweep_point(self, setting) -> None:
        heat = self.sweep_panel.heatmap_at(setting)
        if heat is not None:
            result = self.sweep_panel.result
            self.overlay_panel.show_heatmap(heat, _signed(result.method, heat),
                                            f"{result.method} with {result.param}={setting}")

    def request_sanity(self) -> None:
        self.status.value = f"randomising the model for {html.escape(self.session.method)}..."
        self.session.request_sanity(Handlers(on_done=self._shown_by(self.sanity_panel, self._sanity_done),
                                             on_error=self._show_error))

    def _sanity_done(self, result) -> None:
        self.sanity_panel.show(result)
        self.status.value = f"sanity check of <b>{html.escape(result.method)}</b> done"

    def request_spray(self) -> None:
        """SpRAy over generated scenes of the current target class, with the heatmaps the tab's source names."""
        source = self.spray_panel.source.value
        method = None if source == CURRENT else source
        self.status.value = f"SpRAy over {self.spray_images.value} scenes..."
        self.session.request_spray(
            self.spray_images.value, self.spray_watermark.value, method=method,
            handlers=Handlers(on_done=self._shown_by(self.spray_panel, self._spray_done), on_error=self._show_error))

    def _spray_done(self, result) -> None:
        self.spray_panel.show(result)
        self.status.value = f"SpRAy: {clusters(result.n_clusters)}"
