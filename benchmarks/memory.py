"""Resident memory over many explanations in one process (issue 26): a warm-up round of every method and image
size, then 300 explanations mixing methods, images (sizes, forms) and targets, each run through a Workbench job
lane (debounce, worker thread, bounded cache) as the widget runs them. Prints the resident set size (RSS)
after the warm-up and after the 300 explanations; the growth must stay under 150 MB.

    python benchmarks/memory.py [--n 300] [--limit-mb 150]

Cost-driving parameters are small (the point is memory, not heatmap quality); the shapes model (shipped
weights) on the CPU.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import psutil  # noqa: E402
import torch  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.ui.lane import Handlers, Lane  # noqa: E402

RUNS = [   # (method, params): every family, cheap settings
    ("gradient", {}), ("guided_backprop", {}), ("lrp_epsilon_gamma_box", {}), ("lrp_alpha2_beta1", {}),
    ("occlusion", {"patch": 32, "stride": 32}), ("fmo", {}), ("rise", {"num_masks": 64}),
    ("lime", {"num_samples": 40, "n_segments": 20}), ("ablation_ca", {"contexts": 8, "n_segments": 10}),
    ("meaningful_perturbation", {"iterations": 4}), ("extremal_perturbation", {"iterations": 4}),
    ("neuromask", {"iterations": 4}),
]


def images() -> list:
    """Scenes at 224 px and other sizes, in several accepted forms (uint8, float, grayscale, RGBA, tensor)."""
    scenes = [wb.data.make_scene(i).image for i in range(4)]
    odd = [wb.images.resize(scenes[0], (160, 300)), wb.images.resize(scenes[1], (300, 451))]
    gray = scenes[2].mean(axis=2).astype(np.uint8)
    rgba = np.concatenate([scenes[3], np.full((*scenes[3].shape[:2], 1), 255, np.uint8)], axis=2)
    tensor = torch.from_numpy(scenes[0]).permute(2, 0, 1).float() / 255
    return scenes + odd + [gray, rgba, tensor, scenes[1].astype(np.float64) / 255]


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="explanations after the warm-up")
    parser.add_argument("--limit-mb", type=float, default=150.0, help="largest acceptable RSS growth")
    args = parser.parse_args()
    torch.set_num_threads(min(2, torch.get_num_threads()))
    model = wb.load_model("shapes", device="cpu")
    pictures = images()
    targets = [None, 0, 1, "circle" if "circle" in model.class_names else 2, 3, 4]
    lane = Lane(debounce=0.0)
    failures: list[str] = []

    def run(i: int, method: str, params: dict, image, target) -> None:
        def work(cancel, progress, partial):
            return wb.explain(model, image, method, target=target, seed=i % 3, cancel=cancel, progress=progress,
                              partial=partial, **params)
        lane.submit((i, method), work, Handlers(on_error=failures.append), debounce=False)
        if not lane.wait(600):
            raise RuntimeError(f"{method} did not finish in 600 s")

    warm_up = list(itertools.product(RUNS, pictures[3:9]))     # every method on every size and form: 72,
    for i, ((method, params), image) in enumerate(warm_up):       # more than the cache holds (64)
        run(-1 - i, method, params, image, None)
    gc.collect()
    warm = rss_mb()
    print(f"RSS after warm-up ({len(warm_up)} explanations): {warm:.0f} MB", flush=True)
    mixed = zip(itertools.cycle(RUNS), itertools.cycle(pictures[::-1]), itertools.cycle(targets))
    for i, ((method, params), image, target) in zip(range(args.n), mixed):
        run(i, method, params, image, target)
        if (i + 1) % 50 == 0:
            print(f"  {i + 1:4d} explanations: {rss_mb():.0f} MB (cache {len(lane.cache)} results)", flush=True)
    gc.collect()
    after = rss_mb()
    lane.close()
    growth = after - warm
    print(f"RSS after {args.n} more explanations: {after:.0f} MB; growth {growth:+.0f} MB "
          f"(limit {args.limit_mb:.0f} MB): {'ok' if growth < args.limit_mb else 'TOO MUCH'}")
    if failures:
        print(f"{len(failures)} explanations failed, e.g. {failures[0]}")
    sys.exit(0 if growth < args.limit_mb and not failures else 1)


if __name__ == "__main__":
    main()
