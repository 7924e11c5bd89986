"""The public entry point: ``explain(model, image, method, target, ...)``.

Validation happens once, here: image, target, method and parameters, with the offending value in the
message. The method then runs with the model in eval mode; training flags, ``requires_grad``, ``.grad``
and hooks are restored afterwards, also when the method raises.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch

from .device import resolve_device
from .engine import Engine, Progress
from .explainers.registry import Context, get_method
from .guard import preserved_model
from .images import as_image_tensor
from .models.zoo import as_model_entry, module_on
from .results import Cost, Explanation, Partial
from .targets import resolve_target

BATCH_IMAGES = 32  # images per batched run (one forward + backward pass for backprop) on CUDA; on a CPU: the engine's batch


def _prepare(model, method: str, params: dict, shape, device):
    """What ``explain`` and ``explain_batch`` share: the model entry, the method and its checked parameters
    for images of ``shape`` (3, H, W), the device and the module on it."""
    entry = as_model_entry(model)
    info = get_method(method)
    spec = info.spec.from_dict(params)
    spec.check_image(int(shape[1]), int(shape[2]))
    dev = entry.device if device == "auto" else resolve_device(device)
    return entry, info, spec, dev, module_on(entry, dev)


def explain(model, image, method: str = "occlusion", target: int | str | None = None,
            device: str | torch.device = "auto", seed: int = 0, progress: Progress | None = None,
            cancel=None, batch_size: int | None = None, partial: Callable[[Partial], None] | None = None,
            **params) -> Explanation:
    """Explain the model's score for ``target`` on ``image`` with a registered method.

    Args:
        model: a :class:`~workbench.models.ModelEntry` (from ``load_model``) or a bare ``torch.nn.Module``
            that takes ``(N,3,H,W)`` images in [0,1] and returns ``(N, classes)`` scores.
        image: numpy ``H x W x 3`` (uint8, or float in [0,1]), a PIL image, or a tensor ``3 x H x W`` in [0,1].
        method: a name from ``workbench.methods()``.
        target: class index or class name; default the top-1 class.
        device: ``"auto"`` runs where the model is; another device runs on a copy of the model there.
        seed: seed of random methods (same seed, same device: same heatmap).
        progress: ``progress(done, total)`` called as forward passes complete.
        cancel: a ``threading.Event``; setting it stops the run with :class:`workbench.Cancelled`.
        batch_size: images per forward pass (default: chosen from memory).
        partial: ``partial(p)`` receives intermediate heatmaps (:class:`workbench.Partial`) while the method
            runs: each FMO level as soon as it is scored, the RISE/LIME map from the samples
            scored so far about every 0.3 s. Progressive display in the Workbench uses it.
        **params: the method's parameters (see ``workbench.methods()[method].params``).

    >>> import workbench as wb
    >>> entry = wb.load_model("shapes", device="cpu")
    >>> scene = wb.data.make_scene(0)
    >>> e = wb.explain(entry, scene.image, "occlusion", patch=56, stride=56)
    >>> e.heatmap.shape, e.cost.forward_passes
    ((224, 224), 17)
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed: expected a non-negative integer, got {seed!r}")
    pixels = as_image_tensor(image)
    entry, info, spec, dev, module = _prepare(model, method, params, pixels.shape, device)
    engine = Engine(module, dev, batch_size=batch_size, progress=progress, cancel=cancel)
    started = time.perf_counter()
    # methods that only score forward passes through the engine: channels-last weights and batches
    with preserved_model(module), engine.channels_last(enabled=info.forward_only):
        image_batch = pixels.unsqueeze(0).to(dev)
        x = entry.normalise(image_batch)
        ctx = Context(model=entry, module=module, image=image_batch, x=x, requested_target=target, engine=engine,
                      seed=int(seed), on_partial=partial)
        if entry.class_names:
            resolve_target(target, torch.zeros(len(entry.class_names)), entry.class_names, check_only=True)
        if info.needs_clean_pass:
            ctx.observe_clean(engine.score_inputs(x, 1)[0])
        output = info.run(ctx, spec)
    target_index = ctx.target
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = time.perf_counter() - started
    heatmap = output.heatmap.detach().to("cpu", torch.float32).numpy()
    if heatmap.shape != tuple(pixels.shape[1:]):
        raise AssertionError(f"method {method!r} returned a {heatmap.shape} map for a {tuple(pixels.shape[1:])} image")
    names = entry.class_names
    return Explanation(
        heatmap=heatmap, method=method, target=target_index,
        target_name=names[target_index] if target_index < len(names) else str(target_index),
        params={**spec.to_dict(), **({"seed": int(seed)} if info.random else {})},
        cost=Cost(forward_passes=engine.forward_passes, backward_passes=ctx.backward_passes, seconds=seconds),
        extras=output.extras, score=ctx.clean_score, seed=int(seed) if info.random else None,
        model=entry.name, device=str(dev))


def explain_batch(model, images, method: str = "lrp_epsilon_gamma_box", target: int | str | None = None,
                  device: str | torch.device = "auto", seed: int = 0, batch_size: int | None = None,
                  progress: Progress | None = None, cancel=None, **params) -> np.ndarray:
    """``(N,H,W)`` float32 heatmaps of one method for many images of one size (a data set for SpRAy).

    Methods with a batched run (``methods()[method].batch``, e.g. the backpropagation methods) run
    ``batch_size`` images per pass (each image gets the heatmap :func:`explain` gives it alone); other methods
    call :func:`explain` per image.
    ``target``: one class for every image, or ``None`` for each image's top-1 class. ``progress(done, total)``
    counts images; ``cancel`` (a ``threading.Event``) stops between batches with :class:`workbench.Cancelled`.
    """
    pixels = [as_image_tensor(image) for image in images]
    if not pixels:
        raise ValueError("images: expected at least one image, got none")
    shapes = {tuple(p.shape) for p in pixels}
    if len(shapes) > 1:
        raise ValueError(f"images: expected images of one size, got sizes {sorted(s[1:] for s in shapes)}")
    entry, info, spec, dev, module = _prepare(model, method, params, pixels[0].shape, device)
    engine = Engine(module, dev, batch_size=batch_size, cancel=cancel)
    n = len(pixels)
    if info.batch is None:
        maps = []
        for done, image in enumerate(pixels, start=1):
            engine.check_cancel()
            maps.append(explain(entry, image, method, target=target, device=dev, seed=seed, **params).heatmap)
            if progress is not None:
                progress(done, n)
        return np.stack(maps)
    names = entry.class_names
    index = None
    if target is not None:
        if names:
            classes = len(names)
        else:   # a bare module: its output width, from one forward pass
            with preserved_model(module), torch.no_grad():
                classes = int(module(entry.normalise(pixels[0][None].to(dev))).shape[-1])
        index = resolve_target(target, torch.zeros(classes), names)
    # on a CPU small batches are faster per image (cache): LRP-epsilon on 64 scenes 0.48 s at 8, 0.64 s at 32
    step = batch_size or (BATCH_IMAGES if dev.type == "cuda" else engine.default_batch_size(pixels[0][None]))
    maps = []
    with preserved_model(module):
        for start in range(0, n, step):
            engine.check_cancel()
            batch = torch.stack(pixels[start:start + step]).to(dev)
            targets = None if index is None else torch.full((len(batch),), index, dtype=torch.long, device=dev)
            maps.append(info.batch(spec, entry, module, batch, targets).to("cpu", torch.float32))
            if progress is not None:
                progress(min(start + step, n), n)
    return torch.cat(maps).numpy()
