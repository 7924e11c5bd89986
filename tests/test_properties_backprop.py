"""Property-based tests (issue 26), part 1 of 3: the backprop methods and the class activation maps, and
perturbation curves, `evaluate`, `sweep`, `sanity_check` and `spray` on any image (strategies and the contract: ``property_strategies.py``)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.fills import METRIC_FILLS
from property_strategies import (ARGUMENTS, EXAMPLES, FORMS, check_heatmap,
                                 explains_any_image_or_names_the_bad_argument, images, make_image, methods_of, models,
                                 number, outcome, sizes, snapshot, targets, unchanged)


@pytest.mark.parametrize("method", methods_of('backprop', 'class activation map'))
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_explains_any_image_or_names_the_bad_argument(method, data):
    explains_any_image_or_names_the_bad_argument(method, data)


CHEAP_RUNS = {"gradient": {}, "lrp_epsilon": {}, "rise": {"num_masks": 8},
              "occlusion": {"patch": 64, "stride": 64}}


@settings(max_examples=60)
@given(data=st.data())
def test_perturbation_curves_and_evaluate(data):
    size, image = data.draw(images(), label="image")
    model = data.draw(models(), label="model")
    heatmap = data.draw(st.sampled_from(("right", "wrong shape", "nan")), label="heatmap")
    h, w = size
    heat = np.random.default_rng(0).random((h, w) if heatmap != "wrong shape" else (h, w + 1))
    if heatmap == "nan":
        heat[0, 0] = np.nan
    options = dict(target=data.draw(targets(model), label="target"),
                   region=data.draw(st.integers(1, 80), label="region"),
                   steps=data.draw(st.integers(1, 12), label="steps"),
                   fill=data.draw(st.sampled_from(METRIC_FILLS + ("noise",)), label="fill"),
                   seed=data.draw(st.integers(0, 3), label="seed"))
    before = snapshot(image)
    if data.draw(st.booleans(), label="evaluate"):
        result = outcome(lambda: wb.evaluate(model, image, heat, **options), ARGUMENTS | {"output"})
        if result is not None:
            assert all(np.isfinite(result[k]) for k in ("aopc_morf", "aopc_lerf", "aopc_random", "abpc"))
    else:
        order = data.draw(st.sampled_from(("morf", "lerf", "random", "best")), label="order")
        curve = outcome(lambda: wb.perturbation_curve(model, image, heat, order=order, **options),
                        ARGUMENTS | {"output"})
        if curve is not None:
            assert curve.scores.shape == (options["steps"] + 1,) and np.isfinite(curve.scores).all()
    assert unchanged(image, before)


@settings(max_examples=30)
@given(data=st.data())
def test_sweeps(data):
    size, image = data.draw(images(), label="image")
    method = data.draw(st.sampled_from(sorted(CHEAP_RUNS)), label="method")
    numeric = [p for p in wb.methods()[method].params if p.kind in ("int", "float")]
    info = data.draw(st.sampled_from(numeric + [wb.ParamInfo("bogus", "int", 0)]), label="param")
    values = data.draw(st.lists(number(info, integer=info.kind == "int"), min_size=0, max_size=2), label="values")
    if method == "occlusion" and info.name in ("patch", "stride"):
        values = [max(v, max(size) // 8) if info.name == "stride" else v for v in values]
    metrics = data.draw(st.lists(st.sampled_from(("aopc_morf", "pointing", "passes", "seconds", "bogus")),
                                 min_size=0, max_size=3, unique=True), label="metrics")
    masked = data.draw(st.booleans(), label="with mask")
    item = wb.evaluation.Item("i", image, targets=(1,), masks={1: np.ones(size, bool)} if masked else None)
    before = snapshot(image)
    params = {k: v for k, v in CHEAP_RUNS[method].items() if k != info.name}
    result = outcome(lambda: wb.sweep(data.draw(models(), label="model"), [item if masked else image], method,
                                      info.name, values, metrics=metrics, steps=4, params=params),
                     ARGUMENTS | {p.name for p in wb.methods()[method].params})
    assert unchanged(image, before)
    if result is not None:
        assert set(result.summary["metric"]) <= set(metrics)
        assert np.isfinite(result.summary["mean"].to_numpy(dtype=float)).all()


@settings(max_examples=25)
@given(data=st.data())
def test_sanity_checks(data):
    size, image = data.draw(images(), label="image")
    method = data.draw(st.sampled_from(sorted(CHEAP_RUNS)), label="method")
    mode = data.draw(st.sampled_from(("cascading", "independent", "sideways")), label="mode")
    model = data.draw(models(), label="model")
    before = snapshot(image)
    result = outcome(lambda: wb.sanity_check(model, image, method, target=data.draw(targets(model), label="target"),
                                             mode=mode, **CHEAP_RUNS[method]),
                     ARGUMENTS | {p.name for p in wb.methods()[method].params})
    assert unchanged(image, before)
    if result is not None:
        check_heatmap(result.original, size)
        for heat in result.heatmaps:
            check_heatmap(heat, size)
        assert np.isfinite(result.table[["spearman", "ssim", "hog"]].to_numpy(dtype=float)).all()


@settings(max_examples=20)
@given(data=st.data())
def test_spray(data):
    size = data.draw(sizes(), label="size")
    form = data.draw(st.sampled_from(FORMS), label="form")
    n = data.draw(st.integers(0, 6), label="n images")
    batch = [make_image(size, form, "noise", seed) for seed in range(n)]
    model = data.draw(models(), label="model")
    result = outcome(lambda: wb.spray(model, batch, data.draw(targets(model), label="target"),
                                      method=data.draw(st.sampled_from(("gradient", "lrp_epsilon")), label="method"),
                                      size=data.draw(st.integers(0, 40), label="pooled size"),
                                      k=data.draw(st.integers(0, 8), label="k"),
                                      layout=data.draw(st.booleans(), label="layout")),
                     ARGUMENTS)
    if result is not None:
        assert len(result.labels) == n and np.isfinite(result.embedding).all()
