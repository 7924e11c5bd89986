"""The run context: what one computation on one model needs, built in one place (:func:`open_run`).

It holds the model entry, the device, the module on that device (guarded: eval mode, and training flags,
``requires_grad``, ``.grad`` and hooks restored on exit, see :mod:`workbench.guard`), the engine, the
progress/cancel :class:`~workbench.progress.Controls`, the pass counts, and, for a run on one image, the
image, its normalised input, the clean scores and the resolved target. ``explain``, ``explain_batch``,
``perturbation_curve``, the mask-learning loop and backpropagation all run in one; methods receive it as
their :class:`~workbench.explainers.registry.Context`.

Pass bookkeeping lives here: the engine counts the forward passes it scores; passes made outside it
(gradient methods, mask learning) are added with :meth:`RunContext.count`.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator

import torch

from .device import resolve_device
from .engine import Engine
from .execution import Execution, choose_execution
from .runtime import resolve_runtime
from .guard import preserved_model
from .models.zoo import ModelEntry, as_model_entry, module_on
from . import probe
from .precision import full_float32, resolve_precision
from .progress import Controls, ProgressArg
from .targets import resolve_target


@dataclass
class RunContext:
    """One run's model, module, device, engine, controls and pass counts; for a run on one image also
    ``image`` ``(1,3,H,W)`` in [0,1], ``x`` (the same, normalised for the model), ``clean_scores`` (the model's
    ``(K,)`` logits on ``x``) and ``target`` (the class index), both set by :meth:`observe_clean`."""

    model: ModelEntry
    module: torch.nn.Module
    engine: Engine
    controls: Controls
    image: torch.Tensor | None = None
    x: torch.Tensor | None = None
    requested_target: Any = None
    target: int | None = None
    clean_scores: torch.Tensor | None = None
    layout: str | None = None   # the memory layout measured faster on a measured device, and the timings
    execution: Execution | None = None   # how forward-only passes run, when chosen by measurement
    backward_passes: int = 0
    started: float = field(default_factory=time.perf_counter)
    _outside_forward: int = field(default=0, repr=False)

    @property
    def device(self) -> torch.device:
        return self.engine.device

    @property
    def size(self) -> tuple[int, int]:
        return int(self.x.shape[-2]), int(self.x.shape[-1])

    @property
    def forward_passes(self) -> int:
        """Forward passes of the run: the engine's and those counted with :meth:`count`."""
        return self.engine.forward_passes + self._outside_forward

    @property
    def seconds(self) -> float:
        """Seconds since the run was opened (after moving the model to its device)."""
        return time.perf_counter() - self.started

    @property
    def clean_score(self) -> float:
        return float(self.clean_scores[self.target])

    def observe_clean(self, scores: torch.Tensor) -> int:
        """Record the clean ``(K,)`` logits and resolve the requested target against them."""
        self.clean_scores = scores.detach()
        self.target = resolve_target(self.requested_target, self.clean_scores, self.model.class_names)
        return self.target

    def score_clean(self) -> int:
        """Score the clean image through the engine (one forward pass) and resolve the target."""
        return self.observe_clean(self.engine.score_inputs(self.x, 1)[0])

    def execution_extras(self) -> dict:
        """``runtime`` (what scored the engine's passes) and ``execution`` (why) for an Explanation's extras, when
        the execution was chosen by measurement; passes made with layer hooks (which need torch) are said."""
        if self.execution is None:
            return {}
        name, reason, hooked = self.execution.name, self.execution.reason, self.engine.hooked_images
        if self.execution.compiled is not None and hooked:
            if hooked >= self.engine.forward_passes:
                name, reason = "torch", f"torch: every pass read a layer through hooks (chosen: {reason})"
            else:
                reason += f"; {hooked} pass(es) that read a layer through hooks ran in torch"
        return {"runtime": name, "execution": reason}

    @property
    def precision(self) -> str:
        """The run's resolved precision (see :mod:`workbench.precision`)."""
        return self.engine.precision

    def autocast(self):
        """Autocast to the run's precision (a no-op at float32): methods wrap their own model passes
        (mask learning, backpropagation) in it; the engine wraps its passes itself."""
        return self.engine.autocast()

    def count(self, forward: int = 0, backward: int = 0) -> None:
        """Count passes made outside the engine (gradient methods, mask learning)."""
        self._outside_forward += forward
        self.backward_passes += backward

    def report(self, done: int, total: int) -> None:
        """Progress of work done outside the engine (e.g. optimisation steps)."""
        self.controls.report(done, total)

    def check_cancel(self) -> None:
        """Raise :class:`~workbench.Cancelled` when the run's cancel event is set."""
        self.controls.check_cancel()


