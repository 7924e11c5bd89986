"""Shared fixtures and helpers: tiny models with hand-set weights and a snapshot of everything a call
must leave unchanged."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings
from torch import nn

import workbench as wb

# Property-based tests (tests/test_properties_*.py, strategies in tests/property_strategies.py) run a fixed set of examples: derandomised, no example database,
# no per-example deadline (timings on a shared 2-core machine are noisy); a failure prints the shrunk example.
settings.register_profile("workbench", derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                 HealthCheck.large_base_example])
settings.load_profile("workbench")


@pytest.fixture(scope="session")
def shapes():
    return wb.load_model("shapes", device="cpu")


@pytest.fixture(scope="session")
def scene():
    return wb.data.make_scene((777, 0))


class LinearInPixels(nn.Module):
    """Score of class k = sum(weights[k] * x): every perturbation effect is computable by hand."""

    def __init__(self, weights: torch.Tensor):
        super().__init__()
        self.weights = nn.Parameter(weights.clone())  # (K, C, H, W)

    def forward(self, x):
        return torch.einsum("nchw,kchw->nk", x, self.weights)


class RaisingModel(nn.Module):
    """A model whose forward raises after ``ok_calls`` successful calls."""

    def __init__(self, ok_calls: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(3, 2, 3)
        self.ok_calls = ok_calls
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls > self.ok_calls:
            raise RuntimeError("model failed on purpose")
        return self.conv(x).mean(dim=(2, 3))


def model_state(module: nn.Module) -> dict:
    """Everything about a module that a workbench call must not change."""
    return {
        "training": [m.training for m in module.modules()],
        "requires_grad": [p.requires_grad for p in module.parameters()],
        "grads": [None if p.grad is None else p.grad.clone() for p in module.parameters()],
        "hooks": [(name, tuple(getattr(m, name).keys())) for m in module.modules()
                  for name in dir(m) if name.startswith("_") and name.endswith("hooks")
                  and isinstance(getattr(m, name, None), dict)],
        "state": {k: v.clone() for k, v in module.state_dict().items()},
        # the same tensors in the same layout (channels-last is only used during a call)
        "layout": [(p.data_ptr(), p.stride()) for p in module.parameters()],
    }


def assert_same_state(before: dict, after: dict) -> None:
    assert before["training"] == after["training"]
    assert before["requires_grad"] == after["requires_grad"]
    assert before["hooks"] == after["hooks"]
    assert before["layout"] == after["layout"]
    for g0, g1 in zip(before["grads"], after["grads"]):
        assert (g0 is None) == (g1 is None) and (g0 is None or torch.equal(g0, g1))
    assert before["state"].keys() == after["state"].keys()
    for k in before["state"]:
        assert torch.equal(before["state"][k], after["state"][k]), k


@pytest.fixture
def random_image():
    return np.random.default_rng(0).uniform(size=(32, 40, 3)).astype(np.float32)


def place_in_torch_cache(tmp_path, monkeypatch, module: nn.Module, file_name: str):
    """Save ``module``'s weights as ``file_name`` where torchvision looks for named weights (``$TORCH_HOME``
    pointed at ``tmp_path``): named weights load offline."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    target = tmp_path / "hub" / "checkpoints" / file_name
    target.parent.mkdir(parents=True)
    torch.save(module.state_dict(), target)
    return target
