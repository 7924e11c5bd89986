"""Train the shapes-vit model (:mod:`.shapes_vit`) on freshly drawn synthetic scenes (CPU, 2 cores).

    python -m workbench.models.train_shapes_vit --threads 1                 # -> weights/shapes_vit.pt
    python -m workbench.models.train_shapes_vit --threads 1 --stop-after 9  # in pieces: rerun to resume

The hybrid stem (:func:`.shapes_vit.hybrid_stem`) starts from the shipped shapes CNN's ``features`` (transfer
from the CNN, which the transformer then fine-tunes with its attention blocks) and the inputs are normalised
with the CNN's mean and standard deviation. Measured on 112 px runs of 300-500 steps (1 thread): the plain
patch-16 ViT stayed at the base-rate loss (0.59, mAP 0.32 after 200 steps), a Xiao et al. stem of four
stride-2 3 x 3 convolutions from scratch reached mAP 0.51 after 500 steps (0.51 with the CNN's outputs as
soft targets, DeiT-style, alpha 0.5; lr 3e-3 stayed at the base rate), the hybrid stem from scratch stayed at
the base rate for 300 steps, the hybrid stem from the CNN reached 0.85 after 300 steps.

Two phases, as :mod:`.train_shapes` does for the CNN (its scene drawing, flips and 90-degree rotations, binary
cross-entropy per class, AdamW with a one-cycle schedule): first 112 px scenes with objects at their 224 px
size (a 7 x 7 token grid, about 4x cheaper per step than 224 px's 14 x 14), then the position embedding
interpolated bicubically to the 14 x 14 grid (as timm and torchvision do when fine-tuning at a higher
resolution; Dosovitskiy et al., ICLR 2021, section 3.2) and a short 224 px phase. Patches stay 16 px, so a
patch sees the same pixels in both phases. Phases are fixed step counts (not wall time), so a run stopped by
``--stop-after`` resumes from its checkpoint (weights, optimiser, schedule and random state) to the same
result. Training scenes use base seeds ``VIT_TRAIN_SEED`` (112 px) and ``VIT_TRAIN_SEED + 1`` (224 px),
validation ``VAL_SEED``; tests draw from other seeds.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn
from torchvision.models.vision_transformer import interpolate_embeddings

from ..data.scenes import SHAPE_CLASSES
from .shapes import WEIGHTS_DIR
from .shapes_vit import SHAPES_VIT, shapes_vit
from .train_shapes import TRAIN_SEED, VAL_SEED, augment, draw_dataset, mean_average_precision, predict, \
    save_checkpoint

VIT_TRAIN_SEED = TRAIN_SEED + 200
SMALL_SIZE = 112
PHASES = ("112px", "224px")
SMALL_STEPS = 2000
FULL_STEPS = 400


def teacher_checkpoint() -> dict:
    """The shipped shapes CNN's checkpoint, whose ``features`` start the hybrid stem."""
    return torch.load(WEIGHTS_DIR / "shapes.pt", map_location="cpu", weights_only=True)


def phase_model(phase: str, state_dict: dict | None = None) -> nn.Module:
    """The phase's transformer (112 or 224 px input); ``state_dict`` from the 112 px phase is carried over to
    224 px with its position embedding interpolated from the 7 x 7 to the 14 x 14 grid. Without
    ``state_dict`` the stem starts from the shipped shapes CNN's ``features``."""
    size = SMALL_SIZE if phase == "112px" else SHAPES_VIT["image_size"]
    model = shapes_vit(n_classes=len(SHAPE_CLASSES), image_size=size)
    if state_dict is None and SHAPES_VIT["stem_width"]:
        cnn = teacher_checkpoint()
        if int(cnn["width"]) != SHAPES_VIT["stem_width"]:
            raise ValueError(f"stem_width: the shapes CNN has width {cnn['width']}")
        stem = {k.replace("features.", "", 1): v for k, v in cnn["state_dict"].items() if k.startswith("features.")}
        loaded = model.conv_proj.load_state_dict(stem, strict=False)
        if loaded.unexpected_keys or len(loaded.missing_keys) != 2:  # only the 1 x 1 projection starts afresh
            raise ValueError(f"the shapes CNN's features do not fit the stem: {loaded}")
    if state_dict is not None:
        if state_dict["encoder.pos_embedding"].shape != model.encoder.pos_embedding.shape:
            state_dict = interpolate_embeddings(size, SHAPES_VIT["patch_size"], state_dict)
        model.load_state_dict(state_dict)
    return model


def fit_steps(model: nn.Module, images: torch.Tensor, targets: torch.Tensor, mean: torch.Tensor,
              std: torch.Tensor, total: int, batch_size: int, lr: float, generator: torch.Generator,
              label: str, resume: dict | None, save_every: int, deadline: float, save) -> bool:
    """``total`` AdamW steps (one-cycle schedule, 15% warm-up) on random batches, from ``resume``'s step when
    given; every ``save_every`` steps and when ``deadline`` (a ``perf_counter`` time) passes, ``save(state)``
    is called. Returns whether the phase finished."""
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=total, pct_start=0.15)
    loss_fn = nn.BCEWithLogitsLoss()
    done = 0
    if resume is not None:
        generator.set_state(resume["generator"])
        if resume["step"] > 0:
            optimiser.load_state_dict(resume["optimiser"])
            schedule.load_state_dict(resume["schedule"])
            done = resume["step"]

    def state() -> dict:
        return {"phase": label, "step": done, "model": model.state_dict(), "optimiser": optimiser.state_dict(),
                "schedule": schedule.state_dict(), "generator": generator.get_state()}

    model.train()
    t0, start_step, running = time.perf_counter(), done, []
    while done < total:
        idx = torch.randint(0, len(images), (batch_size,), generator=generator)
        xb = augment((images[idx].float() / 255 - mean) / std, generator)
        loss = loss_fn(model(xb), targets[idx])
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        done += 1
        running.append(loss.item())
        if done % 100 == 0 or done == total:
            per_step = (time.perf_counter() - t0) / (done - start_step)
            print(f"{label}: step {done}/{total} loss {sum(running) / len(running):.4f} "
                  f"({per_step:.2f} s/step)", flush=True)
            running = []
        if done < total and (done % save_every == 0 or time.perf_counter() > deadline):
            save(state())
            if time.perf_counter() > deadline:
                print(f"{label}: stopped at step {done}/{total}; rerun the same command to resume", flush=True)
                return False
    return True


