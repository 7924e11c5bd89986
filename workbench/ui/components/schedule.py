"""FMO's resolution schedule editor (Behzadi-Khormouji & Rostami 2021): one row per level, coarse to fine, with
a patch and a stride box, add/remove level and presets. It is the ``schedule`` control of FMO's panel."""
from __future__ import annotations

from typing import Callable

import ipywidgets as widgets

CUSTOM = "custom"


class ScheduleEditor(widgets.VBox):
    """FMO's resolution schedule: one row per level with a patch and a stride control, add/remove level and
    presets. ``on_change(levels)`` receives the list of ``(patch, stride)`` pairs after every edit (``None`` for
    the default schedule)."""

    def __init__(self, levels, image_size: tuple[int, int],
                 on_change: Callable[[list[tuple[int, int]] | None], None]):
        from ...explainers.fmo import default_schedule

        self.side = min(image_size)
        self.default = [tuple(level) for level in default_schedule(*image_size)]
        self.levels = [tuple(level) for level in (levels or self.default)]
        self.send_levels = on_change
        self.rows = widgets.VBox()
        self.add_button = widgets.Button(description="add level", icon="plus", layout=widgets.Layout(width="110px"))
        self.add_button.on_click(lambda _: self.add_level())
        named = ["default"] + [f"{name} (ends {','.join(map(str, self.preset(name)[-1]))})"
                               for name in ("coarse", "fine")]
        self.presets = widgets.Dropdown(options=named + [CUSTOM], value="default", description="preset",
                                        style={"description_width": "50px"}, layout=widgets.Layout(width="190px"),
                                        tooltip="a preset schedule; 'custom' once the levels are edited")
        self._quiet = False
        self.presets.observe(lambda change: self._quiet or self.apply_preset(change["new"]), names="value")
        title = widgets.HTML("<b>FMO resolution schedule</b> (coarse to fine; patch, stride in px)")
        super().__init__([title, self.rows, widgets.HBox([self.add_button, self.presets])])
        self._draw()
        self._name_preset()

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
        if name != CUSTOM:
            self.levels = self.preset(name)
            self._changed()

    def _name_preset(self) -> None:
        """The preset drop-down names the preset the levels are, or "custom" when they are none of them."""
        shown = next((name for name in self.presets.options if name != CUSTOM and self.preset(name) == self.levels),
                     CUSTOM)
        self._quiet = True
        try:
            self.presets.value = shown
        finally:
            self._quiet = False

    def set_level(self, index: int, patch: int | None = None, stride: int | None = None) -> None:
        old_patch, old_stride = self.levels[index]
        self.levels[index] = (patch if patch is not None else old_patch, stride if stride is not None else old_stride)
        self._send()

    def _send(self) -> None:
        """The levels to ``on_change``; the default schedule as ``None`` (FMO's own default for the image), so
        going back to it is the setting first computed and answers from the cache."""
        self._name_preset()
        self.send_levels(None if self.levels == self.default else list(self.levels))

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
                                               style={"description_width": "90px"},
                                               layout=widgets.Layout(width="160px"))
            stride_box = widgets.BoundedIntText(value=stride, min=1, max=self.side, description="stride",
                                                style={"description_width": "45px"},
                                                layout=widgets.Layout(width="110px"))
            remove = widgets.Button(icon="trash", tooltip="remove this level", layout=widgets.Layout(width="36px"),
                                    disabled=len(self.levels) == 1)
            patch_box.observe(lambda c, i=i: self.set_level(i, patch=c["new"]), names="value")
            stride_box.observe(lambda c, i=i: self.set_level(i, stride=c["new"]), names="value")
            remove.on_click(lambda _, i=i: self.remove_level(i))
            rows.append(widgets.HBox([patch_box, stride_box, remove]))
        self.rows.children = rows

    def stride_box(self, index: int) -> widgets.BoundedIntText:
        return self.rows.children[index].children[1]
