"""Links between components, each an explicit object (docs/DESIGN.md, "UI connectors"): a component offers a
callback (``on_pair``, ``on_point``) and never reaches into another; a connector joins the two. The Workbench
makes every connector whose components are there."""
from __future__ import annotations

from typing import ClassVar


class Connector:
    """Joins the components named in ``needs`` (by their Workbench names)."""

    needs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, components: dict):
        self.components = components


class PairOutline(Connector):
    """Hovering a pair in the correlation matrix outlines those two objects on the overlay (only the correlated
    map has these objects: a stale matrix outlines nothing)."""

    needs = ("correlations", "overlay")

    def __init__(self, components: dict):
        super().__init__(components)
        components["correlations"].on_pair = self.outline

    def outline(self, i: int, j: int) -> None:
        overlay = self.components["overlay"]
        if overlay.explanation is not None and overlay.explanation.correlation is not None:
            overlay.outline_segments((i, j))


class SweepPointMap(Connector):
    """Clicking a sweep point shows the map the sweep made at that setting on the overlay."""

    needs = ("sweep", "overlay")

    def __init__(self, components: dict):
        super().__init__(components)
        components["sweep"].on_point = self.show

    def show(self, setting) -> None:
        sweep = self.components["sweep"]
        heat = sweep.heatmap_at(setting)
        if heat is not None:
            result = sweep.result
            self.components["overlay"].show_map(heat, result.method, f"{result.method} with {result.param}={setting}")


CONNECTORS: list[type[Connector]] = [PairOutline, SweepPointMap]


def connect(components: dict) -> list[Connector]:
    """Every connector whose components are present."""
    return [c(components) for c in CONNECTORS if all(name in components for name in c.needs)]
