"""Engine overhead: (engine time to score N masked images) / (plain batched ``model(x)`` on N prepared images).

Same model, same batch size, same run, calls interleaved. The engine's time includes composing the N
occluded images as the Occlusion Test and FMO do (:meth:`Engine.score_windows`: the clean image copied into
each batch, each window written over it); the plain loop gets its N images ready-made. Target: <= 1.10.
A third column runs the engine as ``workbench.explain`` does for perturbation methods, with the weights and
batches channels-last (:mod:`workbench.memory_format`); its ratio below 1 is the speed-up. The "masks"
column composes the same images from full-size 0/1 masks, ``x*m + baseline*(1-m)`` (``score_masks``, as
RISE and LIME do and as the window methods did before), for comparison.

    python benchmarks/engine_overhead.py [--n 256] [--batch-size 32] [--repeats 3]
"""
from __future__ import annotations

import argparse

import torch

import workbench as wb
from workbench.engine import Engine
from workbench.explainers.windows import WindowGrid

from _common import device_line, interleaved, load_line, table


def measure(name: str, n: int, batch_size: int, repeats: int) -> dict:
    entry = wb.load_model(name)
    module, device = entry.module, entry.device
    image = wb.data.make_scene(0).image if name.startswith("shapes") else wb.data.sample_images(224)["chelsea"]
    x = entry.preprocess(image).to(device)
    grid = WindowGrid(224, 224, 8, 4, device=device)
    indices = torch.arange(n, device=device) % grid.count
    prepared = torch.addcmul(torch.zeros(()), grid.keep_masks(indices), x).to(device)  # the same N images
    engine = Engine(module, device, batch_size=batch_size)

    def plain():
        with torch.inference_mode():
            for i in range(0, n, batch_size):
                module(prepared[i:i + batch_size])

    boxes = grid.boxes(indices)

    def through_engine():
        engine.score_windows(x, boxes, target=0)

    def through_engine_channels_last():
        with engine.channels_last():
            engine.score_windows(x, boxes, target=0)

    def through_masks():
        engine.score_masks(x, lambda a, b: grid.keep_masks(indices[a:b]), n=n, target=0)

    times = interleaved({"plain": plain, "engine": through_engine, "channels-last": through_engine_channels_last,
                         "masks": through_masks}, repeats=repeats)
    return {"model": name, "N": n, "batch": batch_size, "plain s": f"{times['plain']:.3f}",
            "engine s": f"{times['engine']:.3f}", "ratio": f"{times['engine'] / times['plain']:.3f}",
            "channels-last s": f"{times['channels-last']:.3f}",
            "cl ratio": f"{times['channels-last'] / times['plain']:.3f}",
            "masks ratio": f"{times['masks'] / times['plain']:.3f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="shapes,resnet18")
    args = parser.parse_args()
    print(device_line())
    print(load_line(), "(before)")
    columns = ["model", "N", "batch", "plain s", "engine s", "ratio", "channels-last s", "cl ratio", "masks ratio"]
    rows = []
    for name in args.models.split(","):
        rows.append(measure(name, args.n, args.batch_size, args.repeats))
        print(table(rows[-1:], columns), flush=True)
    print(table(rows, columns))
    print(load_line(), "(after)")
    print("ratio = engine (window occluders) / plain (target <= 1.10); cl ratio = the same with channels-last "
          "weights and batches / plain; masks ratio = engine composing from full-size masks / plain")


if __name__ == "__main__":
    main()
