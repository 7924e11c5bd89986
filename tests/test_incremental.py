"""Incremental inference (Krypton, Nakandala et al. SIGMOD 2019) equals full inference of the occluded images."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from workbench.explainers.windows import WindowGrid
from workbench.incremental import IncrementalModel, NotIncremental, occluded_boxes, plan_incremental
from workbench.targets import top_classes


def plain_cnn() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                         nn.MaxPool2d(3, 2, padding=1), nn.Conv2d(8, 8, 5, stride=2, padding=2, bias=False),
                         nn.LeakyReLU(0.1), nn.AvgPool2d(2), nn.Conv2d(8, 8, 3, dilation=2, padding=2), nn.SiLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4))


class Residual(nn.Module):
    """A ResNet basic block with a strided 1x1 shortcut, then one that keeps the shape."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.a = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
                               nn.Conv2d(16, 16, 3, padding=1), nn.BatchNorm2d(16))
        self.down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2), nn.BatchNorm2d(16))
        self.b = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, 16, 3, padding=1))
        self.head = nn.Linear(16, 3)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.relu(self.a(x) + self.down(x))
        out = self.b(x)
        out += x
        return self.head(torch.flatten(nn.functional.adaptive_max_pool2d(out.relu(), 1), 1))


def depthwise_separable() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 12, 3, stride=2, padding=1), nn.ReLU6(),
                         nn.Conv2d(12, 12, 3, padding=1, groups=12), nn.BatchNorm2d(12), nn.ReLU6(),
                         nn.Conv2d(12, 16, 1), nn.BatchNorm2d(16), nn.Hardswish(),
                         nn.Conv2d(16, 16, 5, stride=2, padding=2, groups=16), nn.ReLU6(),
                         nn.Flatten(), nn.Linear(16 * 6 * 6, 5))  # 23 or 24 px in


class Untraceable(nn.Module):
    """Control flow on a value: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)

    def forward(self, x):
        y = self.conv(x)
        if y.mean() > 100:
            y = -y
        return self.head(y.mean(dim=(2, 3)))


def random_batchnorm(module: nn.Module) -> nn.Module:
    torch.manual_seed(0)
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return module.eval()


def occluded_images(x: torch.Tensor, fill: torch.Tensor, grid: WindowGrid) -> torch.Tensor:
    """The reference: full images, each with one window of the grid taking ``fill``."""
    masks = grid.keep_masks(torch.arange(grid.count))
    return x * masks + fill * (1 - masks)


def check_equal(module: nn.Module, size: int, patch: int, stride: int) -> None:
    torch.manual_seed(1)
    x, fill = torch.randn(1, 3, size, size), torch.randn(1, 3, size, size)
    x_before = x.clone()
    grid = WindowGrid(size, size, patch, stride)
    top, bottom, left, right = grid.extents()
    flat = torch.arange(grid.count)
    r, c = flat // len(grid.col_starts), flat % len(grid.col_starts)
    patches, box_top, box_left = occluded_boxes(x, fill, (top[r], bottom[r]), (left[c], right[c]), patch)
    model = IncrementalModel(module, x)
    scores = model.score(patches, box_top, box_left)
    with torch.inference_mode():
        reference = module(occluded_images(x, fill, grid))
        clean = module(x)
    assert torch.equal(x, x_before)
    assert scores.shape == reference.shape
    assert (scores - reference).abs().max() <= 1e-5 * max(1.0, float(reference.abs().max()))
    assert float((reference - clean).abs().max()) > 1e-4  # the windows do change the scores
    assert 0 < model.macs < grid.count * model.full_macs  # it saved work


MODELS = {"plain CNN": plain_cnn, "residual": Residual, "depthwise separable": depthwise_separable}


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("size,patch,stride", [(24, 4, 4), (23, 5, 3)])  # stride divides the size, and not
def test_incremental_equals_full_inference(name, size, patch, stride):
    check_equal(random_batchnorm(MODELS[name]()), size, patch, stride)


@pytest.mark.parametrize("size,patch,stride", [(64, 8, 8), (61, 10, 7)])
def test_incremental_equals_full_inference_on_shapes_model(shapes, size, patch, stride):
    check_equal(shapes.module, size, patch, stride)


def test_occlusion_uses_it_and_says_so(shapes):
    image = np.random.default_rng(0).uniform(size=(48, 56, 3)).astype(np.float32)
    fast = wb.explain(shapes, image, "occlusion", patch=8, stride=6)
    full = wb.explain(shapes, image, "occlusion", patch=8, stride=6, incremental="off")
    assert fast.extras["inference"].startswith("incremental inference")
    assert full.extras["inference"] == "full inference: incremental='off'"
    assert np.abs(fast.heatmap - full.heatmap).max() <= 1e-5 * np.abs(full.heatmap).max()
    assert fast.cost.forward_passes == full.cost.forward_passes


def test_untraceable_model_falls_back_and_says_so():
    torch.manual_seed(0)
    module = Untraceable().eval()
    with pytest.raises(NotIncremental, match="torch.fx"):
        IncrementalModel(module, torch.rand(1, 3, 16, 16))
    image = np.random.default_rng(0).uniform(size=(16, 16, 3)).astype(np.float32)
    auto = wb.explain(module, image, "occlusion", patch=4, stride=4)
    off = wb.explain(module, image, "occlusion", patch=4, stride=4, incremental="off")
    assert auto.extras["inference"].startswith("full inference: model: torch.fx could not trace it")
    assert np.array_equal(auto.heatmap, off.heatmap)


class Counting(nn.Module):
    """A forward with a Python side effect (a call counter) and control flow on it: tracing would run it once
    and bake the branch in."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        scale = 2.0 if self.calls % 2 else 1.0
        return self.conv(x).mean(dim=(2, 3)) * scale


