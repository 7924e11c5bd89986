"""Class activation maps against their floors, side by side in one run (issue 35):

- each gradient CAM's ``wb.explain`` time over one plain forward + backward of the same model on the same image
  (the gradient of the target logit with respect to the input). Target: Grad-CAM <= 1.2x (it makes one forward
  pass and a backward pass that stops at the layer);
- Score-CAM's ``wb.explain`` time over pytorch-grad-cam's ``ScoreCAM`` (the ``grad-cam`` package) on the same
  model, layer and image, each scoring one masked image per channel of the layer. Target: <= 1.0x;
- Integrated Gradients (``steps`` 50, Gauss-Legendre, black baseline) against Captum's ``IntegratedGradients``
  on the same model, image, target and baseline: Captum at its default (all path points in one batch) and with
  ``internal_batch_size`` equal to the workbench's chunk. The workbench's time includes its clean pass, the
  baseline's forward pass and the completeness residual, which Captum does not compute. At the default
  precision its gradient passes keep the module's own (contiguous) layout, Captum's; the "fast" columns are
  ``precision="auto"`` (the Workbench's fast box), whose passes run in the memory layout measured faster on
  the model's first chunks (the warm-up call; channels-last rounds differently, hence a map difference above
  1e-5 where it is chosen). Target: ratio >= 1.0x.

Calls are interleaved (medians of ``--repeats`` after a warm-up) so that machine noise hits all alike; the load
average is printed with the figures.

    python benchmarks/cam_ig_speed.py [--repeats 5] [--score-layer layer4] [--score-repeats 1]
        [--parts cam,ig] [--ig-models resnet18,efficientnet_lite0] [--ig-steps 50] [--ig-repeats 3]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TQDM_DISABLE", "1")   # pytorch-grad-cam's ScoreCAM draws a progress bar per image

import numpy as np
import torch
import torchvision

import workbench as wb
from workbench.explainers._input_gradients import gradient_batch_size

from _common import device_line, interleaved, load_line, table

GRADIENT_CAMS = ("grad_cam", "grad_cam_plus_plus", "hirescam", "layer_cam", "eigen_cam")


def cams(args) -> None:
    """Gradient CAMs over a forward+backward, Score-CAM over pytorch-grad-cam's."""
    torch.manual_seed(0)
    module = torchvision.models.resnet18(weights=None).eval()
    entry = wb.wrap_model(module, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
    if torch.cuda.is_available():
        module.cuda()
    image = wb.data.sample_images(224)["chelsea"]
    x = entry.preprocess(image).to(entry.device)
    target = 1

    def plain():
        inp = x.clone().requires_grad_(True)
        torch.autograd.grad(module(inp)[0, target], inp)

    def forward():
        with torch.no_grad():
            module(x)

    calls = {"plain fwd+bwd": plain, "plain forward": forward}
    calls.update({m: (lambda m=m: wb.explain(entry, image, m, target=target)) for m in GRADIENT_CAMS})
    print(load_line(), flush=True)
    times = interleaved(calls, repeats=args.repeats)
    floor, forward_s = times["plain fwd+bwd"], times["plain forward"]
    rows = [{"model": "resnet18", "method": m, "seconds": f"{times[m]:.4f}", "fwd+bwd s": f"{floor:.4f}",
             "ratio": f"{times[m] / floor:.2f}x", "over a forward": f"{times[m] / forward_s:.2f}x"}
            for m in GRADIENT_CAMS]
    print(table(rows, list(rows[0])))
    print("ratio = explain time / plain forward+backward (target: Grad-CAM <= 1.2x); over a forward = explain time / "
          "one plain forward under no_grad\n", flush=True)

    from pytorch_grad_cam import ScoreCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    layer = module.get_submodule(args.score_layer)
    reference = ScoreCAM(module, [layer])

    def theirs():
        reference(x, [ClassifierOutputTarget(target)])

    def ours():
        wb.explain(entry, image, "score_cam", target=target, layer=args.score_layer)

    print(load_line(), flush=True)
    times = interleaved({"workbench score_cam": ours, "pytorch-grad-cam ScoreCAM": theirs}, repeats=args.score_repeats)
    reference.activations_and_grads.release()
    ratio = times["workbench score_cam"] / times["pytorch-grad-cam ScoreCAM"]
    rows = [{"model": "resnet18", "layer": args.score_layer, "implementation": name, "seconds": f"{t:.3f}"}
            for name, t in times.items()]
    print(table(rows, list(rows[0])))
    print(f"Score-CAM ratio = workbench / pytorch-grad-cam: {ratio:.2f}x (target <= 1.0x)")
    print(load_line())


def integrated_gradients(args) -> None:
    """Integrated Gradients, workbench vs Captum; also the maps' largest difference."""
    from captum.attr import IntegratedGradients

    print(load_line(), flush=True)
    rows = []
    for name in args.ig_models.split(","):
        torch.manual_seed(0)                     # torchvision models without weights: random, seeded
        entry = wb.load_model(name)
        image = entry.frame(wb.data.photo("chelsea"))
        x = entry.preprocess(image).to(entry.device)
        baseline = entry.normalise(torch.zeros_like(x))
        chunk = gradient_batch_size(entry.module, x)
        captum = IntegratedGradients(entry.module)

        def ours(precision="float32"):
            return wb.explain(entry, image, "integrated_gradients", target=args.ig_target, steps=args.ig_steps,
                              precision=precision).heatmap

        def theirs(batch=None):
            return captum.attribute(x, baselines=baseline, target=args.ig_target, n_steps=args.ig_steps,
                                    internal_batch_size=batch)[0].sum(0).detach().cpu().numpy()

        reference = theirs()
        ours("auto")                             # the first fast call measures the gradient passes' memory layout
        difference = np.abs(ours() - reference).max() / np.abs(reference).max()
        fast_difference = np.abs(ours("auto") - reference).max() / np.abs(reference).max()
        times = interleaved({"workbench": ours, "captum": theirs, "captum chunked": lambda: theirs(chunk),
                             "workbench fast": lambda: ours("auto")}, repeats=args.ig_repeats)
        rows.append({"model": name, "chunk": chunk, "workbench s": f"{times['workbench']:.3f}",
                     "captum s": f"{times['captum']:.3f}",
                     "captum / workbench": f"{times['captum'] / times['workbench']:.2f}x",
                     "captum chunked s": f"{times['captum chunked']:.3f}",
                     "ratio (same batch)": f"{times['captum chunked'] / times['workbench']:.2f}x",
                     "max |diff| / max |map|": f"{difference:.1e}",
                     "fast s": f"{times['workbench fast']:.3f}",
                     "captum / fast": f"{times['captum'] / times['workbench fast']:.2f}x",
                     "fast diff": f"{fast_difference:.1e}",
                     "fast layout": wb.explain(entry, image, "integrated_gradients", target=args.ig_target, steps=1,
                                               precision="auto").extras["layout"].split(":")[0]})
        print(table(rows[-1:], list(rows[-1])), flush=True)
    print()
    print(table(rows, list(rows[0])))
    print(load_line())
    print("ratio > 1: the workbench is faster (medians of interleaved calls; the machine may be shared: see the "
          "load averages)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--parts", default="cam,ig", help="which parts to run: cam, ig or both")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--score-layer", default="layer4", help="ResNet-18 layer Score-CAM reads (layer4: 512 channels)")
    parser.add_argument("--score-repeats", type=int, default=1)
    parser.add_argument("--ig-repeats", type=int, default=3)
    parser.add_argument("--ig-models", default="resnet18,efficientnet_lite0")
    parser.add_argument("--ig-steps", type=int, default=50)
    parser.add_argument("--ig-target", type=int, default=281)
    args = parser.parse_args()
    print(device_line())
    parts = args.parts.split(",")
    if "cam" in parts:
        cams(args)
    if "ig" in parts:
        integrated_gradients(args)


if __name__ == "__main__":
    main()
