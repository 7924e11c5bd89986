"""Workbench latency, the current UI against the UI before the component rebuild, measured in the same run.

Time from a control change to the figure being updated (compute + drawing the Plotly message), on the shapes
model: the method switched to FMO at its defaults, Occlusion (16, 8) and LIME with 500 samples on a new image
each time (never a cache hit), FMO's map drop-down switched to a level (drawing only) and a switch back to a
cached setting (drawing only). Also the size of the heatmap message sent to the browser.

Fair on a shared, loaded machine: the baseline tree (``--baseline``, default commit d65f736, the last commit
before the rebuild, exported with ``git archive``) and the current tree each run in their own subprocess that
imports its own ``workbench`` (``PYTHONPATH``), warms up, then times ``--repeats`` changes per row; the rounds
alternate current/baseline/current/baseline... so load from other users hits both alike. Printed per row: the
median over rounds of each round's median, the spread of those round medians, and baseline / current (above 1:
the current UI is faster).

The debounce (0.25 s by default) is a deliberate wait and is left out (``debounce=0``).
Targets: FMO < 0.5 s, cached switch < 0.02 s.

    python benchmarks/ui_latency.py [--rounds 4] [--repeats 3] [--cached-repeats 20] [--baseline d65f736]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BASELINE = "d65f736"       # parent of 602f84f "UI rebuilt as components around one observable state"
ROWS = ["method -> fmo (defaults)", "method -> occlusion (16, 8)", "method -> lime (500 samples)",
        "fmo map -> level 1 (draw only)", "method -> a cached setting"]


# -- one tree, in its own process ---------------------------------------------------------------------------
class Adapter:
    """The controls of either UI: the rebuilt one (one public name per control) or the one before it."""

    def __init__(self, bench):
        self.bench = bench
        self.old = "method_picker" in vars(bench)     # the pre-rebuild Workbench aliased its controls

    def picker(self):
        return self.bench.method_picker if self.old else self.bench.explainer.picker

    def layer(self):
        return self.bench.layer if self.old else self.bench.overlay.layer

    def set_param(self, name, value, method) -> None:
        (self.bench.session if self.old else self.bench.state).set_param(name, value, method)

    def error(self) -> str:
        return (self.bench.error if self.old else self.bench.status.error).value

    def message(self) -> str:
        return (self.bench.status if self.old else self.bench.status.message).value

    def heatmap_bytes(self) -> int:
        if self.old:
            from workbench.ui.views import _to_js as to_js
            trace = self.bench.overlay.figure._data[1]
        else:
            from workbench.ui.transport import to_js
            trace = self.bench.overlay.view.figure._data[1]
        return len(json.dumps(to_js(trace)))


def latency(ui: Adapter, apply) -> float:
    started = time.perf_counter()
    apply()
    if not ui.bench.wait(600):
        raise RuntimeError("the Workbench did not finish within 600 s")
    seconds = time.perf_counter() - started
    if ui.error():
        raise RuntimeError(ui.error())
    return seconds


def measure(repeats: int, cached_repeats: int) -> dict:
    """Times of each row in this process's tree (``import workbench`` resolves through PYTHONPATH)."""
    import workbench as wb

    model = wb.load_model("shapes")
    cases = [("fmo", {}), ("occlusion", {"patch": 16, "stride": 8}), ("lime", {"num_samples": 500})]

    def fresh(seed: int, method: str, params: dict) -> tuple[Adapter, float]:
        ui = Adapter(wb.Workbench(model, wb.data.make_scene(seed).image, method="gradient", debounce=0.0))
        ui.bench.wait(600)
        for name, value in params.items():
            ui.set_param(name, value, method)
        return ui, latency(ui, lambda: setattr(ui.picker(), "value", method))

    for method, params in cases:           # warm-up: imports, first-call costs, compiled runtimes
        fresh(99, method, params)
    times: dict[str, list[float]] = {row: [] for row in ROWS}
    drawing: dict[str, list[float]] = {row: [] for row in ROWS[:3]}
    passes, sizes = {}, {}
    for row, (method, params) in zip(ROWS, cases):
        for seed in range(repeats):
            ui, seconds = fresh(100 + seed, method, params)
            times[row].append(seconds)
            drawing[row].append(seconds - ui.bench.explanation.cost.seconds)   # less the explainer's own time
        passes[row], sizes[row] = ui.bench.explanation.cost.forward_passes, ui.heatmap_bytes()
    # FMO's level maps: the map drop-down redraws without computing
    ui, _ = fresh(100, "fmo", {})
    for _ in range(cached_repeats):
        times[ROWS[3]].append(latency(ui, lambda: setattr(ui.layer(), "value", "level 1")))
        times[ROWS[3]].append(latency(ui, lambda: setattr(ui.layer(), "value", "final")))
    passes[ROWS[3]], sizes[ROWS[3]] = 0, ui.heatmap_bytes()
    # a cached switch: back and forth between two settings already computed (the last LIME bench has both)
    ui, _ = fresh(100 + repeats - 1, "lime", {"num_samples": 500})
    latency(ui, lambda: setattr(ui.picker(), "value", "fmo"))
    for _ in range(cached_repeats):
        times[ROWS[4]].append(latency(ui, lambda: setattr(ui.picker(), "value", "lime")))
        times[ROWS[4]].append(latency(ui, lambda: setattr(ui.picker(), "value", "fmo")))
    if "(cached)" not in ui.message():
        raise RuntimeError(f"the switch back was not served from the cache: {ui.message()!r}")
    passes[ROWS[4]], sizes[ROWS[4]] = 0, ui.heatmap_bytes()
    return {"times": times, "drawing": drawing, "passes": passes, "bytes": sizes}


