"""Choosing settings: FMO's keep_threshold and RISE's num_masks against quality and cost on fresh scenes.

Prints, per value: forward passes, seconds, pointing accuracy and AOPC-MoRF (mean +- standard error over
the scene/class pairs), and for RISE the stability across seeds (mean pairwise Spearman correlation of
heatmaps of the same scene and class). Writes one PNG per sweep (``--plots DIR``) for the README's
"Choosing settings" section.

    python benchmarks/sweeps.py [--scenes 50] [--repeats 3] [--steps 50] [--plots docs/sweeps]
                                [--only fmo|rise] [--rise-scenes N] [--replot] [--curve-passes]

``--curve-passes`` counts the model's forward passes of a sweep on AOPC-MoRF (FMO's keep_threshold, a few
scenes): per setting, the explanations' passes and the curves', against the three curves (MoRF, LeRF,
random) that every perturbation metric used to cost. Metrics declare their curves, so it makes one curve's.

RISE at 8000 masks x 3 seeds is about 47,000 forward passes per scene/class pair for the whole sweep: 2.5 minutes
on an H100 for 50 scenes, hours on a 2-core CPU, where ``--rise-scenes`` runs RISE on the first N scenes only (the output says so).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import workbench as wb
from workbench.evaluation import scene_items
from _common import device_line, table

SWEEPS = [
    ("fmo", "keep_threshold", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7], 1),
    ("rise", "num_masks", [250, 500, 1000, 2000, 4000, 8000], None),   # None: --repeats seeds
]


def rows_for(result) -> list[dict]:
    summary = result.summary
    rows = []
    for value in dict.fromkeys(summary["value"]):
        row = {result.param: value}
        for metric in ("passes", "seconds", "pointing", "aopc_morf", "stability"):
            cell = summary[(summary["value"] == value) & (summary["metric"] == metric)]
            if len(cell):
                mean, sem = float(cell["mean"].iloc[0]), float(cell["sem"].iloc[0])
                row[metric] = f"{mean:.0f}" if metric == "passes" else f"{mean:.3f} +- {sem:.3f}"
        rows.append(row)
    return rows


def series(summary, metric: str):
    rows = summary[summary["metric"] == metric]
    return rows["value"].to_numpy(), rows["mean"].to_numpy(), rows["sem"].to_numpy()


def plot(summary, method: str, param: str, out: Path) -> None:
    """Two panels against the swept value: pointing accuracy (and seed stability) on [0, 1]; AOPC-MoRF with
    the forward passes on a second axis. ``summary``: value, metric, mean, sem rows (the CSV this script writes)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (accuracy, aopc) = plt.subplots(1, 2, figsize=(9, 3.4))
    for metric, colour in (("pointing", "tab:blue"), ("stability", "tab:green")):
        values, means, errors = series(summary, metric)
        if len(values):
            accuracy.errorbar(values, means, yerr=errors, label=metric, color=colour, marker="o", capsize=3)
    accuracy.set_ylim(0, 1.05)
    accuracy.set_ylabel("pointing accuracy / Spearman")
    accuracy.legend(loc="lower right", fontsize=8)
    values, means, errors = series(summary, "aopc_morf")
    aopc.errorbar(values, means, yerr=errors, color="tab:red", marker="o", capsize=3, label="AOPC-MoRF")
    aopc.set_ylabel("AOPC-MoRF (logit)", color="tab:red")
    cost = aopc.twinx()
    values, passes, _ = series(summary, "passes")
    cost.plot(values, passes, "k--", marker="s", label="forward passes")
    cost.set_ylabel("forward passes")
    for ax in (accuracy, aopc):
        ax.set_xlabel(param)
        if param == "num_masks":
            ax.set_xscale("log")
            ax.minorticks_off()
            ticks = series(summary, "passes")[0]
            ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
    figure.suptitle(f"{method}: {param}", fontsize=11)
    figure.tight_layout()
    figure.savefig(out, dpi=110)
    plt.close(figure)


