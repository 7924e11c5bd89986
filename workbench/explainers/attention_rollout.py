"""Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in Transformers", ACL 2020).

Each layer's attention ``A`` (heads fused by mean, max or min) gets the residual connection as an identity,
``A' = 0.5 A + 0.5 I``, with rows renormalised to sum to 1 (paper, section 3); the rollout is the product over
layers ``A'_L ... A'_1``. The class token's row over the patch tokens, on the patch grid, upsampled to the image,
is the map. ``discard_ratio`` zeroes the lowest share of each fused attention matrix before that (the class
token's attention to itself kept), as in Gildenblat's ``vit-explain``; 0 is the paper's rollout.

The map is class-agnostic (the same for every target) and non-negative. Cost: one forward pass (which is also
the clean pass that picks the target). Readable models: see :mod:`.attention_weights`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from ..params import Spec, param
from .attention_weights import recorded_attention
from .registry import Context, MethodOutput, register

HEAD_FUSIONS = ("mean", "max", "min")
UPSAMPLING = ("bilinear", "nearest")


@dataclass(frozen=True)
class AttentionRolloutSpec(Spec):
    citation = "Abnar & Zuidema, ACL 2020"
    description = (
        "How much of the class token's final representation flows from each image patch through the layers' "
        "attention, with residual connections; the same map for every class."
    )
    head_fusion: str = param("mean", choices=HEAD_FUSIONS, label="head fusion",
                             doc="How each layer's attention heads are combined.")
    discard_ratio: float = param(0.0, low=0.0, high=0.99, step=0.01, label="discard ratio",
                                 doc="Share of the lowest attention weights set to zero in each layer (0: paper).")
    residual: bool = param(True, doc="Add the identity for the residual connection: A' = 0.5 A + 0.5 I (paper).")
    upsample: str = param("bilinear", choices=UPSAMPLING, doc="From the patch grid to the image's pixels.")

    def planned_passes(self, height: int, width: int) -> int:
        """One forward pass, its attention weights read."""
        return 1


def patch_size(module: nn.Module) -> tuple[int, int]:
    """The patch size of a vision transformer: its declared ``patch_size`` (torchvision's ``VisionTransformer``,
    timm's ``PatchEmbed``; a convolutional stem such as shapes-vit's has no single patch convolution), else the
    kernel of its first convolution whose stride equals its kernel (a patch embedding, e.g. Swin's)."""
    for layer in module.modules():
        declared = getattr(layer, "patch_size", None)
        if isinstance(declared, int) and not isinstance(declared, bool) and declared > 0:
            return declared, declared
        if (isinstance(declared, tuple) and len(declared) == 2
                and all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in declared)):
            return int(declared[0]), int(declared[1])
        if isinstance(layer, nn.Conv2d) and tuple(layer.kernel_size) == tuple(layer.stride):
            return int(layer.kernel_size[0]), int(layer.kernel_size[1])
    raise ValueError(f"model: {type(module).__name__} has no patch embedding (a declared patch_size or a "
                     f"convolution whose stride equals its kernel); attention_rollout needs a vision transformer")


def fused_layer(attention: torch.Tensor, head_fusion: str, discard_ratio: float, residual: bool) -> torch.Tensor:
    """One layer's ``(heads, N, N)`` attention -> ``(N, N)`` row-stochastic ``A'`` (see the module's doc)."""
    fuse = {"mean": lambda a: a.mean(0), "max": lambda a: a.amax(0), "min": lambda a: a.amin(0)}[head_fusion]
    fused = fuse(attention)
    if discard_ratio > 0:
        flat = fused.flatten().clone()
        lowest = flat.topk(int(flat.numel() * discard_ratio), largest=False).indices
        flat[lowest[lowest != 0]] = 0.0
        fused = flat.view_as(fused)
    if residual:
        fused = 0.5 * fused + 0.5 * torch.eye(fused.shape[-1], dtype=fused.dtype, device=fused.device)
    return fused / fused.sum(-1, keepdim=True).clamp_min(torch.finfo(fused.dtype).tiny)


def rollout(attentions: list[torch.Tensor], head_fusion: str = "mean", discard_ratio: float = 0.0,
            residual: bool = True) -> torch.Tensor:
    """``A'_L ... A'_1`` of the layers' ``(heads, N, N)`` attentions, in forward order -> ``(N, N)`` (in float64,
    float32 on MPS)."""
    device = attentions[0].device
    dtype = torch.float32 if device.type == "mps" else torch.float64   # MPS has no float64
    result = torch.eye(attentions[0].shape[-1], dtype=dtype, device=device)
    for attention in attentions:
        result = fused_layer(attention.to(dtype), head_fusion, discard_ratio, residual) @ result
    return result


def class_token_map(rolled: torch.Tensor, grid: tuple[int, int], size: tuple[int, int], patch: tuple[int, int],
                    upsample: str) -> torch.Tensor:
    """The class token's (index 0) row of the rollout over the last ``gh * gw`` tokens (the patches; tokens
    between are other prefix tokens, e.g. registers) -> ``size`` heatmap (pixels no patch covers are 0)."""
    gh, gw = grid
    patches = rolled[0, -gh * gw:].reshape(1, 1, gh, gw).float()
    options = {"align_corners": False} if upsample == "bilinear" else {}
    covered = F.interpolate(patches, size=(gh * patch[0], gw * patch[1]), mode=upsample, **options)[0, 0]
    heatmap = covered.new_zeros(size)
    heatmap[:covered.shape[0], :covered.shape[1]] = covered[:size[0], :size[1]]
    return heatmap


@register("attention_rollout", spec=AttentionRolloutSpec, label="Attention rollout", family="attention",
          citation=AttentionRolloutSpec.citation, signed=False, needs_clean_pass=False, reads_attention=True)
def attention_rollout(ctx: Context, spec: AttentionRolloutSpec) -> MethodOutput:
    with recorded_attention(ctx.module) as attentions, torch.no_grad(), ctx.autocast():
        output = ctx.module(ctx.x)
    ctx.count(forward=1)
    ctx.observe_clean(output[0].float())
    height, width = ctx.x.shape[-2:]
    patch = patch_size(ctx.module)
    grid = (height // patch[0], width // patch[1])
    tokens = attentions[0].shape[-1]
    if any(a.shape[-2:] != (tokens, tokens) for a in attentions):
        raise ValueError(f"model: the attention layers of {type(ctx.module).__name__} do not all attend over the "
                         f"same tokens; attention_rollout needs one token sequence through every layer")
    if tokens - grid[0] * grid[1] < 1:
        raise ValueError(f"model: {type(ctx.module).__name__} has {tokens} tokens for {grid[0]}x{grid[1]} patches, "
                         f"so no class token; attention_rollout follows the class token")
    rolled = rollout([a[0] for a in attentions], spec.head_fusion, spec.discard_ratio, spec.residual)
    heatmap = class_token_map(rolled, grid, (height, width), patch, spec.upsample)
    return MethodOutput(heatmap=heatmap, extras={"patch_map": rolled[0, -grid[0] * grid[1]:].reshape(grid).float()
                                                 .cpu().numpy(), "layers": len(attentions)})
