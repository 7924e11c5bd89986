"""Controls generated from parameter specs: every registered method gets its panel without UI code.

``control_for(info, value, on_change)`` returns an ipywidget for one :class:`~workbench.params.ParamInfo`
(sliders for bounded numbers, log sliders for ``log`` parameters, check boxes, drop-downs, a text field for
lists of numbers, the :class:`ScheduleEditor` for FMO's resolution schedule, and a drop-down of the model's
layers for a ``layer`` parameter, whose options the caller passes); ``on_change(name, value)`` receives the new
value. Values are checked by the compute layer, which names the parameter in its error.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import ipywidgets as widgets

from ..params import ParamInfo
from .components.schedule import ScheduleEditor
from .style import row_layout

OnChange = Callable[[str, Any], None]


_STYLE = {"description_width": "110px"}
SLIDER_MAX_STEPS = 2000


def param_label(info: ParamInfo) -> str:
    """The words a control shows for a parameter (its spec's label, else its name in words)."""
    return info.label or info.name.replace("_", " ")


EDGE = 0.05   # a default in the first 5% of a linear slider's range leaves its knob no room to move


def _at_the_edge(value: Any, low: float | None, high: float | None, integer: bool) -> bool:
    """Whether a linear slider over a wide ``[low, high]`` would show ``value`` squeezed against its left end
    (300 iterations of 1-100000, a learning rate of 0.03 of 0-10). Wide: two decades or more for floats (a log
    slider then fits), a thousand steps or more for integers (a number box then fits)."""
    if value is None or low is None or high is None or not low < value < low + EDGE * (high - low):
        return False
    return high - low >= 1000 if integer else (low == 0 or high / low >= 100) and low >= 0


def _number_control(info: ParamInfo, value: Any) -> widgets.Widget:
    """A slider for a bounded number; a log slider for ``log`` parameters and for floats whose default sits at
    the left end of a wide range; a number box for unbounded numbers and for such integers."""
    integer = info.kind == "int"
    common = dict(description=param_label(info), tooltip=info.doc, style=_STYLE, layout=row_layout(),
                  continuous_update=False)
    low, high = info.low, info.high
    squeezed = _at_the_edge(value, low, high, integer)
    if (info.log or squeezed) and not integer and low is not None and high is not None:
        low_exp = math.log10(low) if low > 0 else math.log10(max(abs(value) if value else 1e-6, 1e-6)) - 3
        return widgets.FloatLogSlider(value=value if value else 10 ** low_exp, base=10, min=low_exp,
                                      max=math.log10(high), step=0.1, readout_format=".2g", **common)
    step = info.step or (1 if integer else 0.01)
    bounded = low is not None and high is not None and (high - low) / step <= SLIDER_MAX_STEPS
    if bounded and not squeezed:
        cls = widgets.IntSlider if integer else widgets.FloatSlider
        extra = {} if integer else {"readout_format": ".3g"}
        return cls(value=value, min=low, max=high, step=step, **common, **extra)
    cls = widgets.BoundedIntText if integer else widgets.BoundedFloatText
    common.pop("continuous_update")
    return cls(value=value, min=low if low is not None else -1e12, max=high if high is not None else 1e12,
               step=step, **common)


def _floats_text(values) -> str:
    return "" if values is None else ", ".join(f"{v:g}" for v in values)


def _parse_floats(text: str) -> tuple[float, ...] | None:
    text = text.strip()
    if not text:
        return None
    try:
        return tuple(float(part) for part in text.replace(";", ",").split(",") if part.strip())
    except ValueError:
        return text  # let the compute layer name the parameter in its error


def layer_options(value: str, layers: Sequence[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """The ``(label, name)`` options of a layer drop-down: the caller's (the model's layers, ``auto`` first), or
    ``auto`` alone; a ``value`` not among them is added so that the drop-down can show it."""
    options = list(layers) if layers else [("auto", "auto")]
    if value not in [name for _, name in options]:
        options.append((str(value), value))
    return options


def control_for(info: ParamInfo, value: Any, on_change: OnChange, image_size: tuple[int, int] = (224, 224),
                layers: Sequence[tuple[str, str]] | None = None) -> widgets.Widget | None:
    """The widget for one parameter (``None`` for data parameters such as a fixed segmentation). ``layers``:
    the ``(label, name)`` options of a ``layer`` parameter (the current model's layers)."""
    if info.kind == "array":
        return None
    if info.kind == "schedule":
        return ScheduleEditor(value, image_size, lambda levels: on_change(info.name, levels))
    convert: Callable[[Any], Any] = lambda new: new
    if info.kind in ("int", "float"):
        control = _number_control(info, value)
    elif info.kind == "bool":
        control = widgets.Checkbox(value=bool(value), description=param_label(info), tooltip=info.doc, indent=False,
                                   layout=widgets.Layout(width="auto"))
    elif info.kind == "choice":
        control = widgets.Dropdown(options=list(info.choices), value=value, description=param_label(info),
                                   tooltip=info.doc, style=_STYLE, layout=row_layout())
    elif info.kind == "layer":
        control = widgets.Dropdown(options=layer_options(value, layers), value=value, description=param_label(info),
                                   tooltip=info.doc, style=_STYLE, layout=row_layout())
    elif info.kind == "floats":
        control = widgets.Text(value=_floats_text(value), description=param_label(info), tooltip=info.doc,
                               placeholder="auto" if info.default is None else "", continuous_update=False,
                               style=_STYLE, layout=row_layout())
        convert = _parse_floats
    else:  # pragma: no cover - every kind is handled above
        raise AssertionError(info.kind)
    control.observe(lambda change: on_change(info.name, convert(change["new"])), names="value")
    return control
