"""Maps before/after issue 40 (CPU-drawn random numbers, float32 without TF32, FMO's batching): every random
method and FMO on shapes-model scenes at a few settings, a random-order uniform-fill perturbation curve and a
sanity check. ``save PATH`` writes them; ``compare PATH`` recomputes and prints, per array, the largest
difference relative to the array's largest magnitude, and exits 1 above 1e-5."""
from __future__ import annotations

import numpy as np

import workbench as wb

from _common import save_or_compare

SETTINGS = {
    "rise": [{"num_masks": 200}, {"num_masks": 130, "grid": 5, "p_keep": 0.3, "batch_size": 16}],
    "lime": [{"num_samples": 100}, {"num_samples": 150, "n_segments": 20, "kernel_width": 0.5}],
    "ablation_ca": [{"n_segments": 12, "contexts": 16}, {"n_segments": 20, "contexts": 24, "p_keep": 0.3}],
    "neuromask": [{"iterations": 10}],
    "meaningful_perturbation": [{"iterations": 10}, {"iterations": 8, "jitter": 8}],
    "fmo": [{}, {"budget": 1.0}, {"incremental": "off"}, {"keep_threshold": 0.3, "keep_fraction": 0.25}],
    "occlusion": [{"patch": 28, "stride": 14}],
}
SEEDS = (0, 3)


def compute() -> dict[str, np.ndarray]:
    model = wb.load_model("shapes", device="cpu")
    images = [wb.data.make_scene((777, i)).image for i in range(2)]
    out = {}
    for method, settings in SETTINGS.items():
        random = wb.methods()[method].random
        for s, params in enumerate(settings):
            for i, image in enumerate(images):
                for seed in SEEDS if random else (0,):
                    e = wb.explain(model, image, method, seed=seed, **params)
                    out[f"{method}/{s}/image{i}/seed{seed}"] = e.heatmap
                    out[f"{method}/{s}/image{i}/seed{seed}/passes"] = np.array([e.cost.forward_passes, e.target])
    e = wb.explain(model, images[0], "occlusion", patch=28, stride=28)
    for order in ("random", "morf"):
        curve = wb.perturbation_curve(model, images[0], e, order=order, steps=10, region=28, fill="uniform",
                                      repeats=2, seed=5)
        out[f"curve/{order}"] = curve.all_scores
    sanity = wb.sanity_check(model, images[0], "gradient", seed=2)
    out["sanity/gradient"] = np.stack(sanity.heatmaps)
    return out


def relative_difference(before: np.ndarray, now: np.ndarray) -> float:
    """Largest |before - now| over the largest |before| (the absolute difference when that is 0)."""
    before, now = before.astype(np.float64), now.astype(np.float64)
    scale = float(np.max(np.abs(before), initial=0.0))
    diff = float(np.max(np.abs(before - now), initial=0.0))
    return diff / scale if scale > 0 else diff


def main() -> None:
    save_or_compare(compute, relative_difference, limit=1e-5, what="max|diff|/max|before|")


if __name__ == "__main__":
    main()
