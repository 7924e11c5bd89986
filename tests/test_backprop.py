"""Backprop explainers: equal to Zennit called directly, conservation on a toy net, gradient equals autograd,
nothing left behind (hooks, canonizers, flags), also after an error."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from conftest import assert_same_state, model_state

METHODS = ["gradient", "deconvnet", "guided_backprop", "lrp_epsilon", "lrp_alpha2_beta1", "deep_taylor",
           "lrp_epsilon_gamma_box"]


def zennit_reference(entry, x, target, method, canonizers):
    """The relevance from Zennit, with composites built here from Zennit's own classes. The LRP family
    starts from the one-hot target times the output (R = f_c(x)), the others from the one-hot target."""
    from zennit.attribution import Gradient
    from zennit.composites import (DeconvNet, EpsilonAlpha2Beta1, EpsilonGammaBox, EpsilonPlusFlat, GuidedBackprop,
                                   LayerMapComposite, layer_map_base)
    from zennit.rules import Epsilon
    from zennit.types import Convolution

    # bounds of [0,1] pixels after the model's normalisation, computed here independently
    low = (torch.zeros_like(x) - torch.tensor(entry.mean).view(1, 3, 1, 1)) / torch.tensor(entry.std).view(1, 3, 1, 1)
    high = (torch.ones_like(x) - torch.tensor(entry.mean).view(1, 3, 1, 1)) / torch.tensor(entry.std).view(1, 3, 1, 1)
    composite = {
        "gradient": lambda: None,
        "deconvnet": lambda: DeconvNet(canonizers=canonizers),
        "guided_backprop": lambda: GuidedBackprop(canonizers=canonizers),
        "lrp_epsilon": lambda: LayerMapComposite(
            layer_map=layer_map_base() + [(Convolution, Epsilon(1e-6)), (nn.Linear, Epsilon(1e-6))],
            canonizers=canonizers),
        "lrp_alpha2_beta1": lambda: EpsilonAlpha2Beta1(canonizers=canonizers),
        "deep_taylor": lambda: EpsilonPlusFlat(canonizers=canonizers),
        "lrp_epsilon_gamma_box": lambda: EpsilonGammaBox(low=low, high=high, canonizers=canonizers),
    }[method]()
    one_hot = torch.eye(len(entry.class_names))[[target]]
    lrp = method in ("lrp_epsilon", "lrp_alpha2_beta1", "deep_taylor", "lrp_epsilon_gamma_box")
    inp = x.clone().requires_grad_(True)
    with Gradient(model=entry.module, composite=composite) as attributor:
        _, relevance = attributor(inp, (lambda out: one_hot * out) if lrp else one_hot)
    return relevance[0].sum(0).numpy()


def _canonizers(name):
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.torchvision import ResNetCanonizer, VGGCanonizer

    return {"shapes": lambda: [SequentialMergeBatchNorm()], "resnet18": lambda: [ResNetCanonizer()],
            "vgg11": lambda: [VGGCanonizer()]}[name]()


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {name: wb.load_model(name, device="cpu") for name in ("shapes", "resnet18", "vgg11")}


@pytest.mark.parametrize("model_name", ["shapes", "resnet18", "vgg11"])
@pytest.mark.parametrize("method", METHODS)
def test_equals_zennit_directly(models, model_name, method):
    entry = models[model_name]
    size = 224 if model_name == "shapes" else 64
    image = wb.data.make_scene((99, 1), size=size).image
    e = wb.explain(entry, image, method, target=1)
    reference = zennit_reference(entry, entry.preprocess(image), 1, method, _canonizers(model_name))
    assert np.abs(e.heatmap - reference).max() <= 1e-5
    assert np.abs(reference).max() > 0
    assert e.cost.forward_passes == 1 and e.cost.backward_passes == 1  # its forward is the clean pass


def bias_free_relu_net():
    torch.manual_seed(3)
    return nn.Sequential(nn.Conv2d(3, 6, 3, bias=False), nn.ReLU(), nn.Conv2d(6, 4, 3, stride=2, bias=False),
                         nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3, bias=False))


def test_lrp_epsilon_conserves_relevance_without_biases():
    model = bias_free_relu_net()
    image = torch.rand(3, 16, 16)
    with torch.no_grad():
        logits = model(image[None])[0]
    target = int(torch.argmax(logits))
    e = wb.explain(model, image, "lrp_epsilon", target=target, epsilon=1e-9)
    assert abs(e.extras["relevance"].sum() - logits[target].item()) <= 1e-4 * abs(logits[target].item())
    assert abs(e.extras["conservation"] - 1.0) <= 1e-4


def test_gradient_equals_autograd():
    model = bias_free_relu_net()
    image = torch.rand(3, 16, 16)
    x = image[None].clone().requires_grad_(True)
    grad, = torch.autograd.grad(model(x)[0, 2], x)
    e = wb.explain(model, image, "gradient", target=2)
    np.testing.assert_allclose(e.extras["relevance"], grad[0].numpy(), atol=1e-6)
    np.testing.assert_allclose(e.heatmap, grad[0].sum(0).numpy(), atol=1e-6)
    abs_sum = wb.explain(model, image, "gradient", target=2, heat="abs-sum").heatmap
    np.testing.assert_allclose(abs_sum, grad[0].abs().sum(0).numpy(), atol=1e-6)


class BatchNormNet(nn.Module):
    """Conv-BN-ReLU net that can be told to raise in its n-th forward (after canonizers and hooks are on)."""

    def __init__(self, fail_on_call=None):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                      nn.Flatten())
        self.fc = nn.Linear(4, 3)
        self.features[1].running_mean.uniform_(-0.5, 0.5)
        self.features[1].running_var.uniform_(0.5, 2.0)
        self.fail_on_call = fail_on_call
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise RuntimeError("model failed on purpose")
        return self.fc(self.features(x))


@pytest.mark.parametrize("method", METHODS)
def test_nothing_left_behind(method):
    model = BatchNormNet()
    model.train()
    before = model_state(model)
    wb.explain(model, torch.rand(3, 12, 12), method)
    assert_same_state(before, model_state(model))
    assert all(not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks for m in model.modules())


@pytest.mark.parametrize("method", ["gradient", "lrp_epsilon", "lrp_epsilon_gamma_box"])
def test_nothing_left_behind_when_the_model_raises_mid_call(method):
    model = BatchNormNet(fail_on_call=1)  # the only forward: canonizers applied and hooks registered
    before = model_state(model)
    with pytest.raises(RuntimeError, match="model failed on purpose"):
        wb.explain(model, torch.rand(3, 12, 12), method)
    assert_same_state(before, model_state(model))


def test_layer_without_a_rule_is_named():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Flatten(), nn.LayerNorm(4 * 10 * 10),
                          nn.Linear(4 * 10 * 10, 2))
    with pytest.raises(ValueError, match=r"model: layer '3' \(LayerNorm\) has parameters but no LRP rule"):
        wb.explain(model, torch.rand(3, 12, 12), "lrp_epsilon")
    wb.explain(model, torch.rand(3, 12, 12), "gradient")  # the gradient needs no rule


def test_alpha_beta_must_differ_by_one(shapes, scene):
    with pytest.raises(ValueError, match="beta: alpha - beta must be 1"):
        wb.explain(shapes, scene.image, "lrp_alpha2_beta1", alpha=2.0, beta=2.0)


class ConvolutionCounter(torch.utils._python_dispatch.TorchDispatchMode):
    """Counts the convolutions run forward and backward (a layer re-run by a rule counts again)."""

    def __init__(self):
        super().__init__()
        self.forward = self.backward = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten.convolution.default:
            self.forward += 1
        elif func is torch.ops.aten.convolution_backward.default:
            self.backward += 1
        return func(*args, **(kwargs or {}))


def count_convolutions(run) -> tuple[int, int]:
    with ConvolutionCounter() as counter:
        run()
    return counter.forward, counter.backward


def test_rules_skip_the_passes_zennit_makes_and_throws_away(shapes, scene):
    """LRP-epsilon costs what the gradient costs (Zennit re-runs each layer and also runs its ordinary
    backward); alpha-beta skips the terms of the all-zero negative inputs after each ReLU."""
    from zennit.attribution import Gradient
    from zennit.composites import EpsilonAlpha2Beta1

    x = shapes.preprocess(scene.image)
    layers = sum(isinstance(m, nn.Conv2d) for m in shapes.module.modules())
    gradient = count_convolutions(lambda: wb.explain(shapes, scene.image, "gradient", target=1))
    assert gradient == (layers, layers)
    assert count_convolutions(lambda: wb.explain(shapes, scene.image, "lrp_epsilon", target=1)) == gradient
    ours = count_convolutions(lambda: wb.explain(shapes, scene.image, "lrp_alpha2_beta1", target=1))
    with Gradient(model=shapes.module, composite=EpsilonAlpha2Beta1(canonizers=_canonizers("shapes"))) as attributor:
        zennit = count_convolutions(lambda: attributor(x.clone().requires_grad_(True), torch.eye(5)[[1]]))
    # the first layer sees negative inputs (all four terms), the others only non-negative ones (two terms)
    assert ours == (layers + 4 + 2 * (layers - 1), 4 + 2 * (layers - 1))
    assert zennit == (layers + 4 * layers, 4 * layers + layers)


def test_a_layer_input_changed_in_place_after_its_forward_is_refused():
    class AddsInPlace(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.conv2 = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 3)
            self.head = nn.Sequential(nn.Flatten(), nn.LazyLinear(2))

        def forward(self, x):
            h = torch.relu(self.conv1(x))
            out = self.conv2(h)
            h.mul_(2.0)           # conv2's input, changed after conv2 used it
            return self.head(out + h[:, :, 1:-1, 1:-1].mean())

    model = AddsInPlace()
    model(torch.rand(1, 3, 12, 12))
    with pytest.raises(RuntimeError, match="in-place operation changed the input of Conv2d"):
        wb.explain(model, torch.rand(3, 12, 12), "lrp_epsilon", target=0)


def test_zennit_range_pinned_in_pyproject_is_the_adapters_and_holds_the_installed_zennit():
    """Zennit's private names are read only in ``zennit_adapter``; pyproject.toml pins the range its tests cover."""
    import re
    from pathlib import Path

    from packaging.specifiers import SpecifierSet

    from workbench.explainers import zennit_adapter

    pyproject = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    pinned = re.findall(r'"zennit([^"]*)"', pyproject)
    assert pinned == [zennit_adapter.TESTED_RANGE]
    assert zennit_adapter.installed_version() in SpecifierSet(zennit_adapter.TESTED_RANGE)
    assert "0.6.0" not in SpecifierSet(zennit_adapter.TESTED_RANGE)          # the check can fail
    package = Path(zennit_adapter.__file__).resolve().parents[1]
    readers = sorted(p.relative_to(package).as_posix() for p in package.rglob("*.py")
                     if "_default_modifier" in p.read_text() or "module_map(" in p.read_text())
    assert readers == ["explainers/zennit_adapter.py"]


