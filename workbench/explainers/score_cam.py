"""Score-CAM (Wang, Wang, Du, Yang, Zhang, Ding, Mardziel & Hu, "Score-CAM: Score-Weighted Visual Explanations
for Convolutional Neural Networks", CVPR Workshops 2020): each channel ``A_c`` of the layer, upsampled to the
image and scaled to [0, 1], masks the (normalised) image; the target's score on each masked image, softmaxed
over the channels, weighs the channels: ``ReLU(sum_c softmax_c(f(x * s(A_c))) A_c)`` (eqs. 4-8). As in
pytorch-grad-cam: the upsampling is bilinear with aligned corners, ``s(A) = (A - min A) / (max A - min A + 1e-8)``,
the score is the target's logit.

The masked images are scored by the engine (batched, counted, cancellable, progress per batch), their masks made
batch by batch on the device. Cost: 1 forward pass (the clean pass, which also reads the layer) + one per channel
of the layer (512 on ResNet-18's ``layer4``; fewer on earlier layers).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .cam import FAMILY, CamSpec, cam_output, clean_pass_activation, weighted_sum
from .registry import Context, MethodOutput, register

EPS = 1e-8


@dataclass(frozen=True)
class ScoreCamSpec(CamSpec):
    citation = "Wang et al., CVPR Workshops 2020"
    description = (
        "Each channel of the layer, upsampled, masks the image; the target's score on each masked image weighs "
        "its channel (one forward pass per channel, no gradients): a bright region is where channels whose "
        "regions alone keep the score high are active."
    )

    def planned_passes(self, height: int, width: int) -> None:
        """One pass per channel of the layer: only the model can tell, so no plan."""
        return None


def channel_masks(activation: torch.Tensor, size: tuple[int, int]):
    """``masks(start, stop) -> (stop-start, 1, H, W)``: channels ``start:stop`` of the ``(1, C, h, w)``
    activation upsampled (bilinear, aligned corners) and scaled each to [0, 1]."""
    def masks(start: int, stop: int) -> torch.Tensor:
        up = F.interpolate(activation[:, start:stop].float(), size=tuple(size), mode="bilinear", align_corners=True)
        flat = up.flatten(2)
        low, high = flat.min(-1).values[..., None, None], flat.max(-1).values[..., None, None]
        return ((up - low) / (high - low + EPS)).transpose(0, 1)

    return masks


@register("score_cam", spec=ScoreCamSpec, label="Score-CAM", family=FAMILY, citation=ScoreCamSpec.citation,
          signed=False, needs_clean_pass=False, forward_only=True)
def score_cam(ctx: Context, spec: ScoreCamSpec) -> MethodOutput:
    name, activation = clean_pass_activation(ctx, spec)
    channels = activation.shape[1]
    ctx.engine.plan(channels)
    scores = ctx.engine.score_masks(ctx.x, channel_masks(activation, ctx.size), n=channels, baseline=0.0,
                                    target=ctx.target)
    weights = torch.softmax(scores.double(), dim=0).to(activation.dtype)
    return cam_output(weighted_sum(weights[None].float(), activation.float())[0], ctx.size, name, spec.layer)
