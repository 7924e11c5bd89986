"""FMO quality versus the Occlusion Test at FMO's finest level: pointing-game accuracy (15 px tolerance,
whole max set counted, see ``workbench.metrics.localisation``) and AOPC-MoRF (region 9, 100 steps, uniform
noise; Samek et al. 2017) on fresh scenes, every present class. With ``--sweep`` also the trade-off over
``keep_threshold`` and, with ``--budgets``, the pass budget (passes, seconds, pointing accuracy, AOPC-MoRF) on
the first ``--sweep-scenes`` scenes.

The Occlusion Test's masks do not depend on the target, so it is scored once per scene for all classes
(engine with all-class outputs); its maps per class are then the same as ``wb.explain(..., "occlusion")``.

    python benchmarks/fmo_quality.py [--scenes 200] [--sweep 0.1,0.2,0.3,0.4,0.5,0.6,0.7] [--budgets 0.05,1]
                                     [--sweep-scenes 50]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import workbench as wb
from workbench.engine import Engine
from workbench.explainers.windows import WindowGrid
from workbench.metrics import pointing_game

from _common import device_line, fmo_settings, setting_name, table

SEED = 8080  # not a training seed


def occlusion_all_classes(entry, image, patch, stride):
    """Occlusion maps ``(K, H, W)`` for every class from one batch of occluded images."""
    x = entry.preprocess(image).to(entry.device)
    grid = WindowGrid(x.shape[-2], x.shape[-1], patch, stride, device=entry.device)
    engine = Engine(entry.module)
    with torch.inference_mode():
        clean = entry.module(x)[0]
    scores = engine.score_masks(x, lambda a, b: grid.keep_masks(torch.arange(a, b, device=entry.device)),
                                n=grid.count)
    drops = (clean - scores).double().T.reshape(-1, *grid.shape)  # (K, nh, nw)
    return [grid.mean_map(d)[0].cpu().numpy() for d in drops]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=200)
    parser.add_argument("--sweep", default="", help="comma-separated keep_threshold values")
    parser.add_argument("--budgets", default="", help="comma-separated pass budgets, crossed with --sweep")
    parser.add_argument("--sweep-scenes", type=int, default=50)
    args = parser.parse_args()
    print(device_line())
    entry = wb.load_model("shapes")
    scenes = wb.data.make_scenes(args.scenes, seed=SEED)
    settings = {setting_name(s): s for s in fmo_settings(args.sweep, args.budgets)}
    names = list(settings)  # the first is the default setting
    default = names[0]
    aopc = {"occlusion": [], **{name: [] for name in names}}
    fmo_hits = {name: [] for name in names}
    fmo_passes = {name: [] for name in names}
    fmo_seconds = {name: [] for name in names}
    occ_hits, occ_passes, occ_seconds = [], 0, 0.0
    for i, scene in enumerate(scenes):
        start = time.perf_counter()
        maps = occlusion_all_classes(entry, scene.image, 8, 4)
        occ_seconds += time.perf_counter() - start
        for label in sorted(set(scene.labels)):
            mask = scene.class_mask(label)
            occ_hits.append(pointing_game(maps[label], mask))
            occ_passes += 3025 + 1  # what wb.explain(..., "occlusion", patch=8, stride=4) costs per class
            aopc["occlusion"].append(wb.perturbation_curve(entry, scene.image, maps[label], target=label).aopc)
            for name in (names if i < args.sweep_scenes else names[:1]):
                e = wb.explain(entry, scene.image, "fmo", target=label, **settings[name])
                fmo_hits[name].append(pointing_game(e.heatmap, mask))
                fmo_passes[name].append(e.cost.forward_passes)
                fmo_seconds[name].append(e.cost.seconds)
                aopc[name].append(wb.perturbation_curve(entry, scene.image, e).aopc)
        if (i + 1) % 20 == 0:
            print(f"{i + 1}/{len(scenes)} scenes: occlusion {np.mean(occ_hits):.3f}, "
                  f"fmo {np.mean(fmo_hits[default]):.3f}", flush=True)
    n = len(occ_hits)
    print(f"\n{len(scenes)} scenes, {n} (scene, class) pairs; pointing accuracy (mean +- standard error):")
    se = lambda h: np.std(h, ddof=1) / np.sqrt(len(h))  # noqa: E731
    aopc_text = {k: f"{np.mean(v):.3f} +- {se(v):.3f}" for k, v in aopc.items()}
    rows = [{"method": "Occlusion (8,4)", "pairs": n, "pointing": f"{np.mean(occ_hits):.3f} +- {se(occ_hits):.3f}",
             "passes/explanation": f"{occ_passes / n:.0f}", "AOPC-MoRF": aopc_text["occlusion"]}]
    for name in names:
        rows.append({"method": f"FMO {name}" + (" (default)" if name == default else ""),
                     "pairs": len(fmo_hits[name]),
                     "pointing": f"{np.mean(fmo_hits[name]):.3f} +- {se(fmo_hits[name]):.3f}",
                     "passes/explanation": f"{np.mean(fmo_passes[name]):.0f}",
                     "seconds/explanation": f"{np.mean(fmo_seconds[name]):.3f}",
                     "AOPC-MoRF": aopc_text[name]})
    print(table(rows, ["method", "pairs", "pointing", "passes/explanation", "seconds/explanation", "AOPC-MoRF"]))
    gap = 100 * (np.mean(fmo_hits[default]) - np.mean(occ_hits))
    side = "above" if gap >= 0 else "below"
    verdict = "met" if gap >= -2 else "NOT met"
    print(f"\nFMO (default) pointing accuracy is {abs(gap):.1f} points {side} Occlusion's (target: no more than 2 "
          f"points below: {verdict}); occlusion seconds per scene (all classes at once): {occ_seconds / len(scenes):.2f}")


if __name__ == "__main__":
    main()
