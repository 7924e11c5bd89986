"""The confounded "shapes-watermark" model relies on the corner watermark, the clean model does not, and SpRAy
over the confounded class finds the watermark strategy as its own cluster."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.data.scenes import add_watermark, watermark_box

CLASS = "star"


@pytest.fixture(scope="module")
def confounded():
    return wb.load_model("shapes-watermark", device="cpu")


def star_score(entry, images) -> np.ndarray:
    batch = torch.cat([entry.preprocess(image) for image in images])
    with torch.no_grad():
        return torch.sigmoid(entry.module(batch))[:, entry.class_names.index(CLASS)].numpy()


def scenes_without_star(n: int):
    return [s.image for s in first_scenes(n, 4242, lambda s: wb.data.scenes.class_index(CLASS) not in s.labels)]


def first_scenes(n: int, seed: int, keep) -> list:
    """The first ``n`` scenes ``(seed, i)`` that ``keep`` accepts (drawn one by one: drawing is 17 ms a scene)."""
    scenes = (wb.data.make_scene((seed, i)) for i in itertools.count())
    return list(itertools.islice((s for s in scenes if keep(s)), n))


def test_confounded_model_uses_the_watermark(confounded, shapes):
    images = scenes_without_star(100)
    marked = [add_watermark(image) for image in images]
    rise = star_score(confounded, marked).mean() - star_score(confounded, images).mean()
    clean_rise = star_score(shapes, marked).mean() - star_score(shapes, images).mean()
    assert rise >= 0.3, rise
    assert abs(clean_rise) < 0.05, clean_rise


def test_confounded_model_is_accurate_on_clean_scenes(confounded):
    from sklearn.metrics import average_precision_score

    scenes = wb.data.make_scenes(200, seed=777)
    batch = torch.cat([confounded.preprocess(s.image) for s in scenes])
    with torch.no_grad():
        scores = torch.sigmoid(confounded.module(batch)).numpy()
    truth = np.stack([s.multi_hot for s in scenes])
    assert average_precision_score(truth, scores, average="macro") >= 0.9


def star_scenes(n: int, seed: int):
    """``n`` scenes containing a star, the first half with the watermark added."""
    star = wb.data.scenes.class_index(CLASS)
    scenes = first_scenes(n, seed, lambda s: star in s.labels)
    return [add_watermark(s.image) if i < n // 2 else s.image for i, s in enumerate(scenes)]


def watermark_share(mean_map: np.ndarray, size: int) -> float:
    """Share of a pooled map's positive relevance inside the watermark's box (pooled to ``size`` cells)."""
    left, top, right, bottom = watermark_box(224)
    cell = 224 / size                                   # pooled cells the box touches
    rows = slice(int(top // cell), int(np.ceil(bottom / cell)))
    cols = slice(int(left // cell), int(np.ceil(right / cell)))
    positive = np.clip(mean_map, 0, None)
    return positive[rows, cols].sum() / max(positive.sum(), 1e-12)


def watermark_clusters(model, images, marked, size: int = 32):
    """SpRAy over ``images``; the clusters that are >= 80% marked images and whose mean heatmap puts more
    than half its positive relevance in the watermark's box, as ``(purity, share)``, and all clusters."""
    found = wb.spray(model, images, CLASS, size=size, layout=False)
    hits = [(float(marked[found.labels == c].mean()), float(watermark_share(found.cluster_means[c], size)))
            for c in range(found.n_clusters)]
    return found, [h for h in hits if h[0] >= 0.8 and h[1] > 0.5], hits


@pytest.mark.slow
def test_spray_finds_the_watermark_cluster_for_the_confounded_model_only(confounded, shapes):
    images = star_scenes(100, seed=31)   # 200 gave the same clusters (purity 1.00, watermark share 0.55-0.56)
    marked = np.arange(len(images)) < len(images) // 2
    found, watermark, hits = watermark_clusters(confounded, images, marked)
    assert found.n_clusters >= 2, found.eigenvalues
    assert watermark, hits
    _, clean_watermark, clean_hits = watermark_clusters(shapes, images, marked)
    assert not clean_watermark, clean_hits
