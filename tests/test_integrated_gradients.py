"""Integrated Gradients, SmoothGrad and Gradient x Input (issue 35): equal to Captum's ``IntegratedGradients``,
``NoiseTunnel`` and ``InputXGradient`` on models the tests do not train (random-weight torchvision resnet18 and
vgg16, the shipped efficientnet_lite0), three targets each; the quadrature rules checked on a polynomial model
where the integral is known; completeness; bad input; nothing left changed; every entry point and the
Workbench's controls.

Captum is applied to the model's normalised input (``entry.preprocess(image)``) and the module that takes it,
as the workbench's attributions are with respect to the normalised input. The baselines are built here
independently (the model's normalisation of black pixels, torchvision's blur). SmoothGrad: Captum's
``NoiseTunnel`` draws its noise with ``torch.normal(0, stdevs)``; the test patches ``torch.normal`` for that
call to return the workbench's noise for the seed (``smoothgrad_noise`` times sigma), so both average over the
same noisy copies.

The comparisons use photos: on a synthetic scene's flat colour regions many activations tie in a max-pool,
and which one wins depends on rounding, so there even Captum against itself (all path points in one batch vs
one at a time) differed by 0.6% of the map's largest value on random resnet18; on the photo 5e-7. Random vgg16
is worse conditioned still: on the 56 px photo Captum against itself differed by 0.3-3% (targets 1, 207, 999)
between those batch sizes (random weights leave the logits tiny, so a ReLU decided by rounding moves the map);
the tests' paths fit in one chunk on both sides (Captum's default: all points in one batch), so the same
convolutions run and the comparison checks the algorithm. The comparisons run at the default precision, whose
gradient passes keep the module's own (contiguous) memory layout, Captum's; ``precision="auto"`` measures
whether channels-last is faster (it rounds differently: 1% of random vgg16's map at 56 px), tested apart, with
both layouts compared on the photo and the trained network."""
from __future__ import annotations

import threading
from unittest import mock

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from conftest import RaisingModel, assert_same_state, model_state
from workbench.explainers import _input_gradients
from workbench.explainers._input_gradients import GradientLayouts, chunked_gradients
from workbench.explainers.integrated_gradients import path_points
from workbench.explainers.smoothgrad import smoothgrad_noise

TARGETS = (1, 207, 999)
IG_STEPS, SG_SAMPLES, SG_IG_STEPS = 4, 3, 2
RELATIVE = 1e-5


def relative_error(ours: np.ndarray, reference: torch.Tensor) -> float:
    reference = reference.detach()[0].sum(0).numpy()
    assert np.abs(reference).max() > 0
    return float(np.abs(ours - reference).max() / np.abs(reference).max())


def black(entry, x: torch.Tensor) -> torch.Tensor:
    """Pixel value 0 after the model's normalisation, computed here."""
    mean = torch.tensor(entry.mean).view(1, 3, 1, 1)
    std = torch.tensor(entry.std).view(1, 3, 1, 1)
    return (torch.zeros_like(x) - mean) / std


def captum_smoothgrad(entry, x, target, sigma, seed, base, **ig):
    from captum.attr import IntegratedGradients, NoiseTunnel, Saliency

    noise = sigma * smoothgrad_noise(seed, 0, SG_SAMPLES, tuple(x.shape[1:]))

    def normal(mean, std):
        assert float(mean) == 0 and std.shape == noise.shape
        return noise.clone()

    explainer = Saliency(entry.module) if base == "gradient" else IntegratedGradients(entry.module)
    extra = {"abs": False} if base == "gradient" else {"baselines": black(entry, x), **ig}
    with mock.patch.object(torch, "normal", normal):
        return NoiseTunnel(explainer).attribute(x, nt_type="smoothgrad", nt_samples=SG_SAMPLES, stdevs=sigma,
                                                target=target, **extra)


@pytest.fixture(scope="module")
def models():
    torch.manual_seed(0)
    return {"resnet18": wb.load_model("resnet18", device="cpu"), "vgg16": wb.load_model("vgg16", device="cpu")}


@pytest.fixture(scope="module")
def lite0():
    return wb.load_model("efficientnet_lite0", device="cpu")


@pytest.fixture(scope="module")
def cat(lite0):
    return lite0.frame(wb.data.photo("chelsea"))


