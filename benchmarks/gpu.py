"""The workbench on a GPU, side by side in one run (issue 40): for efficientnet_lite0, resnet50 (random weights)
and the shapes model, each perturbation method's default path and its fastest alternative, Captum's Occlusion
on the same windows, the model's forward ceiling (images/s at float32 and bfloat16: no method making N passes
can beat N over it) and the agreement of CUDA's maps with the CPU's (largest difference over the largest
value; one seed gives one set of masks on every device, and float32 runs have TF32 off).

    python benchmarks/gpu.py                      # needs CUDA; about 5 minutes on one GPU
    python benchmarks/gpu.py --device cpu --quick # exercises the script on a CPU (64 px images, tiny settings)

Without CUDA (and without ``--device cpu --quick``) it refuses and says why.
"""
from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

import workbench as wb
from workbench.engine import Engine
from workbench.memory_format import as_channels_last

from _common import device_line, load_line, table

MODELS = ("efficientnet_lite0", "resnet50", "shapes")
# (label, method, parameters of the default path, parameters of the alternative): full settings, quick settings
METHODS = {
    False: [("occlusion", {"patch": 16, "stride": 8}, {"incremental": "off"}),
            ("fmo", {}, {"incremental": "off"}),
            ("rise", {"num_masks": 4000}, {"precision": "bfloat16"}),
            ("lime", {"num_samples": 1000}, {"precision": "bfloat16"})],
    True: [("occlusion", {"patch": 32, "stride": 16}, {"incremental": "off"}),
           ("fmo", {"schedule": [(32, 32), (16, 16)]}, {"incremental": "off"}),
           ("rise", {"num_masks": 16}, {"precision": "bfloat16"}),
           ("lime", {"num_samples": 16, "n_segments": 10}, {"precision": "bfloat16"})],
}
AGREEMENT = {False: {"occlusion": {"patch": 56, "stride": 28}, "fmo": {}, "rise": {"num_masks": 500},
                     "lime": {"num_samples": 200}},
             True: {"occlusion": {"patch": 32, "stride": 32}, "rise": {"num_masks": 8}}}
QUICK_SIZE = 64   # pixels a side of the quick run's images (224 otherwise)


def test_image(name: str, entry, quick: bool) -> torch.Tensor:
    """``(3, H, W)`` in [0, 1]: the framed chelsea photo (a shapes scene for the shapes model), shrunk when quick."""
    from workbench.images import as_image_tensor

    image = as_image_tensor(wb.data.photo_for("chelsea", entry) if name != "shapes" else wb.data.make_scene(0).image)
    if quick:
        image = torch.nn.functional.interpolate(image[None], size=(QUICK_SIZE, QUICK_SIZE), mode="bilinear",
                                                antialias=True, align_corners=False)[0].clamp(0, 1)
    return image


