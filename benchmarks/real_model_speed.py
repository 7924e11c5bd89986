"""The FMO paper's speed table on a real ImageNet network: FMO (defaults) against the Occlusion Test at FMO's
finest level (8,4), RISE, LIME, Meaningful and Extremal Perturbation (each at the workbench's defaults, the
papers' settings), on the bundled photos framed for the pretrained EfficientNet-Lite0.

Each method's run is timed right after an FMO run on the same photo and target (side by side, so that a
change in the machine's load hits both), and each row is appended to a JSON-lines file as soon as it is
measured: the table can be built in pieces (``--methods``), and ``--report`` prints it from the file next to the
paper's figures (Behzadi-Khormouji & Rostami 2021, Table 6: FMO faster than Occlusion 24.84x, RISE 11.87x,
MP 8.72x, EP 10.03x, LIME 2.32x).

    python benchmarks/real_model_speed.py [--photos chelsea,coffee] [--methods occlusion,rise,...]
                                          [--model efficientnet_lite0] [--out benchmarks/out/real_model_speed.jsonl]
    python benchmarks/real_model_speed.py --report
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

import workbench as wb

from _common import device_line, table

METHODS = {
    "occlusion": {"patch": 8, "stride": 4},   # the finest level of FMO's default schedule at 224 px
    "rise": {},
    "lime": {},
    "meaningful_perturbation": {},
    "extremal_perturbation": {},
}
PAPER = {"occlusion": 24.84, "rise": 11.87, "meaningful_perturbation": 8.72, "extremal_perturbation": 10.03,
         "lime": 2.32}
DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "real_model_speed.jsonl"


def timed(entry, image, method: str, target: int | None, **params):
    start = time.perf_counter()
    explanation = wb.explain(entry, image, method, target=target, seed=0, **params)
    return explanation, time.perf_counter() - start


def measure(entry, photo_name: str, methods: list[str], out: Path) -> None:
    image = entry.frame(wb.data.photo(photo_name))
    first, _ = timed(entry, image, "fmo", None)            # also a warm-up; fixes the target for all methods
    target = first.target
    print(f"{photo_name}: target {first.target_name!r}", flush=True)
    for method in methods:
        fmo, fmo_s = timed(entry, image, "fmo", target)
        other, other_s = timed(entry, image, method, target, **METHODS[method])
        row = {"model": entry.name, "photo": photo_name, "target": first.target_name, "method": method,
               "params": METHODS[method], "seconds": other_s, "fmo_seconds": fmo_s,
               "forward": other.cost.forward_passes, "backward": other.cost.backward_passes,
               "fmo_forward": fmo.cost.forward_passes, "threads": torch.get_num_threads(), "device": device_line()}
        with out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        print(f"  {method:24s} {other_s:8.1f} s ({other.cost.forward_passes} fwd, {other.cost.backward_passes} bwd)"
              f" vs FMO {fmo_s:5.2f} s ({fmo.cost.forward_passes} fwd): {other_s / fmo_s:6.1f}x", flush=True)


def report(out: Path) -> str:
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()]
    lines = []
    for method in METHODS:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        seconds, fmo_seconds = sum(r["seconds"] for r in mine), sum(r["fmo_seconds"] for r in mine)
        passes = sum(r["forward"] + r["backward"] for r in mine)
        fmo_passes = sum(r["fmo_forward"] for r in mine)
        lines.append({"FMO vs": method, "photos": ",".join(r["photo"] for r in mine),
                      "seconds": f"{seconds:.1f}", "FMO seconds": f"{fmo_seconds:.2f}",
                      "FMO faster by": f"{seconds / fmo_seconds:.1f}x",
                      "passes (fwd+bwd)": f"{passes} vs {fmo_passes}",
                      "paper": f"{PAPER[method]:.2f}x"})
    return table(lines, list(lines[0])) if lines else "no rows yet"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="efficientnet_lite0")
    parser.add_argument("--photos", default="chelsea")
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", action="store_true", help="print the table from --out and stop")
    args = parser.parse_args()
    if args.report:
        print(report(args.out))
        return
    methods = [m for m in args.methods.split(",") if m]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"--methods: unknown {unknown}; expected some of {list(METHODS)}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    print(device_line(), flush=True)
    entry = wb.load_model(args.model, device=args.device)
    for photo_name in args.photos.split(","):
        measure(entry, photo_name, methods, args.out)
    print(report(args.out))


if __name__ == "__main__":
    main()
