"""The attention weights of a vision transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR
2021), read during one forward pass: ``softmax(Q K^T / sqrt(d))`` per layer and head.

The weights are recomputed exactly from each attention layer's input and its own projection weights, so nothing
depends on how the layer is called (torchvision's encoder blocks call ``nn.MultiheadAttention`` with
``need_weights=False``; timm's ``Attention`` uses fused scaled-dot-product attention). Readable layers: PyTorch's
``nn.MultiheadAttention`` (torchvision's ``VisionTransformer``) and timm's global ``Attention`` (timm ViTs and
DeiTs). Windowed attention (Swin) has no global token-to-token matrix and is refused.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn


def is_attention_layer(layer: nn.Module) -> bool:
    """True for ``nn.MultiheadAttention`` and any module with heads (``num_heads``) whose class name ends in
    ``Attention`` (timm's ``Attention``, Swin's ``ShiftedWindowAttention`` / ``WindowAttention``...); a CNN's
    channel or spatial "attention" gate (squeeze-excitation, CBAM) has no heads and is not one."""
    return isinstance(layer, nn.MultiheadAttention) or (type(layer).__name__.endswith("Attention")
                                                        and hasattr(layer, "num_heads"))


def attention_layers(module: nn.Module) -> list[tuple[str, nn.Module]]:
    """``(name, layer)`` of every attention layer of ``module`` in definition order (layers nested inside an
    attention layer are not listed again)."""
    found: list[tuple[str, nn.Module]] = []
    for name, layer in module.named_modules():
        if is_attention_layer(layer) and not any(name.startswith(outer + ".") for outer, _ in found):
            found.append((name, layer))
    return found


def _is_timm_attention(layer: nn.Module) -> bool:
    return (type(layer).__module__.startswith("timm.") and type(layer).__name__ == "Attention"
            and isinstance(getattr(layer, "qkv", None), nn.Linear) and hasattr(layer, "num_heads"))


def _softmax_scores(q: torch.Tensor, k: torch.Tensor, scale: float | None = None) -> torch.Tensor:
    """``(B, h, N, d)`` queries and keys -> ``(B, h, N, N)`` attention ``softmax(scale q k^T)`` in float32
    (``scale``: ``1 / sqrt(d)`` unless given)."""
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    return torch.softmax((q.float() * scale) @ k.float().transpose(-2, -1), dim=-1)


def _multihead_weights(layer: nn.MultiheadAttention, args: tuple, kwargs: dict) -> torch.Tensor:
    """Attention of ``nn.MultiheadAttention`` from its call's query and key (self- or cross-attention)."""
    query = kwargs["query"] if "query" in kwargs else args[0]
    key = kwargs["key"] if "key" in kwargs else args[1]
    masks = [kwargs.get("key_padding_mask", args[3] if len(args) > 3 else None),
             kwargs.get("attn_mask", args[5] if len(args) > 5 else None)]
    if any(m is not None for m in masks) or kwargs.get("is_causal", False) or layer.bias_k is not None:
        raise ValueError("model: an nn.MultiheadAttention layer is called with a mask or extra key bias; "
                         "attention weights are read from unmasked self-attention only")
    if not layer.batch_first:
        query, key = query.transpose(0, 1), key.transpose(0, 1)
    if layer._qkv_same_embed_dim:
        w_q, w_k, _ = layer.in_proj_weight.chunk(3)
    else:
        w_q, w_k = layer.q_proj_weight, layer.k_proj_weight
    b_q, b_k = layer.in_proj_bias.chunk(3)[:2] if layer.in_proj_bias is not None else (None, None)
    heads = layer.num_heads

    def split(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], x.shape[1], heads, -1).transpose(1, 2)

    return _softmax_scores(split(F.linear(query, w_q, b_q)), split(F.linear(key, w_k, b_k)))


def _timm_weights(layer: nn.Module, args: tuple, kwargs: dict) -> torch.Tensor:
    """Attention of timm's ``Attention``, as its non-fused path computes it (``q_norm``/``k_norm`` included)."""
    x = kwargs["x"] if "x" in kwargs else args[0]
    if kwargs.get("attn_mask", args[1] if len(args) > 1 else None) is not None or kwargs.get("is_causal", False):
        raise ValueError("model: a timm Attention layer is called with a mask; attention weights are read from "
                         "unmasked self-attention only")
    b, n, _ = x.shape
    qkv = F.linear(x, layer.qkv.weight, layer.qkv.bias).reshape(b, n, 3, layer.num_heads, -1).permute(2, 0, 3, 1, 4)
    q, k = layer.q_norm(qkv[0]), layer.k_norm(qkv[1])
    return _softmax_scores(q, k, layer.scale)


def _reader(layer: nn.Module) -> Callable[[nn.Module, tuple, dict], torch.Tensor] | None:
    if isinstance(layer, nn.MultiheadAttention):
        return _multihead_weights
    if _is_timm_attention(layer):
        return _timm_weights
    return None


TRANSFORMER_METHODS = ("attnlrp", "attention_rollout", "gradient")


def check_readable(module: nn.Module, method: str) -> list[tuple[str, nn.Module]]:
    """The attention layers of ``module``, each readable; else a ValueError naming the model and the layer."""
    model = type(module).__name__
    layers = attention_layers(module)
    if not layers:
        raise ValueError(f"model: {model} has no attention layers; {method} explains vision transformers "
                         f"(torchvision's VisionTransformer, timm ViTs)")
    for name, layer in layers:
        if _reader(layer) is None:
            raise ValueError(f"model: {method} reads global self-attention (nn.MultiheadAttention, timm's "
                             f"Attention); layer {name!r} of {model} is a {type(layer).__name__}, whose weights "
                             f"it cannot read (windowed attention such as Swin's has no class-token row); "
                             f"use 'gradient' or a perturbation method")
    return layers


@contextmanager
def recorded_attention(module: nn.Module, method: str = "attention_rollout") -> Iterator[list[torch.Tensor]]:
    """Within the block, every forward pass of ``module`` appends each attention layer's ``(B, heads, N, N)``
    float32 weights, in call order, to the yielded list; the hooks are removed on exit, also on error."""
    layers = check_readable(module, method)
    weights: list[torch.Tensor] = []

    def hook_for(read: Callable) -> Callable:
        def hook(layer: nn.Module, args: tuple, kwargs: dict, output) -> None:
            with torch.no_grad():
                weights.append(read(layer, args, kwargs))
        return hook

    handles = [layer.register_forward_hook(hook_for(_reader(layer)), with_kwargs=True) for _, layer in layers]
    try:
        yield weights
    finally:
        for handle in handles:
            handle.remove()
