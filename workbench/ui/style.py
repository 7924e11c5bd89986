"""The Workbench's look, shared by every component: the page CSS, label widths and row layouts."""
from __future__ import annotations

import ipywidgets as widgets

STYLE = {"description_width": "110px"}
AUTO = {"width": "auto"}     # buttons and check boxes as wide as their text (never cut short)

# Inside the Workbench: long control labels wrap onto a second line instead of being cut with an ellipsis,
# tabs keep their full names (wrapping to a second row when the column is narrow), and boxes never scroll
# sideways.
CSS = """<style>
.workbench .widget-label { white-space: normal; overflow-wrap: anywhere; line-height: 13px; font-size: 12px; }
.workbench .widget-tab > .lm-TabBar .lm-TabBar-content { flex-wrap: wrap; }
.workbench .widget-tab > .lm-TabBar .lm-TabBar-tab { flex: 0 0 auto; min-width: fit-content; max-width: none; }
.workbench .lm-TabBar-tabLabel { overflow: visible; text-overflow: clip; }
.workbench .widget-tab > .lm-TabBar { min-height: fit-content; }
.workbench .workbench-right { min-width: 0; }
</style>"""


def row_layout() -> widgets.Layout:
    """A fresh 300 px layout per control (a shared Layout would hide every control when one is hidden)."""
    return widgets.Layout(width="300px")


def show_if(widget: widgets.Widget, visible: bool) -> None:
    """Show or hide ``widget`` (sends nothing when it already is)."""
    display = None if visible else "none"
    if widget.layout.display != display:
        widget.layout.display = display
