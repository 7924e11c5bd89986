"""The seed paper's comparison on the real network: LRP rules vs sensitivity (gradient) vs Deconvnet by region
perturbation (Samek et al., "Evaluating the visualization of what a deep neural network has learned", IEEE TNNLS
2017), on ``efficientnet_lite0`` and the five bundled natural photos framed as the model expects, each with its
top-3 classes (15 (photo, class) pairs).

Two parts:

- ``aopc``: every registered backpropagation method at its defaults; per pair AOPC of the MoRF curve minus AOPC of
  the random order (``wb.evaluate``: 9 px regions, uniform noise, the logit; ``--steps`` 50 as the issue's first
  measurement, the random curve computed once per pair: its order and noise do not depend on the map). Rows are
  stored in ``docs/lrp_real_network_rows.csv`` as they finish, so a run resumes where it stopped (``--minutes``).
  The summary gives n, mean +- standard error, and the paired difference of each method to the gradient.
- ``layers``: where the relevance goes under each LRP composite. Every layer call gets hooks that read the relevance
  arriving at its output and leaving at its input (its input is cloned first, so a tensor read by two layers, the
  residual input, is counted per reader); the difference is what the layer keeps (biases and stabilisers), summed
  per kind of layer and given as a share of the logit, mean +- s.e. over the 15 pairs. The same accounting runs
  on the workbench's rule hooks and on Zennit's own attributor (``Composite.context``) with the same canonizers
  (BatchNorm merged, the MBConv residual as a Zennit ``Sum``), and with Zennit's ``SequentialMergeBatchNorm``
  alone (the residual additions left as ``+``). Variants that isolate a cause: the biases left out of the rules
  (Zennit's ``zero_params=["bias"]``) and the canonizers off.

    python benchmarks/lrp_real_network.py --part aopc --minutes 9     # repeat until it says done
    python benchmarks/lrp_real_network.py --part layers
    python benchmarks/lrp_real_network.py --part report
"""
from __future__ import annotations

import argparse
import csv
import math
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

import workbench as wb
from workbench.data.photos import photo_for

from _common import device_line, load_line, table

NATURAL_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")
TOP_K = 3
DOCS = Path(__file__).resolve().parent.parent / "docs"
ROWS = DOCS / "lrp_real_network_rows.csv"
FIELDS = ["photo", "target", "method", "aopc_morf", "aopc_random", "morf_minus_random", "conservation", "steps"]
CURVE = {"region": 9, "fill": "uniform", "output": "logit", "seed": 0}
# layer kinds of EfficientNet-Lite0 (every convolution has its BatchNorm merged into it by the canonizer)
KINDS = (("_conv_stem", "stem conv (z-box), BN merged"), ("_expand_conv", "1x1 expansion conv, BN merged"),
         ("_depthwise_conv", "depthwise conv, BN merged"), ("_project_conv", "1x1 projection conv, BN merged"),
         ("_conv_head", "head 1x1 conv, BN merged"), ("act", "ReLU6"), ("canonizer_sum", "residual sum"),
         ("pool", "average pooling"), ("flatten", "flatten"), ("_fc", "linear (classifier)"))


def backprop_methods() -> list[str]:
    """Every registered method that backpropagates through the model with one backward pass and no input
    sampling: the gradient, the modified ReLUs and the LRP composites (from the registry, so new rules join)."""
    from workbench.explainers.backprop import Rules  # noqa: F401  (registers the backprop methods)

    return [name for name, m in wb.methods().items() if getattr(m.run, "__self__", None) is not None
            and type(m.run.__self__).__name__ == "Rules"]


def pairs(entry) -> list[tuple[str, np.ndarray, int]]:
    """(photo, framed image, class) for each natural photo's top-3 classes."""
    out = []
    for name in NATURAL_PHOTOS:
        image = photo_for(name, entry)
        with torch.inference_mode():
            logits = entry.module(entry.preprocess(image).to(entry.device))[0]
        out += [(name, image, int(c)) for c in torch.topk(logits, TOP_K).indices]
    return out


def read_rows() -> list[dict]:
    if not ROWS.exists():
        return []
    with ROWS.open() as f:
        return list(csv.DictReader(f))


