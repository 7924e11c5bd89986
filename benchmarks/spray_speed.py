"""SpRAy cost: heatmaps for a data set (LRP EpsilonGammaBox on the confounded shapes model, batched by
``explain_batch``) plus the spectral analysis (kNN graph, Laplacian eigenvectors, k-means, t-SNE), for 200 and
1000 star scenes (half with the watermark), and how the time grows with the number of images. On the first
50 images it also times the batched heatmaps against one ``explain`` call per image, side by side.

    python benchmarks/spray_speed.py [--sizes 200 1000] [--batch-size 32]
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import workbench as wb
from _common import device_line, interleaved, table
from workbench.analysis.spray import spray_heatmaps
from workbench.data.scenes import images_with_class

CLASS = "star"


def star_images(n: int, seed: int = 31) -> list[np.ndarray]:
    return images_with_class(CLASS, n, seed, marked=n // 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    print(device_line())
    model = wb.load_model("shapes-watermark")
    method = "lrp_epsilon_gamma_box"

    few = star_images(50)
    times = interleaved({
        "batched": lambda: wb.explain_batch(model, few, method, target=CLASS, batch_size=args.batch_size),
        "one by one": lambda: [wb.explain(model, image, method, target=CLASS) for image in few],
    }, repeats=2)
    print(f"50 heatmaps: batched ({args.batch_size} per pass) {times['batched']:.2f} s, one explain per image "
          f"{times['one by one']:.2f} s: {times['one by one'] / times['batched']:.2f}x")

    rows = []
    for n in args.sizes:
        images = star_images(n)
        started = time.perf_counter()
        maps = wb.explain_batch(model, images, method, target=CLASS, batch_size=args.batch_size)
        heat_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = spray_heatmaps(maps, size=32, k=10)
        analysis_seconds = time.perf_counter() - started
        rows.append({"images": n, "heatmaps s": f"{heat_seconds:.1f}", "per image ms": f"{1e3 * heat_seconds / n:.1f}",
                     "analysis s": f"{analysis_seconds:.1f}", "total s": f"{heat_seconds + analysis_seconds:.1f}",
                     "clusters": result.n_clusters, "_total": heat_seconds + analysis_seconds,
                     "_heat": heat_seconds, "_analysis": analysis_seconds})
    print(table(rows, ["images", "heatmaps s", "per image ms", "analysis s", "total s", "clusters"]))
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        growth = last["images"] / first["images"]
        for part in ("_heat", "_analysis", "_total"):
            exponent = math.log(last[part] / first[part]) / math.log(growth)
            print(f"{part[1:]}: {last[part] / first[part]:.2f}x time for {growth:.0f}x images "
                  f"(time ~ n^{exponent:.2f})")


if __name__ == "__main__":
    main()
