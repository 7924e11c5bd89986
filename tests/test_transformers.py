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

from conftest import assert_same_state, model_state, place_in_torch_cache


# framings as torchvision's model documentation states them (resize, crop, interpolation)
@pytest.mark.parametrize("name, file_name, framing", [
    ("vit_b_16", "vit_b_16-c867db91.pth", Framing(256, (224, 224), "bilinear")),
    ("swin_t", "swin_t-704ceda3.pth", Framing(232, (224, 224), "bicubic")),
])
def test_named_transformer_weights_load_from_torch_cache(tmp_path, monkeypatch, name, file_name, framing):
    torch.manual_seed(2)
    saved = getattr(torchvision.models, name)()
    place_in_torch_cache(tmp_path, monkeypatch, saved, file_name)
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
def tiny_timm_vit(name="vit_tiny_patch16_224", **options):
    import timm

    torch.manual_seed(3)
    return timm.create_model(name, pretrained=False, img_size=64, num_classes=5, depth=2, **options).eval()


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


# -- attention rollout (Abnar & Zuidema 2020) -------------------------------------------------------------------

def tiny_torchvision_vit():
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(5)
    vit = VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                            num_classes=5).eval()
    torch.nn.init.normal_(vit.heads.head.weight, std=0.5)   # torchvision zero-initialises it: all logits 0
    return vit


