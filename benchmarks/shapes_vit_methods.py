"""Every registered method at its defaults on the shipped ``shapes-vit`` transformer (issue 36): 5 fresh scenes
(seed ``SCENE_SEED``, used by no test or other script), the first object's class the target. Each row: whether
a map came back (or the method's refusal), the pointing game on the class's exact mask (``workbench.metrics``)
and the seconds it took. Resumable: finished (scene, method) rows are kept in ``docs/shapes_vit_methods.csv``
and skipped; ``--minutes`` stops before starting a row past that time (run it in pieces below 10 minutes).

    python benchmarks/shapes_vit_methods.py --minutes 9     # repeat until it prints the summary
"""
from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np

import workbench as wb
from workbench.metrics.localisation import pointing_game

SCENE_SEED = 20261209
N_SCENES = 5
ROWS = Path(__file__).resolve().parent.parent / "docs" / "shapes_vit_methods.csv"
FIELDS = ["scene", "method", "target", "outcome", "pointing", "seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=9.0)
    parser.add_argument("--scenes", type=int, default=N_SCENES, help="the first this many of the 5 scenes")
    parser.add_argument("--methods", default="", help="comma-separated names (default: every registered method)")
    args = parser.parse_args()
    stop = time.perf_counter() + 60 * args.minutes
    entry = wb.load_model("shapes-vit", device="cpu")
    scenes = wb.data.make_scenes(N_SCENES, seed=SCENE_SEED)
    names = [m for m in args.methods.split(",") if m] or list(wb.methods())
    done = set()
    if ROWS.is_file():
        with ROWS.open() as f:
            done = {(int(r["scene"]), r["method"]) for r in csv.DictReader(f)}
    new_file = not ROWS.is_file()
    with ROWS.open("a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new_file:
            writer.writeheader()
        for method in names:
            for i, scene in enumerate(scenes[:args.scenes]):
                if (i, method) in done:
                    continue
                if time.perf_counter() > stop:
                    print("stopped; run again to continue", flush=True)
                    return
                target = scene.class_names[0]
                t0 = time.perf_counter()
                try:
                    heatmap = wb.explain(entry, scene.image, method, target=target).heatmap
                    outcome = "map" if heatmap.shape == (224, 224) and np.isfinite(heatmap).all() else "bad map"
                    score = pointing_game(heatmap, scene.class_mask(target))
                except ValueError as error:
                    outcome, score = f"refused: {str(error)[:80]}", math.nan
                row = {"scene": i, "method": method, "target": target, "outcome": outcome,
                       "pointing": score, "seconds": round(time.perf_counter() - t0, 2)}
                writer.writerow(row)
                f.flush()
                print(row, flush=True)
    with ROWS.open() as f:
        rows = list(csv.DictReader(f))
    print(f"{'method':24s} maps  pointing hits  mean seconds")
    for method in dict.fromkeys(r["method"] for r in rows):
        mine = [r for r in rows if r["method"] == method]
        hits = sum(float(r["pointing"]) >= 0.5 for r in mine if r["pointing"] not in ("nan", ""))
        maps = sum(r["outcome"] == "map" for r in mine)
        print(f"{method:24s} {maps}/{len(mine)}  {hits}  {np.mean([float(r['seconds']) for r in mine]):.1f}")


if __name__ == "__main__":
    main()
