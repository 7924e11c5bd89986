"""Mask-learning speed: workbench Extremal Perturbation vs TorchRay's ``extremal_perturbation`` (same model,
image, target, areas and iterations, interleaved in one run; target: workbench at least as fast), and the
time of NeuroMask and Meaningful Perturbation at their default iteration counts.

    python benchmarks/mask_learning_speed.py [--ep-iterations 100] [--models shapes,resnet18]
"""
from __future__ import annotations

import argparse

import torch

import workbench as wb

from _common import device_line, interleaved, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ep-iterations", type=int, default=100)
    parser.add_argument("--models", default="shapes,resnet18")
    args = parser.parse_args()
    from torchray.attribution.extremal_perturbation import extremal_perturbation as torchray_ep

    print(device_line())
    rows, defaults = [], []
    for name in args.models.split(","):
        torch.manual_seed(0)
        entry = wb.load_model(name)
        image = wb.data.make_scene((3, 0)).image if name.startswith("shapes") else wb.data.sample_images(224)["chelsea"]
        x = entry.preprocess(image).to(entry.device)
        target = wb.explain(entry, image, "gradient").target
        areas = [0.05, 0.1, 0.2]

        def theirs():
            flags = [p.requires_grad for p in entry.module.parameters()]
            torchray_ep(entry.module, x, target, areas=areas, max_iter=args.ep_iterations)
            for p, flag in zip(entry.module.parameters(), flags):  # TorchRay leaves them off
                p.requires_grad_(flag)

        def ours():
            wb.explain(entry, image, "extremal_perturbation", target=target, areas=areas,
                       iterations=args.ep_iterations)

        times = interleaved({"TorchRay": theirs, "workbench": ours}, repeats=1)
        rows.append({"model": name, "areas": len(areas), "iterations": args.ep_iterations,
                     "TorchRay s": f"{times['TorchRay']:.1f}", "workbench s": f"{times['workbench']:.1f}",
                     "TorchRay / workbench": f"{times['TorchRay'] / times['workbench']:.2f}x"})
        print(table(rows[-1:], list(rows[-1])), flush=True)
        for method in ("neuromask", "meaningful_perturbation"):
            e = wb.explain(entry, image, method, target=target)
            defaults.append({"model": name, "method": method, "iterations": e.extras["iterations_run"],
                             "seconds": f"{e.cost.seconds:.1f}",
                             "ms/iteration": f"{1000 * e.cost.seconds / e.extras['iterations_run']:.0f}"})
            print(table(defaults[-1:], list(defaults[-1])), flush=True)
    print("\nExtremal Perturbation (target: workbench at least as fast as TorchRay):")
    print(table(rows, list(rows[0])))
    print("\nNeuroMask and Meaningful Perturbation at their defaults:")
    print(table(defaults, list(defaults[0])))


if __name__ == "__main__":
    main()