def hand_attentions(vit, x):
    """Each block's (heads, N, N) attention softmax(q k^T / sqrt(d)) from its in_proj weights and its input
    ln_1(tokens), tokens advanced block by block as the encoder does."""
    hidden, heads = vit.hidden_dim, vit.encoder.layers[0].self_attention.num_heads
    with torch.no_grad():
        tokens = vit._process_input(x)
        tokens = torch.cat([vit.class_token.expand(len(x), -1, -1), tokens], dim=1) + vit.encoder.pos_embedding
        found = []
        for block in vit.encoder.layers:
            y = block.ln_1(tokens)[0].double()
            w, b = block.self_attention.in_proj_weight.double(), block.self_attention.in_proj_bias.double()
            q = (y @ w[:hidden].T + b[:hidden]).view(-1, heads, hidden // heads).transpose(0, 1)
            k = (y @ w[hidden:2 * hidden].T + b[hidden:2 * hidden]).view(-1, heads, hidden // heads).transpose(0, 1)
            found.append(torch.softmax(q @ k.transpose(1, 2) / np.sqrt(hidden // heads), dim=-1).numpy())
            tokens = block(tokens)
    return found


def hand_rollout(attentions, fusion="mean", discard=0.0, residual=True, prefix=1):
    """The paper's rollout in numpy: fuse heads, drop the lowest share (not the class token's self-attention),
    A' = 0.5 A + 0.5 I, rows renormalised, product over layers; the class token's row over the patches (after
    ``prefix`` tokens: the class token, then any distillation or register tokens)."""
    result = np.eye(attentions[0].shape[-1])
    for a in attentions:
        fused = {"mean": np.mean, "max": np.max, "min": np.min}[fusion](a, axis=0)
        flat = fused.flatten()
        drop = np.argsort(flat, kind="stable")[:int(flat.size * discard)]
        flat[drop[drop != 0]] = 0.0
        fused = flat.reshape(fused.shape)
        if residual:
            fused = 0.5 * fused + 0.5 * np.eye(len(fused))
        fused = fused / fused.sum(-1, keepdims=True)
        result = fused @ result
    return result[0, prefix:]


@pytest.mark.parametrize("settings", [
    dict(head_fusion="mean", discard_ratio=0.0, residual=True),
    dict(head_fusion="max", discard_ratio=0.3, residual=True),
    dict(head_fusion="min", discard_ratio=0.0, residual=False),
])
def test_rollout_equals_hand_computation_on_a_two_block_vit(settings):
    vit = tiny_torchvision_vit()
    image = torch.rand(3, 64, 64, generator=torch.Generator().manual_seed(6))
    entry = wb.wrap_model(vit, mean=(0.5, 0.4, 0.3), std=(0.2, 0.25, 0.3))
    before = model_state(vit)
    e = wb.explain(entry, image.permute(1, 2, 0).numpy(), "attention_rollout", upsample="nearest", **settings)
    assert_same_state(before, model_state(vit))
    expected = hand_rollout(hand_attentions(vit, entry.preprocess(image.permute(1, 2, 0).numpy())),
                            settings["head_fusion"], settings["discard_ratio"], settings["residual"]).reshape(4, 4)
    np.testing.assert_allclose(e.extras["patch_map"], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(e.heatmap, np.kron(expected, np.ones((16, 16))), rtol=1e-5, atol=1e-7)
    assert e.extras["layers"] == 2 and e.cost.forward_passes == 1 and e.cost.backward_passes == 0
    with torch.no_grad():
        assert e.target == int(vit(entry.preprocess(image.permute(1, 2, 0).numpy())).argmax())


def test_rollout_is_class_agnostic_and_bilinear_by_default():
    entry = wb.wrap_model(tiny_torchvision_vit())
    image = np.random.default_rng(7).uniform(size=(64, 64, 3)).astype(np.float32)
    first, other = (wb.explain(entry, image, "attention_rollout", target=t) for t in (0, 3))
    assert np.array_equal(first.heatmap, other.heatmap) and (first.heatmap >= 0).all()
    assert wb.methods()["attention_rollout"].reads_attention and not wb.methods()["gradient"].reads_attention
    grid = torch.tensor(first.extras["patch_map"])[None, None]
    expected = torch.nn.functional.interpolate(grid, size=(64, 64), mode="bilinear", align_corners=False)[0, 0]
    np.testing.assert_allclose(first.heatmap, expected.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name, options, prefix", [
    ("vit_tiny_patch16_224", {}, 1),
    ("deit_tiny_distilled_patch16_224", {}, 2),         # class and distillation tokens
    ("vit_tiny_patch16_224", {"reg_tokens": 2}, 3),     # class token and two registers
], ids=["vit", "deit-distilled", "registers"])
def test_rollout_on_timm_vit_equals_timms_own_attention(name, options, prefix):
    import copy

    net = tiny_timm_vit(name, **options)
    assert net.num_prefix_tokens == prefix
    reference = copy.deepcopy(net)
    captured = []
    for block in reference.blocks:          # timm's unfused path computes the softmax itself; read it there
        block.attn.fused_attn = False
        block.attn.attn_drop.register_forward_hook(lambda m, i, o: captured.append(o[0].double().numpy()))
    image = np.random.default_rng(8).uniform(size=(64, 64, 3)).astype(np.float32)
    entry = wrap_timm(net)
    with torch.no_grad():
        reference(entry.preprocess(image))
    e = wb.explain(entry, image, "attention_rollout")
    assert len(captured) == e.extras["layers"] == 2
    expected = hand_rollout(captured, prefix=prefix).reshape(4, 4)
    np.testing.assert_allclose(e.extras["patch_map"], expected, rtol=1e-4, atol=1e-7)


def test_rollout_refuses_a_network_without_attention(shapes, scene):
    with pytest.raises(ValueError, match="model: ShapesNet has no attention layers; attention_rollout"):
        wb.explain(shapes, scene.image, "attention_rollout")


def test_rollout_refuses_windowed_attention():
    from workbench.explainers.attention_weights import check_readable

    with pytest.raises(ValueError, match="ShiftedWindowAttention.*use 'gradient'"):
        check_readable(torchvision.models.swin_t(), "attention_rollout")


# -- backpropagation on transformers ---------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["lrp_epsilon", "lrp_alpha2_beta1", "deep_taylor", "lrp_epsilon_gamma_box",
                                    "deconvnet", "guided_backprop"])
def test_rules_for_convolutional_networks_refuse_a_transformer(method):
    vit = tiny_torchvision_vit()
    before = model_state(vit)
    image = np.random.default_rng(9).uniform(size=(64, 64, 3)).astype(np.float32)
    expected = "model: VisionTransformer is a transformer .*'attention_rollout' or 'gradient'"
    with pytest.raises(ValueError, match=expected):
        wb.explain(vit, image, method)
    with pytest.raises(ValueError, match=expected):
        wb.explain_batch(vit, [image, image], method)
    assert_same_state(before, model_state(vit))


@pytest.mark.parametrize("method", ["grad_cam", "grad_cam_plus_plus", "hirescam", "layer_cam", "score_cam",
                                    "eigen_cam"])
def test_cams_read_the_tokens_before_the_last_attention_as_a_grid(method):
    """'auto' on a transformer: the LayerNorm before the last attention layer, its patch tokens on the patch grid
    (class token left out), on torchvision's and timm's ViT."""
    image = np.random.default_rng(9).uniform(size=(64, 64, 3)).astype(np.float32)
    for net, layer in [(tiny_torchvision_vit(), "encoder.layers.encoder_layer_1.ln_1"),
                       (tiny_timm_vit(), "blocks.1.norm1")]:
        before = model_state(net)
        e = wb.explain(net, image, method, target=2)
        assert e.extras["layer"] == layer and e.extras["cam"].shape == (4, 4) and e.heatmap.shape == (64, 64)
        assert_same_state(before, model_state(net))


def test_grad_cam_on_swin_reads_its_last_stage_channels_last():
    import torchvision

    torch.manual_seed(6)
    swin = torchvision.models.swin_t(num_classes=5).eval()
    e = wb.explain(swin, np.random.default_rng(9).uniform(size=(224, 224, 3)).astype(np.float32), "grad_cam")
    assert e.extras["layer"] == "features.7.1.norm1" and e.extras["cam"].shape == (7, 7)
    assert e.heatmap.shape == (224, 224) and np.isfinite(e.heatmap).all()


def test_grad_cam_on_a_vit_equals_pytorch_grad_cam_with_its_reshape_transform():
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    net = tiny_torchvision_vit()
    image = np.random.default_rng(9).uniform(size=(64, 64, 3)).astype(np.float32)
    ours = wb.explain(net, image, "grad_cam", target=2)
    layer = net.get_submodule(ours.extras["layer"])

    def reshape_transform(tokens):   # pytorch-grad-cam's ViT tutorial: drop the class token, tokens to a grid
        return tokens[:, 1:, :].reshape(tokens.size(0), 4, 4, tokens.size(2)).permute(0, 3, 1, 2)

    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    wanted = [ClassifierOutputTarget(2)]
    reference = GradCAM(net, [layer], reshape_transform=reshape_transform)
    reference(x, wanted)
    captures = reference.activations_and_grads
    raw = reference.get_cam_image(x, layer, wanted, captures.activations[0].numpy(), captures.gradients[0].numpy(),
                                  False)
    captures.release()
    expected = np.maximum(raw, 0)[0]
    assert expected.max() > 0
    np.testing.assert_allclose(ours.extras["cam"], expected, rtol=1e-4, atol=1e-4 * expected.max())


@pytest.mark.parametrize("make", [tiny_torchvision_vit, tiny_timm_vit], ids=["torchvision", "timm"])
def test_gradient_on_a_tiny_vit_equals_autograd(make):
    net = make()
    entry = wb.wrap_model(net, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    image = np.random.default_rng(10).uniform(size=(64, 64, 3)).astype(np.float32)
    before = model_state(net)
    e = wb.explain(entry, image, "gradient", target=2)
    assert_same_state(before, model_state(net))
    x = entry.preprocess(image).requires_grad_(True)
    grad, = torch.autograd.grad(net(x)[0, 2], x)
    assert float(grad.abs().max()) > 0
    np.testing.assert_allclose(e.heatmap, grad[0].sum(0).numpy(), rtol=1e-4, atol=1e-6 * float(grad.abs().max()))
    batched = wb.explain_batch(entry, [image, image[::-1].copy()], "gradient", target=2)
    np.testing.assert_allclose(batched[0], e.heatmap, rtol=1e-4, atol=1e-6 * float(grad.abs().max()))


def test_perturbation_method_on_a_tiny_vit():
    entry = wb.wrap_model(tiny_torchvision_vit())
    image = np.random.default_rng(11).uniform(size=(64, 64, 3)).astype(np.float32)
    e = wb.explain(entry, image, "occlusion", patch=32, stride=32, target=1)
    x = entry.preprocess(image)
    with torch.no_grad():
        clean = float(entry.module(x)[0, 1])
        occluded = x.clone()
        occluded[..., :32, :32] = 0.0        # the default fill: 0 in the normalised space (the mean colour)
        drop = clean - float(entry.module(occluded)[0, 1])
    assert drop != 0 and e.heatmap.shape == (64, 64) and e.heatmap[5, 5] == pytest.approx(drop, rel=1e-4, abs=1e-6)


def test_fmo_on_a_tiny_vit():
    entry = wb.wrap_model(tiny_torchvision_vit())
    image = np.random.default_rng(13).uniform(size=(64, 64, 3)).astype(np.float32)
    e = wb.explain(entry, image, "fmo", schedule=((32, 32), (16, 16)), target=1)
    assert e.heatmap.shape == (64, 64) and np.isfinite(e.heatmap).all() and np.abs(e.heatmap).max() > 0
    assert e.cost.forward_passes > 1 and e.cost.backward_passes == 0


def test_vit_b_16_smoke():
    """A random vit_b_16 at 224 px through wb.explain: gradient, attention rollout, LRP refused. Its head is
    zero-initialised by torchvision (all logits 0, every gradient 0), so the test draws one."""
    torch.manual_seed(12)
    entry = wb.load_model("vit_b_16", device="cpu")
    torch.nn.init.normal_(entry.module.heads.head.weight, std=0.02)
    image = entry.frame(np.random.default_rng(12).uniform(size=(300, 260, 3)).astype(np.float32))
    assert image.shape == (224, 224, 3)
    gradient = wb.explain(entry, image, "gradient")
    assert gradient.heatmap.shape == (224, 224) and np.isfinite(gradient.heatmap).all()
    assert np.abs(gradient.heatmap).max() > 0
    with pytest.raises(ValueError, match="'attention_rollout' or 'gradient'"):
        wb.explain(entry, image, "lrp_epsilon")
    rollout = wb.explain(entry, image, "attention_rollout")
    assert rollout.extras["layers"] == 12 and rollout.extras["patch_map"].shape == (14, 14)
    assert rollout.heatmap.shape == (224, 224) and (rollout.heatmap > 0).all()


# -- shapes-vit: the architecture and a smoke run of its training script ----------------------------------------
def test_shapes_vit_trains_saves_and_explains(tmp_path):
    from workbench.models.shapes_vit import SHAPES_VIT
    from workbench.models.train_shapes_vit import train

    out, checkpoint = tmp_path / "shapes_vit.pt", tmp_path / "training.pt"
    plan = {"n_small": 48, "n_full": 16, "n_val": 16, "small_steps": 3, "full_steps": 2, "batch_size": 8,
            "lr": 1e-3, "workers": 1}
    info = train(out, checkpoint=checkpoint, **plan)
    assert info["steps"] == 5 and 0 <= info["val_map"] <= 1 and not checkpoint.exists()
    checkpoint_file = torch.load(out, weights_only=True)
    entry = wb.load_model("shapes-vit", device="cpu", weights=out)
    assert entry.module.patch_size == SHAPES_VIT["patch_size"] and len(entry.module.encoder.layers) == 4
    for key, saved in checkpoint_file["state_dict"].items():
        assert torch.equal(entry.module.state_dict()[key], saved), key
    assert entry.class_names == wb.data.SHAPE_CLASSES and entry.multilabel and entry.input_size == (224, 224)
    scene = wb.data.make_scene((99, 0))
    rollout = wb.explain(entry, scene.image, "attention_rollout")
    assert rollout.extras["patch_map"].shape == (14, 14) and rollout.extras["layers"] == 4
    assert np.abs(wb.explain(entry, scene.image, "gradient").heatmap).max() > 0

    # stopped after its first step (stop_after=0) and resumed twice: the same weights as the run in one piece
    pieces = tmp_path / "pieces.pt"
    assert train(pieces, checkpoint=checkpoint, stop_after=0.0, **plan) is None and checkpoint.is_file()
    assert torch.load(checkpoint, weights_only=False)["step"] == 1
    while train(pieces, checkpoint=checkpoint, stop_after=0.0, **plan) is None:
        pass
    resumed = torch.load(pieces, weights_only=True)["state_dict"]
    for key, saved in checkpoint_file["state_dict"].items():
        assert torch.equal(resumed[key], saved), key


def test_shapes_vit_without_shipped_weights_says_how_to_train(monkeypatch, tmp_path):
    monkeypatch.setattr(wb.models.zoo, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m workbench.models.train_shapes_vit"):
        wb.load_model("shapes-vit", device="cpu")
    assert "shapes-vit" not in wb.available_models()


def test_lrp_refuses_a_timm_vit_and_not_a_cnn_with_an_attention_gate():
    from torch import nn

    from workbench.explainers.attention_weights import attention_layers

    image = np.random.default_rng(14).uniform(size=(64, 64, 3)).astype(np.float32)
    with pytest.raises(ValueError, match=r"VisionTransformer is a transformer \(attention layer 'blocks.0.attn', "
                                         r"Attention\)"):
        wb.explain(tiny_timm_vit(), image, "lrp_epsilon")

    class ChannelAttention(nn.Module):      # a squeeze-excitation-like gate: no heads, not self-attention
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return x * torch.sigmoid(self.fc(x.mean((2, 3))))[..., None, None]

    cnn = nn.Sequential(nn.Conv2d(3, 4, 3), ChannelAttention(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 3))
    assert attention_layers(cnn) == []
    e = wb.explain(cnn, image, "lrp_epsilon")
    assert e.heatmap.shape == (64, 64) and np.isfinite(e.heatmap).all()


def test_rollout_in_explain_batch_and_the_workbench():
    entry = wb.wrap_model(tiny_torchvision_vit())
    images = [np.random.default_rng(15 + i).uniform(size=(64, 64, 3)).astype(np.float32) for i in range(2)]
    maps = wb.explain_batch(entry, images, "attention_rollout", head_fusion="max")
    alone = [wb.explain(entry, image, "attention_rollout", head_fusion="max").heatmap for image in images]
    assert maps.shape == (2, 64, 64) and np.array_equal(maps, np.stack(alone))
    w = wb.Workbench(entry, images[0], method="attention_rollout", debounce=0.02)
    try:
        assert w.wait(60) and w.status.error.value == "", w.status.error.value
        assert set(w.explainer.controls) == {"head_fusion", "discard_ratio", "residual", "upsample"}
        w.explainer.controls["discard_ratio"].value = 0.5
        assert w.wait(60) and w.status.error.value == "", w.status.error.value
        assert w.explanation.params["discard_ratio"] == 0.5
    finally:
        w.close()


REFUSAL_QUICK = {"extremal_perturbation": {"iterations": 2}, "meaningful_perturbation": {"iterations": 2},
                 "neuromask": {"iterations": 2}, "rise": {"num_masks": 20}, "lime": {"num_samples": 20},
                 "smoothgrad": {"samples": 2}, "integrated_gradients": {"steps": 4}, "ablation_ca": {"contexts": 8},
                 "occlusion": {"patch": 32, "stride": 32}}


@pytest.mark.parametrize("model_kind", ["cnn", "vit"])
def test_a_method_refuses_a_model_before_running_exactly_when_its_run_would(shapes, model_kind):
    """``Method.refusal`` (what the comparison tab offers) against what ``explain`` does: a refused method raises
    that very message, an accepted one explains; on the shapes CNN and a tiny ViT."""
    from workbench.explainers.registry import methods

    model = shapes if model_kind == "cnn" else wb.wrap_model(tiny_torchvision_vit())
    size = 224 if model_kind == "cnn" else 64
    image = np.random.default_rng(3).uniform(size=(size, size, 3)).astype(np.float32)
    refused = {}
    for name, method in sorted(methods().items()):
        why = method.refusal(model.module)
        if why is not None:
            refused[name] = why
            with pytest.raises(ValueError) as raised:
                wb.explain(model, image, name, **REFUSAL_QUICK.get(name, {}))
            assert str(raised.value) == why
        else:
            wb.explain(model, image, name, **REFUSAL_QUICK.get(name, {}))
    expected = ({"attention_rollout", "attnlrp"} if model_kind == "cnn" else
                {"deconvnet", "guided_backprop", "deep_taylor", "lrp_epsilon", "lrp_alpha2_beta1",
                 "lrp_epsilon_gamma_box"})
    assert set(refused) == expected