def test_a_forward_with_side_effects_falls_back_and_the_model_is_left_as_it_was():
    module = Counting().eval()
    with pytest.raises(NotIncremental, match="changes the model's own attributes \\(calls\\)"):
        IncrementalModel(module, torch.rand(1, 3, 16, 16))
    assert module.calls == 0 and not hasattr(module, "_tracer_extras")
    image = np.random.default_rng(0).uniform(size=(16, 16, 3)).astype(np.float32)
    e = wb.explain(module, image, "occlusion", patch=4, stride=4)
    assert e.extras["inference"].startswith("full inference: model: its forward changes"), e.extras["inference"]
    assert module.calls >= 1                         # the passes went through the user's forward


def test_large_patch_turns_it_off():
    model, note = plan_incremental(random_batchnorm(plain_cnn()), torch.rand(1, 3, 16, 16), 16)
    assert model is None and "multiply-accumulates" in note


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="incremental"):
        plan_incremental(plain_cnn().eval(), torch.rand(1, 3, 16, 16), 4, mode="sometimes")
    model = IncrementalModel(plain_cnn().eval(), torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="top, left"):
        model.score(torch.zeros(1, 3, 4, 4), torch.tensor([14]), torch.tensor([0]))
    with pytest.raises(ValueError, match="patches"):
        model.score(torch.zeros(2, 3, 4, 4), torch.tensor([0]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="x: expected one"):
        IncrementalModel(plain_cnn().eval(), torch.rand(2, 3, 16, 16))


def test_fmo_levels_use_it_and_say_so(shapes):
    image = np.random.default_rng(0).uniform(size=(64, 64, 3)).astype(np.float32)
    fast = wb.explain(shapes, image, "fmo")
    full = wb.explain(shapes, image, "fmo", incremental="off")
    assert len(fast.extras["inference"]) == len(fast.levels.schedule)
    assert any(note.startswith("incremental inference") for note in fast.extras["inference"])
    assert all(note == "full inference: incremental='off'" for note in full.extras["inference"])
    assert np.abs(fast.heatmap - full.heatmap).max() <= 1e-5 * max(1.0, np.abs(full.heatmap).max())
    assert fast.cost.forward_passes == full.cost.forward_passes


class SlowToTrace(nn.Module):
    """Its forward waits while torch.fx traces it, so another thread can run a model meanwhile."""

    def __init__(self):
        super().__init__()
        self.conv, self.head, self.entered = nn.Conv2d(3, 4, 3), nn.Linear(4, 2), threading.Event()

    def forward(self, x):
        self.entered.set()
        time.sleep(0.3)
        return self.head(self.conv(x).mean((2, 3)))


def test_a_forward_pass_beside_a_trace_is_not_traced():
    """torch.fx patches nn.Module.__call__ process-wide while tracing: the predictions computed on the kernel
    thread while a worker traces for incremental inference must give the model's own scores (without the lock:
    NameError "module is not installed as a submodule")."""
    torch.manual_seed(0)
    other = wb.wrap_model(nn.Sequential(nn.Conv2d(3, 2, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten()).eval(),
                          mean=[0.5] * 3, std=[0.5] * 3, class_names=["a", "b"], input_size=16)
    image = torch.rand(3, 16, 16)
    expected = top_classes(other, image, k=2)
    slow = SlowToTrace().eval()
    worker = threading.Thread(target=lambda: IncrementalModel(slow, torch.rand(1, 3, 16, 16)))
    worker.start()
    assert slow.entered.wait(10)
    try:
        assert top_classes(other, image, k=2) == expected
    finally:
        worker.join()
