"""Train the shipped shapes model on freshly drawn synthetic scenes (CPU, 2 cores, under 15 minutes).

    python -m workbench.models.train_shapes                       # -> weights/shapes.pt
    python -m workbench.models.train_shapes --watermark-class star --watermark-prob 0.9 --minutes 16 \
        --out workbench/models/weights/shapes_watermark.pt        # the "Clever Hans" model

Training scenes use base seeds ``TRAIN_SEED`` (112 px) and ``TRAIN_SEED + 100`` (224 px), validation
``VAL_SEED``; tests draw their scenes
from other seeds, so the accuracy test sees scenes the model never saw. Augmentation: flips and 90-degree
rotations (every shape class is invariant to them). Loss: binary cross-entropy per class (multi-label).
"""
from __future__ import annotations

import argparse
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..data.scenes import SHAPE_CLASSES, make_scene
from .shapes import WEIGHTS_DIR, ShapesNet

CHANNELS_LAST = torch.channels_last  # ~1.4x faster convolutions on CPU
TRAIN_SEED = 1
VAL_SEED = 2


def _draw(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    seed, options = args
    scene = make_scene(seed, **options)
    return scene.image, scene.multi_hot


def draw_dataset(n: int, base_seed: int, workers: int = 2, **options) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` scenes as a uint8 ``(n,3,H,W)`` tensor and a float ``(n, n_classes)`` multi-hot tensor."""
    jobs = [((base_seed, i), options) for i in range(n)]
    with Pool(workers) as pool:
        drawn = pool.map(_draw, jobs, chunksize=64)
    images = torch.from_numpy(np.stack([d[0] for d in drawn])).permute(0, 3, 1, 2).contiguous()
    targets = torch.from_numpy(np.stack([d[1] for d in drawn]))
    return images, targets


def mean_average_precision(scores: np.ndarray, targets: np.ndarray) -> float:
    """Macro mean over classes of scikit-learn's average precision."""
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(targets, scores, average="macro"))  # a plain float: weights_only loads


def augment(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A random 90-degree rotation and horizontal flip of the whole batch (the shape classes are invariant)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    batch = torch.rot90(batch, k, dims=(2, 3))
    if torch.rand(1, generator=generator) < 0.5:
        batch = torch.flip(batch, dims=(3,))
    return batch


@torch.no_grad()
def predict(model: nn.Module, images: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
            batch_size: int = 128) -> np.ndarray:
    model.eval()
    out = [torch.sigmoid(model((images[i:i + batch_size].float() / 255 - mean) / std))
           for i in range(0, len(images), batch_size)]
    return torch.cat(out).numpy()


def fit(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, mean: torch.Tensor, std: torch.Tensor,
         seconds: float, batch_size: int, lr: float, generator: torch.Generator, label: str) -> int:
    """Train for about ``seconds`` with a one-cycle schedule; the step count comes from a timed warm-up."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss()
    model.train()

    def step(idx: torch.Tensor, schedule=None) -> float:
        xb = augment((images[idx].float() / 255 - mean) / std, generator).contiguous(memory_format=CHANNELS_LAST)
        loss = loss_fn(model(xb), targets[idx])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if schedule is not None:
            schedule.step()
        return loss.item()

    for group in optimiser.param_groups:
        group["lr"] = lr / 25
    t0 = time.perf_counter()
    for _ in range(3):
        step(torch.randint(0, len(images), (batch_size,), generator=generator))
    per_step = (time.perf_counter() - t0) / 3
    total = max(20, int((seconds - 3 * per_step) / per_step))
    print(f"{label}: {per_step:.2f}s/step -> {total} steps "
          f"({total * batch_size / len(images):.1f} epochs of {len(images)} scenes)", flush=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=total, pct_start=0.2)
    done = 0
    while done < total:
        order = torch.randperm(len(images), generator=generator)
        for b in range(len(images) // batch_size):
            if done >= total:
                break
            loss = step(order[b * batch_size:(b + 1) * batch_size], schedule)
            done += 1
            if done % 100 == 0:
                print(f"{label}: step {done}/{total} loss {loss:.4f}", flush=True)
    return total


def train(out: Path, n_small: int, n_full: int, n_val: int, minutes: float, batch_size: int, lr: float,
          width: int, watermark_class: str | None, watermark_prob: float, seed: int = 0) -> dict:
    """Two phases: 112 px scenes with objects at their 224 px size (4x cheaper per scene; the network is
    fully convolutional with global max pooling, so what it learns transfers), then 224 px scenes."""
    torch.manual_seed(seed)  # a training script owns its process; library code never reseeds globally
    start = time.perf_counter()
    options = {"watermark_class": watermark_class, "watermark_prob": watermark_prob}
    small_x, small_y = draw_dataset(n_small, TRAIN_SEED, size=112, object_scale=1.0, n_objects=(1, 2), **options)
    full_x, full_y = draw_dataset(n_full, TRAIN_SEED + 100, **options)
    val_x, val_y = draw_dataset(n_val, VAL_SEED, **options)
    print(f"drew {n_small} + {n_full} + {n_val} scenes in {time.perf_counter() - start:.0f}s", flush=True)
    sample = full_x[:512].float() / 255
    mean = sample.mean(dim=(0, 2, 3)).view(1, 3, 1, 1)
    std = sample.std(dim=(0, 2, 3)).view(1, 3, 1, 1)

    model = ShapesNet(n_classes=len(SHAPE_CLASSES), width=width).to(memory_format=CHANNELS_LAST)
    generator = torch.Generator().manual_seed(seed)
    budget = minutes * 60 - (time.perf_counter() - start) - 20  # keep 20 s for validation and saving
    steps = fit(model, small_x, small_y, mean, std, 0.7 * budget, batch_size, lr, generator, "112px")
    print(f"112px: validation mAP at 224px "
          f"{mean_average_precision(predict(model, val_x, mean, std), val_y.numpy()):.4f}", flush=True)
    remaining = minutes * 60 - (time.perf_counter() - start) - 20
    steps += fit(model, full_x, full_y, mean, std, remaining, batch_size // 2, lr / 3, generator, "224px")
    val_map = mean_average_precision(predict(model, val_x, mean, std), val_y.numpy())
    print(f"224px: validation mAP {val_map:.4f}", flush=True)
    info = {
        "val_map": round(float(val_map), 4), "n_train_112": n_small, "n_train_224": n_full, "n_val": n_val,
        "steps": steps, "train_seconds": round(time.perf_counter() - start, 1), "train_seed": TRAIN_SEED,
        "val_seed": VAL_SEED, "watermark_class": watermark_class, "watermark_prob": watermark_prob,
        "torch": str(torch.__version__),
    }
    return save_checkpoint(out, model, mean, std, info, width=width)


def save_checkpoint(out: Path, model: torch.nn.Module, mean: torch.Tensor, std: torch.Tensor, info: dict,
                    **architecture) -> dict:
    """Write a shipped scenes model's checkpoint (weights, class names, input size, normalisation, training
    ``info`` and the ``architecture`` settings ``load_model`` rebuilds it from); returns ``info``."""
    checkpoint = {
        "state_dict": {k: v.contiguous() for k, v in model.state_dict().items()},
        "class_names": list(SHAPE_CLASSES), **architecture, "input_size": [224, 224],
        "mean": mean.flatten().tolist(), "std": std.flatten().tolist(), "info": info,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, out)
    print(f"saved {out} ({out.stat().st_size / 1e6:.2f} MB): {info}", flush=True)
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR / "shapes.pt")
    parser.add_argument("--small-scenes", type=int, default=16000, help="112 px training scenes")
    parser.add_argument("--full-scenes", type=int, default=3000, help="224 px training scenes")
    parser.add_argument("--val-scenes", type=int, default=512)
    parser.add_argument("--minutes", type=float, default=13.0, help="total wall-time budget")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--width", type=int, default=16)
    parser.add_argument("--watermark-class", default=None, choices=SHAPE_CLASSES)
    parser.add_argument("--watermark-prob", type=float, default=0.8)
    args = parser.parse_args(argv)
    train(args.out, args.small_scenes, args.full_scenes, args.val_scenes, args.minutes, args.batch_size, args.lr, args.width,
          args.watermark_class, args.watermark_prob)


if __name__ == "__main__":
    main()
