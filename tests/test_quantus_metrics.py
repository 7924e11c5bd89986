"""Faithfulness correlation, max-sensitivity, sparseness and complexity equal Quantus' on the same model, image,
map and random draws (Quantus' numpy draws replaced by the workbench's, which come from torch generators)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import assert_same_state, model_state
from workbench.images import as_image_tensor
from workbench.metrics.complexity import complexity, sparseness
from workbench.metrics.faithfulness import faithfulness_correlation, random_subsets
from workbench.metrics.robustness import max_sensitivity, perturbed_inputs

SIZE = 56


@pytest.fixture(scope="module")
def small():
    scene = wb.data.make_scene((777, 0))
    return scene.image[::4, ::4], scene.labels[0]   # 56 x 56


def replay(values):
    """A stand-in for a numpy random function that returns ``values`` one call after another."""
    queue = list(values)

    def draw(*args, **kwargs):
        return queue.pop(0)
    return draw


def test_faithfulness_correlation_equals_quantus(shapes, small, monkeypatch):
    import quantus

    image, target = small
    heat = np.random.default_rng(3).normal(size=(SIZE, SIZE)).astype(np.float32)
    before = model_state(shapes.module)
    ours = faithfulness_correlation(shapes, image, heat, target=target, runs=20, subset_size=300, fill="constant",
                                    fill_value=0.0, seed=5, output="logit")
    assert_same_state(before, model_state(shapes.module))
    monkeypatch.setattr(np.random, "choice", replay(random_subsets(3 * SIZE * SIZE, 300, 20, 5)))
    metric = quantus.FaithfulnessCorrelation(nr_runs=20, subset_size=300, perturb_baseline=0.0, abs=False,
                                             normalise=False, return_aggregate=False, disable_warnings=True)
    reference = metric(model=shapes.module, x_batch=shapes.preprocess(image).numpy(), y_batch=np.array([target]),
                       a_batch=heat[None, None], softmax=False, device="cpu", channel_first=True)[0]
    assert abs(ours.value - reference) <= 1e-4 * max(1.0, abs(reference))
    assert ours.cost.forward_passes == 21 and -1 <= ours.value <= 1


def test_faithfulness_correlation_of_the_true_contributions_is_one():
    from conftest import LinearInPixels

    rng = np.random.default_rng(0)
    w = rng.normal(size=(2, 3, 16, 16)).astype(np.float32)
    image = rng.uniform(0.1, 1.0, size=(16, 16, 3)).astype(np.float32)
    # one weight per pixel, the same in every channel: the map of each pixel's weight times its channel sum
    w[0] = w[0, :1]
    model = LinearInPixels(torch.from_numpy(w))
    heat = w[0, 0] * image.sum(axis=2) / 3  # a channel's mean share of the pixel's contribution
    # deleting feature (c, i) to 0 costs w_i * x_ci; the map credits w_i * mean_c x_ci: close, not equal
    result = faithfulness_correlation(model, image, heat, target=0, runs=50, subset_size=40, fill="constant")
    assert result.value > 0.8


def test_max_sensitivity_equals_quantus(shapes, small, monkeypatch):
    import quantus

    image, target = small
    e = wb.explain(shapes, image, "gradient", target=target)
    ours = max_sensitivity(shapes, image, e, samples=3, radius=0.1, seed=2)
    # Quantus adds its noise to the normalised input: feed it the workbench's clipped pixel-space noise there
    x = shapes.preprocess(image)
    noisy = shapes.normalise(perturbed_inputs(as_image_tensor(image), 3, 0.1, 2))
    monkeypatch.setattr(np.random, "uniform", replay([(n - x[0]).reshape(1, -1).numpy() for n in noisy]))
    mean = torch.tensor(shapes.mean).view(1, 3, 1, 1)
    std = torch.tensor(shapes.std).view(1, 3, 1, 1)

    def explain(model, inputs, targets, **kwargs):
        pixels = torch.clamp(torch.as_tensor(inputs) * std + mean, 0.0, 1.0)
        return wb.explain_batch(shapes, list(pixels), "gradient", target=int(targets[0]))[:, None]

    metric = quantus.MaxSensitivity(nr_samples=3, lower_bound=0.1, normalise=False, abs=False,
                                    return_aggregate=False, disable_warnings=True)
    reference = metric(model=shapes.module, x_batch=x.numpy(), y_batch=np.array([target]),
                       a_batch=e.heatmap[None, None], explain_func=explain, device="cpu", channel_first=True)[0]
    assert abs(ours.value - reference) <= 1e-4 * max(1.0, abs(reference))
    assert ours.value > 0 and ours.sensitivities.shape == (3,)


def test_max_sensitivity_of_a_bare_map_needs_the_method(shapes, small):
    image, _ = small
    with pytest.raises(ValueError, match="method: expected the name of the method"):
        max_sensitivity(shapes, image, np.ones((SIZE, SIZE)))


@pytest.mark.parametrize("seed", [0, 1])
def test_sparseness_and_complexity_equal_quantus(seed):
    import quantus

    rng = np.random.default_rng(seed)
    heat = (rng.normal(size=(40, 30)) * (rng.uniform(size=(40, 30)) < 0.3)).astype(np.float32)
    x = rng.uniform(size=(1, 3, 40, 30)).astype(np.float32)
    for ours, metric in ((sparseness, quantus.Sparseness), (complexity, quantus.Complexity)):
        reference = metric(disable_warnings=True, return_aggregate=False)(
            model=None, x_batch=x, y_batch=np.array([0]), a_batch=heat[None, None].copy(), channel_first=True)[0]
        assert abs(ours(heat) - reference) <= 1e-4 * max(1.0, abs(reference))


def test_sparseness_and_complexity_extremes():
    one_hot = np.zeros((10, 10))
    one_hot[3, 4] = 5.0
    flat = np.ones((10, 10))
    assert sparseness(one_hot) > 0.98 and abs(sparseness(flat)) < 1e-9
    assert abs(complexity(one_hot)) < 1e-6 and abs(complexity(flat) - np.log(100)) < 1e-9
    with pytest.raises(ValueError, match="heatmap: expected an H x W map"):
        sparseness(np.ones(5))


def test_max_sensitivity_of_a_map_that_ignores_the_input_is_zero():
    from conftest import LinearInPixels

    rng = np.random.default_rng(1)
    model = LinearInPixels(torch.from_numpy(rng.normal(size=(2, 3, 12, 12)).astype(np.float32)))
    image = rng.uniform(size=(12, 12, 3)).astype(np.float32)
    e = wb.explain(model, image, "gradient", target=0)   # the weights: the same map for every input
    result = max_sensitivity(model, image, e, samples=4, radius=0.3)
    assert result.value <= 1e-6 and result.sensitivities.shape == (4,)