def small_photo(name: str = "chelsea") -> np.ndarray:
    """A bundled photo, 56 px (a quick path on the 224 px ImageNet networks)."""
    return wb.data.sample_images(56)[name]


def check_equals_captum(entry, image):
    from captum.attr import InputXGradient, IntegratedGradients

    x = entry.preprocess(image)
    for target in TARGETS:
        e = wb.explain(entry, image, "integrated_gradients", target=target, steps=IG_STEPS)
        reference = IntegratedGradients(entry.module).attribute(x, baselines=black(entry, x), target=target,
                                                                n_steps=IG_STEPS)
        assert relative_error(e.heatmap, reference) <= RELATIVE, ("integrated_gradients", target)

        e = wb.explain(entry, image, "gradient_x_input", target=target)
        reference = InputXGradient(entry.module).attribute(x.clone().requires_grad_(True), target=target)
        assert relative_error(e.heatmap, reference) <= RELATIVE, ("gradient_x_input", target)

        sigma = 0.15 * float(x.max() - x.min())
        for base, extra in (("gradient", {}), ("integrated_gradients", {"n_steps": SG_IG_STEPS})):
            e = wb.explain(entry, image, "smoothgrad", target=target, seed=target, samples=SG_SAMPLES, base=base,
                           steps=SG_IG_STEPS)
            assert e.extras["sigma"] == pytest.approx(sigma, rel=1e-6)
            reference = captum_smoothgrad(entry, x, target, sigma, target, base, **extra)
            assert relative_error(e.heatmap, reference) <= RELATIVE, ("smoothgrad", base, target)


@pytest.mark.parametrize("name", ["resnet18", "vgg16"])
def test_equal_to_captum_on_random_torchvision_models(models, name):
    check_equals_captum(models[name], small_photo())


def test_equal_to_captum_on_efficientnet_lite0(lite0, cat):
    check_equals_captum(lite0, cat)


def test_rules_and_baselines_equal_captum(models):
    from captum.attr import IntegratedGradients
    from torchvision.transforms.functional import gaussian_blur

    entry = models["resnet18"]
    image = small_photo("coffee")
    x = entry.preprocess(image)
    captum = IntegratedGradients(entry.module)
    for rule in ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid"):
        e = wb.explain(entry, image, "integrated_gradients", target=3, steps=5, rule=rule)
        reference = captum.attribute(x, baselines=black(entry, x), target=3, n_steps=5, method=rule)
        if rule == "riemann_trapezoid":     # Captum's trapezoid weights sum to (n-1)/n (module docstring)
            reference = reference * 5 / 4
        assert relative_error(e.heatmap, reference) <= RELATIVE, rule
    blurred = gaussian_blur(x, [31, 31], [5.0, 5.0])
    for baseline, reference_baseline in (("constant", torch.zeros_like(x)), ("blur", blurred)):
        e = wb.explain(entry, image, "integrated_gradients", target=3, steps=4, baseline=baseline)
        reference = captum.attribute(x, baselines=reference_baseline, target=3, n_steps=4)
        assert relative_error(e.heatmap, reference) <= RELATIVE, baseline
    e = wb.explain(entry, image, "integrated_gradients", target=3, steps=4, baseline="constant", baseline_value=0.5)
    reference = captum.attribute(x, baselines=0.5, target=3, n_steps=4)
    assert relative_error(e.heatmap, reference) <= RELATIVE


class Cubic(nn.Module):
    """Score k = sum(w_k * x^3): the IG integrand is a quadratic in the path parameter, and IG from a zero
    baseline is exactly ``w x^3`` (so the attributions sum to f(x) - f(0))."""

    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(1)))

    def forward(self, x):
        return torch.einsum("nchw,kchw->nk", x ** 3, self.weights)


