"""The real ImageNet model (EfficientNet-Lite0 with its packaged weights), torchvision's named weights offline,
local weight files, ``wb.wrap_model``, and LRP on the real model (residual canonizer, conservation, Zennit)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torch import nn

import workbench as wb
from conftest import assert_same_state, model_state, place_in_torch_cache
from workbench.data.photos import photo


@pytest.fixture(scope="module")
def lite0():
    return wb.load_model("efficientnet_lite0", device="cpu")


@pytest.fixture(scope="module")
def framed(lite0):
    return {name: lite0.frame(photo(name)) for name in ("chelsea", "coffee", "motorcycle")}


@pytest.fixture(scope="module")
def logits(lite0, framed):
    batch = torch.cat([lite0.preprocess(image) for image in framed.values()])
    with torch.no_grad():
        return dict(zip(framed, lite0.module(batch)))


def test_lite0_top1_on_the_bundled_photos(lite0, logits):
    top1 = {name: lite0.class_names[int(out.argmax())] for name, out in logits.items()}
    assert top1["chelsea"] in {"Egyptian cat", "tiger cat", "tabby"}
    assert top1["coffee"] == "espresso"
    assert top1["motorcycle"] == "moped"
    assert float(torch.softmax(logits["coffee"], -1).max()) > 0.9


def test_lite0_entry_describes_its_preprocessing(lite0, framed):
    assert lite0.input_size == (224, 224) and lite0.mean == (0.5, 0.5, 0.5) and lite0.std == (0.5, 0.5, 0.5)
    assert len(lite0.class_names) == 1000 and lite0.class_names[281] == "tabby"
    assert framed["chelsea"].shape == (224, 224, 3)
    assert not lite0.module.training
    # the stem BatchNorm's stored statistics fit inputs normalised with mean 0.5 / std 0.5 (in [-1, 1])
    x = lite0.preprocess(framed["chelsea"])
    assert -1.0 - 1e-6 <= float(x.min()) and float(x.max()) <= 1.0 + 1e-6


def test_lite0_logits_equal_timms_tf_efficientnet_lite0(lite0, framed, logits):
    """An independently built network (timm's TensorFlow-ported Lite0), given the same weights by position."""
    timm = pytest.importorskip("timm")
    reference = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    ours, theirs = lite0.module.state_dict(), reference.state_dict()
    assert len(ours) == len(theirs) == 296
    renamed = {}
    for (their_key, their_value), (our_key, our_value) in zip(theirs.items(), ours.items()):
        assert their_value.shape == our_value.shape, (their_key, our_key)
        renamed[their_key] = our_value
    reference.load_state_dict(renamed, strict=True)
    batch = torch.cat([lite0.preprocess(image) for image in framed.values()])
    with torch.no_grad():
        expected = reference(batch)
    np.testing.assert_allclose(torch.stack(list(logits.values())).numpy(), expected.numpy(), atol=1e-4, rtol=0)


def test_tf_same_padding_matches_the_formula():
    from workbench.models.efficientnet_lite import Conv2dSame

    conv = Conv2dSame(1, 1, 3, stride=2, bias=False)
    nn.init.ones_(conv.weight)
    x = torch.arange(16.0).view(1, 1, 4, 4)
    # TensorFlow "same", stride 2, even input: one pixel of padding right and bottom only
    expected = torch.nn.functional.conv2d(torch.nn.functional.pad(x, [0, 1, 0, 1]), conv.weight, stride=2)
    assert torch.equal(conv(x), expected) and conv(x).shape[-2:] == (2, 2)


# -- torchvision named weights, offline ------------------------------------------------------------------------
@pytest.mark.parametrize("weights", ["IMAGENET1K_V1", "DEFAULT"])
def test_named_torchvision_weights_load_from_torch_cache(tmp_path, monkeypatch, weights):
    torch.manual_seed(1)
    saved = torchvision.models.resnet18()
    place_in_torch_cache(tmp_path, monkeypatch, saved, "resnet18-f37072fd.pth")
    entry = wb.load_model("resnet18", device="cpu", weights=weights, download=False)
    for (key, ours), theirs in zip(entry.module.state_dict().items(), saved.state_dict().values()):
        assert torch.equal(ours, theirs), key
    assert entry.info["weights"] == "ResNet18_Weights.IMAGENET1K_V1"
    assert entry.framing == wb.geometry.Framing(256, (224, 224)) and entry.class_names[281] == "tabby"


def test_named_weights_framing_follows_torchvisions_transforms(tmp_path, monkeypatch):
    place_in_torch_cache(tmp_path, monkeypatch, torchvision.models.resnet50(), "resnet50-11ad3fa6.pth")
    entry = wb.load_model("resnet50", device="cpu", weights="IMAGENET1K_V2", download=False)
    assert entry.framing == wb.geometry.Framing(232, (224, 224))


def test_missing_named_weights_say_which_file_to_place_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = str(tmp_path / "hub" / "checkpoints" / "resnet50-11ad3fa6.pth")
    with pytest.raises(FileNotFoundError, match="weights:") as info:
        wb.load_model("resnet50", device="cpu", weights="IMAGENET1K_V2", download=False)
    assert expected in str(info.value) and "https://download.pytorch.org/models/resnet50-11ad3fa6.pth" in str(info.value)


def test_failed_download_says_which_file_to_place_where(tmp_path, monkeypatch):
    import urllib.error

    import torchvision.models._api as api

    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(api, "load_state_dict_from_url", offline)
    with pytest.raises(FileNotFoundError, match="could not download") as info:
        wb.load_model("resnet18", device="cpu", weights="DEFAULT")
    assert str(tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth") in str(info.value)


def test_unknown_weights_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="IMAGENET1K_V2"):
        wb.load_model("resnet50", device="cpu", weights="IMAGENET1K_V9")


# -- local weight files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["state_dict", "checkpoint", "data_parallel", "torchscript"])
def test_local_weight_files(tmp_path, kind):
    torch.manual_seed(2)
    saved = torchvision.models.resnet18().eval()
    path = tmp_path / "weights.pt"
    if kind == "state_dict":
        torch.save(saved.state_dict(), path)
    elif kind == "checkpoint":
        torch.save({"epoch": 3, "model_state_dict": saved.state_dict()}, path)
    elif kind == "data_parallel":
        torch.save({"state_dict": {f"module.{k}": v for k, v in saved.state_dict().items()}}, path)
    else:
        torch.jit.trace(saved, torch.rand(1, 3, 32, 32)).save(str(path))
    entry = wb.load_model("resnet18", device="cpu", weights=str(path))
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(entry.module(x), saved(x))


def test_weights_that_do_not_fit_name_the_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save(torchvision.models.resnet50().state_dict(), path)
    with pytest.raises(ValueError, match="does not fit ResNet"):
        wb.load_model("resnet18", device="cpu", weights=str(path))


# -- wrap_model -----------------------------------------------------------------------------------------------
def test_wrap_model_carries_preprocessing_and_names():
    module = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3))
    entry = wb.wrap_model(module, mean=(0.1, 0.2, 0.3), std=(0.5, 0.5, 0.5), class_names=["a", "b", "c"],
                          multilabel=True, input_size=32, name="mine")
    assert entry.module is module and entry.class_names == ("a", "b", "c") and entry.input_size == (32, 32)
    assert entry.multilabel and entry.name == "mine"
    x = torch.rand(1, 3, 8, 8)
    expected = (x - torch.tensor([0.1, 0.2, 0.3]).view(1, 3, 1, 1)) / 0.5
    torch.testing.assert_close(entry.normalise(x), expected)
    explanation = wb.explain(entry, np.random.default_rng(0).random((32, 32, 3)), "gradient", target="b")
    assert explanation.target == 1


