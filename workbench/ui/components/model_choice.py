"""The model component: the model and the target class (top-1, or one of the top-5 classes with its score)."""
from __future__ import annotations

import ipywidgets as widgets

from ..style import STYLE, row_layout
from .base import Component, register

GIVEN = "(given)"
AUTO_TARGET = -1


@register
class ModelChoice(Component):
    name, place, order = "model", "left", 20

    def __init__(self, context):
        from ...models.zoo import available_models

        super().__init__(context)
        names = list(available_models())
        given = context.given_model is not None
        self.picker = widgets.Dropdown(options=([GIVEN] if given else []) + names,
                                       value=GIVEN if given else self.state.model.name, description="model",
                                       style=STYLE, layout=row_layout())
        self.picker.observe(lambda change: self._picked(change["new"]), names="value")
        self.target = widgets.Dropdown(description="target", style=STYLE, layout=row_layout())
        self.target.observe(lambda change: self._targeted(change["new"]), names="value")
        self.widget = widgets.VBox([widgets.HTML("<b>Model</b>"), self.picker, self.target])
        self.state.observe(lambda _: self._model_shown(), names="model")
        self.state.observe(lambda _: self.offer_targets(), names=["model", "image"])
        self.state.observe(lambda _: self._target_shown(), names="target")
        self.offer_targets()

    def _picked(self, name: str) -> None:
        if self._quiet:
            return
        if name == GIVEN:
            self.state.set_model(self.context.given_model)
        elif name != self.state.model.name:
            self.state.load_model(name)

    def _targeted(self, value) -> None:
        if not self._quiet and value is not None:
            self.state.target = None if value == AUTO_TARGET else value

    def _model_shown(self) -> None:
        """The picker names the state's model (chosen elsewhere: a photo moves the shapes model to ImageNet's)."""
        name = GIVEN if self.state.model is self.context.given_model else self.state.model.name
        if name in self.picker.options and self.picker.value != name:
            with self.quietly():
                self.picker.value = name

    def _target_shown(self) -> None:
        """The drop-down names the state's target (chosen elsewhere: a click in the predictions view)."""
        value = AUTO_TARGET if self.state.target is None else self.state.target
        if value != self.target.value and value in [v for _, v in self.target.options]:
            with self.quietly():
                self.target.value = value

    def offer_targets(self) -> None:
        """Offer the top-1 class (automatic: named with its score) and the model's top-5 classes with theirs."""
        from ...targets import top_classes

        try:
            best = top_classes(self.state.model, self.state.image, k=5)
        except Exception as error:
            self.report_error(f"model: {type(error).__name__}: {error}")
            return
        with self.quietly():
            self.target.options = ([(f"top-1: {best[0][1]} ({best[0][2]:.2f})", AUTO_TARGET)]
                                   + [(f"{name} ({p:.2f})", i) for i, name, p in best])
            self.target.value = AUTO_TARGET
        self.state.target = None
