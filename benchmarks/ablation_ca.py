"""Ablation-CA: the superpixel-count sweep (maximum |r| between two objects, seconds) and the cost at the
defaults, for the shapes model on fresh scenes and a random-weight resnet18 on scikit-image photos.

The paper (Wang et al. 2024) reports the correlation rising then falling with the superpixel count, with
a useful range of 30-50. The sweep runs with fewer contexts than the default 256 (``--contexts``, default
32) to keep the run to minutes on 2 CPU cores; the cost at the defaults is measured separately.

    python benchmarks/ablation_ca.py [--scenes 20] [--photos 3] [--contexts 32] [--models shapes resnet18]
"""
from __future__ import annotations

import argparse

import numpy as np

import workbench as wb

from _common import device_line, table

COUNTS = range(10, 101, 10)


def sweep_table(entry, images, contexts):
    per_count = {n: {"max_abs_r": [], "objects": [], "seconds": [], "passes": []} for n in COUNTS}
    for image in images:
        for row in wb.ablation_ca_sweep(entry, image, n_segments=COUNTS, contexts=contexts):
            for key in per_count[row["n_segments"]]:
                per_count[row["n_segments"]][key].append(row[key])
    rows = []
    for n, v in per_count.items():
        r = np.array(v["max_abs_r"])
        rows.append({"n_segments": n, "objects": f"{np.mean(v['objects']):.1f}",
                     "max |r| mean": f"{r.mean():.3f}", "+- se": f"{r.std(ddof=1) / np.sqrt(len(r)):.3f}"
                     if len(r) > 1 else "", "passes": f"{np.mean(v['passes']):.0f}",
                     "seconds": f"{np.mean(v['seconds']):.2f}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=20)
    parser.add_argument("--photos", type=int, default=3)
    parser.add_argument("--contexts", type=int, default=32)
    parser.add_argument("--models", nargs="+", choices=["shapes", "resnet18"], default=["shapes", "resnet18"])
    args = parser.parse_args()
    print(device_line())
    columns = ["n_segments", "objects", "max |r| mean", "+- se", "passes", "seconds"]
    cases = [("shapes", [s.image for s in wb.data.make_scenes(args.scenes, seed=9090)]),
             ("resnet18", list(wb.data.sample_images(224).values())[:args.photos])]
    for name, images in cases:
        if name not in args.models:
            continue
        entry = wb.load_model(name)
        default = wb.ablation_ca(entry, images[0])
        print(f"\n{name}: defaults (n_segments=40, contexts=256) on one image: {len(default.sensitivity)} objects, "
              f"{default.cost.forward_passes} passes (the original specification's K+T(K+1), docs/METHODS.md, would be "
              f"{len(default.sensitivity) + 256 * (len(default.sensitivity) + 1)}), {default.cost.seconds:.1f} s")
        print(f"{name}: sweep over {len(images)} images, contexts={args.contexts}:", flush=True)
        rows = sweep_table(entry, images, args.contexts)
        print(table(rows, columns), flush=True)
        best = max(rows, key=lambda r: float(r["max |r| mean"]))
        print(f"{name}: maximum mean |r| at n_segments={best['n_segments']}")


if __name__ == "__main__":
    main()
