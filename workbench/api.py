"""The public entry point: ``explain(model, image, method, target, ...)``.

Validation happens once, here: image, target, method and parameters, with the offending value in the
message. The method then runs with the model in eval mode; training flags, ``requires_grad``, ``.grad``
and hooks are restored afterwards, also when the method raises.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from .explainers.registry import Context, get_method
from .images import as_image_tensor
from .models.zoo import as_model_entry
from .progress import Controls, ProgressArg
from .results import Cost, Explanation, Partial
from .run import open_run
from .targets import resolve_target

BATCH_IMAGES = 32  # images per batched run (one forward + backward pass for backprop) on CUDA; on a CPU: the engine's batch


def _prepare(model, method: str, params: dict, shape):
    """What ``explain`` and ``explain_batch`` share: the model entry, the method and its checked parameters
    for images of ``shape`` (3, H, W)."""
    entry = as_model_entry(model)
    info = get_method(method)
    spec = info.spec.from_dict(params)
    spec.check_image(int(shape[1]), int(shape[2]))
    return entry, info, spec


def explain(model, image, method: str = "occlusion", target: int | str | None = None,
            device: str | torch.device = "auto", seed: int = 0, progress: ProgressArg = None,
            cancel=None, batch_size: int | None = None, partial: Callable[[Partial], None] | None = None,
            precision: str = "float32", runtime: str | None = None, **params) -> Explanation:
    """Explain the model's score for ``target`` on ``image`` with a registered method.

    Args:
        model: a :class:`~workbench.models.ModelEntry` (from ``load_model``) or a bare ``torch.nn.Module``
            that takes ``(N,3,H,W)`` images in [0,1] and returns ``(N, classes)`` scores.
        image: numpy ``H x W x 3`` (uint8, or float in [0,1]), a PIL image, or a tensor ``3 x H x W`` in [0,1].
        method: a name from ``workbench.methods()``.
        target: class index or class name; default the top-1 class.
        device: ``"auto"`` runs where the model is; another device runs on a copy of the model there.
        seed: seed of random methods (same seed: same masks and samples on every device, drawn on the CPU; same
            heatmap up to the device's rounding).
        progress: ``progress(done, total)`` called as forward passes (or optimisation steps) complete, or
            ``True`` for a progress bar (the contract of :mod:`workbench.progress`).
        cancel: a ``threading.Event``; setting it stops the run with :class:`workbench.Cancelled`.
        batch_size: images per forward pass (default: chosen from memory).
        partial: ``partial(p)`` receives intermediate heatmaps (:class:`workbench.Partial`) while the method
            runs: each FMO level as soon as it is scored, the RISE/LIME map from the samples
            scored so far about every 0.3 s. Progressive display in the Workbench uses it.
        precision: of the model's passes: ``"float32"`` (default), ``"bfloat16"``, ``"float16"`` (CUDA only) or
            ``"auto"`` (forward-only methods: bfloat16 only where the probe measures it faster and the probe
            image's heatmap unchanged, see :mod:`workbench.execution`; gradient methods: float32 on a CPU,
            bfloat16 on CUDA); see :mod:`workbench.precision` (a float32 run has TF32 off). The heatmap is
            float32 either way; the precision is recorded in ``extras["precision"]``.
        runtime: of a forward-only method's passes: ``"torch"``, ``"onnxruntime"``, ``"openvino"`` (CPU) or
            ``"auto"``: the fastest whose scores agree with torch's within 1e-5, measured once per model and
            input size (:mod:`workbench.execution`); default ``"auto"`` at precision ``"auto"``, else
            ``"torch"``. ``extras["runtime"]`` says which ran and ``extras["execution"]`` why; a model that
            does not convert runs in torch with the reason there. Gradient methods always run in torch.
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
    entry, info, spec = _prepare(model, method, params, pixels.shape)
    # methods that only score forward passes through the engine: channels-last weights and batches
    with open_run(entry, pixels, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  target=target, channels_last=info.forward_only, clean_pass=info.needs_clean_pass, context=Context,
                  seed=int(seed), on_partial=partial, precision=precision, runtime=runtime) as ctx:
        output = info.run(ctx, spec)
    dev = ctx.device
    if dev.type == "cuda":
        torch.cuda.synchronize(dev)
    seconds = ctx.seconds
    heatmap = output.heatmap.detach().to("cpu", torch.float32).numpy()
    if heatmap.shape != tuple(pixels.shape[1:]):
        raise AssertionError(f"method {method!r} returned a {heatmap.shape} map for a {tuple(pixels.shape[1:])} image")
    names, target_index = entry.class_names, ctx.target
    return Explanation(
        heatmap=heatmap, method=method, target=target_index,
        target_name=names[target_index] if target_index < len(names) else str(target_index),
        params={**spec.to_dict(), **({"seed": int(seed)} if info.random else {})},
        cost=Cost(forward_passes=ctx.forward_passes, backward_passes=ctx.backward_passes, seconds=seconds),
        extras={**output.extras, "precision": ctx.precision, **({"layout": ctx.layout} if ctx.layout else {}),
                **ctx.execution_extras()},
        score=ctx.clean_score, seed=int(seed) if info.random else None,
        model=entry.name, device=str(dev), levels=output.levels, segments=output.segments,
        loss_history=output.loss_history, correlation=output.correlation)


def explain_batch(model, images, method: str = "lrp_epsilon_gamma_box", target: int | str | None = None,
                  device: str | torch.device = "auto", seed: int = 0, batch_size: int | None = None,
                  progress: ProgressArg = None, cancel=None, precision: str = "float32", runtime: str | None = None,
                  **params) -> np.ndarray:
    """``(N,H,W)`` float32 heatmaps of one method for many images of one size (a data set for SpRAy).

    Methods with a batched run (``methods()[method].batch``, e.g. the backpropagation methods) run
    ``batch_size`` images per pass (each image gets the heatmap :func:`explain` gives it alone); other methods
    call :func:`explain` per image (``runtime`` as there).
    ``target``: one class for every image, or ``None`` for each image's top-1 class. ``progress(done, total)``
    counts images; ``cancel`` (a ``threading.Event``) stops between batches (or within an image run by
    :func:`explain`) with :class:`workbench.Cancelled` (see :mod:`workbench.progress`). ``precision``: as for :func:`explain`.
    """
    pixels = [as_image_tensor(image) for image in images]
    if not pixels:
        raise ValueError("images: expected at least one image, got none")
    shapes = {tuple(p.shape) for p in pixels}
    if len(shapes) > 1:
        raise ValueError(f"images: expected images of one size, got sizes {sorted(s[1:] for s in shapes)}")
    entry, info, spec = _prepare(model, method, params, pixels[0].shape)
    n = len(pixels)
    if info.batch is None:
        with Controls(progress, cancel) as controls:
            maps = []
            for done, image in enumerate(pixels, start=1):
                controls.check_cancel()
                maps.append(explain(entry, image, method, target=target, device=device, seed=seed, cancel=cancel,
                                    precision=precision, runtime=runtime, **params).heatmap)
                controls.report(done, n)
        return np.stack(maps)
    with open_run(entry, device=device, batch_size=batch_size, progress=progress, cancel=cancel,
                  precision=precision) as run:
        names, dev, module = entry.class_names, run.device, run.module
        index = None
        if target is not None:
            if names:
                classes = len(names)
            else:   # a bare module: its output width, from one forward pass
                with torch.no_grad():
                    classes = int(module(entry.normalise(pixels[0][None].to(dev))).shape[-1])
            index = resolve_target(target, torch.zeros(classes), names)
        # on a CPU small batches are faster per image (cache): LRP-epsilon on 64 scenes 0.48 s at 8, 0.64 s at 32
        step = batch_size or (BATCH_IMAGES if dev.type == "cuda" else run.engine.default_batch_size(pixels[0][None]))
        maps = []
        for start in range(0, n, step):
            run.check_cancel()
            batch = torch.stack(pixels[start:start + step]).to(dev)
            targets = None if index is None else torch.full((len(batch),), index, dtype=torch.long, device=dev)
            with run.autocast():
                maps.append(info.batch(spec, entry, module, batch, targets).to("cpu", torch.float32))
            run.report(min(start + step, n), n)
    return torch.cat(maps).numpy()
