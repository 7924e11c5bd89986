"""Integrated Gradients, workbench vs Captum, side by side in one run: ``wb.explain(..., "integrated_gradients",
steps=50)`` against Captum's ``IntegratedGradients.attribute(n_steps=50)`` on the same model, image, target and
baseline (black pixels, normalised), both with Gauss-Legendre (each one's default), the calls interleaved
(medians). Captum at its default (all 50 path points in one batch) and with ``internal_batch_size`` equal to
the workbench's chunk. The workbench's time includes its clean pass, the baseline's forward pass and the
completeness residual, which Captum does not compute. Also prints the largest difference of the maps.

    python benchmarks/ig_speed.py [--repeats 3] [--models resnet18,efficientnet_lite0] [--steps 50]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import workbench as wb
from workbench.explainers._input_gradients import gradient_batch_size

from _common import device_line, interleaved, load_line, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", default="resnet18,efficientnet_lite0")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--target", type=int, default=281)
    args = parser.parse_args()
    from captum.attr import IntegratedGradients

    print(device_line())
    print(load_line(), flush=True)
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)                     # torchvision models without weights: random, seeded
        entry = wb.load_model(name)
        image = entry.frame(wb.data.photo("chelsea"))
        x = entry.preprocess(image).to(entry.device)
        baseline = entry.normalise(torch.zeros_like(x))
        chunk = gradient_batch_size(entry.module, x)
        captum = IntegratedGradients(entry.module)

        def ours():
            return wb.explain(entry, image, "integrated_gradients", target=args.target, steps=args.steps).heatmap

        def theirs(batch=None):
            return captum.attribute(x, baselines=baseline, target=args.target, n_steps=args.steps,
                                    internal_batch_size=batch)[0].sum(0).detach().cpu().numpy()

        reference = theirs()
        difference = np.abs(ours() - reference).max() / np.abs(reference).max()
        times = interleaved({"workbench": ours, "captum": theirs, "captum chunked": lambda: theirs(chunk)},
                            repeats=args.repeats)
        rows.append({"model": name, "chunk": chunk, "workbench s": f"{times['workbench']:.3f}",
                     "captum s": f"{times['captum']:.3f}",
                     "captum / workbench": f"{times['captum'] / times['workbench']:.2f}x",
                     "captum chunked s": f"{times['captum chunked']:.3f}",
                     "ratio (same batch)": f"{times['captum chunked'] / times['workbench']:.2f}x",
                     "max |diff| / max |map|": f"{difference:.1e}"})
        print(table(rows[-1:], list(rows[-1])), flush=True)
    print()
    print(table(rows, list(rows[0])))
    print(load_line())
    print("\nratio > 1: the workbench is faster (medians of interleaved calls; the machine may be shared: see the "
          "load averages)")


if __name__ == "__main__":
    main()
