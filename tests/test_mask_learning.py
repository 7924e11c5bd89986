"""Mask learning: NeuroMask, Meaningful and Extremal Perturbation on a toy model with a known square,
NeuroMask's loss by hand, agreement with TorchRay's Extremal Perturbation, validation and restoration."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import workbench as wb
from conftest import LinearInPixels, assert_same_state, model_state
from workbench.explainers.neuromask import laplacian_for

SIZE, TOP, LEFT, SIDE = 48, 12, 24, 12


def square_model():
    """Class 0 responds only to the pixels of one 12x12 square; class 1's logit is always 0."""
    weights = torch.zeros(2, 3, SIZE, SIZE)
    weights[0, :, TOP:TOP + SIDE, LEFT:LEFT + SIDE] = 6.0 / (3 * SIDE * SIDE)
    return LinearInPixels(weights)


@pytest.fixture(scope="module")
def toy():
    """A bright square on a dark background: hiding, blacking out or blurring the square lowers class 0."""
    rng = np.random.default_rng(0)
    image = rng.uniform(0.0, 0.2, size=(SIZE, SIZE, 3)).astype(np.float32)
    image[TOP:TOP + SIDE, LEFT:LEFT + SIDE] = rng.uniform(0.8, 1.0, size=(SIDE, SIDE, 3))
    return square_model(), image


def share_in_square(heat):
    heat = np.clip(heat, 0, None)
    return heat[TOP:TOP + SIDE, LEFT:LEFT + SIDE].sum() / heat.sum()


# The paper's Meaningful Perturbation settings are tuned for 224 px photos: on this 48 px toy its 28/224
# grid would be 6x6 cells of 8 px (coarser than the square) and its area weight too weak to stop Adam's
# per-cell steps from spreading the deletion, so the test uses a 24x24 grid and a larger area weight.
# NeuroMask runs the paper's setting (x * M at input resolution): its default blurred fill (sigma 2 px here)
# leaves the inside of a flat square as it is, so hiding it does not lower class 0.
# Extremal Perturbation gets its own toy below: on this one a blur (its only perturbation) changes a flat
# square only along its border, so the reward lives on the border and the smooth masks spill around it.
@pytest.mark.parametrize("method,params", [
    ("neuromask", {"iterations": 150, "lr": 0.1, "mask_resolution": 0, "init": "uniform", "fill": "black"}),
    ("meaningful_perturbation", {"iterations": 150, "mask_resolution": 24, "l1": 3e-3, "l2": 1e-4}),
])
def test_mass_on_the_square_and_loss_decreases(toy, method, params):
    model, image = toy
    e = wb.explain(model, image, method, target=0, **params)
    assert share_in_square(e.heatmap) >= 0.8, share_in_square(e.heatmap)
    total = e.loss_history["total"]
    assert len(total) == params["iterations"] and total[-1] < total[0]
    assert e.cost.backward_passes == params["iterations"] * len(params.get("areas", [0]))


EP_SIZE, EP_TOP, EP_LEFT, EP_SIDE, EP_CELL = 112, 20, 28, 56, 8


