"""FMO speed: passes and wall time of the default schedule versus the Occlusion Test at the schedule's
finest level, side by side in one run; how the saving grows with the finest resolution; and FMO versus
the workbench's other methods at their defaults (``n/a`` for methods not registered yet).

``--sweep 0.1,...,0.7`` adds, for the ImageNet models, the trade-off over ``keep_threshold`` (crossed with the
pass budgets in ``--budgets``, default: the default budget): passes and time
against Occlusion at the finest level, and AOPC-MoRF (50 steps of 9 px regions, baseline fill; the model's
own ranking of its evidence, measurable without object masks) of FMO's map as a share of Occlusion's.

    python benchmarks/fmo_speed.py [--scenes 3] [--photos 4] [--repeats 1] [--models shapes,resnet18]
                                   [--sweep 0.1,0.3,0.5,0.7] [--budgets 0.05,1]
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import workbench as wb

from _common import device_line, fmo_settings, setting_name, table

PEERS = ("rise", "lime", "meaningful_perturbation", "extremal_perturbation")


def timed(entry, image, method, target, **params):
    start = time.perf_counter()
    e = wb.explain(entry, image, method, target=target, **params)
    return e, time.perf_counter() - start


def compare(entry, images, schedule, repeats):
    """Sum over images of passes and seconds, FMO and Occlusion at the finest level, interleaved."""
    finest = schedule[-1]
    totals = {"fmo_passes": 0, "occ_passes": 0, "fmo_s": 0.0, "occ_s": 0.0}
    if entry.device.type == "cuda":  # warm-up: CUDA/cuDNN start-up and the engine's batch-size probe
        timed(entry, images[0], "fmo", None, schedule=schedule)
        timed(entry, images[0], "occlusion", None, patch=finest[0], stride=finest[1])
    for image in images:
        target = wb.explain(entry, image, "occlusion", patch=min(image.shape[:2]), stride=1).target
        for _ in range(repeats):
            f, fs = timed(entry, image, "fmo", target, schedule=schedule)
            o, os_ = timed(entry, image, "occlusion", target, patch=finest[0], stride=finest[1])
            totals["fmo_passes"] += f.cost.forward_passes
            totals["occ_passes"] += o.cost.forward_passes
            totals["fmo_s"] += fs
            totals["occ_s"] += os_
    return totals


def row(model, schedule, t):
    return {"model": model, "schedule": " ".join(f"{p}/{s}" for p, s in schedule),
            "FMO passes": t["fmo_passes"], "Occl. passes": t["occ_passes"],
            "pass ratio": f"{t['occ_passes'] / t['fmo_passes']:.1f}x",
            "FMO s": f"{t['fmo_s']:.2f}", "Occl. s": f"{t['occ_s']:.2f}",
            "time ratio": f"{t['occ_s'] / t['fmo_s']:.1f}x"}


def aopc(entry, image, explanation) -> float:
    return wb.perturbation_curve(entry, image, explanation, region=9, steps=50, fill="constant").aopc


def sweep(entry, name, images, settings):
    """FMO at each setting against Occlusion at the finest level: passes, seconds, AOPC share."""
    finest = (8, 4)
    rows = []
    reference = []
    for image in images:
        o, os_ = timed(entry, image, "occlusion", None, patch=finest[0], stride=finest[1])
        reference.append((o, os_, aopc(entry, image, o)))
    for setting in settings:
        passes = seconds = 0.0
        shares = []
        for image, (o, os_, o_aopc) in zip(images, reference):
            f, fs = timed(entry, image, "fmo", o.target, **setting)
            passes, seconds = passes + f.cost.forward_passes, seconds + fs
            shares.append(aopc(entry, image, f) / o_aopc)
        occ_passes = sum(o.cost.forward_passes for o, _, _ in reference)
        occ_s = sum(s for _, s, _ in reference)
        rows.append({"model": name, "setting": setting_name(setting), "FMO passes": int(passes),
                     "pass ratio": f"{occ_passes / passes:.1f}x", "time ratio": f"{occ_s / seconds:.1f}x",
                     "AOPC share": f"{np.mean(shares):.3f}", "min share": f"{np.min(shares):.3f}"})
        print(table(rows[-1:], list(rows[-1])), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenes", type=int, default=3, help="scenes for the shapes model")
    parser.add_argument("--photos", type=int, default=4, help="photos for ImageNet models (Occlusion (8,4) on a "
                                                               "random resnet18 takes about a minute per photo on "
                                                               "a 2-core CPU)")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--models", default="shapes,resnet18")
    parser.add_argument("--sweep", default="", help="comma-separated keep_threshold values (ImageNet models)")
    parser.add_argument("--budgets", default="", help="comma-separated pass budgets, crossed with --sweep")
    parser.add_argument("--peers", default=",".join(PEERS), help="methods FMO is timed against ('' to skip)")
    args = parser.parse_args()
    print(device_line())
    default = ((56, 56), (28, 14), (14, 7), (8, 4))
    rows = []
    entries = {}
    for name in args.models.split(","):
        torch.manual_seed(0)  # the same random weights in every run and in the sweep below
        entry = entries[name] = wb.load_model(name)
        if name.startswith("shapes"):
            images = [s.image for s in wb.data.make_scenes(args.scenes, seed=555)]
        else:
            images = list(wb.data.sample_images(224).values())[:args.photos]
        schedules = [default]
        if name == "shapes":
            schedules += [((56, 56), (28, 14), (14, 7)), ((56, 56), (28, 14), (14, 7), (8, 4), (8, 2))]
        for schedule in schedules:
            rows.append(row(name, schedule, compare(entry, images, schedule, args.repeats)))
            print(table(rows[-1:], list(rows[-1])), flush=True)
    if args.sweep or args.budgets:
        for name in args.models.split(","):
            if not name.startswith("shapes"):
                print(f"\nFMO settings on {name}, {args.photos} photos (AOPC share = FMO's AOPC-MoRF / "
                      f"Occlusion (8,4)'s):")
                swept = sweep(entries[name], name, list(wb.data.sample_images(224).values())[:args.photos],
                              fmo_settings(args.sweep, args.budgets))
                print(table(swept, list(swept[0])))
    print(f"\nFMO vs Occlusion at the finest level, summed over {args.scenes} scenes (shapes) / "
          f"{args.photos} photos (ImageNet models):")
    print(table(rows, list(rows[0])))

    peers = [p for p in args.peers.split(",") if p]
    if not peers:
        return
    print("\nFMO vs the workbench's other methods at their defaults (shapes model, time ratio = other / FMO):")
    entry = wb.load_model("shapes")
    image = wb.data.make_scene((555, 0)).image
    _, fmo_s = timed(entry, image, "fmo", None)
    others = []
    for method in peers:
        if method not in wb.methods():
            others.append({"method": method, "seconds": "n/a", "FMO faster by": "n/a"})
            continue
        _, s = timed(entry, image, method, None)
        others.append({"method": method, "seconds": f"{s:.2f}", "FMO faster by": f"{s / fmo_s:.1f}x"})
    print(table([{"method": "fmo", "seconds": f"{fmo_s:.2f}", "FMO faster by": "1.0x"}] + others,
                ["method", "seconds", "FMO faster by"]))


if __name__ == "__main__":
    main()
