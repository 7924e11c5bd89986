"""The explainer component: the method drop-down, the fast toggle, the chosen method's controls generated
from its spec (FMO's schedule editor, the superpixel slider shared by every method with one, a CAM's layer
picker listing the model's layers) and, for a long run, its estimated time at the current settings."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import ipywidgets as widgets

from ...estimate import duration_text
from ...explainers.registry import get_method, methods
from ..controls import control_for
from ..style import STYLE, row_layout
from .base import Component, register

SUPERPIXELS = "n_segments"   # the superpixel count: every method with this parameter shares one slider
KEPT_PANELS = 32             # methods x image sizes x layer lists whose controls are kept
LONG_RUN = 5.0               # seconds: a run estimated to take longer has its estimate shown
FAST_TIP = ("Allow reduced precision where the probe shows the map unchanged (precision='auto'): on the first run "
            "for a model and image size, a probe times each precision and runtime and keeps the fastest whose map "
            "matches float32's; float32 otherwise; gradient passes (IG, SmoothGrad) in the faster memory layout, "
            "which rounds differently from Captum's (see README, Reduced precision).")


def superpixel_methods() -> list[str]:
    """The registered methods with a superpixel count (parameter ``n_segments``)."""
    return [name for name, m in sorted(methods().items()) if any(p.name == SUPERPIXELS for p in m.params)]


def _same(a: Any, b: Any) -> bool:
    """``a == b`` for parameter values (anything that cannot be compared counts as different)."""
    try:
        return a is b or bool(a == b)
    except Exception:
        return False


@dataclass
class _Built:
    """One method's built controls: the panel's children, the controls by parameter and the values shown."""
    children: tuple = ()
    controls: dict[str, widgets.Widget] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)


@register
class Explainer(Component):
    name, place, order = "explainer", "left", 30

    def __init__(self, context):
        super().__init__(context)
        self.picker = widgets.Dropdown(   # the method's name only (its family heads the controls below)
            options=[(m.label, name) for name, m in sorted(methods().items())], value=self.state.method,
            description="explainer", style={"description_width": "60px"}, layout=widgets.Layout(width="316px"))
        self.picker.observe(lambda change: setattr(self.state, "method", change["new"]), names="value")
        self.fast = widgets.Checkbox(value=self.state.precision != "float32", description="fast (reduced precision)",
                                     indent=False, tooltip=FAST_TIP, layout=row_layout())
        self.fast.observe(lambda change: setattr(self.state, "precision", "auto" if change["new"] else "float32"),
                          names="value")
        context.results.observe(lambda change: self._say_chosen(change["new"]), names="explanation")
        self.superpixels = widgets.IntSlider(value=50, min=5, max=500, step=1, continuous_update=False,
                                             description="superpixels", style=STYLE, layout=row_layout(),
                                             tooltip=f"{SUPERPIXELS}, shared by every superpixel method")
        self.superpixels.observe(lambda change: self._superpixels_set(change["new"]), names="value")
        self.controls_box = widgets.VBox()
        self.controls: dict[str, widgets.Widget] = {}
        self._built: dict[tuple, _Built] = {}      # (method, image size, layers) -> its controls, kept
        self._quiet = False
        self.estimate = widgets.HTML(layout=widgets.Layout(width="300px"))
        self.estimate.add_class("workbench-estimate")
        self.widget = widgets.VBox([widgets.HTML("<b>Explainer</b>"), self.picker, self.fast, self.estimate,
                                    self.controls_box])
        self.state.observe(lambda _: self.rebuild(), names=["method", "model", "image"])
        self.state.observe(lambda _: self.show_estimate(), names=["method", "model", "image", "params"])
        context.results.observe(lambda _: self.show_estimate(), names="explanation")
        self.rebuild()
        self.show_estimate()

    def show_estimate(self) -> None:
        """The current settings' estimated time (``Session.estimate``), shown only when over :data:`LONG_RUN`
        seconds and the run at them has not finished (its map is kept): what a run will cost, so that a sample
        count can be lowered first."""
        passes, seconds = self.session.estimate()
        text = ""
        if seconds is not None and seconds > LONG_RUN and self.state.key() not in self.session.explanations.cache:
            text = (f"<div style='font-size:12px;color:#7a4b00'><b>{duration_text(seconds)}</b> at these settings: "
                    f"{passes} passes at {passes / seconds:.0f} per s, the last run's rate here</div>")
        if self.estimate.value != text:
            self.estimate.value = text

    def _say_chosen(self, explanation) -> None:
        """After a run with the fast box on, its tooltip also says what the probe chose."""
        note = explanation.execution_note() if explanation is not None and self.fast.value else ""
        tip = FAST_TIP + (f"\nLast run: {note}." if note else "")
        if self.fast.tooltip != tip:
            self.fast.tooltip = tip

    def _superpixels_set(self, value: int) -> None:
        if self._quiet:
            return
        params = dict(self.state.params)
        for method in superpixel_methods():
            params[method] = {**params.get(method, {}), SUPERPIXELS: value}
        self.state.params = params

    def rebuild(self) -> None:
        """Show the current method's controls with the state's values; the sweep's parameters follow."""
        method = self.state.method
        if self.picker.value != method:
            self.picker.value = method
        layers = self._layer_options() if any(p.kind == "layer" for p in get_method(method).params) else ()
        self._quiet = True
        try:
            self._show(method, self.state.params_for(method), tuple(self.state.image.shape[:2]), layers)
        finally:
            self._quiet = False

    def _show(self, method: str, values: dict[str, Any], size: tuple[int, int], layers: tuple) -> None:
        """A method's controls are built once per image size and kept: switching back shows the same widgets (a
        cached switch sends no new widgets to the browser), unless ``values`` differ from what they show (a
        value set from code), which builds them again."""
        key = (method, size, layers)
        kept = self._built.get(key)
        if kept is None or not all(_same(values[name], shown) for name, shown in kept.values.items()):
            if len(self._built) >= KEPT_PANELS:
                self._built.clear()
            kept = self._built[key] = self._new_panel(method, values, size, layers)
        if SUPERPIXELS in kept.controls:
            self.superpixels.value = values[SUPERPIXELS]
        self.controls = dict(kept.controls)
        if self.controls_box.children != kept.children:
            self.controls_box.children = kept.children

    def _new_panel(self, method: str, values: dict[str, Any], size: tuple[int, int], layers: tuple) -> _Built:
        info = get_method(method)
        built = _Built()

        def changed(name: str, value: Any) -> None:
            built.values[name] = value          # what the kept control shows now
            if not self._quiet:
                self.state.set_param(name, value, method)

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
            built.controls[p.name] = control
            built.values[p.name] = values[p.name]
            children.append(control)
        built.children = tuple(children)
        return built

    def _layer_options(self) -> tuple[tuple[str, str], ...]:
        """``(label, name)`` options of a layer picker: ``auto (<the layer it resolves to>)`` first, then each
        feature-map layer of the current model with its output shape; a layer set earlier that the model does not
        have goes back to ``auto`` (for every method). Empty when the model has no feature maps (the run says why)."""
        from ...explainers.cam_layer import AUTO, default_layer, feature_map_layers

        module, size = self.state.model.module, tuple(self.state.image.shape[:2])
        try:
            found, default = feature_map_layers(module, size), default_layer(module, size)
        except (ValueError, RuntimeError):
            return ()
        options = ((f"{AUTO} ({default})", AUTO),) + tuple(
            (f"{layer.name} ({'x'.join(str(n) for n in layer.shape)})", layer.name) for layer in found)
        names = {name for _, name in options}
        for method, values in list(self.state.params.items()):
            for p in get_method(method).params:
                if p.kind == "layer" and values.get(p.name, p.default) not in names:
                    self.state.forget_param(p.name, method)
        return options

    @staticmethod
    def description_html(method: str) -> widgets.HTML:
        """The method's plain-language description from its spec (what is perturbed or propagated, what a
        bright pixel means)."""
        text = get_method(method).spec.description
        box = widgets.HTML(f"<div style='font-size:12px;line-height:1.3;color:#444'>{html.escape(text)}</div>",
                           layout=widgets.Layout(width="300px"))
        box.add_class("workbench-description")
        return box