@contextmanager
def open_run(model, image: torch.Tensor | None = None, *, device: str | torch.device = "auto",
             batch_size: int | None = None, progress: ProgressArg = None, cancel=None, target: Any = None,
             channels_last: bool = False, clean_pass: bool = False, planned: int | None = None,
             precision: str = "float32", runtime: str | None = None,
             context: type[RunContext] = RunContext, **fields) -> Iterator[RunContext]:
    """Open a run of ``model`` (a ModelEntry or module) on ``device`` (``"auto"``: where the model is; else a
    copy there) and yield its context, with the module guarded until the block ends.

    ``image``: a ``(3,H,W)`` tensor in [0,1] for a run on one image (``None``: the caller feeds its own
    inputs). ``channels_last``: convolution weights and engine batches channels-last (forward-only runs; on
    CUDA only when a timed batch says it is faster, see :func:`~workbench.probe.measured_layout`).
    ``clean_pass``: score the clean image first and resolve ``target`` (a class index or name; checked
    against the class names first when the model has them). ``planned``: total engine passes announced for
    progress, clean pass included. ``precision``: of the model's passes (:mod:`workbench.precision`; checked
    against the device before anything runs; a float32 run has TF32 off until the block ends, see
    :func:`~workbench.precision.full_float32`). ``runtime``: of a forward-only run's engine passes,
    ``"torch"``, ``"onnxruntime"``, ``"openvino"`` or ``"auto"`` (measured, see :mod:`workbench.execution`;
    ``None``: :func:`~workbench.runtime.resolve_runtime`); a forward-only run at precision ``"auto"`` has its
    precision measured too. ``context``: the class to build (a subclass adds ``fields``).
    """
    controls = Controls(progress, cancel)
    controls.check_cancel()
    entry = as_model_entry(model)
    dev = entry.device if device == "auto" else resolve_device(device)
    resolve_precision(precision, dev)
    runtime = resolve_runtime(runtime, precision)
    if runtime in ("onnxruntime", "openvino") and dev.type != "cpu":
        raise ValueError(f"runtime: {runtime!r} runs on the CPU, got device {dev.type!r}; use 'torch' or 'auto'")
    module = module_on(entry, dev)
    engine = Engine(module, dev, batch_size=batch_size, controls=controls, precision=precision)
    run = context(model=entry, module=module, engine=engine, controls=controls, requested_target=target, **fields)
    with controls, full_float32(engine.precision), preserved_model(module):
        if image is not None:
            run.image = image.unsqueeze(0).to(dev)
            run.x = entry.normalise(run.image)
            if entry.class_names:
                resolve_target(target, torch.zeros(len(entry.class_names)), entry.class_names, check_only=True)
        if channels_last and run.x is not None and (runtime != "torch" or precision == "auto"):   # measured
            run.execution = choose_execution(module, run.x, runtime, precision, controls)
            engine.use(run.execution)
            channels_last = run.execution.channels_last
        elif channels_last and run.x is not None and probe.PROBE.measures(dev):   # CUDA: the faster layout
            with engine.autocast():
                channels_last, run.layout = probe.measured_layout(module, run.x, batch_size)
        with engine.channels_last(enabled=channels_last):
            if planned is not None:
                engine.plan(planned)
            if clean_pass:
                run.score_clean()
            yield run
