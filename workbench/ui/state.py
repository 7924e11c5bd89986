"""What the user chose, as one observable object (traitlets): the image and its key, the model, the target, the
method, every method's parameters, the seed, the precision and the device. Components observe it and write
to it; nothing here draws or computes (docs/DESIGN.md, "UI state").

Change several choices as one with ``state.hold_trait_notifications()``; a parameter change assigns a new
``params`` dict (traitlets notify on assignment, not on mutation), through :meth:`State.set_param`.
"""
from __future__ import annotations

from typing import Any, Hashable

import numpy as np
from traitlets import Any as AnyTrait
from traitlets import Dict, HasTraits, Int, Unicode, validate

from .values import freeze

# the choices a computed result belongs to (a change to any of them marks results of the old ones stale)
CONTEXT = ("image", "model", "target", "method")


class State(HasTraits):
    """The Workbench's choices. ``image_key`` names the image (``("scene", 3)``, ``("photo", "cat")``,
    ``("upload", name, size)``, ``("given", id)``): results and caches go by it, not by the pixels."""

    image = AnyTrait()                 # H x W x 3 numpy image
    image_key = AnyTrait()
    model = AnyTrait()                 # a ModelEntry
    chosen_model = Unicode(None, allow_none=True)   # the zoo model the user chose themselves: kept for any image
    target = AnyTrait(None, allow_none=True)   # a class index, or None for the model's top-1 class
    method = Unicode("fmo")
    params = Dict()                    # method -> {parameter: value} set by the user (defaults elsewhere)
    seed = Int(0)
    precision = Unicode("float32")     # of the model's passes (workbench.precision); "auto" when fast
    device = Unicode("auto")

    def __init__(self, model, image, method: str = "fmo", image_key: Hashable | None = None,
                 device: str = "auto"):
        from ..explainers.registry import get_method
        from ..images import as_numpy_image
        from ..models.zoo import as_model_entry

        get_method(method)
        super().__init__(model=as_model_entry(model), image=as_numpy_image(image),
                         image_key=("given", id(image)) if image_key is None else image_key, method=method,
                         device=device)

    @validate("target")
    def _a_class_index(self, proposal):
        value = proposal["value"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))):
            raise ValueError(f"target: expected a class index or None, got {value!r}")
        return None if value is None else int(value)

    # -- choices --------------------------------------------------------------------------------------------
    def set_image(self, image, key: Hashable) -> None:
        """A new image (and its key); the target goes back to the top-1 class."""
        from ..images import as_numpy_image

        with self.hold_trait_notifications():
            self.image, self.image_key, self.target = as_numpy_image(image), key, None

    def set_model(self, model) -> None:
        """A new model (an entry, a module or a zoo name's entry); the target goes back to the top-1 class."""
        from ..models.zoo import as_model_entry

        with self.hold_trait_notifications():
            self.model, self.target = as_model_entry(model), None

    def load_model(self, name: str, chosen: bool = True) -> None:
        """Load the zoo model ``name`` (on the CPU for ``device="auto"``) and use it; ``chosen``: the user chose
        it (it is kept when the image changes, :func:`workbench.data.photos.model_for_image`), False when it
        follows the image."""
        from ..models.zoo import load_model

        self.set_model(load_model(name, device="cpu" if self.device == "auto" else self.device))
        if chosen:
            self.chosen_model = name

    def params_for(self, method: str | None = None) -> dict[str, Any]:
        """The current parameters of ``method`` (defaults until a control changes one)."""
        from ..explainers.registry import get_method

        method = method or self.method
        values = self.params.get(method, {})
        return {p.name: values.get(p.name, p.default) for p in get_method(method).params}

    def set_param(self, name: str, value: Any, method: str | None = None) -> None:
        """Set one parameter of ``method`` (default the current one); observers of ``params`` are told."""
        method = method or self.method
        self.params = {**self.params, method: {**self.params.get(method, {}), name: value}}

    def forget_param(self, name: str, method: str) -> None:
        """Back to ``method``'s default for ``name``."""
        if name in self.params.get(method, {}):
            self.params = {**self.params, method: {k: v for k, v in self.params[method].items() if k != name}}

    def validate(self, method: str | None = None) -> None:
        """Raise ``ValueError`` (naming the parameter) when the current settings of ``method`` cannot run."""
        from ..explainers.registry import get_method

        method = method or self.method
        get_method(method).spec.from_dict(self.params_for(method)).check_image(*self.image.shape[:2])

    def resolved_target(self) -> int:
        """The chosen target, or the model's top-1 class on the image when none is chosen."""
        from ..targets import top_classes

        return self.target if self.target is not None else top_classes(self.model, self.image, k=1)[0][0]

    def key(self, method: str | None = None) -> Hashable:
        """What an explanation with the current choices is cached under."""
        method = method or self.method
        return (self.model.name, id(self.model), self.image_key, self.target, method,
                freeze(self.params_for(method)), self.seed, self.precision)

    def context(self) -> dict[str, Any]:
        """What a result computed now belongs to: the image, the model, the target and the method."""
        return {"image": self.image_key, "model": (self.model.name, id(self.model)), "target": self.target,
                "method": self.method}
