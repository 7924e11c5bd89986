"""Sampling explainers against their reference implementations, side by side in one run, same model and
input: workbench RISE vs TorchRay's ``rise`` (same N, grid, p) and workbench LIME vs the ``lime`` package's
``LimeImageExplainer`` (same SLIC segmentation, num_samples).

Two settings of the batch size: each library at its own default (TorchRay 32, lime 10, the workbench's
engine chooses: 8 images at 224 px on a CPU), which is what a user gets, and all at one batch size
(``--same-batch``, default 8), which isolates everything but the batch size.

Targets: RISE >= 2x faster than TorchRay, LIME >= 3x faster than lime. Also timed in the same interleaved
rounds: the same number of forward passes of the model alone (the workbench's batch size, nothing else
computed); the peer's time over it is the largest speed-up any implementation making those passes could reach.

    python benchmarks/sampling_speed.py [--repeats 1] [--same-batch 8] [--methods RISE,LIME]
"""
from __future__ import annotations

import argparse

import numpy as np
import torch

import workbench as wb
from workbench.superpixels import segment

from _common import device_line, interleaved, passes_alone, table

TORCHRAY_DEFAULT_BATCH = 32   # torchray.attribution.rise.rise(batch_size=32)
LIME_DEFAULT_BATCH = 10       # lime.lime_image.LimeImageExplainer.explain_instance(batch_size=10)


def rise_pair(entry, image, target, n, batch):
    x = entry.preprocess(image).to(entry.device)

    def torchray_rise():
        from torchray.attribution.rise import rise
        with torch.no_grad():
            rise(entry.module, x, target=target, num_masks=n, num_cells=7, p=0.5,
                 batch_size=batch or TORCHRAY_DEFAULT_BATCH)

    def workbench_rise():
        wb.explain(entry, image, "rise", target=target, num_masks=n, grid=7, p_keep=0.5, batch_size=batch)

    return {"TorchRay": torchray_rise, "workbench": workbench_rise}


def lime_pair(entry, image, target, n, batch):
    from lime.lime_image import LimeImageExplainer

    segments = segment(image.astype(np.float32) / 255, n_segments=50)

    def classifier(batch: np.ndarray) -> np.ndarray:
        x = entry.normalise(torch.from_numpy(batch).permute(0, 3, 1, 2).float().to(entry.device))
        with torch.no_grad():
            return entry.probabilities(entry.module(x)).cpu().numpy()

    def lime_package():
        LimeImageExplainer(random_state=0).explain_instance(
            image.astype(np.float64) / 255, classifier, labels=(target,), top_labels=None, hide_color=None,
            num_samples=n, batch_size=batch or LIME_DEFAULT_BATCH, segmentation_fn=lambda _: segments)

    def workbench_lime():
        wb.explain(entry, image, "lime", target=target, num_samples=n, segments=segments, batch_size=batch)

    return {"lime": lime_package, "workbench": workbench_lime}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--methods", default="RISE,LIME")
    parser.add_argument("--same-batch", type=int, default=8, help="the batch size of the second setting (0: skip it)")
    args = parser.parse_args()
    print(device_line())
    cases = [("shapes", 4000, 1000), ("resnet18", 500, 300)]
    rows = []
    for name, rise_n, lime_n in cases:
        torch.manual_seed(0)
        entry = wb.load_model(name)
        image = wb.data.make_scene((31, 0)).image if name == "shapes" else wb.data.sample_images(224)["chelsea"]
        target = wb.explain(entry, image, "occlusion", patch=224, stride=224).target
        for method, pair, n in (("RISE", rise_pair, rise_n), ("LIME", lime_pair, lime_n)):
            if method not in args.methods.split(","):
                continue
            for batch in (None, args.same_batch or None)[:2 if args.same_batch else 1]:
                runs = {**pair(entry, image, target, n, batch), "passes alone": passes_alone(entry, image, n, batch)}
                times = interleaved(runs, repeats=args.repeats)
                (peer, peer_s), (_, ours_s), (_, floor_s) = list(times.items())
                rows.append({"model": name, "method": method, "N": n, "peer": peer,
                             "batch": "defaults" if batch is None else f"{batch} (both)",
                             "peer s": f"{peer_s:.2f}", "workbench s": f"{ours_s:.2f}",
                             "speed-up": f"{peer_s / ours_s:.2f}x", "passes alone s": f"{floor_s:.2f}",
                             "largest possible": f"{peer_s / floor_s:.2f}x"})
                print(table(rows[-1:], list(rows[-1])), flush=True)
    print()
    print(table(rows, list(rows[0])))
    print("targets: RISE >= 2x TorchRay, LIME >= 3x lime; largest possible = peer s / passes alone s")


if __name__ == "__main__":
    main()
