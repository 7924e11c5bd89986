"""Helpers of the Workbench tests: a counting explain, the drawn heatmap, a change awaited."""
from __future__ import annotations

import numpy as np

import workbench as wb

DEBOUNCE = 0.02


class CountingExplain:
    """``wb.explain`` that counts its calls (what the cache must avoid)."""

    def __init__(self):
        self.calls = []

    def __call__(self, model, image, method, **kwargs):
        self.calls.append(method)
        return wb.explain(model, image, method, **kwargs)


def heat(w) -> np.ndarray:
    return np.array(w.overlay.view.figure.data[1].z, dtype=float)


def change(w, apply) -> np.ndarray:
    """Apply a control change, wait for the worker, return the drawn heatmap; fail on a panel error."""
    apply()
    assert w.wait(120)
    assert w.status.error.value == "", w.status.error.value
    return heat(w)
