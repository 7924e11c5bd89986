"""Compiled inference runtimes (workbench.runtime) and the measured execution choice (workbench.execution):
every forward-only method gives torch's heatmap through each runtime, a model that does not convert runs in
torch and says why, a model is converted once (counted), progress, cancellation and pass counts are those of
torch, and ``precision="auto"`` takes reduced precision only when the probe says it is faster and the map the
same (fake timings and agreement, both ways)."""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import importlib
import threading
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from workbench import execution as execution_module
from workbench import runtime as runtime_module
from workbench.execution import REDUCED_MAP_TOLERANCE, choose_execution, decide, fastest_layout

RUNTIMES = ("onnxruntime", "openvino")
LITE0_SIZE = 96   # EfficientNet-Lite0 on the photo scaled down: the same graph, fewer multiply-accumulates

# every forward-only method, with parameters that keep the passes few
FORWARD_ONLY = {
    "occlusion": {"patch": 32, "stride": 32},
    "fmo": {"schedule": [(48, 48), (24, 12)]},
    "lime": {"num_samples": 40, "n_segments": 12},
    "rise": {"num_masks": 40},
    "ablation_ca": {"n_segments": 8, "contexts": 16},
    "score_cam": {},
    "eigen_cam": {},
}


@pytest.fixture(scope="module")
def lite0():
    return wb.load_model("efficientnet_lite0", device="cpu")


@pytest.fixture(scope="module")
def lite0_image():
    photo = torch.from_numpy(wb.load_model("efficientnet_lite0", device="cpu").frame(wb.data.photo("chelsea")))
    small = nn.functional.interpolate(photo.permute(2, 0, 1)[None], size=(LITE0_SIZE, LITE0_SIZE), mode="area")
    return small[0].clamp(0, 1)   # the cat, scaled down: "Egyptian cat" at 0.90


def test_the_forward_only_methods_are_those_listed():
    assert sorted(name for name, info in wb.methods().items() if info.forward_only) == sorted(FORWARD_ONLY)


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


class InFloat64(nn.Module):
    """The model computed in float64: the exact map float32 paths are measured against."""

    def __init__(self, module: nn.Module):
        super().__init__()
        self.module = copy.deepcopy(module).double()

    def forward(self, x):
        return self.module(x.double())


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["shapes", "lite0"])
@pytest.mark.parametrize("method", sorted(FORWARD_ONLY))
def test_every_forward_only_method_gives_torchs_heatmap_through_each_runtime(shapes, scene, lite0, lite0_image,
                                                                             model_name, method):
    """Each runtime's heatmap is within 1e-5 (relative to the map's largest value) of the exact (float64) map
    beyond torch float32's own distance from it: the runtimes round differently from torch, and on maps of score
    differences (Occlusion, FMO, Ablation-CA) torch float32 itself is ~6e-6 from the exact map."""
    entry, image = (shapes, scene.image) if model_name == "shapes" else (lite0, lite0_image)
    params = dict(FORWARD_ONLY[method])
    if method == "score_cam" and model_name == "lite0":
        params["layer"] = "_blocks.4"       # 40 channels: 40 passes instead of the last block's 1280
    reference = wb.explain(entry, image, method, runtime="torch", **params)
    exact = wb.explain(dataclasses.replace(entry, module=InFloat64(entry.module)), image, method, runtime="torch",
                       **{k: ("module." + v if k == "layer" else v) for k, v in params.items()}).heatmap
    torch_error = _relative(reference.heatmap, exact)
    for runtime in RUNTIMES:
        e = wb.explain(entry, image, method, runtime=runtime, **params)
        expected = "torch" if method == "eigen_cam" else runtime   # Eigen-CAM reads a layer: a torch pass
        assert e.extras["runtime"] == expected, e.extras["execution"]
        assert _relative(e.heatmap, exact) <= torch_error + 1e-5, (runtime, _relative(e.heatmap, exact), torch_error)
        assert e.cost.forward_passes == reference.cost.forward_passes


def test_region_perturbation_curve_through_a_runtime_equals_torchs(shapes, scene):
    e = wb.explain(shapes, scene.image, "occlusion", patch=56, stride=56)
    reference = wb.perturbation_curve(shapes, scene.image, e, steps=10, fill="constant", runtime="torch")
    for runtime in RUNTIMES + ("auto",):
        curve = wb.perturbation_curve(shapes, scene.image, e, steps=10, fill="constant", runtime=runtime)
        assert _relative(curve.scores, reference.scores) <= 1e-5


