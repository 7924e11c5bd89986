"""How good is each method: every registered method at its defaults on fresh scenes of the shipped
``shapes`` model, every present class a target. Per (scene, class, method): pointing game (share of the
maximum set within 15 px of the object, ``workbench.metrics.pointing_game``), energy pointing (share of the
positive heat on the object), AOPC of the MoRF, LeRF and random orders (Samek et al. 2017: 50 steps of 9 px
regions, uniform noise, the logit), ABPC (AOPC(MoRF) - AOPC(LeRF), the area between the two curves),
forward passes and seconds. The summary gives mean +- standard error over the pairs.

Resumable: every finished (scene, class, method) row is appended to ``docs/method_quality_rows.csv`` at
once and skipped when the script runs again, so a long run can be done in pieces (``--minutes`` stops
cleanly before starting a pair past that budget). ``--report`` (also run at the end of every piece) writes
the summary ``docs/method_quality.csv``, ``docs/method_quality.png`` and prints the table as Markdown.

On a CPU Extremal Perturbation runs 300 iterations instead of its 800 (``--ep-iterations``; the table says
so); on a GPU it runs its full defaults.

    python benchmarks/method_quality.py --scenes 50 [--methods neuromask,lime] [--minutes 9] [--report]
"""
from __future__ import annotations

import argparse
import csv
import math
import time
from pathlib import Path

import numpy as np
import torch

import workbench as wb
from workbench.metrics import energy_pointing_game, pointing_game

from _common import device_line, table

SEED = 5150  # fresh scenes: not a training seed, not the seeds the defaults were tuned on
DOCS = Path(__file__).resolve().parent.parent / "docs"
ROWS = DOCS / "method_quality_rows.csv"
FIELDS = ["scene", "target", "method", "settings", "pointing", "energy", "aopc_morf", "aopc_lerf",
          "aopc_random", "abpc", "passes", "seconds"]
METRICS = ["pointing", "energy", "aopc_morf", "aopc_lerf", "aopc_random", "abpc", "passes", "seconds"]
CURVE = {"region": 9, "steps": 50, "fill": "uniform", "output": "logit"}


def settings_for(method: str, ep_iterations: int) -> dict:
    """The defaults, except Extremal Perturbation's iteration count on a CPU."""
    if method == "extremal_perturbation" and not torch.cuda.is_available():
        return {"iterations": ep_iterations}
    return {}


def done_rows() -> list[dict]:
    if not ROWS.exists():
        return []
    with ROWS.open() as f:
        return list(csv.DictReader(f))


def measure(entry, scene, index: int, target: int, method: str, settings: dict) -> dict:
    e = wb.explain(entry, scene.image, method, target=target, **settings)
    mask = scene.class_mask(target)
    curves = {order: wb.perturbation_curve(entry, scene.image, e, order=order, seed=index, **CURVE).aopc
              for order in ("morf", "lerf", "random")}
    return {"scene": index, "target": target, "method": method,
            "settings": " ".join(f"{k}={v}" for k, v in settings.items()),
            "pointing": pointing_game(e.heatmap, mask), "energy": energy_pointing_game(e.heatmap, mask),
            "aopc_morf": curves["morf"], "aopc_lerf": curves["lerf"], "aopc_random": curves["random"],
            "abpc": curves["morf"] - curves["lerf"], "passes": e.cost.forward_passes, "seconds": e.cost.seconds}


def run(scenes: int, methods: list[str], minutes: float, ep_iterations: int) -> None:
    entry = wb.load_model("shapes")
    done = {(int(r["scene"]), int(r["target"]), r["method"]) for r in done_rows()}
    DOCS.mkdir(exist_ok=True)
    new_file = not ROWS.exists()
    start = time.perf_counter()
    with ROWS.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for index in range(scenes):
            scene = wb.data.make_scene((SEED, index))
            for target in sorted(set(scene.labels)):
                for method in methods:
                    if (index, target, method) in done:
                        continue
                    if time.perf_counter() - start > 60 * minutes:
                        print(f"stopped after {minutes} minutes; run again to continue", flush=True)
                        return
                    row = measure(entry, scene, index, target, method, settings_for(method, ep_iterations))
                    writer.writerow(row)
                    f.flush()
                    print(f"scene {index} class {target} {method}: pointing {row['pointing']:.2f}, "
                          f"AOPC MoRF {row['aopc_morf']:.2f} / random {row['aopc_random']:.2f}, "
                          f"{row['seconds']:.1f} s", flush=True)