def test_wrap_model_imagenet_names():
    module = torchvision.models.resnet18()
    assert wb.wrap_model(module, class_names="imagenet").class_names[281] == "tabby"
    assert wb.wrap_model(module).class_names[281] == "tabby"           # 1000 outputs: ImageNet
    small = nn.Sequential(nn.Flatten(), nn.Linear(12, 4))
    assert wb.wrap_model(small).class_names == ("0", "1", "2", "3")


@pytest.mark.parametrize("kwargs, error, words", [
    ({"mean": (0.5, 0.5)}, ValueError, "mean"),
    ({"std": (0.5, 0.0, 0.5)}, ValueError, "std"),
    ({"mean": 0.5}, TypeError, "mean"),
    ({"class_names": "imagenet21k"}, ValueError, "class_names"),
    ({"class_names": ["a", "b"]}, ValueError, "class_names"),
    ({"input_size": (0, 3)}, ValueError, "input_size"),
    ({"framing": (256, 224)}, TypeError, "framing"),
])
def test_wrap_model_rejects_bad_arguments(kwargs, error, words):
    module = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    before = model_state(module)
    with pytest.raises(error, match=words):
        wb.wrap_model(module, **kwargs)
    assert_same_state(before, model_state(module))


def test_wrap_model_rejects_a_non_module():
    with pytest.raises(TypeError, match="module"):
        wb.wrap_model(lambda x: x)


