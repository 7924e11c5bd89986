"""The ``bench`` fixture: a Workbench on the shapes model with a quick first Occlusion map."""
from __future__ import annotations

import pytest

import workbench as wb

from .helpers import DEBOUNCE, CountingExplain


@pytest.fixture
def bench(shapes, scene):
    compute = CountingExplain()
    w = wb.Workbench(shapes, scene.image, method="occlusion", debounce=DEBOUNCE, compute=compute)
    w.explainer.controls["patch"].value, w.explainer.controls["stride"].value = 56, 28   # a quick first map
    assert w.wait(60)
    return w