@pytest.fixture(scope="module")
def textured_toy():
    """Extremal Perturbation's toy: a 56 px checkerboard square (8 px cells) on a grey 112 px image and a model
    whose class-0 logit is the square's pixels times that pattern (+20 when intact). A blur removes the
    pattern everywhere in the square, so every square pixel carries reward; the square is centred
    horizontally with an odd number of cells, so the paper's jitter (a horizontal flip every other step)
    leaves image and model unchanged."""
    yy, xx = np.mgrid[0:EP_SIDE, 0:EP_SIDE]
    pattern = np.where((yy // EP_CELL + xx // EP_CELL) % 2 == 0, 1.0, -1.0).astype(np.float32)
    assert np.array_equal(pattern, pattern[:, ::-1]) and EP_LEFT * 2 + EP_SIDE == EP_SIZE
    inside = (slice(EP_TOP, EP_TOP + EP_SIDE), slice(EP_LEFT, EP_LEFT + EP_SIDE))
    weights = torch.zeros(2, 3, EP_SIZE, EP_SIZE)
    weights[0, :, inside[0], inside[1]] = torch.from_numpy(pattern) * 20.0 / (3 * EP_SIDE ** 2 * 0.4)
    rng = np.random.default_rng(0)
    image = (0.5 + rng.uniform(-0.05, 0.05, size=(EP_SIZE, EP_SIZE, 3))).astype(np.float32)
    image[inside] = 0.5 + 0.4 * pattern[..., None]
    return LinearInPixels(weights), image


def test_extremal_perturbation_mass_on_the_square_and_loss_decreases(textured_toy):
    model, image = textured_toy
    # Paper defaults except: one area (0.1 of the padded mask, about half the square), a grid step of 4 px
    # (bumps of sigma 12 px instead of 21, for a 112 px image) and 500 instead of 800 iterations.
    e = wb.explain(model, image, "extremal_perturbation", target=0, areas=(0.1,), mask_step=4, iterations=500)
    heat = np.clip(e.heatmap, 0, None)
    share = heat[EP_TOP:EP_TOP + EP_SIDE, EP_LEFT:EP_LEFT + EP_SIDE].sum() / heat.sum()
    assert share >= 0.8, share
    row, col = np.unravel_index(np.argmax(e.heatmap), e.heatmap.shape)
    assert EP_TOP <= row < EP_TOP + EP_SIDE and EP_LEFT <= col < EP_LEFT + EP_SIDE
    total = e.loss_history["total"]
    assert len(total) == 500 and total[-1] < total[0]
    assert e.cost.backward_passes == 500


def test_neuromask_loss_by_hand(toy):
    model, image = toy
    spec = {"l_pred": 0.4, "l_sparse": 0.35, "l_smooth": 0.03, "temperature": 0.3}
    paper = {"mask_resolution": 0, "init": "uniform", "fill": "black"}  # x * M at input resolution
    e = wb.explain(model, image, "neuromask", target=0, iterations=1, seed=5, **spec, **paper)
    w = torch.from_numpy(e.extras["initial_weights"])[None, None]
    mask = torch.sigmoid(w / spec["temperature"])
    x = torch.from_numpy(image).permute(2, 0, 1)[None]
    with torch.no_grad():
        ce = F.cross_entropy(model(x * mask), torch.tensor([0]))
    kernel = laplacian_for(SIZE)[None, None]
    smooth = F.conv2d(F.pad(w, (1, 1, 1, 1), mode="replicate"), kernel).pow(2).mean()
    expected = spec["l_pred"] * ce + spec["l_sparse"] * (w + 10).abs().mean() + spec["l_smooth"] * smooth
    assert abs(e.loss_history["total"][0] - expected.item()) <= 1e-4 * abs(expected.item())
    assert (-10 <= w).all() and (w <= 10).all() and w.std() > 3  # U(-10, 10)


def test_neuromask_sparsity_weight_makes_sparser_masks(toy):
    model, image = toy
    loose = wb.explain(model, image, "neuromask", target=0, iterations=100, l_sparse=0.05, lr=0.1)
    sparse = wb.explain(model, image, "neuromask", target=0, iterations=100, l_sparse=2.0, lr=0.1)
    assert sparse.heatmap.mean() < loose.heatmap.mean()


def test_extremal_perturbation_agrees_with_torchray(shapes, scene):
    from torchray.attribution.extremal_perturbation import extremal_perturbation as torchray_ep

    # the same algorithm step for step: the masks agree to float rounding after 20 steps (max difference 5e-7
    # measured; rounding differences grow chaotically over hundreds of steps)
    target, iterations = scene.labels[0], 20
    e = wb.explain(shapes, scene.image, "extremal_perturbation", target=target, areas=[0.1], iterations=iterations)
    x = shapes.preprocess(scene.image)
    flags = [p.requires_grad for p in shapes.module.parameters()]
    try:
        reference, _ = torchray_ep(shapes.module, x, target, areas=[0.1], max_iter=iterations)
    finally:  # TorchRay switches requires_grad off and never restores it
        for p, flag in zip(shapes.module.parameters(), flags):
            p.requires_grad_(flag)
    ours, theirs = e.extras["masks"][0], reference[0, 0].numpy()
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)


@pytest.mark.parametrize("method,params,match", [
    ("neuromask", {"l_pred": -1.0}, "l_pred: expected a number >= 0"),
    ("neuromask", {"iterations": 0}, "iterations: expected an integer >= 1"),
    ("neuromask", {"temperature": 0.0}, "temperature: expected a number >= 0.01"),
    ("meaningful_perturbation", {"l2": -0.1}, "l2: expected a number >= 0"),
    ("extremal_perturbation", {"areas": [0.1, 1.2]}, "areas: expected a number > 0 and < 1"),
    ("extremal_perturbation", {"areas": [0.0]}, "areas: expected a number > 0 and < 1"),
])
def test_bad_hyper_parameters(toy, method, params, match):
    model, image = toy
    with pytest.raises(ValueError, match=match):
        wb.explain(model, image, method, **params)


class RaisesAfter(torch.nn.Module):
    """A toy model that raises in its n-th forward call (mid-optimisation)."""

    def __init__(self, n):
        super().__init__()
        self.inner = square_model()
        self.norm = torch.nn.BatchNorm2d(3)
        self.n, self.calls = n, 0

    def forward(self, x):
        self.calls += 1
        if self.calls == self.n:
            raise RuntimeError("model failed on purpose")
        return self.inner(self.norm(x))


@pytest.mark.parametrize("method", ["neuromask", "meaningful_perturbation", "extremal_perturbation"])
def test_model_restored_after_an_error_mid_optimisation(toy, method):
    _, image = toy
    model = RaisesAfter(n=5)
    model.train()
    before = model_state(model)
    with pytest.raises(RuntimeError, match="model failed on purpose"):
        wb.explain(model, image, method, iterations=50)
    assert_same_state(before, model_state(model))


def test_smooth_max_equals_upsample_then_softmax_and_its_gradient_is_exact():
    """The fused smooth-max (Fong et al. 2019, sec. 3.2) against the direct computation TorchRay does:
    nearest upsampling, crop, weight, softmax-weighted sum; gradients by autograd of that and by gradcheck."""
    from workbench.explainers.extremal_perturbation import COLDNESS, SmoothMax, SmoothMaskGenerator

    generator = SmoothMaskGenerator((40, 34), 3, 9.0, "cpu")
    taps = 2 * generator.radius + 1
    params = torch.rand(2, 1, *generator.shape_in, dtype=torch.float64)
    m = F.unfold(params, (taps, taps), padding=(generator.padding,) * 2).reshape(2, -1, *generator.shape_mid)
    blocks = generator.blocks.double()
    weight = blocks.reshape(1, taps * taps, *generator.shape_up)[:, :, :generator.shape_out[0], :generator.shape_out[1]]

    def direct(m):
        up = F.interpolate(m, size=generator.shape_up, mode="nearest")[:, :, :generator.shape_out[0],
                                                                       :generator.shape_out[1]]
        v = weight * up
        return (v * torch.softmax(COLDNESS * v, dim=1)).sum(dim=1)

    a, b = m.clone().requires_grad_(), m.clone().requires_grad_()
    fused = SmoothMax.apply(a, blocks).reshape(2, *generator.shape_up)[:, :generator.shape_out[0],
                                                                        :generator.shape_out[1]]
    reference = direct(b)
    torch.testing.assert_close(fused, reference, rtol=0, atol=1e-12)
    upstream = torch.randn_like(reference)
    (fused * upstream).sum().backward()
    (reference * upstream).sum().backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-9, atol=1e-9)
    corner = blocks[:, :, :4, :, :4].contiguous()
    assert torch.autograd.gradcheck(lambda x: SmoothMax.apply(x, corner), (m[:1, :, :4, :4].clone().requires_grad_(),))