def run_aopc(entry, methods: list[str], steps: int, minutes: float) -> bool:
    """Measure the missing (pair, method) rows; ``True`` when every row is there."""
    done = {(r["photo"], int(r["target"]), r["method"]) for r in read_rows() if int(r["steps"]) == steps}
    new_file = not ROWS.exists()
    start = time.perf_counter()
    with ROWS.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for name, image, target in pairs(entry):
            todo = [m for m in methods if (name, target, m) not in done]
            if not todo:
                continue
            random_aopc = None
            for method in todo:
                if time.perf_counter() - start > 60 * minutes:
                    print(f"stopped after {minutes} minutes; run again to continue", flush=True)
                    return False
                e = wb.explain(entry, image, method, target=target)
                if random_aopc is None:
                    random_aopc = wb.evaluate(entry, image, e, steps=steps, metrics=["aopc_random"],
                                              **CURVE)["aopc_random"]
                morf = wb.evaluate(entry, image, e, steps=steps, metrics=["aopc_morf"], **CURVE)["aopc_morf"]
                row = {"photo": name, "target": target, "method": method, "aopc_morf": morf,
                       "aopc_random": random_aopc, "morf_minus_random": morf - random_aopc,
                       "conservation": e.extras.get("conservation", ""), "steps": steps}
                writer.writerow(row)
                f.flush()
                print(f"{name} class {target} {method}: MoRF - random {morf - random_aopc:+.3f}", flush=True)
    return True


def mean_se(values) -> tuple[float, float, int]:
    v = np.asarray(values, dtype=np.float64)
    se = v.std(ddof=1) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return float(v.mean()), float(se), len(v)


def report_aopc(methods: list[str], steps: int) -> None:
    rows = [r for r in read_rows() if int(r["steps"]) == steps]
    by = defaultdict(dict)
    for r in rows:
        by[r["method"]][(r["photo"], int(r["target"]))] = r
    labels = {name: m.label for name, m in wb.methods().items()}
    shown = []
    for method in methods:
        mine = by.get(method, {})
        if not mine:
            continue
        gap = mean_se([float(r["morf_minus_random"]) for r in mine.values()])
        morf = mean_se([float(r["aopc_morf"]) for r in mine.values()])
        common = sorted(set(mine) & set(by.get("gradient", {})))
        paired = mean_se([float(mine[k]["morf_minus_random"]) - float(by["gradient"][k]["morf_minus_random"])
                          for k in common]) if common and method != "gradient" else None
        above = sum(float(r["morf_minus_random"]) > 0 for r in mine.values())
        cons = [float(r["conservation"]) for r in mine.values() if r["conservation"] not in ("", None)]
        shown.append({"method": labels.get(method, method), "n": gap[2],
                      "AOPC MoRF": f"{morf[0]:.3f} +- {morf[1]:.3f}",
                      "MoRF - random": f"{gap[0]:+.3f} +- {gap[1]:.3f}",
                      "pairs above random": f"{above}/{gap[2]}",
                      "minus gradient (paired)": "" if paired is None else f"{paired[0]:+.3f} +- {paired[1]:.3f}",
                      "conservation (median)": f"{np.median(cons):.4f}" if cons else ""})
    shown.sort(key=lambda s: -float(s["MoRF - random"].split()[0]))
    columns = ["method", "n", "AOPC MoRF", "MoRF - random", "pairs above random", "minus gradient (paired)",
               "conservation (median)"]
    print(f"AOPC on efficientnet_lite0, {len(NATURAL_PHOTOS)} photos x top-{TOP_K} classes, {steps} steps of "
          f"{CURVE['region']} px, {CURVE['fill']} fill, {CURVE['output']}: mean +- standard error")
    print(table(shown, columns))
    print("\n| " + " | ".join(columns) + " |\n|" + "---|" * len(columns))
    for s in shown:
        print("| " + " | ".join(str(s[c]) for c in columns) + " |")


def kind_of(name: str) -> str | None:
    leaf = name.rsplit(".", 1)[-1]
    for key, kind in KINDS:
        if leaf == key or (key == "act" and leaf == "head_act"):
            return kind
    return None


@contextmanager
def relevance_meters(module: torch.nn.Module, records: list[dict]):
    """Hooks on every layer of a known kind: each call appends ``{"kind", "out", "in"}``, the relevance summed at
    its output and at its (cloned) input once the backward pass has run. Registered inside the composite's
    context: the pre-hook goes first (so the rule's own pre-hook sees the clone), the post-hook last (so it
    reads the output the rule hands on)."""
    handles = []

    def pre(layer, args, kind):
        record = {"kind": kind, "in": 0.0, "out": 0.0}
        records.append(record)
        layer._relevance_record = record
        clone = args[0].clone()
        clone.register_hook(lambda g: record.__setitem__("in", float(g.double().sum())))
        return (clone, *args[1:])

    def post(layer, args, output):
        record = layer._relevance_record
        output.register_hook(lambda g: record.__setitem__("out", float(g.double().sum())))

    try:
        for name, child in module.named_modules():
            kind = kind_of(name)
            if kind is not None:
                handles.append(child.register_forward_pre_hook(lambda l, a, k=kind: pre(l, a, k), prepend=True))
                handles.append(child.register_forward_hook(post))
        yield
    finally:
        for h in handles:
            h.remove()
        for child in module.modules():
            child.__dict__.pop("_relevance_record", None)


