"""What a component is and how the Workbench finds it (docs/DESIGN.md, "UI components").

A component is one class in one module of this package: it owns its widgets (``widget`` is its root), its figure
and the drawing of one kind of result; it reads and writes the :class:`~workbench.ui.state.State` and starts work
through the :class:`~workbench.ui.session.Session`, both reached through the :class:`Context` it is built with.
``@register`` files it with a ``name`` (the Workbench attribute that reaches it), a ``place`` (``"left"``
column, ``"main"`` above the tabs, or ``"tab"``), an ``order`` within that place and, for a tab, its ``title``.
Every module of this package is imported by :func:`registered`, so a new component is one new file.
"""
from __future__ import annotations

import contextlib
import importlib
import pkgutil
from typing import Any, Callable, ClassVar

import ipywidgets as widgets
from traitlets import Any as AnyTrait
from traitlets import HasTraits

from ..freshness import Freshness
from ..style import show_if
from ..session import Session
from ..state import CONTEXT, State

PLACES = ("left", "main", "tab")
_REGISTRY: dict[str, type["Component"]] = {}


class Results(HasTraits):
    """The explanation on screen and the newest partial map of the one being computed (observable)."""

    explanation = AnyTrait(None, allow_none=True)
    partial = AnyTrait(None, allow_none=True)

    def redraw(self) -> None:
        """Tell the observers of ``explanation`` to draw it again (over a partial map of a stopped run)."""
        if self.explanation is not None:
            self.notify_change({"name": "explanation", "old": self.explanation, "new": self.explanation,
                                "owner": self, "type": "change"})


class Context:
    """What a component may touch: the state, the session, the shown results, the other components by name
    (for connectors and the status line), and what the Workbench was given."""

    def __init__(self, state: State, session: Session, given_model=None, given_image=None):
        self.state, self.session = state, session
        self.results = Results()
        self.components: dict[str, Component] = {}
        self.given_model, self.given_image = given_model, given_image

    @property
    def status(self):
        """The status component: progress, status line and errors."""
        return self.components["status"]


class Component:
    """Base of every component. Subclasses set the class attributes, build ``self.widget`` in ``__init__``
    and, for a result that can go stale, set ``self.freshness`` (``fresh_keys``: what it depends on)."""

    name: ClassVar[str]
    place: ClassVar[str]
    order: ClassVar[int] = 50
    title: ClassVar[str] = ""
    fresh_keys: ClassVar[tuple[str, ...] | None] = None   # None: nothing it shows goes stale

    def __init__(self, context: Context):
        self.context = context
        self.state, self.session = context.state, context.session
        self.widget: widgets.Widget = widgets.VBox()
        self._quiet = False          # True while the component sets its own widgets (see quietly)
        self.freshness = Freshness(self.fresh_keys) if self.fresh_keys else None
        if self.freshness is not None:
            self.state.observe(lambda _: self.freshness.check(self.state.context()),
                               names=["image_key", "model", "target", "method"])

    @contextlib.contextmanager
    def quietly(self):
        """Set this component's widgets from code: their observers, which check ``self._quiet``, do not act on it
        (a drop-down following the state must not write the state back)."""
        previous, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = previous

    def shown_by(self, show: Callable[[Any], None]) -> Callable[[Any, bool], None]:
        """``on_done`` that draws a result with ``show`` and records the choices it was requested for (a result
        that lands after a change is marked stale at once)."""
        requested = self.state.context()

        def done(result, cached) -> None:
            show(result)
            if self.freshness is not None:
                self.freshness.shown(requested, self.state.context())
        return done

    def until_shown(self, text: str, *hidden: widgets.Widget) -> widgets.VBox:
        """``hidden`` (the empty figures) in a box shown once :meth:`reveal` is called, and until then a one-line
        hint: what this tab will show and which button computes it. Returns the box and the hint to lay out."""
        self.hint = widgets.HTML(f"<div style='color:#555;font-style:italic;margin:6px 0'>{text}</div>")
        self.hint.add_class("workbench-hint")
        self.shown = widgets.VBox(list(hidden))
        show_if(self.shown, False)
        return widgets.VBox([self.hint, self.shown])

    def reveal(self) -> None:
        """A result is drawn: the hint goes, the figure shows."""
        if getattr(self, "shown", None) is not None:
            show_if(self.shown, True)
            show_if(self.hint, False)

    def report_error(self, message: str) -> None:
        self.context.status.show_error(message)


def register(cls: type[Component]) -> type[Component]:
    """Class decorator: file ``cls`` under its ``name`` (a later class with the same name replaces it)."""
    if cls.place not in PLACES:
        raise ValueError(f"place: expected one of {PLACES}, got {cls.place!r} ({cls.__name__})")
    if cls.place == "tab" and not cls.title:
        raise ValueError(f"title: a tab needs one ({cls.__name__})")
    if hasattr(widgets.HBox, cls.name) or cls.name.startswith("_"):
        raise ValueError(f"name: {cls.name!r} is taken by the Workbench's own widget attributes")
    _REGISTRY[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a component (tests)."""
    _REGISTRY.pop(name, None)


def registered() -> list[type[Component]]:
    """Every component of this package and every one registered since, by place and order."""
    for module in pkgutil.iter_modules(_package_path()):
        importlib.import_module(f"{__package__}.{module.name}")
    return sorted(_REGISTRY.values(), key=lambda c: (PLACES.index(c.place), c.order, c.name))


def _package_path() -> list[str]:
    import workbench.ui.components as package

    return list(package.__path__)


__all__ = ["CONTEXT", "Component", "Context", "Results", "register", "registered", "unregister"]
