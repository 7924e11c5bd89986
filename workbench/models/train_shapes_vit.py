"""Train the shapes-vit model (:mod:`.shapes_vit`) on freshly drawn synthetic scenes (CPU).

    python -m workbench.models.train_shapes_vit                   # -> weights/shapes_vit.pt (about 30 min)

As :mod:`.train_shapes` does for the CNN (its scene drawing, flips and 90-degree rotations, binary
cross-entropy per class, one-cycle AdamW within a wall-time budget), but in one phase at 224 px: the
transformer's position embedding fixes its input size, so the CNN's cheaper 112 px phase does not transfer.
Training scenes use base seed ``TRAIN_SEED + 200``, validation ``VAL_SEED``; tests draw from other seeds.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ..data.scenes import SHAPE_CLASSES
from .shapes import WEIGHTS_DIR
from .shapes_vit import SHAPES_VIT, shapes_vit
from .train_shapes import (TRAIN_SEED, VAL_SEED, draw_dataset, fit, mean_average_precision, predict,
                           save_checkpoint)

VIT_TRAIN_SEED = TRAIN_SEED + 200


def train(out: Path, n_scenes: int, n_val: int, minutes: float, batch_size: int, lr: float, seed: int = 0,
          workers: int = 2) -> dict:
    """Draw the scenes, train for what is left of ``minutes``, save a checkpoint ``load_model("shapes-vit",
    weights=out)`` reads (its ``vit`` entry holds the architecture's sizes); returns the run's info."""
    torch.manual_seed(seed)  # a training script owns its process; library code never reseeds globally
    start = time.perf_counter()
    train_x, train_y = draw_dataset(n_scenes, VIT_TRAIN_SEED, workers=workers)
    val_x, val_y = draw_dataset(n_val, VAL_SEED, workers=workers)
    print(f"drew {n_scenes} + {n_val} scenes in {time.perf_counter() - start:.0f}s", flush=True)
    sample = train_x[:512].float() / 255
    mean = sample.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)
    std = sample.std(dim=(0, 2, 3)).view(1, 3, 1, 1)

    model = shapes_vit(n_classes=len(SHAPE_CLASSES))
    generator = torch.Generator().manual_seed(seed)
    budget = minutes * 60 - (time.perf_counter() - start) - 20  # keep 20 s for validation and saving
    steps = fit(model, train_x, train_y, mean, std, budget, batch_size, lr, generator, "224px")
    val_map = mean_average_precision(predict(model, val_x, mean, std), val_y.numpy())
    print(f"224px: validation mAP {val_map:.4f}", flush=True)
    info = {
        "val_map": round(float(val_map), 4), "n_train_224": n_scenes, "n_val": n_val, "steps": steps,
        "train_seconds": round(time.perf_counter() - start, 1), "train_seed": VIT_TRAIN_SEED,
        "val_seed": VAL_SEED, "torch": str(torch.__version__),
    }
    return save_checkpoint(out, model, mean, std, info, vit=dict(SHAPES_VIT))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR / "shapes_vit.pt")
    parser.add_argument("--scenes", type=int, default=8000, help="224 px training scenes")
    parser.add_argument("--val-scenes", type=int, default=512)
    parser.add_argument("--minutes", type=float, default=30.0, help="total wall-time budget")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    args = parser.parse_args(argv)
    train(args.out, args.scenes, args.val_scenes, args.minutes, args.batch_size, args.lr)


if __name__ == "__main__":
    main()
