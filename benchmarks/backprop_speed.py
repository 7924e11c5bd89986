"""Backprop explainers against the physical floor: each method's ``wb.explain`` time divided by one plain
forward + backward (gradient of the target logit with respect to the input) of the same model on the same
image, interleaved in one run. Target: <= 1.5x for every rule on resnet18 on the CPU.

    python benchmarks/backprop_speed.py [--repeats 5] [--models resnet18,shapes]
"""
from __future__ import annotations

import argparse

import torch

import workbench as wb

from _common import device_line, interleaved, table

METHODS = ("gradient", "deconvnet", "guided_backprop", "lrp_epsilon", "lrp_alpha2_beta1", "deep_taylor",
           "lrp_epsilon_gamma_box")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", default="resnet18,shapes")
    args = parser.parse_args()
    print(device_line())
    rows = []
    for name in args.models.split(","):
        torch.manual_seed(0)
        entry = wb.load_model(name)
        image = wb.data.make_scene((3, 0)).image if name.startswith("shapes") else wb.data.sample_images(224)["chelsea"]
        x = entry.preprocess(image).to(entry.device)

        def plain():
            inp = x.clone().requires_grad_(True)
            torch.autograd.grad(entry.module(inp)[0, 1], inp)

        calls = {"plain fwd+bwd": plain}
        calls.update({m: (lambda m=m: wb.explain(entry, image, m, target=1)) for m in METHODS})
        times = interleaved(calls, repeats=args.repeats)
        floor = times["plain fwd+bwd"]
        for method in METHODS:
            rows.append({"model": name, "method": method, "seconds": f"{times[method]:.4f}",
                         "floor s": f"{floor:.4f}", "ratio": f"{times[method] / floor:.2f}x"})
        print(table(rows[-len(METHODS):], list(rows[0])), flush=True)
    print("\nratio = explain time / plain forward+backward; target <= 1.5x on resnet18")


if __name__ == "__main__":
    main()
