"""Heatmaps and pass counts before/after a refactor (issue 27 part C): every registered method on one scene of
the shapes model (cheap settings for the slow methods), plus explain_batch, a perturbation curve and
evaluate. ``save PATH`` writes them; ``compare PATH`` recomputes and prints the largest difference."""
from __future__ import annotations

import numpy as np

import workbench as wb
from _common import save_or_compare

CHEAP = {"meaningful_perturbation": {"iterations": 20}, "extremal_perturbation": {"iterations": 20},
         "neuromask": {"iterations": 20}, "rise": {"num_masks": 200}, "lime": {"num_samples": 100},
         "ablation_ca": {"n_segments": 12, "contexts": 16}, "occlusion": {"patch": 28, "stride": 28}}


def compute() -> dict[str, np.ndarray]:
    model = wb.load_model("shapes", device="cpu")
    scenes = [wb.data.make_scene((777, i)) for i in range(3)]
    image = scenes[0].image
    out = {}
    for name in sorted(wb.methods()):
        e = wb.explain(model, image, name, **CHEAP.get(name, {}))
        out[f"{name}/heatmap"] = e.heatmap
        out[f"{name}/passes"] = np.array([e.cost.forward_passes, e.cost.backward_passes, e.target])
    for name in ("gradient", "occlusion"):
        out[f"batch/{name}"] = wb.explain_batch(model, [s.image for s in scenes], name, **CHEAP.get(name, {}))
    e = wb.explain(model, image, "occlusion", **CHEAP["occlusion"])
    curve = wb.perturbation_curve(model, image, e, steps=20, region=28, fill="uniform", repeats=2)
    out["curve/scores"] = curve.all_scores
    out["curve/passes"] = np.array([curve.cost.forward_passes, curve.target])
    result = wb.evaluate(model, image, e, steps=10, region=28, fill="blur")
    out["evaluate/aopc"] = np.array([result[k] for k in ("aopc_morf", "aopc_lerf", "aopc_random", "abpc")])
    return out


if __name__ == "__main__":
    save_or_compare(compute)
