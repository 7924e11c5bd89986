"""The published quality table: every registered method at its defaults, on two parts.

- ``scenes``: fresh scenes of the shipped ``shapes`` model (ground truth known), every present class a target:
  pointing game and energy pointing (``workbench.metrics``), AOPC of the MoRF, LeRF and random orders (Samek et
  al., IEEE TNNLS 2017: 50 steps of 9 px regions, uniform noise, the logit), ROAD (Rong et al., ICML 2022), insertion
  and deletion (Petsiuk et al., BMVC 2018), and the cost (passes, seconds).
- ``photos``: ``efficientnet_lite0`` on the five bundled natural photos framed as it expects, each with its top-3
  classes (no ground truth): faithfulness correlation (Bhatt et al., IJCAI 2020), ROAD, sparseness (Chalasani et al.,
  ICML 2020) and complexity (Bhatt et al. 2020), and the cost.

The methods come from the registry (``wb.methods()``), so a method registered later joins the table; a method that
refuses the part's model (attention rollout on a convolutional network) is listed with its reason.

Budget: the whole table is planned to fit ``--hours`` (2) of the machine. The first step times each method on
``--probe-pairs`` pairs per part (explanation and metrics, stored in ``docs/method_quality_cost.csv``; an
explanation over ``--probe-seconds`` is stopped and counted as at least that; the pairs measured become rows);
the plan then gives every method the pairs its measured cost allows (cheap methods all of them, the budget they
leave shared among the costlier ones; at least ``--min-pairs``) and prints pairs per method and the predicted
total. Pairs are taken in a fixed order (scenes as drawn; photos one class of each photo before the next class),
so a method on fewer pairs gets the first ones.

One command builds the table (``python benchmarks/method_quality.py``: costs, plan, rows, report). Resumable:
every finished (part, image, class, method) row is appended to ``docs/method_quality_rows.csv`` at once and
skipped when the script runs again; ``--minutes`` stops before starting a row past that time, so the run can be
done in pieces (rerun the same command until it prints "table complete"). Each piece's wall time, load and machine go to
``docs/method_quality_runs.csv``. ``--report`` (also run after every piece) writes the summary
``docs/method_quality.csv``, ``docs/method_quality.png`` and the README section between its markers, from the
rows measured so far. On a GPU (``workbench.device``) everything runs there. The forward passes of the
forward-only methods and of the metrics run in ``--runtime`` (default ``"auto"``: ONNX Runtime or OpenVINO
where one is faster and its scores are within 1e-5 of torch's, see the README's compiled runtimes; the methods'
parameters stay their defaults).

    python benchmarks/method_quality.py                    # the whole table (about --hours)
    python benchmarks/method_quality.py --minutes 9        # the same in pieces: repeat until "table complete"
    python benchmarks/method_quality.py --measure          # only the per-pair costs and the plan
    python benchmarks/method_quality.py --report           # only the summary of the rows so far
"""
from __future__ import annotations

import argparse
import csv
import datetime
import math
import os
import platform
import threading
import time
from pathlib import Path

import numpy as np
import torch

import workbench as wb
from workbench.data.photos import photo_for
from workbench.device import resolve_device
from workbench.metrics import energy_pointing_game, pointing_game

from _common import load_line

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ROWS = DOCS / "method_quality_rows.csv"
COSTS = DOCS / "method_quality_cost.csv"
RUNS = DOCS / "method_quality_runs.csv"
SUMMARY = DOCS / "method_quality.csv"
README = ROOT / "README.md"
START, END = "<!-- method_quality:start -->", "<!-- method_quality:end -->"

SEED = 5150  # fresh scenes: not a training seed, not the seeds the defaults were tuned on
SCENES = 50
PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")
TOP_K = 3
CURVE = {"region": 9, "steps": 50, "fill": "uniform", "output": "logit"}
PARTS = {
    "scenes": {"model": "shapes",
               "metrics": ["aopc_morf", "aopc_lerf", "aopc_random", "road_morf", "road_lerf", "road_combined",
                           "insertion_auc", "deletion_auc"],
               "localisation": True},
    "photos": {"model": "efficientnet_lite0",
               "metrics": ["faithfulness_correlation", "road_morf", "road_lerf", "road_combined", "sparseness",
                           "complexity"],
               "localisation": False},
}
COST_FIELDS = ["passes", "seconds", "metric_seconds"]
FIELDS = ["part", "image", "target", "method", "pointing", "energy", *sorted({m for p in PARTS.values()
                                                                            for m in p["metrics"]}),
          *COST_FIELDS, "error"]


