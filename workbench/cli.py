"""Command line: ``workbench methods``, ``explain``, ``evaluate``, ``report`` and ``sweep`` (scripted and
batch use).

    workbench explain --model shapes --image scene:7 --method fmo --out heat.png
    workbench explain --model resnet18 --weights r18.pth --image photo.jpg --method occlusion --param patch=32
    workbench explain --images photos/ --method fmo --out heatmaps/
    workbench evaluate --methods fmo,occlusion,rise --scenes 200 --out results.parquet [--dask local|ADDRESS]
    workbench evaluate --images VOC2007/JPEGImages --annotations voc:VOC2007/Annotations --methods fmo \
        --metrics pointing --out voc.parquet
    workbench report results.parquet [--plot results.png]
    workbench sweep --method fmo --param keep_threshold --values 0.1:0.7:0.1 --scenes 50 --out sweep.csv
"""
from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path


def _parse_param(text: str) -> tuple[str, object]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"--param: expected NAME=VALUE, got {text!r}")
    name, raw = text.split("=", 1)
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        value = raw  # a plain string such as fill=mean
    return name, value


def _methods(_: argparse.Namespace) -> int:
    from workbench.explainers import methods

    for name, method in methods().items():
        print(f"{name:24s} {method.label} ({method.citation})")
        for p in method.params:
            if p.kind != "array":
                print(f"    {p.name} = {p.default!r}: {p.doc}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    from workbench.api import explain
    from workbench.images import load_image
    from workbench.models import load_model
    from workbench.render import overlay

    if (args.image is None) == (args.images is None):
        raise ValueError("--image/--images: expected exactly one of an image (--image) or a folder (--images)")
    model = load_model(args.model, device=args.device, weights=args.weights)
    target = int(args.target) if args.target is not None and args.target.isdigit() else args.target
    if args.images is not None:
        return _explain_folder(args, model, target)
    size = model.input_size if args.resize and model.input_size[0] else None
    image = load_image(args.image, size=size)
    e = explain(model, image, args.method, target=target, seed=args.seed, **dict(args.param))
    out = Path(args.out)
    if out.suffix == ".npy":
        np.save(out, e.heatmap)
    else:
        Image.fromarray(overlay(image, e.heatmap, opacity=args.opacity)).save(out)
    print(json.dumps({"out": str(out), "method": e.method, "target": e.target, "target_name": e.target_name,
                      "forward_passes": e.cost.forward_passes, "backward_passes": e.cost.backward_passes,
                      "seconds": round(e.cost.seconds, 4)}))
    return 0


def _explain_folder(args: argparse.Namespace, model, target) -> int:
    """Every image under ``--images``, framed for the model: ``OUT/<path>.png`` (overlay on the framed image)
    and ``OUT/<path>.npy`` (heatmap), an index ``OUT/explanations.csv``; an image that fails is listed there
    and counted, and the others go on."""
    import numpy as np
    import pandas as pd
    from PIL import Image
    from tqdm.auto import tqdm

    from workbench.api import explain
    from workbench.data import Item, image_files
    from workbench.render import overlay

    root, out = Path(args.images), Path(args.out)
    if not root.is_dir():
        raise FileNotFoundError(f"--images: no folder at {str(root)!r}")
    if out.suffix in (".png", ".npy"):
        raise ValueError(f"--out: expected a folder for --images, got the file name {str(out)!r}")
    files = image_files(root)
    if not files:
        raise ValueError(f"--images: no image files in {str(root)!r}")
    if target is not None:  # a bad --target fails once, before any image
        import torch

        from workbench.targets import resolve_target

        resolve_target(target, torch.zeros(len(model.class_names)), model.class_names, check_only=True)
    rows = []
    for file in tqdm(files, desc="explain", disable=args.quiet):
        rel = file.relative_to(root)
        row = {"image": rel.as_posix(), "target": -1, "target_name": "", "forward_passes": 0,
               "backward_passes": 0, "seconds": 0.0, "error": ""}
        try:
            image, _ = Item(rel.as_posix(), file, (), frame=True).prepare(model)
            e = explain(model, image, args.method, target=target, seed=args.seed, **dict(args.param))
            dest = out / rel.with_suffix("")
            dest.parent.mkdir(parents=True, exist_ok=True)
            np.save(dest.with_suffix(".npy"), e.heatmap)
            Image.fromarray(overlay(image, e.heatmap, opacity=args.opacity)).save(dest.with_suffix(".png"))
            row.update(target=e.target, target_name=e.target_name, seconds=round(e.cost.seconds, 4),
                       **{k: v for k, v in e.cost.as_dict().items() if k != "seconds"})
        except Exception as error:  # one bad image never stops the folder
            row["error"] = f"{type(error).__name__}: {error}"
        rows.append(row)
    out.mkdir(parents=True, exist_ok=True)
    index = pd.DataFrame(rows)
    index.to_csv(out / "explanations.csv", index=False)
    failed = index[index["error"] != ""]
    print(f"explained {len(index) - len(failed)} of {len(index)} images into {out}/ (overlay .png + heatmap .npy, "
          f"index explanations.csv); {len(failed)} failed"
          + "".join(f"\n  {r.image}: {r.error}" for r in failed.itertuples()))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from workbench.evaluation import error_report, run_evaluation, scene_items, summary_table

    methods = [m for m in args.methods.split(",") if m]
    params: dict[str, dict] = {}
    for name, value in args.param:
        method, _, key = name.partition(".")
        if not key:
            raise ValueError(f"--param: expected METHOD.NAME=VALUE for evaluate, got {name!r}")
        params.setdefault(method, {})[key] = value
    if args.images is not None or args.annotations is not None:
        from workbench.data import dataset_items
        from workbench.models import load_model

        names = load_model(args.model, device="cpu", weights=args.weights).class_names
        items = dataset_items(args.images, args.annotations, names, args.class_map, args.image_set)
        if not items:
            raise ValueError(f"--images: no images with annotations found in {args.images!r}")
    else:
        items = scene_items(args.scenes, seed=args.scene_seed)
    metrics = tuple(m for m in args.metrics.split(",") if m) if args.metrics else None
    model = (args.model, str(Path(args.weights).resolve())) if args.weights else args.model
    table = run_evaluation(model, items, methods, args.out, params=params, steps=args.steps,
                           region=args.region, fill=args.fill, seed=args.seed, dask=args.dask,
                           progress=not args.quiet, **({"metrics": metrics} if metrics else {}))
    print(summary_table(table).to_string())
    print(error_report(table))
    return 0


def _report(args: argparse.Namespace) -> int:
    from workbench.evaluation import error_report, read_results, summary_table
    from workbench.plots import plot_summary

    path = Path(args.results)
    table = read_results(path)
    print(summary_table(table).to_string())
    print(error_report(table))
    plot = Path(args.plot) if args.plot else path.with_suffix(".png")
    plot_summary(table).savefig(plot, dpi=120, bbox_inches="tight")
    print(f"plot: {plot}")
    return 0


VALUES_FORMAT = "numbers separated by commas (4,8,16) or START:STOP:STEP (0.1:0.7:0.1)"


def _number(text: str, field: str, whole: str) -> int | float:
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        value = None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{field}: expected {VALUES_FORMAT}, got {whole!r} ({text.strip()!r} is not a number)")
    return value


def parse_values(text: str, field: str = "--values") -> list:
    """``START:STOP:STEP`` (inclusive of STOP when it lands on the grid) or a comma-separated list of numbers;
    a ``ValueError`` names ``field`` and the expected format."""
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ValueError(f"{field}: expected {VALUES_FORMAT}, got {text!r}")
        start, stop, step = (_number(p, field, text) for p in parts)
        if step <= 0:
            raise ValueError(f"{field}: STEP must be > 0, got {step!r}")
        count = int(round((stop - start) / step)) + 1
        values = [start + i * step for i in range(count) if start + i * step <= stop + 1e-9 * abs(step)]
        return [round(v, 10) if isinstance(v, float) else v for v in values]
    values = [_number(v, field, text) for v in text.split(",") if v.strip()]
    if not values:
        raise ValueError(f"{field}: expected {VALUES_FORMAT}, got {text!r}")
    return values


def _sweep(args: argparse.Namespace) -> int:
    from workbench.analysis.sweep import sweep
    from workbench.evaluation import scene_items
    from workbench.models import load_model

    model = load_model(args.model, device=args.device)
    result = sweep(model, scene_items(args.scenes, seed=args.scene_seed), args.method, args.param,
                      parse_values(args.values), metrics=tuple(args.metrics.split(",")), seed=args.seed,
                      repeats=args.repeats, steps=args.steps)
    out = Path(args.out)
    result.table.to_parquet(out, index=False) if out.suffix == ".parquet" else result.table.to_csv(out, index=False)
    print(result.summary.to_string(index=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("methods", help="list the registered methods and their parameters").set_defaults(run=_methods)
    ex = commands.add_parser("explain", help="explain one image and write the heatmap (PNG overlay or .npy)")
    ex.add_argument("--model", default="shapes")
    ex.add_argument("--weights", default=None, help="weights file for a torchvision model")
    ex.add_argument("--image", default=None, help="PATH, scene:SEED or a bundled photo name")
    ex.add_argument("--images", default=None, help="a folder: explain every image in it (framed for the model)")
    ex.add_argument("--method", default="fmo")
    ex.add_argument("--target", default=None, help="class index or name (default: top-1)")
    ex.add_argument("--param", action="append", type=_parse_param, default=[], help="NAME=VALUE, repeatable")
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--device", default="auto")
    ex.add_argument("--opacity", type=float, default=0.6)
    ex.add_argument("--resize", action="store_true", help="resize the image to the model's input size")
    ex.add_argument("--quiet", action="store_true", help="no progress bar (--images)")
    ex.add_argument("--out", required=True, help="heat.png (overlay) or heat.npy (raw heatmap); a folder for --images")
    ex.set_defaults(run=_explain)
    ev = commands.add_parser("evaluate", help="evaluate methods on fresh scenes or your own images; resumable")
    ev.add_argument("--model", default="shapes")
    ev.add_argument("--weights", default=None, help="weights file for a torchvision model")
    ev.add_argument("--methods", required=True, help="comma-separated method names")
    ev.add_argument("--images", default=None, help="a folder of images (ImageFolder layout DIR/<class>/<image> "
                    "unless --annotations gives the classes)")
    ev.add_argument("--annotations", default=None, help="voc:DIR (VOC XML), coco:FILE (COCO instances JSON), "
                    "masks:DIR (PNG masks) or list:CSV (path,label[,mask] rows)")
    ev.add_argument("--image-set", default=None, help="text file of image names to keep, one a line "
                    "(e.g. VOC2007/ImageSets/Main/test.txt)")
    ev.add_argument("--class-map", default=None, help="JSON or CSV file: data set class name -> model class name")
    ev.add_argument("--metrics", default=None, help="comma-separated metrics (default: region perturbation, "
                    "localisation and cost; by name also road_morf, road_lerf, road_combined, insertion_auc, "
                    "deletion_auc, faithfulness_correlation, max_sensitivity, sparseness, complexity)")
    ev.add_argument("--scenes", type=int, default=20, help="fresh scenes to evaluate when no --images")
    ev.add_argument("--scene-seed", type=int, default=123)
    ev.add_argument("--param", action="append", type=_parse_param, default=[], help="METHOD.NAME=VALUE, repeatable")
    ev.add_argument("--steps", type=int, default=100)
    ev.add_argument("--region", type=int, default=9)
    ev.add_argument("--fill", default="uniform", help="what perturbed regions become: one of "
                    "workbench.fills.METRIC_FILLS (uniform, constant, black, blur, image-mean)")
    ev.add_argument("--seed", type=int, default=0)
    ev.add_argument("--dask", default=None, help="'local' for a local cluster, or a scheduler address")
    ev.add_argument("--quiet", action="store_true")
    ev.add_argument("--out", required=True, help="results.parquet or results.csv")
    ev.set_defaults(run=_evaluate)
    rp = commands.add_parser("report", help="per-method table (mean +- standard error) and plot of a results file")
    rp.add_argument("results", help="results.parquet or results.csv written by evaluate")
    rp.add_argument("--plot", default=None, help="PNG to write (default: the results file's name with .png)")
    rp.set_defaults(run=_report)
    sw = commands.add_parser("sweep", help="sweep one parameter against quality and cost on fresh scenes")
    sw.add_argument("--model", default="shapes")
    sw.add_argument("--method", required=True)
    sw.add_argument("--param", required=True, help="the parameter to sweep")
    sw.add_argument("--values", required=True, help="START:STOP:STEP or a comma-separated list")
    sw.add_argument("--metrics", default="aopc_morf,pointing,passes,seconds")
    sw.add_argument("--scenes", type=int, default=20)
    sw.add_argument("--scene-seed", type=int, default=123)
    sw.add_argument("--repeats", type=int, default=1, help="seeds per value (stability of random methods)")
    sw.add_argument("--steps", type=int, default=50, help="region-perturbation steps for AOPC")
    sw.add_argument("--seed", type=int, default=0)
    sw.add_argument("--device", default="auto")
    sw.add_argument("--out", required=True, help="sweep.csv or sweep.parquet (one row per run and metric)")
    sw.set_defaults(run=_sweep)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"workbench: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