def train(out: Path, n_small: int, n_full: int, n_val: int, small_steps: int, full_steps: int, batch_size: int,
          lr: float, checkpoint: Path | None = None, stop_after: float | None = None, seed: int = 0,
          workers: int = 2, save_every: int = 200) -> dict | None:
    """Run (or resume from ``checkpoint``) both phases and save ``out``, which ``load_model("shapes-vit",
    weights=out)`` reads (its ``vit`` entry holds the architecture's sizes); returns the run's info, or
    ``None`` when ``stop_after`` minutes passed first (the state is then in ``checkpoint``)."""
    torch.manual_seed(seed)  # a training script owns its process; library code never reseeds globally
    start = time.perf_counter()
    deadline = start + 60 * stop_after if stop_after is not None else float("inf")
    resume = torch.load(checkpoint, weights_only=False) if checkpoint is not None and checkpoint.is_file() else None
    if resume is not None:
        print(f"resuming {resume['phase']} at step {resume['step']} from {checkpoint}", flush=True)
    drawings = {"112px": (n_small, VIT_TRAIN_SEED, {"size": SMALL_SIZE, "object_scale": 1.0, "n_objects": (1, 2)}),
                "224px": (n_full, VIT_TRAIN_SEED + 1, {}), "val": (n_val, VAL_SEED, {})}
    drawn: dict = {}

    def scenes(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        """A scene set, drawn when first needed (a resumed run draws only what its remaining phases use)."""
        if name not in drawn:
            t0 = time.perf_counter()
            n, base_seed, options = drawings[name]
            drawn[name] = draw_dataset(n, base_seed, workers=workers, **options)
            print(f"drew {n} {name} scenes in {time.perf_counter() - t0:.0f}s", flush=True)
        return drawn[name]

    cnn = teacher_checkpoint()  # the stem's inputs as the CNN saw them
    mean = torch.tensor(cnn["mean"]).view(1, 3, 1, 1)
    std = torch.tensor(cnn["std"]).view(1, 3, 1, 1)

    def save(state: dict) -> None:
        if checkpoint is not None:
            torch.save(state, checkpoint)

    generator = torch.Generator().manual_seed(seed)
    plan = {"112px": (small_steps, batch_size, lr), "224px": (full_steps, batch_size // 2, lr / 3)}
    state_dict = None
    for phase in PHASES[PHASES.index(resume["phase"]) if resume is not None else 0:]:
        steps, phase_batch, phase_lr = plan[phase]
        images, targets = scenes(phase)
        phase_resume = resume if resume is not None and resume["phase"] == phase else None
        model = phase_model(phase, phase_resume["model"] if phase_resume is not None else state_dict)
        if not fit_steps(model, images, targets, mean, std, steps, phase_batch, phase_lr, generator, phase,
                         phase_resume, save_every, deadline, save):
            return None
        state_dict = model.state_dict()
        if phase == "112px":
            model = phase_model("224px", state_dict)
        val_x, val_y = scenes("val")
        val_map = mean_average_precision(predict(model, val_x, mean, std), val_y.numpy())
        print(f"{phase}: validation mAP at 224 px {val_map:.4f}", flush=True)
        if phase != PHASES[-1]:
            save({"phase": PHASES[PHASES.index(phase) + 1], "step": 0, "model": model.state_dict(),
                  "generator": generator.get_state()})
    info = {
        "val_map": round(float(val_map), 4), "n_train_112": n_small, "n_train_224": n_full, "n_val": n_val,
        "steps": small_steps + full_steps, "batch_size": batch_size, "lr": lr, "stem_from": "shapes.pt",
        "train_seed": VIT_TRAIN_SEED, "val_seed": VAL_SEED, "torch": str(torch.__version__),
    }
    info = save_checkpoint(out, model, mean, std, info, vit=dict(SHAPES_VIT))
    if checkpoint is not None and checkpoint.is_file():
        checkpoint.unlink()
    return info


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=WEIGHTS_DIR / "shapes_vit.pt")
    parser.add_argument("--small-scenes", type=int, default=16000, help="112 px training scenes")
    parser.add_argument("--full-scenes", type=int, default=4000, help="224 px training scenes")
    parser.add_argument("--val-scenes", type=int, default=512)
    parser.add_argument("--small-steps", type=int, default=SMALL_STEPS, help="112 px steps")
    parser.add_argument("--full-steps", type=int, default=FULL_STEPS, help="224 px steps (half the batch)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (on a CPU shared with other jobs, 1 is several times faster than 2)")
    parser.add_argument("--checkpoint", type=Path, default=Path("shapes_vit.training.pt"),
                        help="where an unfinished run keeps its state (deleted when the run ends)")
    parser.add_argument("--stop-after", type=float, default=None, metavar="MINUTES",
                        help="save the state and stop after this many minutes; the same command resumes")
    args = parser.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    train(args.out, args.small_scenes, args.full_scenes, args.val_scenes, args.small_steps, args.full_steps,
          args.batch_size, args.lr, args.checkpoint, args.stop_after)


if __name__ == "__main__":
    main()
