"""Vision transformers (issue 36): torchvision's ViT and Swin by name (random, named weights from torch's cache,
framed as their weights were evaluated), timm ViTs through ``wrap_model``. Offline: weight files are placed in a
temporary torch cache, timm models are created without pretrained weights."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torchvision
from torchvision.transforms import v2

import workbench as wb
from workbench.geometry import Framing
from workbench.models.zoo import framing_of


def _place_in_cache(tmp_path, monkeypatch, module, file_name):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    target = tmp_path / "hub" / "checkpoints" / file_name
    target.parent.mkdir(parents=True)
    torch.save(module.state_dict(), target)
    return target


# framings as torchvision's model documentation states them (resize, crop, interpolation)
@pytest.mark.parametrize("name, file_name, framing", [
    ("vit_b_16", "vit_b_16-c867db91.pth", Framing(256, (224, 224), "bilinear")),
    ("swin_t", "swin_t-704ceda3.pth", Framing(232, (224, 224), "bicubic")),
])
def test_named_transformer_weights_load_from_torch_cache(tmp_path, monkeypatch, name, file_name, framing):
    torch.manual_seed(2)
    saved = getattr(torchvision.models, name)()
    _place_in_cache(tmp_path, monkeypatch, saved, file_name)
    entry = wb.load_model(name, device="cpu", weights="DEFAULT", download=False)
    theirs = saved.state_dict()
    for key, ours in entry.module.state_dict().items():
        assert torch.equal(ours, theirs[key]), key
    assert entry.framing == framing and entry.input_size == (224, 224) and entry.class_names[281] == "tabby"
    assert entry.info["weights"].endswith("IMAGENET1K_V1") and not entry.module.training


def test_random_transformers_are_framed_as_their_default_weights():
    from torchvision.models import Swin_T_Weights, ViT_B_16_Weights

    assert framing_of(ViT_B_16_Weights.IMAGENET1K_V1) == Framing(256, (224, 224), "bilinear")
    assert framing_of(ViT_B_16_Weights.IMAGENET1K_SWAG_E2E_V1) == Framing(384, (384, 384), "bicubic")
    assert framing_of(Swin_T_Weights.IMAGENET1K_V1) == Framing(232, (224, 224), "bicubic")
    entry = wb.load_model("swin_t", device="cpu")
    assert entry.info["weights"] == "random" and entry.framing == Framing(232, (224, 224), "bicubic")


def test_missing_transformer_weights_say_which_file_to_place_where(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="weights:") as info:
        wb.load_model("vit_b_16", device="cpu", weights="IMAGENET1K_V1", download=False)
    assert str(tmp_path / "hub" / "checkpoints" / "vit_b_16-c867db91.pth") in str(info.value)


@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic"])
def test_framing_equals_torchvisions_resize_and_crop(interpolation):
    image = torch.rand(3, 150, 190, generator=torch.Generator().manual_seed(0))
    mode = {"bilinear": v2.InterpolationMode.BILINEAR, "bicubic": v2.InterpolationMode.BICUBIC}[interpolation]
    reference = v2.CenterCrop(112)(v2.Resize(116, interpolation=mode, antialias=True)(image)).clamp(0, 1)
    framed = Framing(116, (112, 112), interpolation).image(image)
    assert framed.shape == reference.shape == (3, 112, 112)
    np.testing.assert_allclose(framed.numpy(), reference.numpy(), atol=1e-5)


def test_framing_names_a_bad_interpolation():
    with pytest.raises(ValueError, match="interpolation: expected one of"):
        Framing(256, (224, 224), "lanczos")


# -- timm through wrap_model (the README's example, on a tiny ViT) ---------------------------------------------
def tiny_timm_vit():
    import timm

    torch.manual_seed(3)
    return timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64, num_classes=5).eval()


def wrap_timm(net):
    """The README's recipe: normalisation and framing from timm's data config (at the size the model was made
    for: its patch embedding's ``img_size``)."""
    import timm.data

    config = timm.data.resolve_data_config({"input_size": (3, *net.patch_embed.img_size)}, model=net)
    side = config["input_size"][1:]
    return wb.wrap_model(net, mean=config["mean"], std=config["std"], input_size=side,
                         framing=Framing(int(side[0] / config["crop_pct"]), side, config["interpolation"]))


def test_timm_vit_wrapped_with_its_data_config():
    entry = wrap_timm(tiny_timm_vit())
    assert entry.mean == (0.5, 0.5, 0.5) and entry.std == (0.5, 0.5, 0.5) and entry.input_size == (64, 64)
    assert entry.framing == Framing(71, (64, 64), "bicubic") and entry.class_names == ("0", "1", "2", "3", "4")
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        expected = entry.module((image.unsqueeze(0) - 0.5) / 0.5)
    assert torch.allclose(entry.module(entry.preprocess(image.permute(1, 2, 0).numpy())), expected, atol=1e-6)
