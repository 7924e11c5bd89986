"""Region perturbation speed: Quantus ``RegionPerturbation`` vs ``wb.perturbation_curve`` on the same model,
images, heatmaps, region size and steps (deterministic baseline fill), side by side in one run.
Target: Quantus / workbench >= 5x. Also timed in the same interleaved rounds: the curves' forward passes alone
(``images x (steps + 1)`` passes of the model at the workbench's batch size, nothing else computed); Quantus'
time over it is the largest speed-up any implementation making those passes could reach.

    python benchmarks/evaluation_speed.py [--images 20] [--steps 100] [--repeats 1]
"""
from __future__ import annotations

import argparse

import numpy as np

import workbench as wb

from _common import device_line, interleaved, passes_alone, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    import quantus

    print(device_line())
    entry = wb.load_model("shapes")
    scenes = wb.data.make_scenes(args.images, seed=7070)
    images = [s.image for s in scenes]
    targets = [s.labels[0] for s in scenes]
    heatmaps = [wb.explain(entry, img, "occlusion", patch=16, stride=8, target=t).heatmap
                for img, t in zip(images, targets)]
    x_batch = np.concatenate([entry.preprocess(img).cpu().numpy() for img in images])
    a_batch = np.stack(heatmaps)[:, None]

    def with_quantus():
        metric = quantus.RegionPerturbation(patch_size=8, regions_evaluation=args.steps, order="morf",
                                            perturb_baseline=0.0, normalise=False, disable_warnings=True)
        metric(model=entry.module, x_batch=x_batch, y_batch=np.array(targets), a_batch=a_batch, softmax=False,
               device=str(entry.device), channel_first=True, batch_size=args.images)

    def with_workbench():
        for img, heat, t in zip(images, heatmaps, targets):
            wb.perturbation_curve(entry, img, heat, target=t, order="morf", region=8, steps=args.steps,
                                  fill="constant")

    times = interleaved({"Quantus": with_quantus, "workbench": with_workbench,
                         "passes alone": passes_alone(entry, images[0], args.images * (args.steps + 1))},
                        repeats=args.repeats)
    row = {"images": args.images, "steps": args.steps, "Quantus s": f"{times['Quantus']:.2f}",
           "workbench s": f"{times['workbench']:.2f}",
           "Quantus / workbench": f"{times['Quantus'] / times['workbench']:.2f}x",
           "passes alone s": f"{times['passes alone']:.2f}",
           "largest possible": f"{times['Quantus'] / times['passes alone']:.2f}x"}
    print(table([row], list(row)))
    print("target: >= 5x")


if __name__ == "__main__":
    main()
