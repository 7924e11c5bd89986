"""Property-based tests (issue 26), part 2 of 3: the perturbation methods and Ablation-CA on any image
(strategies and the contract: ``property_strategies.py``)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from property_strategies import (AREA, ARGUMENTS, EXAMPLES, check_heatmap,
                                 explains_any_image_or_names_the_bad_argument, images, methods_of, models, outcome,
                                 snapshot, targets, unchanged)


@pytest.mark.parametrize("method", methods_of('perturbation', 'analysis'))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_explains_any_image_or_names_the_bad_argument(method, data):
    explains_any_image_or_names_the_bad_argument(method, data)


@settings(max_examples=25)
@given(data=st.data())
def test_ablation_ca(data):
    size, image = data.draw(images(AREA["ablation_ca"]), label="image")
    model = data.draw(models(), label="model")
    before = snapshot(image)
    c = outcome(lambda: wb.ablation_ca(model, image, target=data.draw(targets(model), label="target"),
                                       n_segments=data.draw(st.integers(2, 500), label="n_segments"),
                                       contexts=data.draw(st.integers(8, 12), label="contexts"),
                                       p_keep=data.draw(st.floats(0.01, 0.99), label="p_keep")),
                ARGUMENTS | {"n_segments", "contexts", "p_keep"})
    assert unchanged(image, before)
    if c is not None:
        check_heatmap(c.heatmap, size)
        k = len(c.sensitivity)
        assert c.matrix.shape == (k, k) and np.isfinite(c.matrix).all() and c.segments.max() == k - 1
