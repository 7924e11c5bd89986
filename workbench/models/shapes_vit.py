"""The "shapes-vit" model: a small hybrid vision transformer (Dosovitskiy et al., "An Image is Worth 16x16
Words", ICLR 2021, section 3.1 "Hybrid Architecture") for the synthetic scenes, the transformer counterpart of
the shapes CNN (:mod:`.shapes`).

torchvision's ``VisionTransformer`` at the scenes' 224 px with 16 px tokens (a 14 x 14 grid plus a class
token), 4 blocks of 4 heads, width 64, MLP 192. Its patch embedding (``conv_proj``) is a convolutional stem of
total stride 16 instead of one 16 x 16 projection (as Xiao et al., "Early Convolutions Help Transformers See
Better", NeurIPS 2021, recommend): the shapes CNN's six conv-BN-ReLU blocks (:class:`.shapes.ShapesNet`'s
``features``, width ``stem_width``) and a 1 x 1 convolution to the token width, so each token is the CNN's
feature vector of its 16 px cell. ``stem_width=0`` gives the plain patch-16 ViT, which the training script's
measurements showed learning almost nothing on the scenes in the same time. Multi-label (sigmoid) outputs like
the CNN; trained by :mod:`workbench.models.train_shapes_vit`.
"""
from __future__ import annotations

from torch import nn
from torchvision.models.vision_transformer import VisionTransformer

from .shapes import ShapesNet

SHAPES_VIT = {"image_size": 224, "patch_size": 16, "num_layers": 4, "num_heads": 4, "hidden_dim": 64,
              "mlp_dim": 192, "stem_width": 16}
STEM_STRIDE = 16  # ShapesNet's features: four stride-2 blocks


def hybrid_stem(stem_width: int, hidden_dim: int) -> nn.Sequential:
    """ShapesNet's ``features`` (stride 16, ``8 * stem_width`` channels) and a 1 x 1 convolution to
    ``hidden_dim``: the ``conv_proj`` of the hybrid transformer (its indices match ``features``' so a shapes
    CNN's ``features.*`` weights load into ``conv_proj.*``)."""
    return nn.Sequential(*ShapesNet(width=stem_width).features, nn.Conv2d(8 * stem_width, hidden_dim, 1))


def shapes_vit(n_classes: int = 5, **architecture: int) -> VisionTransformer:
    """A ``VisionTransformer`` with :data:`SHAPES_VIT`'s sizes (any of them overridden by ``architecture``)."""
    unknown = sorted(set(architecture) - set(SHAPES_VIT))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a size of shapes_vit; expected some of {sorted(SHAPES_VIT)}")
    sizes = {**SHAPES_VIT, **architecture}
    stem_width = int(sizes.pop("stem_width"))
    if stem_width < 0:
        raise ValueError(f"stem_width: expected 0 (patch projection) or a positive width, got {stem_width}")
    if stem_width and sizes["patch_size"] != STEM_STRIDE:
        raise ValueError(f"patch_size: the hybrid stem has stride {STEM_STRIDE}, got {sizes['patch_size']}")
    model = VisionTransformer(**sizes, num_classes=n_classes)
    if stem_width:
        model.conv_proj = hybrid_stem(stem_width, sizes["hidden_dim"])
    return model