def synchronise(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_of(run, device: torch.device) -> float:
    synchronise(device)
    started = time.perf_counter()
    run()
    synchronise(device)
    return time.perf_counter() - started


def forward_ceiling(entry, x: torch.Tensor, precision: str, quick: bool) -> float:
    """Images per second of the model's forward passes alone, as the engine runs them (channels-last,
    inference mode, autocast to ``precision``), at the engine's default batch size (8 when quick)."""
    engine = Engine(entry.module, precision=precision, batch_size=8 if quick else None)
    size = engine.batch_size or engine.default_batch_size(x)
    rounds = 1 if quick else 10
    with engine.channels_last(), torch.inference_mode(), engine.autocast():
        batch = x.expand(size, *x.shape[1:]).contiguous()
        batch = as_channels_last(batch) if engine.channels_last_batches else batch
        entry.module(batch)                                     # warm-up
        seconds = seconds_of(lambda: [entry.module(batch) for _ in range(rounds)], x.device)
    return size * rounds / seconds


def captum_occlusion(entry, image, target: int, patch: int, stride: int, batch: int) -> np.ndarray:
    from captum.attr import Occlusion

    x = entry.preprocess(image).to(entry.device)
    attribution = Occlusion(entry.module).attribute(x, sliding_window_shapes=(3, patch, patch),
                                                    strides=(3, stride, stride), baselines=0.0, target=target,
                                                    perturbations_per_eval=batch)
    return attribution[0].sum(0).detach().cpu().numpy() / 3   # the three channels' shares of one window's drop


def relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def measure(name: str, device: torch.device, quick: bool) -> list[dict]:
    entry = wb.load_model(name, device=device)
    image = test_image(name, entry, quick)
    x = entry.preprocess(image).to(device)
    rows = [{"model": name, "method": "forward ceiling", "path": precision,
             "images/s": f"{forward_ceiling(entry, x, precision, quick):.0f}"}
            for precision in ("float32", "bfloat16")]
    side = image.shape[-1] // 2
    target = wb.explain(entry, image, "occlusion", patch=side, stride=side).target   # also a warm-up
    for method, default, alternative in METHODS[quick]:
        found = {}
        for path, params in (("default", default), ("alternative", {**default, **alternative})):
            holder = {}
            seconds = seconds_of(lambda: holder.update(e=wb.explain(entry, image, method, target=target, **params)),
                                 device)
            e = found[path] = holder["e"]
            note = e.extras.get("inference")
            note = note[0] if isinstance(note, list) else note
            rows.append({"model": name, "method": method, "path": f"{path} {alternative if path != 'default' else ''}",
                         "seconds": f"{seconds:.3f}", "passes": e.cost.forward_passes,
                         "images/s": f"{e.cost.forward_passes / seconds:.0f}", "note": (note or "")[:70]})
        rows[-1]["vs default"] = f"{relative(found['alternative'].heatmap, found['default'].heatmap):.2g}"
        if method == "occlusion":
            patch, stride = default["patch"], default["stride"]
            holder = {}
            seconds = seconds_of(lambda: holder.update(a=captum_occlusion(entry, image, target, patch, stride, 64)),
                                 device)
            passes = found["default"].cost.forward_passes
            rows.append({"model": name, "method": "occlusion", "path": "Captum Occlusion", "seconds": f"{seconds:.3f}",
                         "passes": passes, "images/s": f"{passes / seconds:.0f}",
                         "vs default": f"{relative(holder['a'], found['default'].heatmap):.2g}"})
    return rows


def agreement(name: str, device: torch.device, quick: bool) -> list[dict]:
    """Each method's map on ``device`` against the CPU's (same seed, float32)."""
    entry = wb.load_model(name, device=device)
    image = test_image(name, entry, quick)
    rows = []
    for method, params in AGREEMENT[quick].items():
        here = wb.explain(entry, image, method, seed=0, **params)
        cpu = wb.explain(entry, image, method, seed=0, device="cpu", target=here.target, **params)
        rows.append({"model": name, "method": method, "params": params,
                     f"{device.type} vs cpu": f"{relative(here.heatmap, cpu.heatmap):.2g}"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (with --quick only)")
    parser.add_argument("--quick", action="store_true", help="tiny settings: exercises the script")
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("benchmarks/gpu.py measures the workbench on a GPU, and CUDA is not available here: run it on a "
                 "machine with an NVIDIA GPU, or exercise it with --device cpu --quick")
    if device.type != "cuda" and not args.quick:
        sys.exit(f"benchmarks/gpu.py: --device {args.device} only with --quick (it exercises the script; the "
                 f"figures it is for are CUDA's)")
    print(device_line(), "|", load_line(), "| quick" if args.quick else "", flush=True)
    started = time.perf_counter()
    rows, agree = [], []
    for name in args.models.split(","):
        rows += measure(name, device, args.quick)
        if not args.quick or name == "shapes":
            agree += agreement(name, device, args.quick)
        print(f"{name} measured ({time.perf_counter() - started:.0f} s so far)", flush=True)
    print(table(rows, ["model", "method", "path", "seconds", "passes", "images/s", "vs default", "note"]))
    print()
    print(table(agree, ["model", "method", "params", f"{device.type} vs cpu"]))
    print(f"\n{time.perf_counter() - started:.0f} s in all")


if __name__ == "__main__":
    main()
