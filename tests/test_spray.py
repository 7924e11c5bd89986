"""SpRAy's spectral analysis on heatmaps with a known structure: the eigengap counts the strategies."""
from __future__ import annotations

import numpy as np
import pytest

from workbench.analysis.spray import eigengap, pool_heatmaps, spray_heatmaps


def blob(top: int, left: int, size: int = 64, side: int = 16) -> np.ndarray:
    heat = np.zeros((size, size))
    heat[top:top + side, left:left + side] = 1.0
    return heat


def noisy(base: np.ndarray, n: int, scale: float, rng) -> np.ndarray:
    return np.stack([base + scale * rng.random(base.shape) for _ in range(n)])


def test_two_strategies_give_two_clusters():
    rng = np.random.default_rng(0)
    maps = np.concatenate([noisy(blob(4, 4), 30, 0.3, rng), noisy(blob(44, 44), 30, 0.3, rng)])
    result = spray_heatmaps(maps, size=16, k=8, layout=False)
    assert result.n_clusters >= 2
    first, second = result.labels[:30], result.labels[30:]
    assert len(set(first)) == 1 and len(set(second)) == 1 and first[0] != second[0]
    # the cluster means show the two strategies: each puts its mass in its own corner
    top_left = [m[:4, :4].sum() for m in result.cluster_means]
    bottom_right = [m[-4:, -4:].sum() for m in result.cluster_means]
    assert top_left[first[0]] > 4 * top_left[second[0]]
    assert bottom_right[second[0]] > 4 * bottom_right[first[0]]


def test_near_identical_heatmaps_give_one_cluster():
    rng = np.random.default_rng(1)
    maps = noisy(blob(20, 20), 40, 1e-3, rng)
    result = spray_heatmaps(maps, size=16, k=8, layout=False)
    assert result.n_clusters == 1 and set(result.labels) == {0}


def test_pooling_sums_blocks_and_normalises():
    heat = np.zeros((1, 8, 8))
    heat[0, :4, :4] = 2.0
    heat[0, 4:, 4:] = -1.0
    pooled = pool_heatmaps(heat, 2)[0]
    np.testing.assert_allclose(pooled, [[2 / 3, 0], [0, -1 / 3]])
    assert eigengap(np.array([0.0, 0.0, 0.9, 0.95])) == 2


@pytest.mark.parametrize("kwargs,match", [({"size": 1}, "size"), ({"k": 0}, "k: expected")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spray_heatmaps(np.zeros((5, 8, 8)), **kwargs)


def test_spray_on_the_shapes_model(shapes):
    import workbench as wb

    scenes = [s for s in wb.data.make_scenes(40, seed=5) if 4 in s.labels][:12]   # class 4: star
    result = wb.spray(shapes, [s.image for s in scenes], target="star", method="gradient", size=16, k=4)
    assert result.heatmaps.shape == (len(scenes), 16, 16) and result.layout.shape == (len(scenes), 2)
    assert len(result.labels) == len(scenes) and result.cluster_means.shape[0] == result.n_clusters
    assert np.all(np.diff(result.eigenvalues) >= -1e-9)


BACKPROP = ["gradient", "deconvnet", "guided_backprop", "lrp_epsilon", "lrp_alpha2_beta1", "deep_taylor",
            "lrp_epsilon_gamma_box"]


@pytest.mark.parametrize("method", BACKPROP)
@pytest.mark.parametrize("target", ["star", None])
def test_batched_heatmaps_equal_one_image_at_a_time(shapes, method, target):
    """explain_batch runs 3 images per forward/backward pass; each map equals explain's on that image alone
    (also with per-image top-1 targets, which differ across these scenes)."""
    import workbench as wb

    images = [s.image for s in wb.data.make_scenes(5, seed=77)]
    batched = wb.explain_batch(shapes, images, method, target=target, batch_size=3)
    alone = np.stack([wb.explain(shapes, image, method, target=target).heatmap for image in images])
    assert batched.shape == (5, 224, 224)
    scale = np.abs(alone).max()
    np.testing.assert_allclose(batched, alone, atol=1e-4 * scale, rtol=0)


def test_batched_heatmaps_report_progress_and_check_input(shapes):
    import workbench as wb

    seen = []
    images = [s.image for s in wb.data.make_scenes(5, seed=78)]
    wb.explain_batch(shapes, images, "gradient", target=0, batch_size=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    with pytest.raises(ValueError, match="images: expected images of one size"):
        wb.explain_batch(shapes, [images[0], images[1][:100, :100]], "gradient")
    with pytest.raises(ValueError, match="target: unknown class name"):
        wb.explain_batch(shapes, images, "gradient", target="hexagon")
