"""One fill vocabulary (workbench.fills): every fill name that a method, a metric or a Workbench control offers
is one of FILLS and is accepted by what it feeds; a name a consumer does not take is refused with the argument
and the accepted names in the message."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb
from workbench.fills import FILLS, METRIC_FILLS, fill_image
from workbench.ui.controls import control_for

SIZE = 64
# the cheapest run of each method that has a fill (a few passes or steps on a 64 px scene)
CHEAP = {"occlusion": {"patch": 32, "stride": 32}, "fmo": {"schedule": ((32, 32), (16, 16)), "budget": 1.0},
         "rise": {"num_masks": 4}, "lime": {"n_segments": 6, "num_samples": 12},
         "ablation_ca": {"n_segments": 6, "contexts": 8}, "neuromask": {"iterations": 1}}


def method_fills() -> dict[str, tuple[str, ...]]:
    """Per registered method with a fill, the names its Workbench control offers (built from its spec)."""
    offered = {}
    for name, method in wb.methods().items():
        for info in method.params:
            if info.name == "fill":
                control = control_for(info, info.default, lambda *_: None, (SIZE, SIZE))
                assert tuple(control.options) == info.choices       # the control offers what the spec takes
                offered[name] = info.choices
    return offered


def test_every_method_offers_fills_of_the_one_vocabulary_and_accepts_each(shapes):
    image = wb.data.make_scene((5, 0), size=SIZE).image
    offered = method_fills()
    assert set(offered) == set(CHEAP)                 # a new method with a fill gets a cheap setting here
    for method, names in offered.items():
        assert set(names) <= set(FILLS), (method, names)
        heat = {}
        for fill in names:
            e = wb.explain(shapes, image, method, target=0, fill=fill, **CHEAP[method])
            assert e.params["fill"] == fill and np.isfinite(e.heatmap).all(), (method, fill)
            heat[fill] = e.heatmap
        assert any(not np.array_equal(heat[names[0]], h) for h in heat.values()), method   # the fill is used
        refused = next(f for f in FILLS if f not in names)
        with pytest.raises(ValueError, match=rf"fill: expected one of \[.*'{names[0]}'.*\], got '{refused}'"):
            wb.explain(shapes, image, method, target=0, fill=refused, **CHEAP[method])


def test_every_metric_fill_the_workbench_offers_is_accepted(shapes):
    image = wb.data.make_scene((5, 0), size=SIZE).image
    heat = np.random.default_rng(0).random((SIZE, SIZE))
    ui_fills = tuple(wb.Workbench(shapes, image, method="gradient").curves.fill.options)
    assert set(ui_fills) == set(METRIC_FILLS) and set(METRIC_FILLS) <= set(FILLS)
    for fill in ui_fills:                  # the curves tab feeds evaluate(); the comparison tab the MoRF curve
        result = wb.evaluate(shapes, image, heat, target=0, region=32, steps=2, fill=fill, metrics=("abpc",))
        assert np.isfinite(result["abpc"]) and result["curves"]["morf"].fill == fill
    with pytest.raises(ValueError, match=r"fill: expected one of \['uniform', .*\], got 'segment-mean'"):
        wb.perturbation_curve(shapes, image, heat, region=32, steps=2, fill="segment-mean")
    with pytest.raises(ValueError, match=r"fill: .*got 'baseline' \('baseline' is now 'constant'\)"):
        wb.sweep(shapes, [image], "occlusion", "stride", [32], params={"patch": 32}, metrics=("aopc_morf",),
                 fill="baseline")


def test_each_name_is_one_image():
    """``constant`` is fill_value in the model's space, ``black`` pixel 0, ``image-mean`` the mean colour."""
    import torch

    x = torch.rand(1, 3, 8, 8)
    normalise = lambda pixels: (pixels - 0.5) / 0.25   # noqa: E731 - a model's normalisation
    assert torch.equal(fill_image("constant", x, normalise, value=0.3), torch.full_like(x, 0.3))
    assert torch.equal(fill_image("black", x, normalise), torch.full_like(x, -2.0))
    mean = fill_image("image-mean", x, normalise)
    assert torch.allclose(mean[0, :, 3, 5], x.mean(dim=(2, 3))[0])
    segments = torch.zeros(8, 8, dtype=torch.long)
    segments[:, 4:] = 1
    by_segment = fill_image("segment-mean", x, normalise, segments=segments)
    assert torch.allclose(by_segment[0, :, 0, 7], x[0, :, :, 4:].mean(dim=(1, 2)))
    with pytest.raises(ValueError, match="generator: the 'uniform' fill needs"):
        fill_image("uniform", x, normalise)
