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

OnChange = Callable[[str, Any], None]


def row_layout() -> widgets.Layout:
    """A fresh 300 px layout per control (a shared Layout would hide every control when one is hidden)."""
    return widgets.Layout(width="300px")


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
        editor = ScheduleEditor(value, image_size, lambda levels: on_change(info.name, levels))
        return editor.widget
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


class ScheduleEditor:
    """FMO's resolution schedule: one row per level with a patch and a stride control, add/remove level and
    presets. ``on_change(levels)`` receives the list of ``(patch, stride)`` pairs after every edit (``None`` for
    the default schedule)."""

    def __init__(self, levels, image_size: tuple[int, int], on_change: Callable[[list[tuple[int, int]] | None], None]):
        from ..explainers.fmo import default_schedule

        self.side = min(image_size)
        self.default = [tuple(level) for level in default_schedule(*image_size)]
        self.levels = [tuple(level) for level in (levels or self.default)]
        self.on_change = on_change
        self.rows = widgets.VBox()
        self.add_button = widgets.Button(description="add level", icon="plus", layout=widgets.Layout(width="110px"))
        self.add_button.on_click(lambda _: self.add_level())
        self.presets = widgets.Dropdown(options=["default", "coarse (ends 14,7)", "fine (ends 8,2)"],
                                        value="default", description="preset", style={"description_width": "50px"},
                                        layout=widgets.Layout(width="190px"))
        self.presets.observe(lambda change: self.apply_preset(change["new"]), names="value")
        title = widgets.HTML("<b>FMO resolution schedule</b> (coarse to fine; patch, stride in px)")
        self.widget = widgets.VBox([title, self.rows, widgets.HBox([self.add_button, self.presets])])
        self.widget.editor = self
        self._draw()

    def preset(self, name: str) -> list[tuple[int, int]]:
        """The default schedule, the same without its finest level, or with (8, 2) as its finest level
        (sizes scaled with the image like the default)."""
        if name.startswith("coarse"):
            return list(self.default[:-1])
        if name.startswith("fine"):
            scale = self.side / 224
            return self.default[:-1] + [(max(1, round(8 * scale)), max(1, round(2 * scale)))]
        return list(self.default)

    def apply_preset(self, name: str) -> None:
        self.levels = self.preset(name)
        self._changed()

    def set_level(self, index: int, patch: int | None = None, stride: int | None = None) -> None:
        old_patch, old_stride = self.levels[index]
        self.levels[index] = (patch if patch is not None else old_patch, stride if stride is not None else old_stride)
        self._send()

    def _send(self) -> None:
        """The levels to ``on_change``; the default schedule as ``None`` (FMO's own default for the image), so
        going back to it is the setting first computed and answers from the cache."""
        self.on_change(None if self.levels == self.default else list(self.levels))

    def add_level(self) -> None:
        """Append a finer level (half the last patch and stride, at least 1 px)."""
        patch, stride = self.levels[-1]
        self.levels.append((max(1, patch // 2), max(1, stride // 2)))
        self._changed()

    def remove_level(self, index: int) -> None:
        if len(self.levels) > 1:
            del self.levels[index]
            self._changed()

    def _changed(self) -> None:
        self._draw()
        self._send()

    def _draw(self) -> None:
        rows = []
        for i, (patch, stride) in enumerate(self.levels):
            patch_box = widgets.BoundedIntText(value=patch, min=1, max=self.side, description=f"level {i + 1} patch",
                                               style={"description_width": "90px"}, layout=widgets.Layout(width="160px"))
            stride_box = widgets.BoundedIntText(value=stride, min=1, max=self.side, description="stride",
                                                style={"description_width": "45px"}, layout=widgets.Layout(width="110px"))
            remove = widgets.Button(icon="trash", tooltip="remove this level", layout=widgets.Layout(width="36px"),
                                    disabled=len(self.levels) == 1)
            patch_box.observe(lambda c, i=i: self.set_level(i, patch=c["new"]), names="value")
            stride_box.observe(lambda c, i=i: self.set_level(i, stride=c["new"]), names="value")
            remove.on_click(lambda _, i=i: self.remove_level(i))
            rows.append(widgets.HBox([patch_box, stride_box, remove]))
        self.rows.children = rows

    def stride_box(self, index: int) -> widgets.BoundedIntText:
        return self.rows.children[index].children[1]
