"""Outputs before/after issue 27 part D (FMO's per-level record, library colour maps, relabelling and one
Gaussian blur): FMO on several scenes and schedules with the budget on and off (heatmap, every per-level
extra, passes), the colour tables, label maps, both blurs and the heatmaps of the methods that blur.
``save PATH`` writes them; ``compare PATH`` recomputes and prints the largest difference."""
from __future__ import annotations

import numpy as np
import torch

import workbench as wb
from _common import save_or_compare

FMO_SETTINGS = [{}, {"budget": 1.0}, {"schedule": [(56, 28), (28, 14), (12, 6)]},
                {"schedule": [(56, 28), (28, 14), (12, 6)], "budget": 1.0, "keep_threshold": 0.3},
                {"keep_fraction": 0.25, "budget": 0.1, "fill": "blur"}, {"level_weights": (1, 2, 3, 4)}]
PER_LEVEL = ("level_maps", "raw_level_maps", "visited", "scored_boxes", "kept_boxes")


def fmo_outputs(model) -> dict[str, np.ndarray]:
    out = {}
    for s in range(3):
        image = wb.data.make_scene((777, s)).image
        for i, setting in enumerate(FMO_SETTINGS):
            e = wb.explain(model, image, "fmo", **setting)
            key = f"fmo/{s}/{i}"
            out[f"{key}/heatmap"] = e.heatmap
            out[f"{key}/passes"] = np.array([e.cost.forward_passes, *e.extras["passes_per_level"]])
            layers = {"level_maps": e.levels.maps, "visited": e.levels.visited}   # typed layers, the rest extras
            for name in PER_LEVEL:
                for level, value in enumerate(layers[name] if name in layers else e.extras[name]):
                    out[f"{key}/{name}/{level}"] = np.asarray(value)
    small = wb.data.make_scene((777, 0)).image[::4, ::4]   # 56 px: the default schedule scaled down
    e = wb.explain(model, small, "fmo", budget=1.0)
    out["fmo/small/heatmap"] = e.heatmap
    return out


def library_outputs(model) -> dict[str, np.ndarray]:
    try:   # after part D the mask-learning blur has a module of its own
        from workbench.blur import gaussian_blur
    except ImportError:
        from workbench.explainers.meaningful_perturbation import gaussian_blur
    from workbench.fills import blur_image
    from workbench.render import colour_table, colourise
    from workbench.superpixels import check_segments, segment

    out = {f"colours/{name}": colour_table(name) for name in ("heat", "signed")}
    heat = np.random.default_rng(0).normal(size=(40, 50))
    out["colourise/signed"], out["colourise/heat"] = colourise(heat), colourise(np.abs(heat))
    image = wb.data.make_scene((777, 1)).image
    out["segment/slic"] = segment(image, 30)
    out["segment/quickshift"] = segment(image[::2, ::2], method="quickshift")
    out["segment/given"] = check_segments(np.random.default_rng(1).choice([-3, 7, 40, 2], size=(9, 11)), 9, 11)
    x = torch.from_numpy(np.random.default_rng(2).uniform(size=(2, 3, 40, 33)))
    for sigma in (0.05, 0.7, 3.0, 5.0, 12.0):
        if 3 * sigma < min(x.shape[-2:]):   # torchvision's reflect padding needs a kernel narrower than the image
            out[f"blur_image/{sigma}"] = blur_image(x, sigma).numpy()
        for padding in ("zeros", "replicate"):
            out[f"gaussian_blur/{padding}/{sigma}"] = gaussian_blur(x, sigma, padding).numpy()
    cheap = {"meaningful_perturbation": {"iterations": 20}, "extremal_perturbation": {"iterations": 20},
             "neuromask": {"iterations": 20}, "occlusion": {"patch": 28, "stride": 14, "fill": "blur"},
             "lime": {"num_samples": 60, "fill": "blur"}, "ablation_ca": {"n_segments": 12, "contexts": 8}}
    for name, setting in cheap.items():
        out[f"method/{name}"] = wb.explain(model, image, name, **setting).heatmap
    return out


def compute() -> dict[str, np.ndarray]:
    model = wb.load_model("shapes", device="cpu")
    return {**fmo_outputs(model), **library_outputs(model)}


if __name__ == "__main__":
    save_or_compare(compute)
