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
