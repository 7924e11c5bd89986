"""Plotly's private names live in ui/transport.py only, on the plotly range pinned in pyproject.toml; no UI
module reads an array out of ``extras``; no module of workbench/ui is over 300 lines; no control is
reachable under two attribute names of the Workbench's components."""
from __future__ import annotations

import re
from pathlib import Path

import plotly

import workbench as wb

UI = Path(wb.__file__).parent / "ui"
ROOT = Path(wb.__file__).parent.parent


def ui_modules() -> list[Path]:
    return sorted(UI.rglob("*.py"))


def test_plotly_internals_only_in_the_transport_module_on_the_pinned_range():
    private = re.compile(r"plotly\.serializers|_send_\w+_msg|_layout_obj|_handler_js2py|_py2js_|_widget_data")
    users = [p.relative_to(UI).as_posix() for p in ui_modules() if private.search(p.read_text())]
    assert users == ["transport.py"], users
    pin = re.search(r'"plotly>=([0-9.]+),<([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pin, "plotly's range is pinned in pyproject.toml"
    low, high = (tuple(int(n) for n in v.split(".")) for v in pin.groups())
    installed = tuple(int(n) for n in plotly.__version__.split(".")[:2])
    assert low <= installed < high, (plotly.__version__, pin.groups())


def test_no_ui_module_reads_extras_and_none_is_over_300_lines():
    for path in ui_modules():
        text = path.read_text()
        assert "extras[" not in text and "extras.get(" not in text, path
        assert len(text.splitlines()) <= 300, (path, len(text.splitlines()))


def test_every_control_has_one_name(shapes, scene):
    import ipywidgets as widgets

    w = wb.Workbench(shapes, scene.image, method="fmo", debounce=0.0)
    assert w.wait(60)
    names: dict[int, list[str]] = {}
    for name, component in w.context.components.items():
        for attribute, value in vars(component).items():
            if isinstance(value, widgets.Widget) and attribute != "widget":
                names.setdefault(id(value), []).append(f"{name}.{attribute}")
    twice = [found for found in names.values() if len(found) > 1]
    assert not twice, twice
    assert not [a for a, v in vars(w).items() if isinstance(v, widgets.Widget)]   # the Workbench holds none itself


def public_widget_names(root) -> dict[int, list[str]]:
    """Every widget reachable from ``root`` through public attributes (no leading underscore) of the Workbench's
    own objects (modules under workbench.ui, and their dicts, lists and tuples), each with the names that hold it:
    ``Type.attribute`` or ``Type.attribute[key]``. Routes that reach the same holder twice (``w.overlay`` and
    ``w.context.components["overlay"]``) give one name; two holders of one widget give two."""
    import ipywidgets as widgets

    names: dict[int, list[str]] = {}          # each holder is visited once: a list, not a set
    seen: set[int] = set()

    def ours(value) -> bool:
        return type(value).__module__.startswith("workbench.ui")

    def visit(value, holder: str) -> None:
        if isinstance(value, widgets.Widget) and holder:
            names.setdefault(id(value), []).append(holder)
            if not ours(value):
                return
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, dict):
            for key, item in value.items():
                visit(item, f"{holder}[{key!r}]")
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                visit(item, f"{holder}[{index}]")
        elif ours(value):
            attributes = dict(vars(value))
            if type(value).__name__ == "Workbench":
                attributes.update(value.context.components)     # the components, under their Workbench names
            for name, item in attributes.items():
                if not name.startswith("_") and (ours(item) or isinstance(item, (dict, list, tuple, widgets.Widget))):
                    visit(item, f"{type(value).__name__}.{name}")

    visit(root, "")
    return names


def test_no_widget_is_reachable_under_two_public_names(shapes, scene):
    """Walks the Workbench's public attributes, the components' and what they hold (views, control dicts, the
    context): one widget, one name. The check itself fails on a widget given a second name."""
    w = wb.Workbench(shapes, scene.image, method="fmo", debounce=0.0)
    assert w.wait(60)
    names = public_widget_names(w)
    assert len(names) > 60          # every component's controls and figures were reached
    twice = sorted(sorted(found) for found in names.values() if len(found) > 1)
    assert not twice, twice
    w.explainer.second_name = w.overlay.opacity          # what the test must catch
    twice = [found for found in public_widget_names(w).values() if len(found) > 1]
    assert [sorted(found) for found in twice] == [["Explainer.second_name", "Overlay.opacity"]], twice
