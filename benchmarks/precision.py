"""Reduced precision: per method, time bfloat16/float32 and agreement of the heatmaps with float32's.

For each model and method, on N scenes: ``workbench.explain`` at ``precision="float32"`` and at
``precision="bfloat16"`` (``--precision float16`` on CUDA), the two calls interleaved (their order alternating
from scene to scene) so machine load hits both alike. Reported: the time ratio reduced/float32 (sums over the
scenes; below 1 is a speed-up), the Spearman rank correlation of the two heatmaps (median and minimum over
scenes), and the share of scenes where the pointing game (Zhang et al., ECCV 2016; 15 px tolerance) gives the
same hit or miss, against the explained class's objects for the shapes model and against all objects of the
scene for ImageNet models (random-weight resnet18; efficientnet_lite0 with its shipped weights). The reduced
run explains float32's class. The methods run at cheaper settings than their defaults (``QUICK`` below) so a
CPU run fits in minutes; ``--defaults`` uses the defaults.

    python benchmarks/precision.py [--scenes 50] [--models shapes,resnet18,efficientnet_lite0]
        [--methods occlusion,fmo,rise,lime,gradient,lrp_epsilon,extremal_perturbation] [--precision bfloat16]
"""
from __future__ import annotations

import argparse
import statistics

import numpy as np

import workbench as wb
from workbench.analysis.sweep import spearman
from workbench.metrics.localisation import pointing_game

from _common import device_line, load_line, table, time_call

QUICK = {"occlusion": {"patch": 56, "stride": 28}, "rise": {"num_masks": 200}, "lime": {"num_samples": 100},
         "extremal_perturbation": {"iterations": 30, "areas": [0.1]},
         "meaningful_perturbation": {"iterations": 30}, "neuromask": {"iterations": 30}}


def pointing_mask(entry, scene, target: int) -> np.ndarray:
    """The explained class's objects for the shapes model, every object of the scene for other models."""
    if entry.name.startswith("shapes"):
        hits = [m for m, label in zip(scene.masks, scene.labels) if label == target]
        if hits:
            return np.any(hits, axis=0)
    return np.any(scene.masks, axis=0)


def compare(entry, method: str, scenes: int, precision: str, params: dict) -> dict:
    row = {"model": entry.name, "method": method, "scenes": scenes}
    full_s, reduced_s, rho, same = [], [], [], []
    for p in ("float32", precision):       # warm-up, untimed (first calls load hooks, allocate, JIT-pack weights)
        wb.explain(entry, wb.data.make_scene(scenes).image, method, precision=p, **params)
    for i in range(scenes):
        scene = wb.data.make_scene(i)
        results = {}

        def run(p):
            target = results["float32"].target if "float32" in results else None
            results[p] = wb.explain(entry, scene.image, method, target=target, precision=p, **params)

        order = ("float32", precision) if i % 2 == 0 else (precision, "float32")
        if order[0] != "float32":          # the reduced run needs float32's class: explain it untimed first
            run("float32")
        times = {p: time_call(lambda p=p: run(p)) for p in order}
        full_s.append(times["float32"])
        reduced_s.append(times[precision])
        a, b = results["float32"], results[precision]
        rho.append(spearman(a.heatmap, b.heatmap))
        mask = pointing_mask(entry, scene, a.target)
        same.append((pointing_game(a.heatmap, mask) >= 0.5) == (pointing_game(b.heatmap, mask) >= 0.5))
    row.update({"fp32 s/scene": f"{statistics.mean(full_s):.3f}", f"{precision} s/scene": f"{statistics.mean(reduced_s):.3f}",
                "time ratio": f"{sum(reduced_s) / sum(full_s):.2f}", "Spearman median": f"{statistics.median(rho):.4f}",
                "Spearman min": f"{min(rho):.4f}", "same pointing": f"{sum(same)}/{len(same)}"})
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--models", default="shapes,resnet18,efficientnet_lite0")
    parser.add_argument("--methods", default="occlusion,fmo,rise,lime,gradient,lrp_epsilon,extremal_perturbation")
    parser.add_argument("--precision", default="bfloat16", choices=("bfloat16", "float16"))
    parser.add_argument("--defaults", action="store_true", help="the methods' default settings, not QUICK")
    args = parser.parse_args()
    print(device_line())
    print(load_line(), "(before)")
    rows = []
    for name in args.models.split(","):
        entry = wb.load_model(name)
        for method in args.methods.split(","):
            params = {} if args.defaults else QUICK.get(method, {})
            try:
                rows.append(compare(entry, method, args.scenes, args.precision, params))
            except ValueError as error:    # e.g. LRP rules that do not cover the model's layers
                rows.append({"model": name, "method": method, "scenes": 0, "time ratio": f"n/a: {error}"[:60]})
            print(table(rows[-1:], list(rows[-1])), flush=True)
    columns = ["model", "method", "scenes", "fp32 s/scene", f"{args.precision} s/scene", "time ratio",
               "Spearman median", "Spearman min", "same pointing"]
    print(table(rows, columns))
    print(load_line(), "(after)")
    print(f"time ratio = {args.precision} / float32 (below 1: faster); Spearman of the two heatmaps per scene; "
          "same pointing = scenes where both heatmaps hit or both miss (pointing game, 15 px)")
    if not args.defaults:
        print(f"settings: {QUICK} (others: defaults)")


if __name__ == "__main__":
    main()
