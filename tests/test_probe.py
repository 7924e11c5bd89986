"""Execution choices made by measurement (workbench.probe): on a device whose choices are measured (CUDA; here a
CPU named "cuda" by a fake device decision) the Occlusion Test and FMO take whichever of incremental and full
inference a fake timer says is faster, say so in ``extras``, and give the same map either way; on the CPU the
multiply-accumulate rule stands and nothing is timed."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench import probe as probe_module
from workbench.probe import PathProbe, time_call

OCCLUSION = {"patch": 56, "stride": 56}


class FakeTimer:
    """Seconds per candidate as given, and records the names among them it was asked to time; other
    candidates (another choice's) take 1 s each, a tie that keeps the first (today's) one."""

    def __init__(self, seconds: dict[str, float]):
        self.seconds, self.timed = seconds, []

    def __call__(self, name, run, device) -> float:
        run()                      # the candidate must run
        if name in self.seconds:
            self.timed.append(name)
        return self.seconds.get(name, 1.0)


def _fake_cuda(monkeypatch, seconds: dict[str, float]) -> FakeTimer:
    timer = FakeTimer(seconds)
    monkeypatch.setattr(probe_module, "PROBE", PathProbe(timer, kind=lambda device: "cuda"))
    return timer


@pytest.mark.parametrize("method, params", [("occlusion", OCCLUSION), ("fmo", {"schedule": [(112, 56), (56, 28)]})])
@pytest.mark.parametrize("faster", ["full", "incremental"])
def test_on_a_measured_device_the_faster_path_runs(monkeypatch, shapes, scene, method, params, faster):
    reference = wb.explain(shapes, scene.image, method, incremental="off", **params)
    timer = _fake_cuda(monkeypatch, {"full": 1.0, "incremental": 3.0} if faster == "full"
                       else {"full": 3.0, "incremental": 1.0})
    e = wb.explain(shapes, scene.image, method, **params)
    notes = [e.extras["inference"]] if method == "occlusion" else e.extras["inference"]
    expected = "full inference: faster" if faster == "full" else "incremental inference (Krypton): faster"
    assert all(note.startswith(expected) and "measured on cpu" in note for note in notes), notes
    assert sorted(set(timer.timed)) == ["full", "incremental"]
    scale = np.abs(reference.heatmap).max()
    if faster == "full":
        np.testing.assert_array_equal(e.heatmap, reference.heatmap)
    else:
        assert np.abs(e.heatmap - reference.heatmap).max() <= 1e-5 * scale


def test_a_choice_is_measured_once_per_model_input_size_and_patch(monkeypatch, shapes, scene):
    timer = _fake_cuda(monkeypatch, {"full": 1.0, "incremental": 2.0})
    wb.explain(shapes, scene.image, "occlusion", **OCCLUSION)
    assert timer.timed == ["incremental", "full"]
    wb.explain(shapes, scene.image, "occlusion", **OCCLUSION)
    assert timer.timed == ["incremental", "full"]                 # remembered
    wb.explain(shapes, scene.image, "occlusion", patch=28, stride=56)
    assert timer.timed == ["incremental", "full"] * 2             # another patch size: measured


def test_a_model_measured_faster_in_full_is_not_traced_again(monkeypatch, shapes, scene):
    """Once full inference was measured faster for a model, input size and patch, a later run skips tracing."""
    from workbench import incremental

    _fake_cuda(monkeypatch, {"full": 1.0, "incremental": 2.0})
    traced = []
    real_init = incremental.IncrementalModel.__init__

    def counting_init(self, *args, **kwargs):
        traced.append(1)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(incremental.IncrementalModel, "__init__", counting_init)
    first = wb.explain(shapes, scene.image, "occlusion", **OCCLUSION)
    assert len(traced) == 1
    again = wb.explain(shapes, scene.image, "occlusion", **OCCLUSION)
    assert len(traced) == 1
    assert again.extras["inference"].startswith("full inference: faster") and "earlier run" in again.extras["inference"]
    np.testing.assert_array_equal(again.heatmap, first.heatmap)


def test_on_the_cpu_the_multiply_accumulate_rule_stands_and_nothing_is_timed(monkeypatch, shapes, scene):
    timer = FakeTimer({"full": 1.0, "incremental": 2.0})
    monkeypatch.setattr(probe_module, "PROBE", PathProbe(timer))
    e = wb.explain(shapes, scene.image, "occlusion", **OCCLUSION)
    assert e.extras["inference"].startswith("incremental inference (Krypton): 0.")
    assert timer.timed == []


def test_time_call_warms_up_then_times_the_fastest_of_three():
    calls = []
    seconds = time_call("x", lambda: calls.append(1), torch.device("cpu"))
    assert len(calls) == 4 and seconds >= 0.0


class RecordsLayout(torch.nn.Module):
    """A small CNN that records whether each batch of more than one image came channels-last."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.conv, self.head = torch.nn.Conv2d(3, 4, 3), torch.nn.Linear(4, 2)
        self.layouts = []

    def forward(self, x):
        if len(x) > 1:
            self.layouts.append(x.is_contiguous(memory_format=torch.channels_last) and x.shape[1] > 1)
        return self.head(self.conv(x).mean(dim=(2, 3)))


@pytest.mark.parametrize("faster", ["channels-last", "contiguous"])
def test_on_a_measured_device_the_faster_memory_layout_runs(monkeypatch, random_image, faster):
    reference = wb.explain(RecordsLayout(), random_image, "occlusion", patch=8, stride=8, incremental="off")
    timer = _fake_cuda(monkeypatch, {faster: 1.0, ({"channels-last", "contiguous"} - {faster}).pop(): 2.0})
    model = RecordsLayout()
    e = wb.explain(model, random_image, "occlusion", patch=8, stride=8, incremental="off", batch_size=4)
    assert e.extras["layout"].startswith(f"{faster}: faster (measured on cpu, 4 images")
    assert sorted(timer.timed) == ["channels-last", "contiguous"]
    method_batches = model.layouts[-(e.cost.forward_passes - 1) // 4:]   # the method's, after the probe's
    assert method_batches and all(layout == (faster == "channels-last") for layout in method_batches)
    assert np.abs(e.heatmap - reference.heatmap).max() <= 1e-5 * np.abs(reference.heatmap).max()
    assert all(not p.is_contiguous(memory_format=torch.channels_last) or p.dim() != 4 or p.shape[-1] == 1
               for p in model.parameters())                                # the weights are put back


def test_on_the_cpu_forward_only_runs_stay_channels_last_and_nothing_is_timed(monkeypatch, random_image):
    timer = FakeTimer({"channels-last": 2.0, "contiguous": 1.0})
    monkeypatch.setattr(probe_module, "PROBE", PathProbe(timer))
    model = RecordsLayout()
    e = wb.explain(model, random_image, "occlusion", patch=8, stride=8, incremental="off", batch_size=4)
    assert "layout" not in e.extras and timer.timed == []
    assert model.layouts and all(model.layouts)