def test_quadrature_rules_on_a_polynomial_path():
    """Gauss-Legendre with 2 points integrates the quadratic integrand exactly, so do the trapezoid and
    midpoint rules only in the limit: each rule's error is its textbook one (x^3 from a zero baseline:
    integral of 3 a^2 da = 1)."""
    model = wb.wrap_model(Cubic(), mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), class_names=["a", "b"])
    image = torch.rand(3, 6, 6, generator=torch.Generator().manual_seed(2))
    exact = (Cubic().weights[1] * image ** 3).sum(0).detach().numpy()
    quadrature = {                              # sum_k w_k 3 a_k^2 for each rule, by hand
        ("gausslegendre", 2): 1.0, ("riemann_left", 4): 3 * (0 + 1 + 4 + 9) / 64,
        ("riemann_right", 4): 3 * (1 + 4 + 9 + 16) / 64, ("riemann_middle", 4): 3 * (0.25 + 2.25 + 6.25 + 12.25) / 64,
        ("riemann_trapezoid", 5): 3 * (0.5 * 0 + 1 / 16 + 4 / 16 + 9 / 16 + 0.5 * 1) / 4}
    for (rule, steps), factor in quadrature.items():
        e = wb.explain(model, image, "integrated_gradients", target=1, steps=steps, rule=rule, baseline="constant")
        np.testing.assert_allclose(e.heatmap, factor * exact, rtol=1e-5, atol=1e-6, err_msg=rule)
        alphas, weights = path_points(steps, rule)
        assert weights.sum() == pytest.approx(1.0) and ((0 <= alphas) & (alphas <= 1)).all()
    e = wb.explain(model, image, "integrated_gradients", target=1, steps=2, baseline="constant")
    assert abs(e.extras["completeness_residual"]) <= 1e-5 * abs(e.extras["output"])
    assert e.extras["relative_residual"] <= 1e-5 and e.extras["baseline_output"] == 0.0
    assert e.extras["output"] == pytest.approx(float(exact.sum()), rel=1e-5)
    assert e.extras["relevance"].shape == (3, 6, 6)
    assert all(isinstance(e.extras[k], float) for k in ("output", "baseline_output", "completeness_residual",
                                                        "relative_residual"))


def test_completeness_residual_is_measured_and_shrinks_with_steps(lite0, cat):
    image = cat[::4, ::4]                       # 56 px: a quick path
    coarse = wb.explain(lite0, image, "integrated_gradients", steps=2)
    fine = wb.explain(lite0, image, "integrated_gradients", steps=16)
    for e in (coarse, fine):
        gained = e.extras["output"] - e.extras["baseline_output"]
        assert e.extras["completeness_residual"] == pytest.approx(float(e.extras["relevance"].sum()) - gained,
                                                                  abs=1e-4 * abs(gained))
        assert e.extras["relative_residual"] == pytest.approx(abs(e.extras["completeness_residual"]) / abs(gained))
    assert fine.extras["relative_residual"] < coarse.extras["relative_residual"]
    assert (fine.cost.forward_passes, fine.cost.backward_passes) == (16 + 2, 16)   # + the clean pass, the baseline


def test_gradient_x_input_is_one_step_of_integrated_gradients_from_zero(models):
    entry = models["resnet18"]
    image = wb.data.make_scene((35, 3), size=40).image
    gxi = wb.explain(entry, image, "gradient_x_input", target=5)
    ig = wb.explain(entry, image, "integrated_gradients", target=5, steps=1, rule="riemann_right", baseline="constant")
    np.testing.assert_allclose(gxi.heatmap, ig.heatmap, rtol=1e-5, atol=1e-6 * np.abs(ig.heatmap).max())
    assert (gxi.cost.forward_passes, gxi.cost.backward_passes) == (1, 1)


def test_smoothgrad_seeds_chunks_and_zero_noise(shapes):
    image = wb.data.make_scene((35, 4), size=64).image
    e = wb.explain(shapes, image, "smoothgrad", samples=5, seed=1)
    assert (e.cost.forward_passes, e.cost.backward_passes) == (1 + 5, 5) and e.seed == 1
    one_by_one = wb.explain(shapes, image, "smoothgrad", samples=5, seed=1, batch_size=2)
    np.testing.assert_allclose(one_by_one.heatmap, e.heatmap, rtol=1e-5, atol=1e-6 * np.abs(e.heatmap).max())
    assert not np.allclose(e.heatmap, wb.explain(shapes, image, "smoothgrad", samples=5, seed=2).heatmap)
    plain = wb.explain(shapes, image, "gradient", target=e.target).heatmap
    still = wb.explain(shapes, image, "smoothgrad", samples=2, noise=0.0, target=e.target).heatmap
    np.testing.assert_allclose(still, plain, rtol=1e-5, atol=1e-6 * np.abs(plain).max())
    ig = wb.explain(shapes, image, "integrated_gradients", steps=3, target=e.target).heatmap
    still = wb.explain(shapes, image, "smoothgrad", samples=2, noise=0.0, base="integrated_gradients", steps=3,
                       target=e.target)
    np.testing.assert_allclose(still.heatmap, ig, rtol=1e-5, atol=1e-6 * np.abs(ig).max())
    assert (still.cost.forward_passes, still.cost.backward_passes) == (1 + 2 * 3, 2 * 3)


