"""Incremental inference (Krypton, Nakandala et al. SIGMOD 2019) against full inference for the Occlusion Test.

For each model and (patch, stride) setting, the same occluded images are scored both ways, the two variants
interleaved (``--repeats`` rounds, median times): full inference through the engine (channels-last, as
``explain`` runs it) and incremental inference (tracing and the clean pass included). It prints the time
ratio full/incremental (the speed-up), the multiply-accumulate ratio incremental/full (convolutions and linear
layers), and the largest difference of the score drops relative to the largest drop (the heatmap is a mean of
drops, so its difference is at most this). Then FMO at its defaults, whole explanations with
``incremental="auto"`` and ``"off"`` (``--fmo-models``): times, which levels ran incrementally, the largest
heatmap difference relative to the largest heat. The machine's load average is printed before and after.

A run under 10 minutes on a busy 2-core CPU scores a sample of ``--windows`` windows spread evenly over the
grid (``--windows 0``: every window); shrink it with ``--windows``, ``--models``, ``--settings`` or ``--size``.

    python benchmarks/incremental.py [--models vgg16,resnet18,efficientnet_lite0] [--settings 16,8:8,4]
                                     [--windows 64] [--size 224] [--repeats 2] [--batch 32]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

import workbench as wb
from workbench.engine import Engine
from workbench.explainers.windows import WindowGrid
from workbench.incremental import IncrementalModel, occluded_boxes

from _common import device_line, table


def full_scores(module, x, fill, grid, flat, target, batch):
    engine = Engine(module, batch_size=batch)
    with engine.channels_last():
        return engine.score_masks(x, lambda a, b: grid.keep_masks(flat[a:b]), n=len(flat), baseline=fill,
                                  target=target)


def incremental_scores(module, x, fill, grid, flat, target, batch):
    with Engine(module).channels_last():  # as explain runs a forward-only method
        return _incremental_scores(module, x, fill, grid, flat, target, batch)


def _incremental_scores(module, x, fill, grid, flat, target, batch):
    model = IncrementalModel(module, x)
    top, bottom, left, right = grid.extents()
    nw = len(grid.col_starts)
    scores = []
    for start in range(0, len(flat), batch):
        r, c = flat[start:start + batch] // nw, flat[start:start + batch] % nw
        patches, box_top, box_left = occluded_boxes(x, fill, (top[r], bottom[r]), (left[c], right[c]), grid.patch)
        scores.append(model.score(patches, box_top, box_left)[:, target])
    return torch.cat(scores), model.macs / (len(flat) * model.full_macs)


def fmo_row(name: str, scene, size: int, repeats: int) -> dict:
    """FMO at its defaults, whole explanations with ``incremental="auto"`` and ``"off"``, interleaved."""
    torch.manual_seed(0)
    entry = wb.load_model(name, device="cpu")
    image = wb.images.resize(scene.image, (size, size))
    times = {"auto": [], "off": []}
    result = {}
    for _ in range(repeats):
        for mode in times:
            t0 = time.perf_counter()
            result[mode] = wb.explain(entry, image, "fmo", incremental=mode)
            times[mode].append(time.perf_counter() - t0)
    full_t, inc_t = statistics.median(times["off"]), statistics.median(times["auto"])
    difference = abs(result["auto"].heatmap - result["off"].heatmap).max() / abs(result["off"].heatmap).max()
    levels = [note.split(":")[0].split()[0] for note in result["auto"].extras["inference"]]
    row = {"model": name, "method": "fmo (defaults)", "passes": result["off"].cost.forward_passes,
           "full s": f"{full_t:.2f}", "incremental s": f"{inc_t:.2f}", "speed-up": f"{full_t / inc_t:.2f}x",
           "levels": "/".join(levels), "max diff (rel.)": f"{difference:.1e}"}
    print(table([row], list(row)), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="vgg16,resnet18,efficientnet_lite0")
    parser.add_argument("--settings", default="16,8:8,4", help="patch,stride pairs separated by ':'")
    parser.add_argument("--windows", type=int, default=64, help="windows scored per setting (0: all)")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--fmo-models", default="vgg16,resnet18,efficientnet_lite0",
                        help="models to time FMO at its defaults on, whole explanations ('' for none)")
    args = parser.parse_args()
    print(device_line(), "| load average before:", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    scene = wb.data.make_scene((777, 0))
    rows = []
    started = time.perf_counter()
    for name in filter(None, args.models.split(",")):
        torch.manual_seed(0)
        entry = wb.load_model(name, device="cpu")  # torchvision architectures: random weights
        image = wb.images.resize(scene.image, (args.size, args.size))
        x = entry.preprocess(image)
        with torch.inference_mode():
            target = int(entry.module(x).argmax())
        fill = torch.zeros_like(x)
        for setting in args.settings.split(":"):
            patch, stride = (int(v) for v in setting.split(","))
            grid = WindowGrid(args.size, args.size, patch, stride)
            count = grid.count if args.windows <= 0 else min(args.windows, grid.count)
            flat = torch.linspace(0, grid.count - 1, count).round().long().unique()
            with torch.inference_mode():
                clean = float(entry.module(x)[0, target])
            times = {"full": [], "incremental": []}
            for _ in range(args.repeats):  # interleaved
                t0 = time.perf_counter()
                full = full_scores(entry.module, x, fill, grid, flat, target, args.batch)
                t1 = time.perf_counter()
                inc, mac_ratio = incremental_scores(entry.module, x, fill, grid, flat, target, args.batch)
                t2 = time.perf_counter()
                times["full"].append(t1 - t0)
                times["incremental"].append(t2 - t1)
            full_t, inc_t = statistics.median(times["full"]), statistics.median(times["incremental"])
            drops = clean - full.double()
            difference = float((full.double() - inc.double()).abs().max() / drops.abs().max())
            rows.append({"model": name, "setting": f"({patch},{stride})", "windows": f"{len(flat)}/{grid.count}",
                         "full s": f"{full_t:.2f}", "incremental s": f"{inc_t:.2f}",
                         "speed-up": f"{full_t / inc_t:.2f}x", "MAC ratio": f"{mac_ratio:.3f}",
                         "max diff (rel.)": f"{difference:.1e}", "largest drop": f"{float(drops.abs().max()):.2g}"})
            print(table(rows[-1:], list(rows[-1])), flush=True)
    fmo_rows = [fmo_row(name, scene, args.size, args.repeats) for name in args.fmo_models.split(",") if name]
    print()
    if rows:
        print(table(rows, list(rows[0])))
    if fmo_rows:
        print(table(fmo_rows, list(fmo_rows[0])))
    print(f"{time.perf_counter() - started:.0f} s | load average after:",
          " ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
