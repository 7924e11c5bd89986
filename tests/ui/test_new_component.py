"""A new component is one file: registered on import, it appears in a new Workbench as a tab, draws from the
state, and follows a change of image, with no other file changed."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import torch

import workbench as wb
from workbench.ui.components.base import registered, unregister


def test_a_top_classes_panel_added_from_one_file_appears_in_the_workbench(shapes, scene):
    spec = importlib.util.spec_from_file_location("top_classes_panel", Path(__file__).with_name("top_classes_panel.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    try:
        assert module.TopClasses in registered()
        w = wb.Workbench(shapes, scene.image, method="gradient", debounce=0.0)
        assert w.wait(60)
        tabs = w.children[1].children[-1]
        assert "top classes" in [tabs.get_title(i) for i in range(len(tabs.children))]
        panel = w.top_classes
        assert panel.widget in tabs.children
        # the bars are the five best of the model's probabilities (its own output function), from one pass here
        with torch.no_grad():
            logits = shapes.module.eval()(shapes.preprocess(scene.image))[0]
            probabilities = shapes.probabilities(logits).double().numpy()
        order = np.argsort(-probabilities)[:5]
        assert list(panel.figure.data[0].y) == [shapes.class_names[i] for i in order]
        np.testing.assert_allclose(np.asarray(panel.figure.data[0].x, dtype=float), probabilities[order], rtol=1e-4)
        w.image.source.value = "scene"                   # the panel follows the state
        w.image.scene_seed.value = 7
        assert w.wait(60)
        assert list(panel.figure.data[0].y) == [name for _, name, _ in wb.targets.top_classes(
            shapes, wb.data.make_scene(7).image, k=5)]
    finally:
        unregister("top_classes")
    assert all(c.name != "top_classes" for c in registered())