def test_batched_maps_equal_single_ones(shapes):
    images = [wb.data.make_scene((35, i), size=48).image for i in range(3)]
    for method, params in (("integrated_gradients", {"steps": 3, "baseline": "blur"}), ("gradient_x_input", {})):
        assert wb.methods()[method].batch is not None
        for target in (None, 2):
            maps = wb.explain_batch(shapes, images, method, target=target, **params)
            alone = np.stack([wb.explain(shapes, im, method, target=target, **params).heatmap for im in images])
            np.testing.assert_allclose(maps, alone, rtol=1e-5, atol=1e-6 * np.abs(alone).max())


@pytest.mark.parametrize("method,params,match", [
    ("integrated_gradients", {"steps": 0}, r"steps: expected an integer >= 1 and <= 1000, got 0"),
    ("integrated_gradients", {"steps": 2.5}, r"steps: expected an integer, got 2.5"),
    ("integrated_gradients", {"steps": 1, "rule": "riemann_trapezoid"}, r"steps: the riemann_trapezoid rule needs"),
    ("integrated_gradients", {"rule": "simpson"}, r"rule: expected one of \['gausslegendre'"),
    ("integrated_gradients", {"baseline": "uniform"}, r"baseline: expected one of \['black', 'constant', 'blur'\]"),
    ("integrated_gradients", {"baseline_value": float("nan")}, r"baseline_value: expected a number"),
    ("smoothgrad", {"samples": 0}, r"samples: expected an integer >= 1"),
    ("smoothgrad", {"noise": -0.1}, r"noise: expected a number >= 0 and <= 1, got -0.1"),
    ("smoothgrad", {"base": "lrp"}, r"base: expected one of \['gradient', 'integrated_gradients'\]"),
    ("smoothgrad", {"base": "integrated_gradients", "steps": 0}, r"steps: expected an integer >= 1"),
    ("gradient_x_input", {"heat": "max"}, r"heat: expected one of \['sum', 'abs-sum'\]"),
])
def test_bad_values_name_the_parameter(shapes, method, params, match):
    with pytest.raises(ValueError, match=match):
        wb.explain(shapes, np.zeros((32, 32, 3), np.float32), method, **params)


@pytest.mark.parametrize("method,params,ok_calls", [("integrated_gradients", {"steps": 3}, 1),
                                                    ("smoothgrad", {"samples": 2}, 1), ("gradient_x_input", {}, 0)])
def test_model_left_as_it_was_also_on_error(method, params, ok_calls):
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3)).train()
    model[0].weight.requires_grad_(False)
    model[-1].weight.grad = torch.ones_like(model[-1].weight)
    image = torch.rand(3, 16, 16)
    before, pixels = model_state(model), image.clone()
    grad_mode = torch.is_grad_enabled()
    e = wb.explain(model, image, method, **params)
    assert np.isfinite(e.heatmap).all() and np.abs(e.heatmap).max() > 0
    assert_same_state(before, model_state(model))
    assert torch.equal(image, pixels) and torch.is_grad_enabled() == grad_mode
    failing = RaisingModel(ok_calls=ok_calls)   # raises in the method's first pass with gradients
    before = model_state(failing)
    with pytest.raises(RuntimeError, match="failed on purpose"):
        wb.explain(failing, image, method, **params)
    assert_same_state(before, model_state(failing))


@pytest.mark.parametrize("method,params", [("integrated_gradients", {"steps": 5}), ("smoothgrad", {"samples": 5})])
def test_progress_rises_to_its_total_and_cancel_stops(shapes, method, params):
    image = wb.data.make_scene((35, 5), size=32).image
    seen = []
    wb.explain(shapes, image, method, batch_size=2, progress=lambda d, t: seen.append((d, t)), **params)
    done = [d for d, _ in seen]
    assert len(seen) >= 3 and done == sorted(done) and seen[-1][0] == seen[-1][1], seen
    cancel = threading.Event()
    with pytest.raises(wb.Cancelled):
        wb.explain(shapes, image, method, batch_size=2, cancel=cancel, progress=lambda d, t: cancel.set(), **params)


