"""A new explainer is one module (issue 27): a small SmoothGrad (Smilkov et al., "SmoothGrad: removing noise by
adding noise", 2017) registered from this file only appears in ``wb.methods()``, runs through ``explain``,
``explain_batch``, ``evaluate``, ``run_evaluation``, ``sweep`` and SpRAy, and gets Workbench controls; it is
unregistered afterwards."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.evaluation import Item
from workbench.explainers.registry import MethodOutput, register, unregister
from workbench.params import Spec, param
from workbench.seeding import on_device

NAME = "smoothgrad_test"
SIZE = 64


@dataclass(frozen=True)
class SmoothGradSpec(Spec):
    citation = "Smilkov et al. 2017"
    description = "The gradient of the target logit averaged over noisy copies of the image."
    samples: int = param(4, low=1, high=1000, step=1, doc="Noisy copies averaged.")
    noise: float = param(0.15, low=0.0, high=1.0, step=0.05, label="noise level",
                         doc="Noise standard deviation as a share of the input's range.")


def smoothgrad(ctx, spec: SmoothGradSpec) -> MethodOutput:
    """``mean_i d f_c(x + e_i) / dx`` with ``e_i ~ N(0, sigma^2)``, ``sigma = noise (max x - min x)``
    (Smilkov et al. 2017, eq. 3), summed over the channels."""
    x = ctx.x
    sigma = spec.noise * float(x.max() - x.min())
    noise = on_device(torch.randn((spec.samples, *x.shape[1:]), generator=ctx.generator()), ctx.device)
    noisy = (x + sigma * noise).requires_grad_(True)
    with torch.enable_grad():
        grad, = torch.autograd.grad(ctx.module(noisy)[:, ctx.target].sum(), noisy)
    ctx.count(forward=spec.samples, backward=spec.samples)
    return MethodOutput(heatmap=grad.mean(0).sum(0))


@pytest.fixture(scope="module")
def method():
    register(NAME, spec=SmoothGradSpec, label="SmoothGrad (test)", family="backprop", citation=SmoothGradSpec.citation,
             random=True, gradients=True)(smoothgrad)
    yield NAME
    unregister(NAME)
    assert NAME not in wb.methods()


@pytest.fixture(scope="module")
def images():
    return [wb.data.make_scene((27, i), size=SIZE) for i in range(3)]


def test_listed_and_explained(shapes, method, images):
    info = wb.methods()[method]
    assert [p.name for p in info.params] == ["samples", "noise"] and info.gradients and not info.forward_only
    image = images[0].image
    e = wb.explain(shapes, image, method, samples=3, seed=1)
    assert e.heatmap.shape == (SIZE, SIZE) and np.isfinite(e.heatmap).all() and e.seed == 1
    assert (e.cost.forward_passes, e.cost.backward_passes) == (1 + 3, 3)      # clean pass + one per sample
    assert np.array_equal(e.heatmap, wb.explain(shapes, image, method, samples=3, seed=1).heatmap)
    assert not np.allclose(e.heatmap, wb.explain(shapes, image, method, samples=3, seed=2).heatmap)
    # without noise every sample is the image: the plain gradient
    plain = wb.explain(shapes, image, "gradient", target=e.target).heatmap
    np.testing.assert_allclose(wb.explain(shapes, image, method, samples=2, noise=0.0).heatmap, plain,
                               rtol=1e-5, atol=1e-6 * np.abs(plain).max())


def test_batch_and_spray(shapes, method, images):
    pictures = [s.image for s in images]
    maps = wb.explain_batch(shapes, pictures, method, target=0, seed=3, samples=2)
    alone = [wb.explain(shapes, p, method, target=0, seed=3, samples=2).heatmap for p in pictures]
    assert maps.shape == (3, SIZE, SIZE) and np.array_equal(maps, np.stack(alone))
    result = wb.spray(shapes, pictures, 0, method=method, size=8, k=2, n_clusters=2, layout=False, samples=2)
    assert result.heatmaps.shape == (3, 8, 8) and sorted(set(result.labels)) == [0, 1]


def test_evaluated_and_swept(shapes, method, images, tmp_path):
    scene = images[0]
    e = wb.explain(shapes, scene.image, method, samples=2)
    scores = wb.evaluate(shapes, scene.image, e, steps=4)
    assert len(scores["curves"]["morf"].scores) == 5 and np.isfinite(scores["aopc_morf"])
    targets = tuple(sorted(set(scene.labels)))[:1]
    item = Item(image_id="s0", source=scene.image, targets=targets,
                masks={t: scene.class_mask(t) for t in targets})
    table = wb.run_evaluation(shapes, [item], [method], tmp_path / "eval.csv", metrics=("aopc_morf", "pointing"),
                              params={method: {"samples": 2}}, steps=4, progress=False)
    assert set(table["metric"]) == {"aopc_morf", "pointing"} and (table["error"] == "").all()
    assert set(table["method"]) == {method} and table["value"].notna().all()
    swept = wb.sweep(shapes, [item], method, "samples", [1, 3], metrics=("passes",))
    values, passes, _ = swept.series("passes")
    assert list(values) == [1, 3] and list(passes) == [1 + 2 * 1, 1 + 2 * 3]   # clean + forward and backward


def test_workbench_controls(shapes, method, images):
    w = wb.Workbench(shapes, images[0].image, method=method, debounce=0.02)
    try:
        assert w.wait(60) and w.status.error.value == "", w.status.error.value
        assert set(w.explainer.controls) == {"samples", "noise"} and w.explanation.method == method
        assert method in dict(w.explainer.picker.options).values()
        w.explainer.controls["samples"].value = 2
        assert w.wait(60) and w.status.error.value == "", w.status.error.value
        assert w.explanation.params["samples"] == 2 and w.explanation.cost.backward_passes == 2
    finally:
        w.close()
