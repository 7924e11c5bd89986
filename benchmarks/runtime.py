"""Compiled inference runtimes against torch (workbench.runtime, workbench.execution), side by side in one run.

Part ``models``: per model (shapes, efficientnet_lite0, random resnet18, random vgg16), ms/image of every
candidate on batches of 8 at 224 px (median of interleaved rounds): torch eager, torch channels-last (what
``runtime="torch"`` runs on a CPU), ONNX Runtime, OpenVINO, and the bfloat16 forms (torch autocast
channels-last, OpenVINO's precision hint) with their heatmap difference on the probe; then what ``"auto"``
picks at float32 and at ``precision="auto"``, with its ms/image against torch's.

Part ``methods``: EfficientNet-Lite0 on the framed chelsea photo: seconds of Occlusion (8,4), FMO at its
defaults, RISE with 4000 masks and a 50-step AOPC (MoRF region-perturbation) curve with ``runtime="torch"``
against ``"auto"`` (the one-time preparation timed apart, before), and the heatmaps' (curves') largest
difference relative to their largest value.

    python benchmarks/runtime.py [--part models|methods|all] [--models shapes,...] [--methods occlusion,...]
                                 [--repeats 3] [--occlusion 8,4] [--rise-masks 4000]
(on a loaded machine the defaults' torch runs take longer than one 10-minute command: fewer windows or masks
give the same per-pass comparison)
"""
from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import workbench as wb
from workbench import execution
from workbench.execution import _probe_batch, _scorer, Candidate, choose_execution
from workbench.runtime import NotConvertible, compiled_model

from _common import device_line, load_line, table

BATCH = 8
MODELS = ("shapes", "efficientnet_lite0", "resnet18", "vgg16")
METHODS = {
    "occlusion": {"patch": 8, "stride": 4},
    "fmo": {},
    "rise": {"num_masks": 4000},
    "aopc": {"steps": 50},
}


def model_rows(names, repeats):
    rows = []
    for name in names:
        entry = wb.load_model(name, device="cpu")
        module = entry.module.eval()
        if name == "shapes":
            image = wb.data.make_scene(0).image
        else:
            image = entry.frame(wb.data.photo("chelsea"))
        x = entry.preprocess(image)
        batch = torch.cat([x] * BATCH) + 0.1 * torch.randn(BATCH, *x.shape[1:], generator=torch.Generator().manual_seed(0))
        candidates = [Candidate("torch", "float32"), Candidate("torch", "float32", channels_last=True)]
        prepare = {}
        for runtime, precision in [("onnxruntime", "float32"), ("openvino", "float32"), ("openvino", "bfloat16")]:
            started = time.perf_counter()
            try:
                candidates.append(Candidate(runtime, precision, compiled=compiled_model(module, x, runtime, precision)))
            except NotConvertible as error:
                print(f"{name}: {runtime} {precision} not converted: {error}")
            prepare[f"{runtime} {precision}"] = time.perf_counter() - started
        candidates.append(Candidate("torch", "bfloat16", channels_last=True))
        scorers = {c.name: _scorer(module, c, torch.device("cpu")) for c in candidates}
        reference = scorers["torch"](batch)
        probe = _probe_batch(x)
        target = int(reference[0].argmax())
        exact_map = scorers["torch"](probe)
        exact_map = exact_map[0, target] - exact_map[1:, target]
        times = {n: [] for n in scorers}
        agreement, map_agreement = {}, {}
        for n, score in scorers.items():
            agreement[n] = execution.relative_difference(score(batch), reference)   # also the warm-up
            values = score(probe)
            map_agreement[n] = execution.relative_difference(values[0, target] - values[1:, target], exact_map)
        for _ in range(repeats):
            for n, score in scorers.items():
                started = time.perf_counter()
                score(batch)
                times[n].append(time.perf_counter() - started)
        ms = {n: 1e3 * statistics.median(t) / BATCH for n, t in times.items()}
        started = time.perf_counter()
        auto = choose_execution(module, x, "auto", "float32")
        auto_s = time.perf_counter() - started
        auto_precision = choose_execution(module, x, "auto", "auto")
        base = ms["torch channels-last"]
        row = {"model": name}
        for n in scorers:
            row[n] = f"{ms[n]:.2f} ({base / ms[n]:.2f}x; {agreement[n]:.1e}; map {map_agreement[n]:.1e})"
        row["auto picks"] = f"{auto.name} ({base / ms[auto.name]:.2f}x)"
        row["precision=auto picks"] = f"{auto_precision.name} ({base / ms[auto_precision.name]:.2f}x)"
        rows.append(row)
        print(f"\n{name}: ms/image (speed-up over torch channels-last, the runtime='torch' path; scores' largest "
              f"difference to torch float32 relative to the largest score; coarse probe map's difference)")
        for n in scorers:
            print(f"  {n:32s} {row[n]}")
        print(f"  auto (float32) picks: {row['auto picks']}; precision='auto' picks: {row['precision=auto picks']}")
        print(f"  probe reasons: {auto.reason}\n                 {auto_precision.reason}")
        print(f"  one-time preparation: conversions {', '.join(f'{k} {v:.1f} s' for k, v in prepare.items())}; "
              f"probe {auto_s:.1f} s (conversions cached)")
        print(" ", load_line())
    return rows