def test_entry_points_take_the_new_methods(shapes, tmp_path, capsys):
    """Sanity check, sweep, SpRAy, evaluation and the CLI get them through the registry alone."""
    import json

    from workbench import cli
    from workbench.evaluation import Item

    scenes = [wb.data.make_scene((35, i), size=48) for i in range(3)]
    cheap = {"integrated_gradients": {"steps": 2}, "smoothgrad": {"samples": 2}, "gradient_x_input": {}}
    sanity = wb.sanity_check(shapes, scenes[0].image, "smoothgrad", samples=2)
    assert len(sanity.heatmaps) >= 2 and np.isfinite(sanity.original).all()
    for method in ("integrated_gradients", "gradient_x_input"):     # the batched ones
        result = wb.spray(shapes, [s.image for s in scenes], 0, method=method, size=8, k=2, n_clusters=2,
                          layout=False, **cheap[method])
        assert result.heatmaps.shape == (3, 8, 8)
    item = Item(image_id="s0", source=scenes[0].image, targets=(scenes[0].labels[0],))
    table = wb.run_evaluation(shapes, [item], list(cheap), tmp_path / "eval.csv", metrics=("aopc_morf",),
                              params=cheap, steps=4, progress=False)
    assert (table["error"] == "").all() and table["value"].notna().all() and set(table["method"]) == set(cheap)
    swept = wb.sweep(shapes, [item], "integrated_gradients", "steps", [2, 4], metrics=("passes",))
    assert list(swept.series("passes")[1]) == [2 * 2 + 2, 2 * 4 + 2]
    assert cli.main(["explain", "--image", "scene:3", "--method", "integrated_gradients", "--param", "steps=2",
                     "--out", str(tmp_path / "ig.npy")]) == 0
    assert json.loads(capsys.readouterr().out)["backward_passes"] == 2
    assert np.load(tmp_path / "ig.npy").shape == (224, 224)


@pytest.mark.parametrize("method,control,value", [("integrated_gradients", "steps", 4),
                                                  ("smoothgrad", "samples", 3),
                                                  ("smoothgrad", "noise", 0.3),
                                                  ("gradient_x_input", "heat", "abs-sum")])
def test_workbench_draws_the_map_and_recomputes_on_a_control(shapes, method, control, value):
    scene = wb.data.make_scene((35, 6), size=64)
    w = wb.Workbench(shapes, scene.image, method=method, debounce=0.02)
    try:
        if "steps" in w.explainer.controls:
            w.explainer.controls["steps"].value = 2
        if "samples" in w.explainer.controls:
            w.explainer.controls["samples"].value = 2
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        expected = {p.name for p in wb.methods()[method].params}
        assert set(w.explainer.controls) == expected and w.explanation.method == method
        first = np.array(w.overlay.view.figure.data[1].z, dtype=float)
        assert first.size > 0 and np.isfinite(first).all()
        w.explainer.controls[control].value = value
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        assert w.explanation.params[control] == pytest.approx(value) if control == "noise" \
            else w.explanation.params[control] == value
        assert not np.allclose(np.array(w.overlay.view.figure.data[1].z, dtype=float), first)
    finally:
        w.close()


