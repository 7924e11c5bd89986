"""AttnLRP (Achtibat et al., "AttnLRP: Attention-Aware Layer-Wise Relevance Propagation for Transformers",
ICML 2024): layer-wise relevance propagation through a vision transformer, written as Gradient x Input with
the gradient modified where the paper's rules differ from it (as the authors' ``lxt`` package does):

- LayerNorm: the identity rule on the normalisation (paper, eq. 9): the standard deviation is held constant in
  the backward pass, so the relevance passes the centring and scaling linearly;
- element-wise activations (GELU, SiLU): the identity rule (eq. 9): the gradient is ``f(x) / x``;
- attention: the uniform rule on the two matrix products ``Q K^T`` and ``A V`` (eq. 7): each factor gets half;
  the relevance reaching the queries and keys passed both products (1/4), the values one (1/2); the softmax
  needs no change: its rule (eq. 8, ``R_i = x_i (R'_i - s_i sum_j R'_j)``) is Gradient x Input itself;
- linear layers and the patch embedding: the epsilon rule with epsilon -> 0, which is Gradient x Input.

``attention="cp"`` is CP-LRP inside the attention instead (Ali et al., "XAI for Transformers: Better
Explanations through Conservative Propagation", ICML 2022): no relevance flows through the softmax (queries
and keys held constant), the attention weights act as a fixed linear map on the values; ``lxt`` uses it for
torchvision's ViT. The initial relevance is the target logit, so the input relevance sums to the logit less
what the biases, the class token and the position embedding absorb (``extras["conservation"]``).

Readable layers: ``nn.MultiheadAttention`` (torchvision's ``VisionTransformer``) and timm's ``Attention`` (ViT,
DeiT); windowed attention (Swin) is refused. Every hook is removed when the call ends, also on error.
Equal to ``lxt`` on the same model and input (tests). Cost: 1 forward + 1 backward pass.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from ..params import param
from .attention_weights import check_readable
from .backprop import GradientSpec, heat_of
from .registry import Context, MethodOutput, register

ATTENTION_RULES = ("attnlrp", "cp")
_ACTIVATIONS = (nn.GELU, nn.SiLU)
IDENTITY_EPSILON = 1e-10  # lxt's stabiliser of f(x) / x


@dataclass(frozen=True)
class AttnLRPSpec(GradientSpec):
    citation = "Achtibat et al., ICML 2024"
    description = (
        "Layer-wise relevance propagation through a transformer with rules for attention, LayerNorm and GELU: "
        "the target logit is redistributed to the pixels; red: evidence for the class, blue: against it."
    )
    attention: str = param("attnlrp", choices=ATTENTION_RULES,
                           doc="Inside attention: AttnLRP's softmax and matmul rules, or CP-LRP (softmax held).")


def _with_gradient(value: torch.Tensor, surrogate: torch.Tensor) -> torch.Tensor:
    """``value`` in the forward pass, ``surrogate``'s gradient in the backward pass."""
    return value.detach() + (surrogate - surrogate.detach())


def scale_gradient(x: torch.Tensor, factor: float | torch.Tensor) -> torch.Tensor:
    """``x`` unchanged; its gradient multiplied by ``factor`` (0: held constant)."""
    return x.detach() + (x - x.detach()) * factor


def _layer_norm_hook(layer: nn.LayerNorm, args: tuple, output: torch.Tensor) -> torch.Tensor:
    x = args[0]
    dims = tuple(range(-len(layer.normalized_shape), 0))
    mean = x.mean(dim=dims, keepdim=True)
    std = (x.var(dim=dims, keepdim=True, unbiased=False) + layer.eps).sqrt()
    y = (x - mean) / std.detach()
    if layer.weight is not None:
        y = y * layer.weight
    if layer.bias is not None:
        y = y + layer.bias
    return _with_gradient(output, y)


def _activation_hook(layer: nn.Module, args: tuple, output: torch.Tensor) -> torch.Tensor:
    x = args[0]
    return _with_gradient(output, x * (output / (x + IDENTITY_EPSILON)).detach())


def _multihead_pre_hook(factors: tuple[float, float, float]):
    def hook(layer: nn.MultiheadAttention, args: tuple, kwargs: dict):
        names = ("query", "key", "value")
        args = list(args)
        for i, (name, factor) in enumerate(zip(names, factors)):
            if name in kwargs:
                kwargs[name] = scale_gradient(kwargs[name], factor)
            elif i < len(args):
                args[i] = scale_gradient(args[i], factor)
        return tuple(args), kwargs
    return hook


def _qkv_hook(factors: tuple[float, float, float]):
    """On a fused ``qkv`` projection (timm): the output's query, key and value thirds get their factors."""
    def hook(layer: nn.Linear, args: tuple, output: torch.Tensor) -> torch.Tensor:
        third = output.shape[-1] // 3
        scale = torch.cat([torch.full((third,), float(f), dtype=output.dtype, device=output.device)
                           for f in factors])
        return scale_gradient(output, scale)
    return hook


@contextmanager
def attnlrp_rules(module: nn.Module, attention: str = "attnlrp") -> Iterator[None]:
    """Within the block, the gradient of ``module`` is AttnLRP's relevance per unit input (see the module's doc):
    hooks on its LayerNorms, activations and attention layers, removed on exit, also on error."""
    if attention not in ATTENTION_RULES:
        raise ValueError(f"attention: expected one of {ATTENTION_RULES}, got {attention!r}")
    layers = check_readable(module, "attnlrp")
    factors = (0.25, 0.25, 0.5) if attention == "attnlrp" else (0.0, 0.0, 1.0)
    handles = []
    try:
        for _, layer in layers:
            if isinstance(layer, nn.MultiheadAttention):
                handles.append(layer.register_forward_pre_hook(_multihead_pre_hook(factors), with_kwargs=True))
            else:
                handles.append(layer.qkv.register_forward_hook(_qkv_hook(factors)))
        for layer in module.modules():
            if isinstance(layer, nn.LayerNorm):
                handles.append(layer.register_forward_hook(_layer_norm_hook))
            elif isinstance(layer, _ACTIVATIONS):
                handles.append(layer.register_forward_hook(_activation_hook))
        yield
    finally:
        for handle in handles:
            handle.remove()


def attnlrp(ctx: Context, spec: AttnLRPSpec) -> MethodOutput:
    x = ctx.x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), attnlrp_rules(ctx.module, spec.attention), ctx.autocast():
        output = ctx.module(x)
        target = ctx.observe_clean(output[0].float())
        gradient, = torch.autograd.grad(output[0, target], x)
    ctx.count(forward=1, backward=1)
    channels = (x.detach() * gradient)[0]
    logit = float(output.detach()[0, target])
    total = float(channels.sum())
    extras = {"relevance": channels.float().cpu().numpy(), "output": logit,
              "conservation": total / logit if logit != 0 else float("nan")}
    return MethodOutput(heatmap=heat_of(channels, spec.heat), extras=extras)


register("attnlrp", spec=AttnLRPSpec, label="AttnLRP", family="attention", citation=AttnLRPSpec.citation,
         needs_clean_pass=False, gradients=True, reads_attention=True)(attnlrp)
