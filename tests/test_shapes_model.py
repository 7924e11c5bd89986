"""The shipped shapes model: loads offline and is accurate on scenes it never saw."""
from __future__ import annotations

import numpy as np
import torch

import workbench as wb
from workbench.models.train_shapes import TRAIN_SEED, VAL_SEED, mean_average_precision

TEST_SEED = 20261123


def test_map_on_fresh_scenes(shapes):
    assert TEST_SEED not in (TRAIN_SEED, VAL_SEED)
    scenes = wb.data.make_scenes(512, seed=TEST_SEED)
    batch = torch.cat([shapes.preprocess(s.image) for s in scenes])
    with torch.inference_mode():
        scores = torch.cat([shapes.probabilities(shapes.module(batch[i:i + 128])) for i in range(0, 512, 128)])
    targets = np.stack([s.multi_hot for s in scenes])
    assert mean_average_precision(scores.numpy(), targets) >= 0.95


def test_entry_metadata(shapes):
    assert shapes.class_names == wb.data.SHAPE_CLASSES
    assert shapes.input_size == (224, 224)
    assert shapes.multilabel
    assert not shapes.module.training
    weights = wb.models.shapes.WEIGHTS_DIR / "shapes.pt"
    assert weights.stat().st_size < 5e6


def test_fully_convolutional(shapes):
    x = torch.rand(2, 3, 96, 160)
    with torch.inference_mode():
        assert shapes.module(x).shape == (2, 5)
