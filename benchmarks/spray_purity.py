"""Does the Workbench's SpRAy tab, at its defaults, find the Clever-Hans strategy? For each of 10 scene seeds:
the tab's data set (60 generated scenes that contain the target class, the first half with the corner
watermark: ``images_with_class``), SpRAy (Lapuschkin et al., Nature Communications 2019) of one method's
heatmaps for the target, and the purest cluster's share of watermarked images. On the confounded
``shapes-watermark`` model a cluster of >= 80 % watermarked images means SpRAy separated the watermark strategy;
the clean ``shapes`` model is the control (it does not use the watermark).

Methods: LRP epsilon-gamma-box (the tab's default heatmaps, ``spray``'s default, as in the paper) and FMO (the
Workbench's default explainer, which the tab uses when asked for the current explainer). The tab's scene seed
is 9191; this script uses 9191..9200.

    python benchmarks/spray_purity.py [--seeds 10] [--images 60] [--methods lrp_epsilon_gamma_box fmo]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import workbench as wb
from _common import device_line, table
from workbench.analysis.spray import spray
from workbench.data.scenes import images_with_class

TARGET = "star"
TAB_SEED = 9191          # workbench.ui.session.Session.request_spray
PURE = 0.8


def purest(labels: np.ndarray, marked: np.ndarray) -> tuple[float, int]:
    """The highest share of watermarked images in any cluster, and that cluster's size."""
    shares = [(float(marked[labels == c].mean()), int((labels == c).sum())) for c in np.unique(labels)]
    return max(shares)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--images", type=int, default=60, help="the tab's default: 60")
    parser.add_argument("--methods", nargs="+", default=["lrp_epsilon_gamma_box", "fmo"])
    args = parser.parse_args()
    print(device_line())
    models = {name: wb.load_model(name) for name in ("shapes-watermark", "shapes")}
    marked = np.arange(args.images) < args.images // 2
    rows, found = [], {}
    for seed in range(TAB_SEED, TAB_SEED + args.seeds):
        images = images_with_class(TARGET, args.images, seed=seed, marked=args.images // 2)
        for method in args.methods:
            for name, model in models.items():
                started = time.perf_counter()
                result = spray(model, images, TARGET, method=method, layout=False)
                share, size = purest(result.labels, marked)
                hit = share >= PURE
                found.setdefault((method, name), []).append(hit)
                rows.append({"seed": seed, "method": method, "model": name, "clusters": result.n_clusters,
                             "purest": f"{share:.2f} ({size} images)", "found": "yes" if hit else "no",
                             "s": f"{time.perf_counter() - started:.1f}"})
                print(table(rows[-1:], list(rows[-1])).splitlines()[-1], flush=True)
    print()
    print(table(rows, list(rows[0])))
    print()
    for (method, name), hits in found.items():
        print(f"{method:24s} {name:17s} a cluster >= {PURE:.0%} watermarked on {sum(hits)} of {len(hits)} seeds")


if __name__ == "__main__":
    main()
