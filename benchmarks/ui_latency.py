"""Workbench latency: time from a control change to the figure being updated (compute + drawing the
Plotly message), on the shapes model, for FMO at its defaults, Occlusion (16, 8), LIME with 500 samples and a
switch back to a cached setting. Also the size of the heatmap message sent to the browser.

The debounce (0.25 s by default: a dragged slider computes once, when it rests) is a deliberate wait and
is left out here (``debounce=0``); add it to get what a user sees after letting go of a control.
Targets: FMO < 0.5 s, cached switch < 0.02 s.

    python benchmarks/ui_latency.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import statistics
import time

import json

import workbench as wb
from workbench.ui.transport import to_js
from _common import device_line, table


def latency(bench, apply) -> float:
    started = time.perf_counter()
    apply()
    if not bench.wait(600):
        raise RuntimeError("the Workbench did not finish within 600 s")
    seconds = time.perf_counter() - started
    if bench.status.error.value:
        raise RuntimeError(bench.status.error.value)
    return seconds


def sent_size(bench) -> int:
    """Bytes of the heatmap trace as the Workbench's figure serialises it for the browser."""
    return len(json.dumps(to_js(bench.overlay.view.figure._data[1])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(device_line())
    model = wb.load_model("shapes")
    rows = []
    cases = [
        ("fmo (defaults)", "fmo", {}),
        ("occlusion (16, 8)", "occlusion", {"patch": 16, "stride": 8}),
        ("lime (500 samples)", "lime", {"num_samples": 500}),
    ]
    for label, method, params in cases:
        times = []
        for seed in range(args.repeats):
            image = wb.data.make_scene(100 + seed).image   # a new image each time: never a cache hit
            bench = wb.Workbench(model, image, method="gradient", debounce=0.0)
            bench.wait(600)
            for name, value in params.items():
                bench.state.set_param(name, value, method)
            times.append(latency(bench, lambda: setattr(bench.explainer.picker, "value", method)))
        message = sent_size(bench)
        rows.append({"change": f"method -> {label}", "seconds (median)": f"{statistics.median(times):.3f}",
                     "passes": bench.explanation.cost.forward_passes, "heatmap message": f"{message / 1024:.0f} KiB"})
    # a cached switch: back to a setting already computed
    cached = []
    for _ in range(args.repeats):
        cached.append(latency(bench, lambda: setattr(bench.explainer.picker, "value", "fmo")))
        cached.append(latency(bench, lambda: setattr(bench.explainer.picker, "value", "lime")))
    assert "(cached)" in bench.status.message.value
    rows.append({"change": "method -> a cached setting", "seconds (median)": f"{statistics.median(cached):.4f}",
                 "passes": 0, "heatmap message": f"{sent_size(bench) / 1024:.0f} KiB"})
    print(table(rows, ["change", "seconds (median)", "passes", "heatmap message"]))
    print("targets: fmo < 0.5 s, cached < 0.02 s (debounce not included)")


if __name__ == "__main__":
    main()