def method_rows(names):
    entry = wb.load_model("efficientnet_lite0", device="cpu")
    image = entry.frame(wb.data.photo("chelsea"))
    started = time.perf_counter()
    choose_execution(entry.module, entry.preprocess(image), "auto", "float32")
    print(f"one-time preparation of efficientnet_lite0 (conversion + probe): {time.perf_counter() - started:.1f} s")
    explanation = wb.explain(entry, image, "occlusion", patch=32, stride=16)   # the curve's heatmap
    rows = []
    for name in names:
        params = METHODS[name]
        results, seconds = {}, {}
        for runtime in ("torch", "auto"):
            started = time.perf_counter()
            if name == "aopc":
                results[runtime] = wb.perturbation_curve(entry, image, explanation, runtime=runtime, **params)
                values = results[runtime].scores
                extras = {}
            else:
                e = wb.explain(entry, image, name, runtime=runtime, **params)
                results[runtime], values, extras = e, e.heatmap, e.extras
            seconds[runtime] = time.perf_counter() - started
            results[runtime] = np.asarray(values, dtype=np.float64)
            if runtime == "auto":
                print(f"{name}: auto ran {extras.get('runtime', '(curve)')}; inference: {extras.get('inference', '-')}")
        difference = np.abs(results["auto"] - results["torch"]).max() / np.abs(results["torch"]).max()
        rows.append({"method": name, "torch s": f"{seconds['torch']:.1f}", "auto s": f"{seconds['auto']:.1f}",
                     "speed-up": f"{seconds['torch'] / seconds['auto']:.2f}x", "max diff / max": f"{difference:.1e}"})
        print(table(rows[-1:], list(rows[-1])), "|", load_line(), flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", default="all", choices=("models", "methods", "all"))
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--occlusion", default="8,4", help="patch,stride of the Occlusion Test")
    parser.add_argument("--rise-masks", type=int, default=4000)
    args = parser.parse_args()
    patch, stride = (int(v) for v in args.occlusion.split(","))
    METHODS["occlusion"] = {"patch": patch, "stride": stride}
    METHODS["rise"] = {"num_masks": args.rise_masks}
    print(device_line(), "|", load_line())
    if args.part in ("models", "all"):
        model_rows(args.models.split(","), args.repeats)
    if args.part in ("methods", "all"):
        print("\nEfficientNet-Lite0, framed chelsea photo: runtime='torch' against 'auto'")
        rows = method_rows(args.methods.split(","))
        print(table(rows, list(rows[0])))


if __name__ == "__main__":
    main()
