"""The "shapes-vit" model: a small vision transformer (Dosovitskiy et al., "An Image is Worth 16x16 Words",
ICLR 2021) for the synthetic scenes, the transformer counterpart of the shapes CNN (:mod:`.shapes`).

torchvision's ``VisionTransformer`` at the scenes' 224 px with 16 px patches (a 14 x 14 grid plus a class
token), 4 blocks of 4 heads, width 64, MLP 192: 0.23 M parameters (a 0.93 MB checkpoint). Multi-label (sigmoid) outputs
like the CNN; trained by :mod:`workbench.models.train_shapes_vit`. Every explainer that runs on a transformer
runs on it, attention rollout included.
"""
from __future__ import annotations

from torchvision.models.vision_transformer import VisionTransformer

SHAPES_VIT = {"image_size": 224, "patch_size": 16, "num_layers": 4, "num_heads": 4, "hidden_dim": 64,
              "mlp_dim": 192}


def shapes_vit(n_classes: int = 5, **architecture: int) -> VisionTransformer:
    """A ``VisionTransformer`` with :data:`SHAPES_VIT`'s sizes (any of them overridden by ``architecture``)."""
    unknown = sorted(set(architecture) - set(SHAPES_VIT))
    if unknown:
        raise ValueError(f"{unknown[0]}: not a size of shapes_vit; expected some of {sorted(SHAPES_VIT)}")
    return VisionTransformer(**{**SHAPES_VIT, **architecture}, num_classes=n_classes)