def test_bare_imagenet_module_gets_imagenet_names_in_the_workbench():
    pytest.importorskip("ipywidgets")
    torch.manual_seed(3)
    module = torchvision.models.resnet18().eval()
    image = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32)
    bench = wb.Workbench(model=module, image=image, method="gradient", debounce=0.01)
    assert bench.wait(60)
    labels = [label for label, index in bench.model.target.options if index != -1]
    names = set(wb.models.imagenet_class_names())
    assert len(labels) == 5 and all(label.rsplit(" (", 1)[0] in names for label in labels)


# -- LRP on the real model ------------------------------------------------------------------------------------
def test_lrp_epsilon_conserves_with_the_bias_share_accounted_for(lite0, framed):
    before = model_state(lite0.module)
    explanation = wb.explain(lite0, framed["chelsea"], "lrp_epsilon", epsilon=1e-6)
    extras = explanation.extras
    assert extras["output"] > 5
    # what reaches the input plus what the layers (biases, stabiliser) keep is the logit
    assert abs(extras["conservation"] + extras["absorbed"] - 1.0) <= 0.05
    assert_same_state(before, model_state(lite0.module))


def test_without_the_residual_canonizer_relevance_is_not_accounted_for(lite0, framed, monkeypatch):
    """A plain ``+`` hands the full relevance to both summands: the books no longer balance."""
    from zennit.canonizers import SequentialMergeBatchNorm

    from workbench.explainers import backprop

    monkeypatch.setattr(backprop, "canonizers_for", lambda module: [SequentialMergeBatchNorm()])
    extras = wb.explain(lite0, framed["chelsea"], "lrp_epsilon", epsilon=1e-6).extras
    assert abs(extras["conservation"] + extras["absorbed"] - 1.0) > 0.05


@pytest.mark.slow
@pytest.mark.parametrize("method", ["lrp_epsilon", "deep_taylor"])
def test_lrp_on_lite0_equals_zennit_with_the_same_canonizers(lite0, framed, method):
    """Zennit's own attributor on the same canonizers; a 128 x 128 photo keeps the test short."""
    from zennit.attribution import Gradient
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.composites import EpsilonPlusFlat, LayerMapComposite, layer_map_base
    from zennit.rules import Epsilon
    from zennit.types import Convolution

    from workbench.explainers.backprop import mbconv_residual_canonizer

    canonizers = [SequentialMergeBatchNorm(), mbconv_residual_canonizer()]
    composite = (LayerMapComposite(layer_map=layer_map_base() + [(Convolution, Epsilon(0.01)),
                                                                 (nn.Linear, Epsilon(0.01))], canonizers=canonizers)
                 if method == "lrp_epsilon" else EpsilonPlusFlat(epsilon=0.01, canonizers=canonizers))
    from workbench.images import resize

    image = resize(framed["chelsea"], 128)
    x = lite0.preprocess(image).requires_grad_(True)
    with Gradient(model=lite0.module, composite=composite) as attributor:
        out, reference = attributor(x, lambda out: torch.nn.functional.one_hot(out.argmax(-1), 1000) * out)
    ours = wb.explain(lite0, image, method, epsilon=0.01).extras["relevance"]
    scale = float(reference.abs().max())
    np.testing.assert_allclose(ours / scale, reference[0].numpy() / scale, atol=1e-5, rtol=0)


# -- photos use the real model ----------------------------------------------------------------------------------
def test_photo_for_frames_for_the_model(lite0, shapes):
    from workbench.data.photos import photo_for

    framed = photo_for("chelsea", lite0)
    np.testing.assert_array_equal(framed, lite0.frame(photo("chelsea")))
    assert photo_for("chelsea", shapes).shape == (224, 224, 3)              # no framing: resized to input_size


def test_workbench_photo_picker_uses_the_real_model():
    pytest.importorskip("ipywidgets")
    bench = wb.Workbench(method="gradient", debounce=0.01)
    assert bench.wait(60) and bench.state.model.name == "shapes"
    assert bench.image.photo.value == "chelsea"         # the picker opens on the photo the model gets right
    bench.image.source.value = "photo"
    assert bench.wait(120)
    assert bench.state.model.name == "efficientnet_lite0" and bench.model.picker.value == "efficientnet_lite0"
    assert bench.state.image.shape[:2] == (224, 224)
    top = bench.model.target.options[1][0]
    assert top.rsplit(" (", 1)[0] in {"Egyptian cat", "tiger cat", "tabby"}, top
    bench.image.source.value = "scene"                                      # scenes go back to the shapes model
    assert bench.wait(60) and bench.state.model.name == "shapes"


def test_load_model_names_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="name: expected a model name"):
        wb.load_model(torchvision.models.resnet18())
    with pytest.raises(FileNotFoundError, match="weights: no file at"):
        wb.load_model("efficientnet_lite0", weights=tmp_path / "missing.pth")
    assert "efficientnet_lite0" in wb.available_models()