def curve_passes(model, scenes: int, steps: int) -> None:
    """Print the forward passes per setting of a sweep on AOPC-MoRF, counted at the model (module docstring)."""
    from workbench.evaluation import PERTURBATION_METRICS, run_job

    items, values = scene_items(scenes, seed=2024), [0.3, 0.5, 0.7]
    pairs = sum(len(item.targets) for item in items)
    counted: list[int] = []
    hook = model.module.register_forward_hook(lambda module, inputs, output: counted.append(len(inputs[0])))
    try:
        result = wb.sweep(model, items, "fmo", "keep_threshold", values, metrics=("aopc_morf", "passes"),
                          steps=steps)
        total = sum(counted)
        counted.clear()
        item = items[0]
        run_job(model, item, item.targets[0], "fmo", {}, PERTURBATION_METRICS, steps, 9, "uniform", 0)
        all_three = sum(counted)
    finally:
        hook.remove()
    explained = result.table[result.table["metric"] == "passes"]["value"].sum()
    one_curve = (steps + 2) * pairs     # steps + 1 images and a clean pass, per scene/class pair
    rows = [{"setting": "per setting", "explanations": f"{explained / len(values):.0f}",
             "curves counted": f"{(total - explained) / len(values):.0f}", "one curve": one_curve,
             "three curves": 3 * one_curve}]
    print(f"\nfmo keep_threshold {values}, AOPC-MoRF, {scenes} scenes ({pairs} pairs), {steps} steps")
    print(table(rows, list(rows[0])))
    print(f"one job asking all five curve metrics: {all_three} passes (its explanation + 3 x {steps + 2})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenes", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3, help="seeds per value for random methods")
    parser.add_argument("--steps", type=int, default=50, help="region-perturbation steps for AOPC")
    parser.add_argument("--plots", type=Path, default=Path("docs/sweeps"))
    parser.add_argument("--only", choices=[m for m, *_ in SWEEPS], help="run one sweep")
    parser.add_argument("--rise-scenes", type=int, help="scenes for the RISE sweep (default: --scenes)")
    parser.add_argument("--replot", action="store_true", help="redraw the PNGs from the CSVs, no computing")
    parser.add_argument("--curve-passes", action="store_true", help="count the passes of a sweep on AOPC-MoRF")
    args = parser.parse_args()
    if args.curve_passes:
        curve_passes(wb.load_model("shapes", device="cpu"), min(args.scenes, 3), min(args.steps, 20))
        return
    if args.replot:
        import pandas as pd
        for csv in sorted(args.plots.glob("sweep_*.csv")):
            method, param = csv.stem.split("_", 2)[1:]
            plot(pd.read_csv(csv), method, param, csv.with_suffix(".png"))
            print(f"plot: {csv.with_suffix('.png')}")
        return
    print(device_line())
    model = wb.load_model("shapes")
    args.plots.mkdir(parents=True, exist_ok=True)
    for method, param, values, repeats in SWEEPS:
        if args.only and method != args.only:
            continue
        n_scenes = args.rise_scenes if method == "rise" and args.rise_scenes else args.scenes
        items = scene_items(n_scenes, seed=2024)
        result = wb.sweep(model, items, method, param, values, steps=args.steps, repeats=repeats or args.repeats)
        columns = [param, "passes", "seconds", "pointing", "aopc_morf"] + (["stability"] if not repeats else [])
        print(f"\n{method}: {param} on {n_scenes} scenes ({sum(len(i.targets) for i in items)} scene/class pairs)")
        print(table(rows_for(result), columns), flush=True)
        out = args.plots / f"sweep_{method}_{param}.png"
        result.summary.to_csv(out.with_suffix(".csv"), index=False)
        plot(result.summary, method, param, out)
        print(f"plot: {out} (numbers: {out.with_suffix('.csv')})")


if __name__ == "__main__":
    main()
