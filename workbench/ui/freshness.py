"""Whether a shown result still belongs to what the Workbench shows: a banner names what changed since."""
from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from .state import CONTEXT


class Freshness:
    """What a shown result was computed for (some of image, model, target, method); a banner marks it stale
    once the Workbench shows something else, naming what changed."""

    def __init__(self, keys: tuple[str, ...] = CONTEXT):
        self.keys = keys
        self.context: dict[str, Any] | None = None
        self.banner = widgets.HTML()
        self.banner.add_class("workbench-stale")

    @property
    def stale(self) -> bool:
        return bool(self.banner.value)

    def shown(self, context: dict[str, Any], current: dict[str, Any]) -> None:
        """A result computed for ``context`` is drawn while the Workbench is at ``current``."""
        self.context = {k: context[k] for k in self.keys}
        self.check(current)

    def check(self, current: dict[str, Any]) -> None:
        if self.context is None:
            return
        changed = [k for k in self.keys if current[k] != self.context[k]]
        banner = "" if not changed else (
            f"<div style='background:#fff3cd;color:#7a4d00;padding:2px 6px;border-radius:3px'>&#9888; stale: "
            f"computed for another {' and '.join(changed)}; run it again</div>")
        if self.banner.value != banner:
            self.banner.value = banner
