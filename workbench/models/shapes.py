"""The shipped "shapes" CNN: a small multi-label classifier of the synthetic scenes.

Sigmoid outputs (one per class in :data:`workbench.data.scenes.SHAPE_CLASSES`), like the VOC/COCO
multi-label models the FMO paper evaluates on. Fully convolutional with global max pooling, so it accepts
any input size >= 32 px; trained at 224x224 by :mod:`workbench.models.train_shapes`.
Receptive field of the last convolution: 81 px, enough to see a whole object (radius 17-34 px).
"""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

WEIGHTS_DIR = Path(__file__).with_name("weights")


def _block(c_in: int, c_out: int, stride: int, kernel: int = 3) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=False),
    ]


class ShapesNet(nn.Module):
    """Six conv-BN-ReLU blocks, global max pooling, a linear classifier (logits out)."""

    def __init__(self, n_classes: int = 5, width: int = 16):
        super().__init__()
        w = width
        self.features = nn.Sequential(
            *_block(3, w, 2, kernel=5),      # 224 -> 112
            *_block(w, 2 * w, 2),            # 56
            *_block(2 * w, 4 * w, 2),        # 28
            *_block(4 * w, 4 * w, 1),        # 28
            *_block(4 * w, 8 * w, 2),        # 14
            *_block(8 * w, 8 * w, 1),        # 14
        )
        self.pool = nn.AdaptiveMaxPool2d(1)
        self.classifier = nn.Linear(8 * w, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))
