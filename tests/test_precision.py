"""The ``precision`` setting (workbench.precision): reduced-precision passes give float32 heatmaps close to
float32's; devices that cannot run a precision are refused by name; ``"auto"`` resolves per device."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
import workbench.precision as precision_module
from workbench.engine import Engine
from workbench.precision import resolve_precision


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


@pytest.mark.parametrize("method, params", [
    ("occlusion", {"patch": 56, "stride": 28}),                    # engine scoring: 50 passes
    ("gradient", {}),                                              # backpropagation: 1 + 1 passes
    ("neuromask", {"iterations": 3}),                              # mask learning: 3 + 3 passes
])
def test_bfloat16_heatmap_is_float32_and_close_to_float32s(shapes, scene, method, params):
    full = wb.explain(shapes, scene.image, method, **params)
    reduced = wb.explain(shapes, scene.image, method, precision="bfloat16", **params)
    assert reduced.heatmap.dtype == np.float32 and reduced.heatmap.shape == full.heatmap.shape
    assert reduced.extras["precision"] == "bfloat16" and "precision" not in full.extras
    assert not np.array_equal(reduced.heatmap, full.heatmap)     # it did run in reduced precision
    assert _correlation(reduced.heatmap, full.heatmap) > 0.9
    assert reduced.target == full.target


def test_engine_scores_are_float32_under_bfloat16(shapes, scene):
    x = shapes.preprocess(scene.image)
    engine = Engine(shapes.module.eval(), batch_size=4, precision="bfloat16")
    full = Engine(shapes.module.eval(), batch_size=4).score_inputs(x.expand(3, -1, -1, -1), 3)
    scores = engine.score_inputs(x.expand(3, -1, -1, -1), 3)
    assert scores.dtype == torch.float32 and engine.precision == "bfloat16"
    torch.testing.assert_close(scores, full, rtol=0.05, atol=0.1)


def test_float16_on_a_cpu_is_refused_naming_precision(shapes, scene):
    with pytest.raises(ValueError, match="precision.*float16.*CUDA"):
        wb.explain(shapes, scene.image, "occlusion", patch=112, stride=112, device="cpu", precision="float16")
    with pytest.raises(ValueError, match="precision"):
        Engine(shapes.module, device="cpu", precision="float16")
    with pytest.raises(ValueError, match="precision: expected one of"):
        wb.explain(shapes, scene.image, "gradient", precision="half")


@pytest.mark.parametrize("native", [True, False])
def test_auto_resolves_per_device(monkeypatch, native):
    monkeypatch.setattr(precision_module, "cpu_has_native_bfloat16", lambda: native)
    assert resolve_precision("auto", torch.device("cpu")) == ("bfloat16" if native else "float32")
    assert resolve_precision("auto", torch.device("cuda")) == "bfloat16"
    assert resolve_precision("auto", torch.device("mps")) == "float32"
    assert resolve_precision("float16", torch.device("cuda")) == "float16"
    assert resolve_precision("float32", torch.device("cpu")) == "float32"


def test_explain_batch_passes_precision_on(shapes, scene):
    images = [scene.image, wb.data.make_scene(1).image]
    full = wb.explain_batch(shapes, images, "gradient")
    reduced = wb.explain_batch(shapes, images, "gradient", precision="bfloat16")
    assert reduced.dtype == np.float32 and not np.array_equal(reduced, full)
    assert min(_correlation(r, f) for r, f in zip(reduced, full)) > 0.9


@pytest.mark.parametrize("method", ["occlusion", "fmo"])
def test_incremental_inference_stays_off_at_reduced_precision(shapes, scene, method):
    """Krypton's incremental path runs in float32: at bfloat16 the occluded scores and the clean score come from
    the engine alike, and the extras say why."""
    params = {"patch": 56, "stride": 28} if method == "occlusion" else {"schedule": [(112, 56), (56, 28)]}
    full = wb.explain(shapes, scene.image, method, **params)
    reduced = wb.explain(shapes, scene.image, method, precision="bfloat16", **params)
    notes = [full.extras["inference"]] if method == "occlusion" else full.extras["inference"]
    assert all(note.startswith("incremental inference") for note in notes), notes
    notes = [reduced.extras["inference"]] if method == "occlusion" else reduced.extras["inference"]
    assert all(note == "full inference: precision bfloat16 (incremental inference runs in float32)"
               for note in notes), notes