def test_every_metric_through_a_runtime_equals_torchs(shapes, scene):
    """wb.evaluate(runtime=) reaches every metric's passes (ROAD, insertion/deletion, faithfulness correlation,
    max-sensitivity's re-explanations): the same values as torch's, and the passes ran in the runtime."""
    e = wb.explain(shapes, scene.image, "occlusion", patch=56, stride=56)
    metrics = ["road_morf", "insertion_auc", "deletion_auc", "faithfulness_correlation", "max_sensitivity"]
    options = {"metrics": metrics, "seed": 3}
    reference = wb.evaluate(shapes, scene.image, e, runtime="torch", **options)
    calls = []
    users = [importlib.import_module(f"workbench.{name}") for name in
             ("api", "metrics.road", "metrics.insertion_deletion", "metrics.faithfulness")]
    real_open_run = users[0].open_run

    def spy(*args, **kwargs):
        calls.append((args[0] is shapes, kwargs.get("runtime")))
        return real_open_run(*args, **kwargs)

    with contextlib.ExitStack() as patches:
        for module in users:
            patches.enter_context(mock.patch.object(module, "open_run", spy))
        values = wb.evaluate(shapes, scene.image, e, runtime="onnxruntime", **options)
    assert len(calls) >= 5 and set(calls) == {(True, "onnxruntime")}   # 3 curves, faithfulness, 10 re-explanations
    for metric in metrics:
        assert abs(values[metric] - reference[metric]) <= 1e-5 * max(1.0, abs(reference[metric])), metric


class DataDependent(nn.Module):
    """A branch on the input's values: the exporter refuses it (a trace would bake in one branch)."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x):
        pooled = x.mean(dim=(2, 3))
        return self.linear(pooled) if pooled.sum() > 0 else -self.linear(pooled)


class Counting(nn.Module):
    """A forward that changes the module (counts its calls): a compiled copy would not count."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return self.conv(x).mean(dim=(2, 3))


@pytest.mark.parametrize("model, reason", [(DataDependent, "torch.onnx.export failed"),
                                           (Counting, "the forward changes the module (attributes calls)")])
@pytest.mark.parametrize("runtime", ["onnxruntime", "auto"])
def test_a_model_that_does_not_convert_runs_in_torch_and_says_why(model, reason, runtime):
    module = model().eval()
    image = torch.rand(3, 16, 16)
    reference = wb.explain(module, image, "occlusion", target=0, runtime="torch", patch=8, stride=8)
    e = wb.explain(module, image, "occlusion", target=0, runtime=runtime, patch=8, stride=8)
    assert e.extras["runtime"].startswith("torch")
    assert reason in e.extras["execution"]
    np.testing.assert_allclose(e.heatmap, reference.heatmap, rtol=0, atol=1e-6 * np.abs(reference.heatmap).max())


def test_a_model_is_converted_once_and_again_after_its_weights_change(scene):
    entry = wb.load_model("shapes", device="cpu")   # a module of its own: no conversion cached yet
    before = runtime_module.CONVERSIONS.copy()
    first = [wb.explain(entry, scene.image, "rise", runtime=r, num_masks=16) for r in ("openvino", "openvino", "auto")]
    made = runtime_module.CONVERSIONS - before
    assert made["onnx"] == 1 and made["openvino:float32"] == 1 and made["onnxruntime:float32"] == 1
    np.testing.assert_array_equal(first[0].heatmap, first[1].heatmap)
    with torch.no_grad():
        last = [m for m in entry.module.modules() if isinstance(m, nn.Linear)][-1]
        last.bias[first[0].target] += 1.0          # moves the target's score: the maps' values change
        last.weight.mul_(1.5)
    changed = wb.explain(entry, scene.image, "rise", runtime="openvino", num_masks=16)
    torch_changed = wb.explain(entry, scene.image, "rise", runtime="torch", num_masks=16)
    assert (runtime_module.CONVERSIONS - before)["onnx"] == 2
    assert _relative(changed.heatmap, torch_changed.heatmap) <= 1e-5
    assert _relative(changed.heatmap, first[0].heatmap) > 1e-3


def test_progress_cancellation_and_pass_counts_are_torchs(shapes, scene):
    def run(runtime, cancel=None, stop_after=None):
        seen = []

        def progress(done, total):
            seen.append((done, total))
            if stop_after is not None and len(seen) >= stop_after:
                cancel.set()

        e = wb.explain(shapes, scene.image, "rise", runtime=runtime, num_masks=100, batch_size=16,
                       progress=progress, cancel=cancel)
        return seen, e

    torch_seen, torch_e = run("torch")
    for runtime in RUNTIMES:
        seen, e = run(runtime)
        assert seen == torch_seen and e.cost.forward_passes == torch_e.cost.forward_passes == 101
        cancel = threading.Event()
        with pytest.raises(wb.Cancelled):
            run(runtime, cancel, stop_after=2)