class Pair:
    """One (image, class) of a part; ``mask`` is the class's object mask on scenes."""

    def __init__(self, image_id: str, image: np.ndarray, target: int, mask: np.ndarray | None = None):
        self.image_id, self.image, self.target, self.mask = image_id, image, target, mask


def pairs_of(part: str, entry) -> list[Pair]:
    """The part's (image, class) pairs in their fixed order."""
    if part == "scenes":
        out = []
        for index in range(SCENES):
            scene = wb.data.make_scene((SEED, index))
            out += [Pair(f"scene:{SEED}:{index}", scene.image, t, scene.class_mask(t))
                    for t in sorted(set(scene.labels))]
        return out
    framed = {name: photo_for(name, entry) for name in PHOTOS}
    tops = {}
    for name, image in framed.items():
        with torch.inference_mode():
            logits = entry.module(entry.preprocess(image).to(entry.device))[0]
        tops[name] = [int(c) for c in torch.topk(logits, TOP_K).indices]
    return [Pair(name, framed[name], tops[name][k]) for k in range(TOP_K) for name in PHOTOS]


def read_csv(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def done_rows() -> set[tuple[str, str, int, str]]:
    """(part, image, class, method) of the rows already in :data:`ROWS`."""
    return {(r["part"], r["image"], int(r["target"]), r["method"]) for r in read_csv(ROWS)}


def append_csv(path: Path, fields: list[str], row: dict) -> None:
    new = not path.exists()
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        if new:
            writer.writeheader()
        writer.writerow(row)
        f.flush()
        os.fsync(f.fileno())


def measure(part: str, entry, pair: Pair, method: str, seed: int, runtime: str,
            cancel: threading.Event | None = None) -> dict:
    """One row: the method at its defaults on one pair, and the part's metrics, their passes in ``runtime``; a
    method that refuses the model records its error. ``cancel`` set: the explanation raises ``wb.Cancelled``."""
    row = {"part": part, "image": pair.image_id, "target": pair.target, "method": method, "error": ""}
    try:
        e = wb.explain(entry, pair.image, method, target=pair.target, seed=seed, cancel=cancel, runtime=runtime)
    except (ValueError, TypeError) as error:
        return {**row, "error": f"{type(error).__name__}: {error}"}
    start = time.perf_counter()
    values = wb.evaluate(entry, pair.image, e, seed=seed, metrics=PARTS[part]["metrics"], runtime=runtime, **CURVE)
    row.update({m: float(values[m]) for m in PARTS[part]["metrics"]})
    if PARTS[part]["localisation"]:
        row.update(pointing=pointing_game(e.heatmap, pair.mask), energy=energy_pointing_game(e.heatmap, pair.mask))
    row.update(passes=e.cost.forward_passes + e.cost.backward_passes, seconds=e.cost.seconds,
               metric_seconds=time.perf_counter() - start)
    return row


def machine() -> str:
    """CPU name and cores (and the GPU when one runs the table)."""
    name = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            name = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    text = f"{name}, {os.cpu_count()} cores"
    if torch.cuda.is_available():
        text += f", {torch.cuda.get_device_name()}"
    return text


def models(device) -> dict:
    return {part: wb.load_model(spec["model"], device=device) for part, spec in PARTS.items()}


METRICS_COST = "(metrics of one pair)"


def measure_costs(methods: list[str], device, probe_pairs: int, minutes: float, probe_seconds: float,
                  runtime: str) -> bool:
    """Time each method's explanation on the first ``probe_pairs`` pairs of each part, and once per part the
    metrics of one pair (the same passes whatever the map); stored in :data:`COSTS`, resumed when run again.
    An explanation still running after ``probe_seconds`` is cancelled: its cost is at least that (such a method
    gets the plan's fewest pairs anyway). The rows measured on the way are the table's first rows (kept in
    :data:`ROWS`, not measured again). ``True`` when every cost is there."""
    start = time.perf_counter()
    entries = models(device)
    known = {(r["part"], r["method"]) for r in read_csv(COSTS)}
    done = done_rows()

    def keep(row: dict) -> None:
        if not row["error"] and (row["part"], row["image"], int(row["target"]), row["method"]) not in done:
            append_csv(ROWS, FIELDS, row)

    fields = ["part", "method", "seconds_per_pair", "probe_pairs", "error", "load", "at_least"]
    for part, entry in entries.items():
        pairs = pairs_of(part, entry)[:probe_pairs]
        if (part, METRICS_COST) not in known:
            row = measure(part, entry, pairs[0], "gradient", seed=0, runtime=runtime)
            keep(row)
            append_csv(COSTS, fields, {"part": part, "method": METRICS_COST, "seconds_per_pair": row["metric_seconds"],
                                       "probe_pairs": 1, "error": "", "load": os.getloadavg()[0],
                                       "at_least": False})
            print(f"{part} metrics: {row['metric_seconds']:.1f} s per pair", flush=True)
        for method in methods:
            if (part, method) in known:
                continue
            if time.perf_counter() - start > 60 * minutes:
                return False
            seconds, error, bound = [], "", False
            # an explanation still running after probe_seconds (or when the piece ends) is cancelled: its cost
            # is at least that long
            cancel = threading.Event()
            timer = threading.Timer(max(1.0, min(probe_seconds, 60 * minutes - (time.perf_counter() - start))),
                                    cancel.set)
            timer.start()
            try:
                for i, pair in enumerate(pairs):
                    tic = time.perf_counter()
                    try:
                        row = measure(part, entry, pair, method, seed=i, runtime=runtime, cancel=cancel)
                    except wb.Cancelled:
                        seconds, bound = [time.perf_counter() - tic], True
                        break
                    if row["error"]:
                        error = row["error"]
                        break
                    keep(row)
                    seconds.append(row["seconds"])
            finally:
                timer.cancel()
            append_csv(COSTS, fields, {"part": part, "method": method,
                                       "seconds_per_pair": float(np.mean(seconds)) if seconds else 0.0,
                                       "probe_pairs": len(seconds), "error": error, "load": os.getloadavg()[0],
                                       "at_least": bound})
            print(f"{part} {method}: " + (f"not run ({error[:80]})" if error else
                                          f"explanation {'over ' if bound else ''}{np.mean(seconds):.1f} s per "
                                          f"pair"), flush=True)
            if bound and time.perf_counter() - start > 60 * minutes:
                return False
    return True


def pair_costs() -> dict[tuple[str, str], float]:
    """Predicted seconds per pair of each (part, method) that runs: its explanation plus the part's metrics."""
    rows = read_csv(COSTS)
    metric = {r["part"]: float(r["seconds_per_pair"]) for r in rows if r["method"] == METRICS_COST}
    return {(r["part"], r["method"]): float(r["seconds_per_pair"]) + metric.get(r["part"], 0.0)
            for r in rows if r["method"] != METRICS_COST and not r["error"]}


def plan(hours: float, min_pairs: int, pair_counts: dict[str, int]) -> dict[tuple[str, str], int]:
    """Pairs per (part, method) so that the measured costs fill ``hours``: every method gets an equal share of
    what is left, the cheapest first, so the budget a cheap method leaves goes to the costlier ones."""
    costs = sorted((cost, part, method) for (part, method), cost in pair_costs().items())
    # a cost known only as a lower bound (the probe was stopped) may be far higher: the fewest pairs
    bounded = {(r["part"], r["method"]) for r in read_csv(COSTS) if r.get("at_least") == "True"}
    left, out = hours * 3600.0, {}
    for i, (cost, part, method) in enumerate(costs):
        share = left / (len(costs) - i)
        n = pair_counts[part] if cost <= 0 else int(min(pair_counts[part], max(min_pairs, share // cost)))
        n = min(n, min_pairs) if (part, method) in bounded else n
        out[(part, method)] = n
        left -= n * cost
    return out


def print_plan(counts: dict[tuple[str, str], int], pair_counts: dict[str, int]) -> None:
    costs = {(r["part"], r["method"]): r for r in read_csv(COSTS) if r["method"] != METRICS_COST}
    predicted = pair_costs()
    total = 0.0
    print(f"plan (per-pair cost measured now; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):")
    for (part, method), r in sorted(costs.items()):
        if r["error"]:
            print(f"  {part:6s} {method:26s} not run: {r['error'][:90]}")
            continue
        n, cost = counts[(part, method)], predicted[(part, method)]
        total += n * cost
        over = ">" if r.get("at_least") == "True" else " "
        print(f"  {part:6s} {method:26s} {over}{cost:7.1f} s/pair x {n:3d} of {pair_counts[part]} pairs = "
              f"{n * cost / 60:6.1f} min")
    print(f"predicted total {total / 3600:.2f} h")


def run(methods: list[str], device, hours: float, min_pairs: int, minutes: float, runtime: str) -> bool:
    """Measure missing rows of the plan until ``minutes`` pass; ``True`` when the table is complete."""
    start = time.perf_counter()
    entries = models(device)
    pairs = {part: pairs_of(part, entry) for part, entry in entries.items()}
    counts = plan(hours, min_pairs, {p: len(v) for p, v in pairs.items()})
    done = done_rows()
    complete = True
    try:
        costs = pair_costs()
        for part, entry in entries.items():   # the cheapest methods first: a piece finishes their rows first
            for method in sorted(methods, key=lambda m: costs.get((part, m), math.inf)):
                for i, pair in enumerate(pairs[part][:counts.get((part, method), 0)]):
                    if (part, pair.image_id, pair.target, method) in done:
                        continue
                    if time.perf_counter() - start > 60 * minutes:
                        complete = False
                        return False
                    row = measure(part, entry, pair, method, seed=i, runtime=runtime)
                    append_csv(ROWS, FIELDS, row)
                    print(f"{part} {pair.image_id} class {pair.target} {method}: "
                          f"{row['seconds'] + row['metric_seconds']:.1f} s" if not row["error"] else row["error"],
                          flush=True)
        return True
    finally:
        append_csv(RUNS, ["date", "machine", "device", "seconds", "load", "complete"],
                   {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "machine": machine(), "device": str(device), "seconds": round(time.perf_counter() - start, 1),
                    "load": round(os.getloadavg()[0], 2), "complete": complete})


def mean_se(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), (float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else float("nan"))


SHOWN = {"scenes": ["pointing", "energy", "aopc_morf", "aopc_lerf", "aopc_random", "road_combined",
                    "insertion_auc", "deletion_auc"],
         "photos": ["faithfulness_correlation", "road_combined", "sparseness", "complexity"]}


def summarise(methods: list[str]) -> list[dict]:
    rows = [r for r in read_csv(ROWS) if not r["error"]]
    labels = {name: m.label for name, m in wb.methods().items()}
    summary = []
    for part in PARTS:
        for method in methods:
            mine = [r for r in rows if r["part"] == part and r["method"] == method]
            if not mine:
                continue
            entry = {"part": part, "method": method, "label": labels.get(method, method), "pairs": len(mine),
                     "images": len({r["image"] for r in mine})}
            for metric in SHOWN[part] + ["passes", "seconds"]:
                values = [float(r[metric]) for r in mine]
                if metric == "pointing":     # a flat map points nowhere ("no point", NaN): not a hit
                    values = [0.0 if math.isnan(v) else v for v in values]
                entry[metric], entry[metric + "_se"] = mean_se(values)
            summary.append(entry)
    return summary


def fmt(e: dict, metric: str) -> str:
    if metric not in e:
        return ""
    return f"{e[metric]:.3f} ± {e[metric + '_se']:.3f}" if not math.isnan(e[metric + "_se"]) else f"{e[metric]:.3f}"


def markdown(summary: list[dict], methods: list[str]) -> str:
    runs = read_csv(RUNS)
    wall = sum(float(r["seconds"]) for r in runs)
    machines = sorted({r["machine"] for r in runs})
    last = runs[-1]["date"] if runs else "never"
    refused = {(r["part"], r["method"]): r["error"] for r in read_csv(COSTS) if r["error"]}
    lines = [f"Generated by `python benchmarks/method_quality.py --report` from `docs/method_quality_rows.csv` "
             f"(last piece {last}; machine: {'; '.join(machines) or 'none'}; wall time of the pieces so far "
             f"{wall / 3600:.2f} h, on a CPU shared with other work, so the costs are inflated). Mean ± standard "
             f"error over the (image, class) pairs; `pairs`: how many (methods whose defaults cost more ran on "
             f"fewer, the first pairs in a fixed order). Region perturbation: {CURVE['steps']} steps of "
             f"{CURVE['region']} px, uniform noise, the logit.", ""]
    for part, title in (("scenes", f"Scenes ({SCENES} fresh scenes of the `shapes` model, every present class)"),
                        ("photos", f"Photos (`efficientnet_lite0`, {len(PHOTOS)} natural photos x top-{TOP_K})")):
        mine = sorted((e for e in summary if e["part"] == part), key=lambda e: -e[SHOWN[part][0]])
        columns = ["method", "pairs", *SHOWN[part], "passes", "seconds"]
        lines += [f"**{title}**", "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for e in mine:
            lines.append("| " + " | ".join([e["label"], str(e["pairs"])] + [fmt(e, m) for m in SHOWN[part]]
                                           + [f"{e['passes']:.0f}", f"{e['seconds']:.2f}"]) + " |")
        missing = [m for m in methods if not any(e["method"] == m for e in mine)]
        if missing:
            lines.append("")
            lines.append("Not yet measured or not applicable: " + ", ".join(
                f"{m} ({refused[(part, m)][:60]})" if (part, m) in refused else m for m in missing) + ".")
        lines.append("")
    lines.append("![Every method at its defaults](docs/method_quality.png)")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = README.read_text()
    if START not in readme or END not in readme:
        print(f"README has no {START} ... {END} markers; the section is printed only")
        return
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(head + START + "\n" + text + "\n" + END + tail)


def plot(summary: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("scenes", "pointing", "scenes: pointing game"), ("scenes", "aopc_morf", "scenes: AOPC MoRF (logit)"),
              ("scenes", "road_combined", "scenes: ROAD combined"),
              ("photos", "faithfulness_correlation", "photos: faithfulness correlation")]
    names = sorted({e["label"] for e in summary})
    y = {n: i for i, n in enumerate(names)}
    fig, axes = plt.subplots(1, len(panels), figsize=(16, 0.36 * len(names) + 1.8), sharey=True)
    for ax, (part, key, title) in zip(axes, panels):
        mine = [e for e in summary if e["part"] == part]
        ax.barh([y[e["label"]] for e in mine], [e[key] for e in mine],
                xerr=[0 if math.isnan(e[key + "_se"]) else e[key + "_se"] for e in mine], color="#4c78a8",
                ecolor="#333333", capsize=2)
        for e in mine:
            ax.text(0, y[e["label"]], f" n={e['pairs']}", va="center", fontsize=7, color="white")
        ax.set_title(title, fontsize=10)
        ax.axvline(0, color="#999999", lw=0.8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(names)), names)
    axes[0].invert_yaxis()
    fig.suptitle("Every registered method at its defaults: mean ± standard error over the pairs (n per bar)",
                 fontsize=11)
    fig.tight_layout()
    fig.savefig(DOCS / "method_quality.png", dpi=100)
    plt.close(fig)


def report(methods: list[str]) -> None:
    summary = summarise(methods)
    if not summary:
        print("no rows yet")
        return
    with SUMMARY.open("w", newline="") as f:
        # columns in the order they first appear (scenes' then the photos' own): the same file on every run
        writer = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for e in summary for k in e)))
        writer.writeheader()
        writer.writerows(summary)
    text = markdown(summary, methods)
    print(text)
    write_readme(text)
    plot(summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--measure", action="store_true", help="only time each method (--probe-pairs) and plan")
    parser.add_argument("--probe-pairs", type=int, default=1)
    parser.add_argument("--probe-seconds", type=float, default=120.0,
                        help="a probe explanation running longer is stopped (its cost: at least that)")
    parser.add_argument("--hours", type=float, default=2.0, help="the budget the plan fills")
    parser.add_argument("--min-pairs", type=int, default=1)
    parser.add_argument("--minutes", type=float, default=math.inf,
                        help="stop starting rows after this (one piece; default: run to the end)")
    parser.add_argument("--methods", default="", help="comma-separated method names (default: all registered)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--runtime", default="auto",
                        help="of the forward passes (workbench.runtime; 'auto': the fastest whose scores match torch's)")
    parser.add_argument("--report", action="store_true", help="only summarise the rows measured so far")
    args = parser.parse_args()
    methods = [m for m in args.methods.split(",") if m] or list(wb.methods())
    unknown = sorted(set(methods) - set(wb.methods()))
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}; expected some of {sorted(wb.methods())}")
    device = resolve_device(args.device)
    print(f"{machine()}; device {device}; {load_line()}")
    DOCS.mkdir(exist_ok=True)
    if not args.report:
        start = time.perf_counter()
        measured = measure_costs(methods, device, args.probe_pairs, args.minutes, args.probe_seconds, args.runtime)
        append_csv(RUNS, ["date", "machine", "device", "seconds", "load", "complete"],
                   {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                    "machine": machine(), "device": str(device), "seconds": round(time.perf_counter() - start, 1),
                    "load": round(os.getloadavg()[0], 2), "complete": False})
        if not measured:
            print("costs not all measured; stopped; run again to continue")
        else:
            entries = models(device)
            counts = {part: len(pairs_of(part, entry)) for part, entry in entries.items()}
            print_plan(plan(args.hours, args.min_pairs, counts), counts)
            if not args.measure:
                minutes = args.minutes - (time.perf_counter() - start) / 60
                print("table complete" if run(methods, device, args.hours, args.min_pairs, minutes, args.runtime)
                      else "stopped; run again to continue")
    report(methods)


if __name__ == "__main__":
    main()