@pytest.mark.parametrize("sigma", [1.0, 3.0, 10.0, 100.0])
@pytest.mark.parametrize("padding, mode", [("zeros", "constant"), ("replicate", "nearest")])
@pytest.mark.parametrize("size", [(40, 33), (644, 30), (5, 9)])
def test_gaussian_blur_equals_scipy(sigma, padding, mode, size):
    """The blur of Meaningful and Extremal Perturbation against scipy's ``gaussian_filter`` (same 4-sigma
    radius at integer sigmas), on axes longer and shorter than the kernel (the matrix path)."""
    from scipy.ndimage import gaussian_filter

    from workbench.blur import gaussian_blur

    x = np.random.default_rng(0).random((2, 3, *size))
    expected = gaussian_filter(x, sigma=(0, 0, sigma, sigma), mode=mode, truncate=4.0)
    np.testing.assert_allclose(gaussian_blur(torch.from_numpy(x), sigma, padding).numpy(), expected, atol=1e-12)


def test_gaussian_blur_names_a_bad_padding():
    from workbench.blur import gaussian_blur

    with pytest.raises(ValueError, match="padding: expected one of"):
        gaussian_blur(torch.zeros(1, 1, 4, 4), 1.0, padding="reflect")


def test_the_mask_learners_are_the_methods_whose_spec_says_so():
    """``Method.learns_mask`` reads the spec's ``learns_mask`` (set by ``MaskLearningSpec``), not the registry's
    knowledge of the mask-learning module (the import cycle of issue 37)."""
    learners = {name for name, method in wb.methods().items() if method.learns_mask}
    assert learners == {"extremal_perturbation", "meaningful_perturbation", "neuromask"}