# -- the driver: both trees, rounds interleaved ---------------------------------------------------------------
def export(commit: str, into: Path) -> Path:
    """The tree of ``commit`` (``git archive``), the baseline's ``workbench`` package in it."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def run_tree(tree: Path, args) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "WORKBENCH_BENCH_WORKER": "1"}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--repeats", str(args.repeats),
               "--cached-repeats", str(args.cached_repeats)]
    done = subprocess.run(command, env=env, cwd=str(tree), capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the worker on {tree} failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["workbench"] != str(tree / "workbench" / "__init__.py"):
        raise RuntimeError(f"the worker imported {result['workbench']}, not {tree}'s workbench")
    return result


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cores)"
    except OSError:
        pass
    return "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="rounds per tree, interleaved")
    parser.add_argument("--repeats", type=int, default=3, help="fresh images per compute row and round")
    parser.add_argument("--cached-repeats", type=int, default=20, help="back-and-forth pairs per drawing row")
    parser.add_argument("--baseline", default=BASELINE, help="the commit to compare with")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import workbench
        result = measure(args.repeats, args.cached_repeats)
        print(json.dumps({**result, "workbench": str(Path(workbench.__file__).resolve())}))
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import device_line, load_line, table

    print(f"CPU: {cpu_name()}; {device_line()}")
    print(f"before: {load_line()}")
    with tempfile.TemporaryDirectory(prefix="ui-latency-") as tmp:
        trees = {"current": REPO, "baseline": export(args.baseline, Path(tmp))}
        rounds: dict[str, list[dict]] = {"current": [], "baseline": []}
        for i in range(args.rounds):
            for name in (("current", "baseline") if i % 2 == 0 else ("baseline", "current")):
                rounds[name].append(run_tree(trees[name], args))
                print(f"round {i + 1} {name} done ({load_line()})", flush=True)
    print(f"after: {load_line()}")
    rows = []
    for row in ROWS:
        medians = {name: [statistics.median(r["times"][row]) for r in results] for name, results in rounds.items()}
        now, before = statistics.median(medians["current"]), statistics.median(medians["baseline"])
        pairs = [b / c for c, b in zip(medians["current"], medians["baseline"])]
        unit, digits = (1000.0, 2) if now < 0.1 else (1.0, 3)
        name = "ms" if unit == 1000.0 else "s"
        span = lambda values: f"{min(values) * unit:.{digits}f}-{max(values) * unit:.{digits}f}"  # noqa: E731
        rows.append({"change": row, "current": f"{now * unit:.{digits}f} {name}",
                     "rounds (current)": span(medians["current"]),
                     "baseline": f"{before * unit:.{digits}f} {name}", "rounds (baseline)": span(medians["baseline"]),
                     "baseline / current": f"{before / now:.3f}",
                     "per round": " ".join(f"{p:.2f}" for p in pairs),
                     "passes": rounds["current"][-1]["passes"][row],
                     "heatmap message": f"{rounds['current'][-1]['bytes'][row] / 1024:.0f} KiB"})
    print(table(rows, ["change", "current", "rounds (current)", "baseline", "rounds (baseline)",
                       "baseline / current", "per round", "passes", "heatmap message"]))
    print("\nthe UI's part of the compute rows: the latency less the explainer's own time (Explanation.cost.seconds),"
          " i.e. request, delivery and drawing")
    rows = []
    for row in ROWS[:3]:
        medians = {name: [statistics.median(r["drawing"][row]) for r in results] for name, results in rounds.items()}
        now, before = statistics.median(medians["current"]), statistics.median(medians["baseline"])
        span = lambda values: f"{min(values) * 1000:.1f}-{max(values) * 1000:.1f}"  # noqa: E731
        rows.append({"change": row, "current": f"{now * 1000:.1f} ms", "baseline": f"{before * 1000:.1f} ms",
                     "rounds (current)": span(medians["current"]), "rounds (baseline)": span(medians["baseline"]),
                     "baseline / current": f"{before / now:.3f}",
                     "per round": " ".join(f"{b / c:.2f}" for c, b in zip(medians["current"], medians["baseline"]))})
    print(table(rows, ["change", "current", "rounds (current)", "baseline", "rounds (baseline)",
                       "baseline / current", "per round"]))
    print(f"baseline: {args.baseline} (git archive); each figure is the median over rounds of a round's median; "
          "'rounds': the lowest and highest round median; 'per round': baseline / current of each interleaved pair")
    print("targets: fmo < 0.5 s, cached < 0.02 s (debounce not included)")


if __name__ == "__main__":
    main()
