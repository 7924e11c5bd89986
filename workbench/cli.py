"""Command line: ``workbench methods`` and ``workbench explain`` (scripted and batch use).

    workbench explain --model shapes --image scene:7 --method fmo --out heat.png
    workbench explain --model resnet18 --weights r18.pth --image photo.jpg --method occlusion --param patch=32
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
    import workbench as wb

    for name, method in wb.methods().items():
        print(f"{name:24s} {method.label} ({method.citation})")
        for p in method.params:
            if p.kind != "array":
                print(f"    {p.name} = {p.default!r}: {p.doc}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    import numpy as np
    from PIL import Image

    import workbench as wb
    from workbench.render import overlay

    model = wb.load_model(args.model, device=args.device, weights=args.weights)
    size = model.input_size if args.resize and model.input_size[0] else None
    image = wb.load_image(args.image, size=size)
    target = int(args.target) if args.target is not None and args.target.isdigit() else args.target
    e = wb.explain(model, image, args.method, target=target, seed=args.seed, **dict(args.param))
    out = Path(args.out)
    if out.suffix == ".npy":
        np.save(out, e.heatmap)
    else:
        Image.fromarray(overlay(image, e.heatmap, opacity=args.opacity)).save(out)
    print(json.dumps({"out": str(out), "method": e.method, "target": e.target, "target_name": e.target_name,
                      "forward_passes": e.cost.forward_passes, "backward_passes": e.cost.backward_passes,
                      "seconds": round(e.cost.seconds, 4)}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("methods", help="list the registered methods and their parameters").set_defaults(run=_methods)
    ex = commands.add_parser("explain", help="explain one image and write the heatmap (PNG overlay or .npy)")
    ex.add_argument("--model", default="shapes")
    ex.add_argument("--weights", default=None, help="weights file for a torchvision model")
    ex.add_argument("--image", required=True, help="PATH, scene:SEED or a bundled photo name")
    ex.add_argument("--method", default="fmo")
    ex.add_argument("--target", default=None, help="class index or name (default: top-1)")
    ex.add_argument("--param", action="append", type=_parse_param, default=[], help="NAME=VALUE, repeatable")
    ex.add_argument("--seed", type=int, default=0)
    ex.add_argument("--device", default="auto")
    ex.add_argument("--opacity", type=float, default=0.6)
    ex.add_argument("--resize", action="store_true", help="resize the image to the model's input size")
    ex.add_argument("--out", required=True, help="heat.png (overlay) or heat.npy (raw heatmap)")
    ex.set_defaults(run=_explain)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, TypeError, FileNotFoundError) as error:
        print(f"workbench: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