def test_the_one_time_preparation_is_announced_through_progress_once(scene):
    entry = wb.load_model("shapes", device="cpu")
    stages = []

    class Progress:
        def __call__(self, done, total):
            pass

        def stage(self, message):
            stages.append(message)

    wb.explain(entry, scene.image, "occlusion", runtime="auto", patch=56, stride=56, progress=Progress())
    wb.explain(entry, scene.image, "occlusion", runtime="auto", patch=56, stride=56, progress=Progress())
    assert len(stages) == 1 and stages[0].startswith("preparing the model (once)")


def test_runtime_is_checked_and_compiled_runtimes_refuse_cuda(shapes, scene):
    with pytest.raises(ValueError, match="runtime: expected one of"):
        wb.explain(shapes, scene.image, "occlusion", runtime="tensorrt")
    with pytest.raises(ValueError, match="runs on the CPU"):
        choose_execution(shapes.module, torch.zeros(1, 3, 8, 8, device="meta"), "openvino")


# -- decisions from fake timings and agreement ----------------------------------------------------------

class Fakes:
    """Seconds and agreement per candidate as given (others: 1 s, agreeing exactly); records what was timed."""

    def __init__(self, seconds: dict[str, float], agreement: dict[str, float]):
        self.seconds, self.agreement, self.timed = seconds, agreement, set()

    def timer(self, name, run):
        run()
        self.timed.add(name)
        return self.seconds.get(name, 1.0)

    def measure(self, name, values, reference):
        return self.agreement.get(name, 0.0)


@pytest.mark.parametrize("faster, agrees, chosen", [
    (True, True, "torch channels-last bfloat16"),     # faster and the same map: reduced precision
    (True, False, "torch channels-last"),             # faster but another map: float32
    (False, True, "torch channels-last"),             # same map but slower: float32
])
def test_auto_precision_takes_bfloat16_only_when_faster_and_the_map_agrees(scene, faster, agrees, chosen):
    entry = wb.load_model("shapes", device="cpu")
    fakes = Fakes({"torch": 4.0, "torch channels-last": 2.0, "torch bfloat16": 3.0,
                   "torch channels-last bfloat16": 1.0 if faster else 2.5},
                  {"torch channels-last bfloat16": 0.5 * REDUCED_MAP_TOLERANCE if agrees else 0.05})
    x = entry.preprocess(scene.image)
    e = choose_execution(entry.module, x, "torch", "auto", timer=fakes.timer, measure=fakes.measure)
    assert e.name == chosen and e.precision == ("bfloat16" if chosen.endswith("bfloat16") else "float32")
    assert fakes.timed == {"torch", "torch channels-last", "torch bfloat16", "torch channels-last bfloat16"}
    if faster and not agrees:
        assert "torch channels-last bfloat16 refused (5.0e-02 > 0.01)" in e.reason


def test_a_faster_runtime_whose_scores_disagree_is_not_used():
    seconds = {"torch": 3.0, "onnxruntime": 1.0, "openvino": 2.0}
    assert decide(seconds, {"onnxruntime": 2e-5, "openvino": 1e-6}, set()) == (
        "openvino", "fastest of the candidates whose results agree with float32 torch; onnxruntime refused "
                    "(2.0e-05 > 1e-05)")
    assert decide(seconds, {"onnxruntime": 1e-6, "openvino": 1e-6}, set())[0] == "onnxruntime"
    assert decide({"torch": 1.0, "openvino": 2.0}, {"openvino": 0.0}, set())[0] == "torch"


def test_auto_precision_through_explain_is_recorded_and_never_a_disagreeing_map(monkeypatch, scene):
    entry = wb.load_model("shapes", device="cpu")
    fakes = Fakes({"torch channels-last bfloat16": 0.1, "openvino bfloat16": 0.1}, {
        "torch channels-last bfloat16": 0.5, "openvino bfloat16": 0.5, "torch bfloat16": 0.5})
    original = execution_module.choose_execution
    monkeypatch.setattr("workbench.run.choose_execution",
                        lambda *a, **k: original(*a, **k, timer=fakes.timer, measure=fakes.measure))
    e = wb.explain(entry, scene.image, "occlusion", precision="auto", patch=56, stride=56)
    assert e.extras["precision"] == "float32" and "bfloat16 refused" in e.extras["execution"]


def test_fastest_layout_is_measured_for_gradient_methods(scene):
    entry = wb.load_model("shapes", device="cpu")
    fakes = Fakes({"torch": 2.0, "torch channels-last": 1.0}, {})
    assert fastest_layout(entry.module, entry.preprocess(scene.image), timer=fakes.timer) is True
    other = wb.load_model("shapes", device="cpu")
    fakes = Fakes({"torch": 1.0, "torch channels-last": 2.0}, {})
    assert fastest_layout(other.module, other.preprocess(scene.image), timer=fakes.timer) is False