def layer_accounting(entry, image: np.ndarray, target: int, composite, engine: str) -> dict[str, float]:
    """Share of the logit kept by each kind of layer, and the share reaching the input (``"input"``), under
    ``composite`` applied by ``engine`` (``"workbench"``: :mod:`workbench.explainers.rule_hooks`; ``"zennit"``:
    Zennit's own hooks)."""
    from workbench.explainers.rule_hooks import rules_registered

    module = entry.module
    x = entry.preprocess(image).to(entry.device).requires_grad_(True)
    records: list[dict] = []
    context = rules_registered(composite, module) if engine == "workbench" else composite.context(module)
    with torch.enable_grad(), context, relevance_meters(module, records):
        out = module(x)
        logit = float(out[0, target].detach())
        seed = torch.zeros_like(out)
        seed[0, target] = out[0, target].detach()
        relevance, = torch.autograd.grad(out, x, seed)
    shares: dict[str, float] = defaultdict(float)
    for r in records:
        shares[r["kind"]] += (r["out"] - r["in"]) / logit
    shares["input"] = float(relevance.double().sum()) / logit
    return dict(shares)


def composites(entry, image: np.ndarray) -> dict[str, tuple[str, object]]:
    """The compared set-ups: name -> (engine, composite)."""
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.composites import EpsilonGammaBox

    from workbench.explainers.backprop import canonizers_for, input_box

    module = entry.module
    images = torch.from_numpy(image).permute(2, 0, 1)[None].float().div(255).to(entry.device)
    low, high = input_box(entry, images)
    method = wb.methods()
    spec_gamma = method["lrp_epsilon_gamma_box"].spec()
    spec_eps = method["lrp_epsilon"].spec()
    from workbench.explainers.backprop import gamma_box_rules, lrp_epsilon_rules

    def box():
        return low, high

    return {
        "epsilon-gamma-box (workbench)": ("workbench", gamma_box_rules(spec_gamma, canonizers_for(module), box)),
        "epsilon-gamma-box (Zennit's attributor)": (
            "zennit", EpsilonGammaBox(low=low, high=high, canonizers=canonizers_for(module))),
        "epsilon-gamma-box, Zennit canonizer only": (
            "zennit", EpsilonGammaBox(low=low, high=high, canonizers=[SequentialMergeBatchNorm()])),
        "epsilon-gamma-box, biases left out": (
            "zennit", EpsilonGammaBox(low=low, high=high, canonizers=canonizers_for(module), zero_params=["bias"])),
        "epsilon (workbench)": ("workbench", lrp_epsilon_rules(spec_eps, canonizers_for(module), box)),
    }


def report_layers(entry, n_pairs: int) -> None:
    chosen = pairs(entry)[::TOP_K][:n_pairs] if n_pairs <= len(NATURAL_PHOTOS) else pairs(entry)[:n_pairs]
    results: dict[str, list[dict]] = defaultdict(list)
    for name, image, target in chosen:
        for setup, (engine, composite) in composites(entry, image).items():
            results[setup].append(layer_accounting(entry, image, target, composite, engine))
    kinds = [k for _, k in KINDS] + ["input"]
    for setup, found in results.items():
        rows = []
        for kind in kinds:
            values = [f.get(kind, 0.0) for f in found]
            m, se, n = mean_se(values)
            med = float(np.median(values))
            rows.append({"layer kind": kind if kind != "input" else "reaches the input (conservation)",
                         "share of the logit kept": f"{m:+.4g} +- {se:.2g}", "median": f"{med:+.4g}"})
        print(f"\n{setup}: {len(found)} pairs")
        print(table(rows, ["layer kind", "share of the logit kept", "median"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--part", choices=("aopc", "layers", "report"), default="report")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=float("inf"))
    parser.add_argument("--methods", default="", help="comma-separated (default: every registered backprop method)")
    parser.add_argument("--pairs", type=int, default=len(NATURAL_PHOTOS) * TOP_K, help="pairs for --part layers (up to 5: each photo's top class)")
    args = parser.parse_args()
    print(device_line())
    print(load_line())
    entry = wb.load_model("efficientnet_lite0")
    methods = [m for m in args.methods.split(",") if m] or backprop_methods()
    unknown = sorted(set(methods) - set(wb.methods()))
    if unknown:
        raise SystemExit(f"--methods: unknown {unknown}; expected some of {sorted(wb.methods())}")
    start = time.perf_counter()
    if args.part == "aopc":
        finished = run_aopc(entry, methods, args.steps, args.minutes)
        print("done" if finished else "not done")
    if args.part in ("aopc", "report"):
        report_aopc(methods, args.steps)
    if args.part == "layers":
        report_layers(entry, args.pairs)
    print(f"wall time {time.perf_counter() - start:.0f} s; {load_line()}")


if __name__ == "__main__":
    main()
