"""``Workbench``: one widget that drives every registered method live (docs/DESIGN.md, "User interface").

It lays components out and nothing else: the left column (image, model, explainer, status), the overlay and the
tabs (curves, correlations, comparison, loss history, sweep, sanity, SpRAy), each a component of
:mod:`workbench.ui.components` found by its registration; the connectors between them; the live explanation.
Each component is reached under its name (``wb.explainer.picker``, ``wb.overlay.opacity``), each control under
one name only.
"""
from __future__ import annotations

import ipywidgets as widgets

from .components.base import Component, Context, registered
from .connectors import connect
from .live import LiveExplanation
from .session import Session
from .state import State
from .style import CSS


class Workbench(widgets.HBox):
    """Explain a model's prediction interactively: ``wb.Workbench()`` in a notebook cell.

    Args:
        model: a ``ModelEntry``/module or a zoo name (default the shipped ``"shapes"`` model).
        image: an image (numpy/PIL/tensor); default scene 0 of the shapes data set.
        method: the explainer shown first.
        device: ``"auto"`` computes where the model is (a GPU when the model is on one).
        debounce: seconds a control must rest before a computation starts.
        compute: the explain function (default :func:`workbench.explain`; tests count calls).
    """

    def __init__(self, model=None, image=None, method: str = "fmo", device: str = "auto", debounce: float = 0.25,
                 compute=None):
        from ..data.scenes import make_scene
        from ..models.zoo import load_model

        given = model is not None and not isinstance(model, str)
        entry = model if given else load_model(model or "shapes", device="cpu" if device == "auto" else device)
        state = State(entry, make_scene(0).image if image is None else image, method=method, device=device,
                      image_key=("scene", 0) if image is None else None)
        state.chosen_model = model if isinstance(model, str) else None    # a zoo name given is the user's choice
        self.state = state
        self.session = Session(state, compute=compute, debounce=debounce)
        self.context = Context(state, self.session, given_model=state.model if given else None, given_image=image)
        classes = registered()
        for cls in sorted(classes, key=lambda c: c.name != "status"):     # the status first: others report to it
            self.context.components[cls.name] = cls(self.context)
        parts = self.context.components
        self.connectors = connect(parts)
        placed = {place: [parts[c.name] for c in classes if c.place == place] for place in ("left", "main", "tab")}
        left = widgets.VBox([widgets.HTML(CSS)] + [c.widget for c in placed["left"]],
                            layout=widgets.Layout(width="320px", min_width="320px"))
        tabs = widgets.Tab(children=[c.widget for c in placed["tab"]])
        for i, component in enumerate(placed["tab"]):
            tabs.set_title(i, component.title)
        # side by side when the notebook is wide enough, the right column below the left one when not (1024 px)
        # the main components (the map) in a row that wraps when narrow, the tabs below; the predictions view is in
        # the left column, beside the map at every width
        main = widgets.HBox([c.widget for c in placed["main"]],
                            layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        right = widgets.VBox([main, tabs],
                             layout=widgets.Layout(flex="1 1 500px", min_width="500px"))
        right.add_class("workbench-right")
        super().__init__([left, right], layout=widgets.Layout(align_items="flex-start", flex_flow="row wrap"))
        self.add_class("workbench")      # the browser tests find the widget by this class
        self.live = LiveExplanation(self.context)
        self.live.request()

    def __getattr__(self, name: str) -> Component:
        """A component by its name: ``wb.overlay``, ``wb.sweep``, ..."""
        parts = self.__dict__.get("context") and self.__dict__["context"].components
        if parts and name in parts:
            return parts[name]
        raise AttributeError(f"{type(self).__name__!r} has no attribute or component {name!r}")

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self.context.components))

    def __repr__(self) -> str:
        return f"Workbench(model={self.state.model.name!r}, method={self.state.method!r})"

    @property
    def explanation(self):
        """The explanation on screen (None until the first one is drawn)."""
        return self.context.results.explanation

    def request(self, debounce: bool = True) -> bool:
        """Explain with the current choices now (they request by themselves when changed)."""
        return self.live.request(debounce=debounce)

    def wait(self, timeout: float = 120.0) -> bool:
        """Deliver the news and block until every computation has finished (notebooks, tests)."""
        return self.session.wait(timeout)

    def close(self) -> None:
        """Cancel and join the running jobs, drop the caches and close the widgets (see ``Session.close``)."""
        self.session.close()
        super().close()