def relu6_net():
    """1x1 convolution, ReLU6, linear: units below 0, between 0 and 6 and above 6 on a random image."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(3, 5, 1, bias=False), nn.ReLU6(), nn.Flatten(), nn.Linear(5 * 4 * 4, 2, bias=False))
    with torch.no_grad():
        net[0].weight.mul_(12.0)
    return net.eval()


@pytest.mark.parametrize("method", ["gradient", "deconvnet", "guided_backprop"])
def test_modified_relus_act_on_relu6(method):
    """Deconvnet passes the positive part of the incoming gradient through every ReLU6, Guided Backprop the
    positive part of the ReLU6's own gradient (Zennit's composites map their rules to nn.ReLU only, so on a
    ReLU6 network both were the plain gradient): equal to the backward pass written out by hand."""
    net = relu6_net()
    entry = wb.wrap_model(net, class_names=["a", "b"])
    image = torch.rand(3, 4, 4, generator=torch.Generator().manual_seed(1)).permute(1, 2, 0).numpy()
    e = wb.explain(entry, image, method, target=1)
    x = entry.preprocess(image)[0]                                   # (3, 4, 4)
    w1, w2 = net[0].weight[:, :, 0, 0].detach(), net[3].weight[1].detach().view(5, 4, 4)
    z = torch.einsum("oc,chw->ohw", w1, x)
    inside = (z > 0) & (z < 6)
    assert inside.any() and (z >= 6).any() and (z <= 0).any()       # every part of ReLU6 is exercised
    grad_z = {"gradient": w2 * inside, "deconvnet": w2.clamp(min=0),
              "guided_backprop": (w2 * inside).clamp(min=0)}[method]
    expected = torch.einsum("oc,ohw->chw", w1, grad_z).sum(0).numpy()
    assert np.abs(e.heatmap - expected).max() <= 1e-5 * max(1.0, np.abs(expected).max())