def mean_se(values: list[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64)
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def report(methods: list[str]) -> None:
    rows = done_rows()
    if not rows:
        print("no rows yet")
        return
    labels = {name: m.label for name, m in wb.methods().items()}
    summary = []
    for method in methods:
        mine = [r for r in rows if r["method"] == method]
        if not mine:
            continue
        entry = {"method": method, "label": labels.get(method, method), "pairs": len(mine),
                 "scenes": len({r["scene"] for r in mine}), "settings": mine[-1]["settings"] or "defaults"}
        for metric in METRICS:
            entry[metric], entry[metric + "_se"] = mean_se([float(r[metric]) for r in mine])
        gap = np.array([float(r["aopc_morf"]) - float(r["aopc_random"]) for r in mine])
        entry["morf_minus_random"], entry["morf_minus_random_se"] = mean_se(list(gap))
        summary.append(entry)
    summary.sort(key=lambda e: -e["aopc_morf"])
    with (DOCS / "method_quality.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(summary[0]))
        writer.writeheader()
        writer.writerows(summary)
    shown = [{"method": e["label"] + ("" if e["settings"] == "defaults" else f" ({e['settings']})"),
              "pairs": e["pairs"],
              **{m: f"{e[m]:.2f} +- {e[m + '_se']:.2f}" for m in ("pointing", "energy", "aopc_morf",
                                                                  "aopc_lerf", "aopc_random", "abpc")},
              "MoRF - random": f"{e['morf_minus_random']:.2f} +- {e['morf_minus_random_se']:.2f}",
              "passes": f"{e['passes']:.0f}", "seconds": f"{e['seconds']:.2f}"} for e in summary]
    columns = ["method", "pairs", "pointing", "energy", "aopc_morf", "aopc_lerf", "aopc_random", "abpc",
               "MoRF - random", "passes", "seconds"]
    print(table(shown, columns))
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for row in shown:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    plot(summary)


def plot(summary: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [e["label"] for e in summary]
    y = np.arange(len(names))
    fig, axes = plt.subplots(1, 3, figsize=(14, 0.42 * len(names) + 1.6), sharey=True)
    panels = [("pointing", "pointing game (15 px)", (0, 1.05)), ("energy", "energy pointing", (0, 1.05)),
              ("morf_minus_random", "AOPC(MoRF) - AOPC(random), logit", None)]
    for ax, (key, title, limits) in zip(axes, panels):
        ax.barh(y, [e[key] for e in summary], xerr=[e[key + "_se"] for e in summary], color="#4c78a8",
                ecolor="#333333", capsize=2)
        ax.set_title(title, fontsize=10)
        if limits:
            ax.set_xlim(*limits)
        ax.axvline(0, color="#999999", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(y, names)
    axes[0].invert_yaxis()
    pairs = max(e["pairs"] for e in summary)
    fig.suptitle(f"Every method at its defaults, shapes model, up to {pairs} (scene, class) pairs: "
                 "mean +- standard error", fontsize=11)
    fig.tight_layout()
    fig.savefig(DOCS / "method_quality.png", dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--methods", default="", help="comma-separated method names (default: all registered)")
    parser.add_argument("--minutes", type=float, default=float("inf"), help="stop starting pairs after this")
    parser.add_argument("--ep-iterations", type=int, default=300,
                        help="Extremal Perturbation's iterations on a CPU (its default 800 on a GPU)")
    parser.add_argument("--report", action="store_true", help="only summarise the rows measured so far")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m] or list(wb.methods())
    unknown = sorted(set(methods) - set(wb.methods()))
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}; expected some of {sorted(wb.methods())}")
    print(device_line())
    if not args.report:
        run(args.scenes, methods, args.minutes, args.ep_iterations)
    report(methods)


if __name__ == "__main__":
    main()
