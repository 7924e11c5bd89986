"""The ``precision`` setting (workbench.precision): reduced-precision passes give float32 heatmaps close to
float32's; devices that cannot run a precision are refused by name; ``"auto"`` resolves per device."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
import workbench.precision as precision_module
from workbench.engine import Engine
from workbench.precision import float32_settings, resolve_precision


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
    assert reduced.extras["precision"] == "bfloat16" and full.extras["precision"] == "float32"
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
    """Before any measurement "auto" is float32 on a CPU whatever its flags say (AVX512-BF16 ran Occlusion of
    the shapes model at 0.32x float32's speed); a forward-only run's probe decides (tests/test_runtime.py)."""
    monkeypatch.setattr(precision_module, "cpu_has_native_bfloat16", lambda: native)
    assert resolve_precision("auto", torch.device("cpu")) == "float32"
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


class _RecordsFloat32Settings(torch.nn.Module):
    """A tiny classifier that records, at each forward pass, the float32 math settings in force."""

    def __init__(self, fail: bool = False):
        super().__init__()
        self.linear = torch.nn.Linear(3, 2)
        self.fail, self.seen = fail, []

    def forward(self, x):
        self.seen.append({**float32_settings(), "cuda_matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
                          "cudnn_tf32": torch.backends.cudnn.allow_tf32})
        if self.fail:
            raise RuntimeError("the model fails")
        return self.linear(x.mean(dim=(2, 3)))


def _user_settings_legacy() -> None:
    torch.set_float32_matmul_precision("medium")      # TF32 matmuls on CUDA, bfloat16 on oneDNN
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = False           # not PyTorch's default either


def _user_settings_new_api() -> None:
    torch.backends.cuda.matmul.fp32_precision = "tf32"
    torch.backends.cudnn.conv.fp32_precision = "ieee"


@pytest.fixture
def restore_float32_settings():
    """The process's legacy settings put back after a test that changes them."""
    saved = float32_settings()
    yield
    torch.set_float32_matmul_precision(saved["matmul_precision"])
    torch.backends.cuda.matmul.allow_tf32 = saved["cuda_matmul_tf32"]
    torch.backends.cudnn.allow_tf32 = saved["cudnn_tf32"]


@pytest.mark.parametrize("user", [_user_settings_legacy, _user_settings_new_api])
@pytest.mark.parametrize("fail", [False, True])
def test_a_float32_run_has_tf32_off_and_puts_the_users_settings_back(restore_float32_settings, random_image,
                                                                     user, fail):
    if user is _user_settings_new_api and not hasattr(torch.backends.cudnn.conv, "fp32_precision"):
        pytest.fail("this PyTorch has no fp32_precision API; the test needs one that has")
    user()
    before = float32_settings()
    model = _RecordsFloat32Settings(fail)
    if fail:
        with pytest.raises(RuntimeError, match="the model fails"):
            wb.explain(model, random_image, "occlusion", patch=8, stride=8, device="cpu")
    else:
        e = wb.explain(model, random_image, "occlusion", patch=8, stride=8, device="cpu")
        assert e.extras["precision"] == "float32"
    assert model.seen, "the model never ran"
    for seen in model.seen:
        assert seen["matmul_precision"] == "highest"
        assert seen["cuda_matmul_tf32"] is False and seen["cudnn_tf32"] is False
        for key in ("fp32_precision:cuda.matmul", "fp32_precision:mkldnn.matmul"):
            assert seen.get(key, "ieee") == "ieee", (key, seen)
        for key in ("fp32_precision:cudnn.conv", "fp32_precision:cudnn.rnn"):   # 'none': the legacy flag, off
            assert seen.get(key, "ieee") in ("ieee", "none"), (key, seen)
    assert float32_settings() == before


def test_reduced_precision_leaves_the_float32_settings_alone(restore_float32_settings, random_image):
    _user_settings_legacy()
    model = _RecordsFloat32Settings()
    before = float32_settings()
    wb.explain(model, random_image, "occlusion", patch=8, stride=8, device="cpu", precision="bfloat16")
    assert all(seen == {**before, "cuda_matmul_tf32": True, "cudnn_tf32": False} for seen in model.seen)
    assert float32_settings() == before
