"""AttnLRP (Achtibat et al., ICML 2024) against the authors' ``lxt`` package on the same model and input.

lxt patches the classes of ``torch.nn`` process-wide (``nn.LayerNorm.forward`` ...); ``monkeypatch`` records
the originals first and restores them after each test."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb

from conftest import assert_same_state, model_state


def tiny_vit(seed=5):
    from torchvision.models.vision_transformer import VisionTransformer

    torch.manual_seed(seed)
    vit = VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64,
                            num_classes=5).eval()
    torch.nn.init.normal_(vit.heads.head.weight, std=0.5)   # torchvision zero-initialises it: all logits 0
    return vit


def lxt_patched(monkeypatch, attention):
    """Patch torchvision's ViT classes with lxt's rules: its own CP-LRP map for ``"cp"``; for ``"attnlrp"`` lxt's
    LayerNorm and GELU rules and its attention wrapper (uniform rule: queries and keys 1/4, values 1/2)."""
    pytest.importorskip("lxt")
    from functools import partial

    from lxt.efficient import monkey_patch
    from lxt.efficient.models import vit_torch
    from lxt.efficient.patches import layer_norm_forward, non_linear_forward, patch_method, wrap_attention_forward
    from torchvision.models import vision_transformer

    for cls in (nn.GELU, nn.LayerNorm, nn.MultiheadAttention):
        monkeypatch.setattr(cls, "forward", cls.forward)
        monkeypatch.setattr(cls, "original_forward", None, raising=False)
    if attention == "cp":
        patch_map = vit_torch.cp_LRP
    else:
        attention_forward = wrap_attention_forward(
            lambda layer, q, k, v, *args, **kwargs: layer.original_forward(q, k, v, *args, **kwargs))

        def multihead_forward(self, query, key, value, *args, **kwargs):
            return attention_forward(self, query, key, value, *args, **kwargs)

        patch_map = {nn.GELU: partial(patch_method, non_linear_forward, keep_original=True),
                     nn.LayerNorm: partial(patch_method, layer_norm_forward),
                     nn.MultiheadAttention: partial(patch_method, multihead_forward, keep_original=True)}
    monkey_patch(vision_transformer, patch_map)


def lxt_relevance(net, x, target):
    x = x.detach().clone().requires_grad_(True)
    net(x)[0, target].backward()
    return (x * x.grad).detach()[0]


def largest_relative_difference(ours, theirs):
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


@pytest.mark.parametrize("attention", ["attnlrp", "cp"])
def test_attnlrp_equals_lxt_on_a_tiny_vit(monkeypatch, attention):
    net = tiny_vit()
    entry = wb.wrap_model(net, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
    image = np.random.default_rng(11).uniform(size=(64, 64, 3)).astype(np.float32)
    before = model_state(net)
    ours = wb.explain(entry, image, "attnlrp", target=3, attention=attention)
    assert_same_state(before, model_state(net))
    plain = wb.explain(entry, image, "gradient_x_input", target=3)        # hooks gone after the call
    with monkeypatch.context() as patches:
        lxt_patched(patches, attention)
        theirs = lxt_relevance(net, entry.preprocess(image), 3).numpy()
    assert largest_relative_difference(ours.extras["relevance"], theirs) <= 1e-4
    np.testing.assert_allclose(ours.heatmap, theirs.sum(0), rtol=1e-4, atol=1e-4 * np.abs(theirs).max())
    # the rules change the map: plain Gradient x Input is not AttnLRP (the check above can fail)
    assert largest_relative_difference(plain.heatmap, theirs.sum(0)) > 1e-2


def test_the_two_attention_rules_differ_and_name_a_bad_choice():
    net = tiny_vit()
    image = np.random.default_rng(12).uniform(size=(64, 64, 3)).astype(np.float32)
    attn = wb.explain(net, image, "attnlrp", target=1).heatmap
    cp = wb.explain(net, image, "attnlrp", target=1, attention="cp").heatmap
    assert largest_relative_difference(attn, cp) > 1e-2
    with pytest.raises(ValueError, match="attention"):
        wb.explain(net, image, "attnlrp", attention="softmax")


def test_attnlrp_on_timm_equals_the_same_weights_in_torchvision():
    """timm's fused qkv projection gets the same rules as torchvision's nn.MultiheadAttention."""
    timm = pytest.importorskip("timm")
    vit = tiny_vit()
    net = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64, num_classes=5, depth=2,
                            embed_dim=32, num_heads=2, mlp_ratio=2.0).eval()
    state = {"cls_token": vit.class_token, "pos_embed": vit.encoder.pos_embedding,
             "patch_embed.proj.weight": vit.conv_proj.weight, "patch_embed.proj.bias": vit.conv_proj.bias,
             "norm.weight": vit.encoder.ln.weight, "norm.bias": vit.encoder.ln.bias,
             "head.weight": vit.heads.head.weight, "head.bias": vit.heads.head.bias}
    for i, block in enumerate(vit.encoder.layers):
        attention = block.self_attention
        state.update({f"blocks.{i}.norm1.weight": block.ln_1.weight, f"blocks.{i}.norm1.bias": block.ln_1.bias,
                      f"blocks.{i}.attn.qkv.weight": attention.in_proj_weight,
                      f"blocks.{i}.attn.qkv.bias": attention.in_proj_bias,
                      f"blocks.{i}.attn.proj.weight": attention.out_proj.weight,
                      f"blocks.{i}.attn.proj.bias": attention.out_proj.bias,
                      f"blocks.{i}.norm2.weight": block.ln_2.weight, f"blocks.{i}.norm2.bias": block.ln_2.bias,
                      f"blocks.{i}.mlp.fc1.weight": block.mlp[0].weight, f"blocks.{i}.mlp.fc1.bias": block.mlp[0].bias,
                      f"blocks.{i}.mlp.fc2.weight": block.mlp[3].weight, f"blocks.{i}.mlp.fc2.bias": block.mlp[3].bias})
    net.load_state_dict({k: v.detach().clone() for k, v in state.items()})
    image = np.random.default_rng(13).uniform(size=(64, 64, 3)).astype(np.float32)
    ours = wb.explain(net, image, "attnlrp", target=2).heatmap
    reference = wb.explain(vit, image, "attnlrp", target=2).heatmap
    assert largest_relative_difference(ours, reference) <= 1e-4


def test_attnlrp_refuses_windowed_attention_and_a_cnn(shapes, scene):
    import torchvision

    swin = torchvision.models.swin_t(num_classes=5).eval()
    image = np.random.default_rng(14).uniform(size=(64, 64, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="ShiftedWindowAttention"):
        wb.explain(swin, image, "attnlrp")
    with pytest.raises(ValueError, match="no attention layers"):
        wb.explain(shapes, scene.image, "attnlrp")
