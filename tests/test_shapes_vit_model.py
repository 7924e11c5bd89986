"""The shipped shapes-vit transformer: loads offline, is accurate on scenes it never saw, and the transformer
methods point at the object."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.metrics.localisation import pointing_game
from workbench.models.train_shapes import TRAIN_SEED, VAL_SEED, mean_average_precision
from workbench.models.train_shapes_vit import VIT_TRAIN_SEED

TEST_SEED = 20261207       # 200 fresh scenes for the accuracy
POINTING_SEED = 20261208   # 5 one-object scenes for the pointing game


@pytest.fixture(scope="module")
def vit():
    return wb.load_model("shapes-vit", device="cpu")


def test_map_on_fresh_scenes(vit):
    assert TEST_SEED not in (TRAIN_SEED, VAL_SEED, VIT_TRAIN_SEED, VIT_TRAIN_SEED + 1)
    scenes = wb.data.make_scenes(200, seed=TEST_SEED)
    batch = torch.cat([vit.preprocess(s.image) for s in scenes])
    with torch.inference_mode():
        scores = torch.cat([vit.probabilities(vit.module(batch[i:i + 100])) for i in range(0, 200, 100)])
    targets = np.stack([s.multi_hot for s in scenes])
    assert mean_average_precision(scores.numpy(), targets) >= 0.95


def test_entry_metadata_and_size(vit):
    assert vit.class_names == wb.data.SHAPE_CLASSES and vit.input_size == (224, 224) and vit.multilabel
    assert not vit.module.training and len(vit.module.encoder.layers) == 4
    assert (wb.models.shapes.WEIGHTS_DIR / "shapes_vit.pt").stat().st_size < 2e6


@pytest.mark.parametrize("method", ["attention_rollout", "attnlrp"])
def test_transformer_methods_point_at_the_object(vit, method):
    """At the method's defaults, the map's maximum lies on (within 15 px of) the one object in >= 4 of 5 scenes."""
    scenes = wb.data.make_scenes(5, seed=POINTING_SEED, n_objects=(1, 1))
    hits = [pointing_game(wb.explain(vit, s.image, method, target=s.labels[0]).heatmap, s.masks[0])
            for s in scenes]
    assert sum(hits) >= 4, hits