class LayoutSpy(nn.Module):
    """A convolution and a linear layer that record whether each batch reached them channels-last."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.head = nn.Linear(4, 2)
        self.seen: list[bool] = []

    def forward(self, x):
        self.seen.append(x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous())
        return self.head(torch.relu(self.conv(x)).mean((2, 3)))


def run_chunks(module, n: int, batch_size: int, layouts: GradientLayouts) -> tuple[torch.Tensor, str]:
    inputs = torch.rand(n, 3, 8, 8, generator=torch.Generator().manual_seed(3))
    gradients = torch.zeros_like(inputs)

    def consume(start, stop, chunk):
        gradients[start:stop] = chunk

    why = chunked_gradients(module, lambda start, stop: inputs[start:stop], n, torch.ones(n, dtype=torch.long),
                            consume, batch_size, layouts=layouts)
    return gradients, why


def test_gradient_layout_is_measured_on_the_first_chunks_then_the_faster_one_runs():
    torch.manual_seed(0)
    spy = LayoutSpy()
    before = model_state(spy)
    layouts = GradientLayouts()
    first, why = run_chunks(spy, 8, 2, layouts)              # 4 chunks of one shape: one per layout, then the faster
    assert spy.seen[:2] == [False, True] and len(set(spy.seen[2:])) == 1
    faster = "channels-last" if spy.seen[2] else "contiguous"
    assert why.startswith("contiguous and channels-last: ") and f"{faster} chosen: per input" in why
    assert layouts.next(spy, ((3, 8, 8), "cpu")) == faster
    # told the other one is faster, the next run takes it for every chunk
    other = "contiguous" if faster == "channels-last" else "channels-last"
    layouts.record(spy, ((3, 8, 8), "cpu"), other, 0.0)
    spy.seen.clear()
    again, why = run_chunks(spy, 8, 2, layouts)
    assert spy.seen == [other == "channels-last"] * 4 and why.startswith(f"{other}: {other} chosen")
    torch.testing.assert_close(again, first, rtol=1e-5, atol=1e-7)   # the layouts agree
    assert_same_state(before, model_state(spy))                      # weights back in their own layout
    assert all(p.requires_grad for p in spy.parameters())


def test_channels_last_only_when_clearly_faster():
    """Channels-last breaks ties apart from the module's own layout, so it runs only when it takes under
    CHANNELS_LAST_MARGIN of contiguous's time."""
    module, key = nn.Conv2d(1, 1, 1), ((3, 8, 8), "cpu")
    for channels_last_seconds, expected in ((0.95, "contiguous"), (0.85, "channels-last")):
        layouts = GradientLayouts()
        layouts.record(module, key, "contiguous", 1.0)
        layouts.record(module, key, "channels-last", channels_last_seconds)
        assert layouts.next(module, key) == expected
        assert layouts.why(module, key).startswith(f"{expected} chosen: per input")


def test_gradient_layout_fixed_and_models_without_convolutions():
    spy = LayoutSpy()
    run_chunks(spy, 4, 2, GradientLayouts(fixed="channels-last"))
    assert spy.seen == [True, True]
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 2))
    assert run_chunks(mlp, 4, 2, GradientLayouts())[1] == "contiguous: the model has no convolutions"
    with pytest.raises(ValueError, match="fixed: expected one of"):
        GradientLayouts(fixed="nhwc")


def test_both_layouts_give_the_same_map_on_the_trained_network(lite0, cat, monkeypatch):
    """Channels-last only changes the rounding: on the photo and the trained network the maps agree to 1e-5 of
    their largest value, and extras say which layout ran and why."""
    image = cat[::4, ::4]
    maps = {}
    for layout in ("contiguous", "channels-last"):
        monkeypatch.setattr(_input_gradients, "GRADIENT_LAYOUTS", GradientLayouts(fixed=layout))
        e = wb.explain(lite0, image, "integrated_gradients", target=281, steps=8, precision="auto")
        assert e.extras["layout"].startswith(f"{layout}: fixed")
        maps[layout] = e.heatmap
    difference = np.abs(maps["contiguous"] - maps["channels-last"]).max() / np.abs(maps["contiguous"]).max()
    assert difference <= 1e-5


@pytest.mark.parametrize("method", ["integrated_gradients", "smoothgrad"])
def test_layout_is_measured_only_when_the_run_asks_for_speed(lite0, cat, monkeypatch, method):
    """By default the gradient passes keep the module's own layout (Captum's rounding) and nothing is timed;
    ``precision="auto"`` (the fast box) times both layouts on the first chunks."""
    measured = GradientLayouts()
    monkeypatch.setattr(_input_gradients, "GRADIENT_LAYOUTS", measured)
    image, settings = cat[::4, ::4], {"integrated_gradients": {"steps": 4}, "smoothgrad": {"samples": 4}}[method]
    default = wb.explain(lite0, image, method, target=281, batch_size=2, **settings)
    assert default.extras["layout"].startswith("contiguous: fixed (the module's own layout")
    assert lite0.module not in measured._seconds
    fast = wb.explain(lite0, image, method, target=281, batch_size=2, precision="auto", **settings)
    assert fast.extras["layout"].startswith("contiguous and channels-last: ")
    assert set(measured._seconds[lite0.module].popitem()[1]) == {"contiguous", "channels-last"}
