"""The engine: score many perturbed copies of one image, in batches, on the device.

Every perturbation method is "make masks, score the masked images, aggregate"; this module owns the
scoring. It composes ``x * m + baseline * (1 - m)`` on the device (masks are 1 = keep), runs the model
under ``torch.inference_mode()`` in batches sized to memory (halving and retrying on out-of-memory),
counts the forward passes it makes, reports ``progress(done, total)`` after each batch and raises
:class:`Cancelled` before the next batch once ``cancel`` (a ``threading.Event``) is set (the contract of
:mod:`workbench.progress`; a run context hands its :class:`~workbench.progress.Controls` in).

Window occluders (the Occlusion Test, FMO) skip the masks: :meth:`Engine.score_windows` writes each window
into a reused batch of clean copies. The model's passes run under autocast to the engine's ``precision``
(:mod:`workbench.precision`); scores come back float32. A run may hand the engine a compiled model
(:meth:`Engine.use`, chosen by :mod:`workbench.execution`): its passes then run in ONNX Runtime or OpenVINO
(:mod:`workbench.runtime`), except while the module has forward hooks (a method reading a layer's activation
needs torch's pass).

Masks and inputs come either as a tensor or as a function ``make(start, stop) -> tensor`` so that
methods generate them on the device chunk by chunk, never all at once.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 2))
>>> engine = Engine(model, batch_size=4)
>>> x = torch.rand(1, 3, 2, 2)
>>> engine.score_masks(x, torch.ones(10, 1, 2, 2), target=1).shape
torch.Size([10])
>>> engine.forward_passes
10
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, ContextManager, Iterator, Union

import torch
from torch import nn

from .device import resolve_device
from .memory_format import as_channels_last, channels_last
from .precision import autocast, resolve_precision
from .progress import Cancelled, Controls, Progress

__all__ = ["Cancelled", "Engine", "Progress", "Source"]
Source = Union[torch.Tensor, Callable[[int, int], torch.Tensor]]

MAX_CPU_BATCH = 64
# Input bytes per batch on the CPU: 8 images at 224 px. Small batches keep a convolution's activations in the
# processor's caches; per image, channels-last, 2 threads, medians of 5 interleaved rounds: the shapes model
# 1.53 ms at 8 and 1.51 at 16 vs 2.56 at 32 and 3.06 at 64; resnet18 21.2 ms at 8 vs 24.4 at 32 and 27.0 at 64.
CPU_BATCH_BYTES = 5e6
MAX_CUDA_BATCH = 1024


def _is_out_of_memory(error: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", getattr(torch.cuda, "OutOfMemoryError", ()))
    text = str(error).lower()
    return isinstance(error, oom) or "out of memory" in text or "can't allocate memory" in text


def has_forward_hooks(module: nn.Module) -> bool:
    """True when a forward (pre-)hook is registered on the module, a submodule or globally."""
    from torch.nn.modules import module as torch_module

    if getattr(torch_module, "_global_forward_hooks", None) or getattr(torch_module, "_global_forward_pre_hooks", None):
        return True
    return any(m._forward_hooks or m._forward_pre_hooks for m in module.modules())


def _chunk(source: Source, start: int, stop: int) -> torch.Tensor:
    return source[start:stop] if isinstance(source, torch.Tensor) else source(start, stop)


class Engine:
    """Batched, device-aware scoring of perturbed inputs for one model.

    Args:
        module: maps ``(N,C,H,W)`` inputs to ``(N,K)`` scores. It is called as it is: put it in eval mode
            first (``workbench.explain`` does, and restores it after).
        device: where to compute; default: the module's device.
        batch_size: images per forward pass; default: chosen from free memory (see :meth:`default_batch_size`).
        progress: ``progress(done, total)`` after each batch (see :mod:`workbench.progress`).
        cancel: a ``threading.Event``; when set, the next batch raises :class:`Cancelled`.
        controls: the caller's :class:`~workbench.progress.Controls` instead of ``progress`` and ``cancel``.
        precision: ``"float32"``, ``"bfloat16"``, ``"float16"`` (CUDA) or ``"auto"``: the model's passes run
            under autocast to it (:mod:`workbench.precision`); scores come back as float32.
    """

    def __init__(self, module: nn.Module, device: str | torch.device | None = None, batch_size: int | None = None,
                 progress: Progress | None = None, cancel=None, precision: str = "float32",
                 controls: Controls | None = None):
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size < 1):
            raise ValueError(f"batch_size: expected a positive integer or None, got {batch_size!r}")
        self.controls = controls if controls is not None else Controls(progress, cancel)
        self.module = module
        if device is None:
            first = next(module.parameters(), None)
            device = first.device if first is not None else torch.device("cpu")
        self.device = resolve_device(device)
        self.batch_size = batch_size
        self.precision = resolve_precision(precision, self.device)
        # precision "auto" (the Workbench's fast box): speed options that change only rounding are chosen by
        # measurement, also outside the engine's passes (the gradient passes' memory layout)
        self.measures_speed = precision == "auto"
        self.channels_last_batches = False
        # windows composed by one masked select per batch (no host loop; CUDA) or written image by image (CPU)
        self.windows_by_masks = self.device.type == "cuda"
        self.forward_passes = 0
        self._cuda_batch_sizes: dict[tuple[int, ...], int] = {}
        self.planned: int | None = None  # total passes a method announces, for progress across several calls
        self.compiled = None             # a runtime's compiled model scoring the batches (see :meth:`use`)
        self.hooked_images = 0           # images scored in torch although compiled: the module had hooks

    def use(self, execution) -> None:
        """Run the passes as ``execution`` (a :class:`~workbench.execution.Execution`) says: its compiled model
        (if any) and its precision."""
        self.compiled = execution.compiled
        self.precision = execution.precision

    # -- bookkeeping ---------------------------------------------------------------------------------
    def check_cancel(self) -> None:
        self.controls.check_cancel()

    def plan(self, total_passes: int) -> None:
        """Announce the total passes of a multi-call method so progress counts towards one total."""
        self.planned = self.forward_passes + int(total_passes)

    def progress_total(self, call_start: int, call_total: int) -> int:
        """The total passes progress counts towards, for a call of ``call_total`` passes that starts after
        ``call_start`` passes: the announced total (:meth:`plan`) if any, else the call's own end."""
        return self.planned if self.planned is not None else call_start + call_total

    def _report(self, call_total: int, call_start: int) -> None:
        if self.controls.reporting:
            total = self.progress_total(call_start, call_total)
            self.controls.report(self.forward_passes, max(total, self.forward_passes))

    def default_batch_size(self, example: torch.Tensor) -> int:
        """Images per batch: on CUDA from free memory and a probe of two images (once per image shape in an
        engine: FMO's levels and other multi-call methods do not probe again), else by input bytes."""
        per_image = example[0].numel() * 4
        if self.device.type != "cuda":
            return int(max(1, min(MAX_CPU_BATCH, CPU_BATCH_BYTES // per_image)))
        key = tuple(example.shape[1:])
        if key not in self._cuda_batch_sizes:
            self._cuda_batch_sizes[key] = self._cuda_batch_size(example, per_image)
        return self._cuda_batch_sizes[key]

    def _cuda_batch_size(self, example: torch.Tensor, per_image: int) -> int:
        torch.cuda.synchronize(self.device)
        before = torch.cuda.memory_allocated(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        with torch.inference_mode(), self.autocast():
            self.module(example[:1].expand(2, *example.shape[1:]).contiguous())
        per_two = max(torch.cuda.max_memory_allocated(self.device) - before, 2 * per_image)
        free, _ = torch.cuda.mem_get_info(self.device)
        return int(max(1, min(MAX_CUDA_BATCH, 0.5 * free // (per_two / 2))))

    def autocast(self) -> ContextManager:
        """Autocast to the engine's precision on its device (a no-op at float32); wrap model passes in it."""
        return autocast(self.precision, self.device)

    @contextmanager
    def channels_last(self, enabled: bool = True) -> Iterator[None]:
        """While the block runs, the module's convolution weights and every batch are channels-last (faster
        convolutions; the weights are put back on exit, see :mod:`workbench.memory_format`)."""
        with channels_last(self.module, enabled) as converted:
            self.channels_last_batches = converted
            try:
                yield
            finally:
                self.channels_last_batches = False

    def _empty_batch(self, size: int, like: torch.Tensor) -> torch.Tensor:
        """An uninitialised ``(size, C, H, W)`` batch shaped like ``like``, in the layout batches are fed in."""
        layout = torch.channels_last if self.channels_last_batches else torch.contiguous_format
        return torch.empty((size, *like.shape[1:]), device=self.device, dtype=like.dtype, memory_format=layout)

    # -- scoring -------------------------------------------------------------------------------------
    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """The module's scores of ``batch`` as the engine computes them: by the compiled model when there is one
        and the module has no forward hooks, else by torch under autocast to the engine's precision."""
        if self.compiled is not None:
            if not has_forward_hooks(self.module):
                return self.compiled(batch).to(self.device)
            self.hooked_images += len(batch)
        with self.autocast():
            return self.module(batch)

    def _forward(self, batch: torch.Tensor, target: int | None, transform) -> torch.Tensor:
        out = self.forward(batch)
        if not isinstance(out, torch.Tensor) or out.dim() != 2:
            raise ValueError(f"model: expected the module to return (N, classes) scores, got "
                             f"{getattr(out, 'shape', type(out).__name__)}")
        out = out.float()
        if transform is not None:
            out = transform(out)
        return out[:, target] if target is not None else out

    def score_inputs(self, make_inputs: Source, n: int, target: int | None = None,
                     transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                     consume: Callable[[int, int, torch.Tensor], None] | None = None) -> torch.Tensor:
        """Score ``n`` inputs given as a tensor ``(n,C,H,W)`` or ``make_inputs(start, stop)``.

        Returns ``(n,)`` target scores (``target`` given) or ``(n, K)`` on the engine's device, float32.
        ``transform`` (e.g. softmax) is applied to each batch's ``(b, K)`` scores before the target is taken.
        ``consume(start, stop, scores)`` is called after each batch (before progress is reported), so
        methods can aggregate as they go.
        """
        if n < 0:
            raise ValueError(f"n: expected a non-negative count, got {n}")
        outputs: list[torch.Tensor] = []
        start = 0
        call_start = self.forward_passes
        batch_size = self.batch_size
        with torch.inference_mode():
            while start < n:
                self.check_cancel()
                if batch_size is None:
                    batch_size = self.default_batch_size(_chunk(make_inputs, 0, 1).to(self.device))
                stop = min(n, start + batch_size)
                try:
                    batch = _chunk(make_inputs, start, stop).to(self.device)
                    if self.channels_last_batches:
                        batch = as_channels_last(batch)
                    scores = self._forward(batch, target, transform)
                except RuntimeError as error:
                    if not (_is_out_of_memory(error) and batch_size > 1):
                        raise
                    del error
                    batch = None
                    batch_size = max(1, batch_size // 2)
                    if self.device.type == "cuda":
                        torch.cuda.empty_cache()
                    continue
                self.forward_passes += stop - start
                outputs.append(scores)
                if consume is not None:
                    consume(start, stop, scores)
                start = stop
                self._report(n, call_start)
        if not outputs:
            return torch.empty((0,), device=self.device)
        return torch.cat(outputs)

    def score_masks(self, x: torch.Tensor, masks: Source, n: int | None = None,
                    baseline: float | torch.Tensor = 0.0, target: int | None = None,
                    transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
                    consume: Callable[[int, int, torch.Tensor, torch.Tensor], None] | None = None) -> torch.Tensor:
        """Score ``x * m + baseline * (1 - m)`` for ``n`` masks.

        Args:
            x: ``(1,C,H,W)`` model input (normalised).
            masks: ``(n,1|C,H,W)`` tensor in [0,1] (1 = keep) or ``masks(start, stop)`` returning such chunks.
            n: number of masks (required when ``masks`` is a function).
            baseline: a number or a tensor broadcastable to ``(1,C,H,W)``, in the model's input space.
            consume: ``consume(start, stop, masks, scores)`` after each batch, with that batch's masks.
        """
        if isinstance(masks, torch.Tensor):
            n = masks.shape[0] if n is None else n
        elif n is None:
            raise ValueError("n: required when masks is a function")
        x = x.to(self.device)
        base = torch.as_tensor(baseline, dtype=x.dtype, device=self.device)
        delta = x - base

        current: dict[str, torch.Tensor] = {}

        def compose(start: int, stop: int) -> torch.Tensor:
            m = _chunk(masks, start, stop).to(device=self.device, dtype=x.dtype)
            current["masks"] = m
            if not self.channels_last_batches:
                return torch.addcmul(base, m, delta)
            return torch.addcmul(base, m, delta, out=self._empty_batch(len(m), x))  # in place: no second copy

        def consume_with_masks(start: int, stop: int, scores: torch.Tensor) -> None:
            consume(start, stop, current["masks"], scores)

        return self.score_inputs(compose, n, target=target, transform=transform,
                                 consume=consume_with_masks if consume is not None else None)

    def score_windows(self, x: torch.Tensor, boxes: torch.Tensor, fill: float | torch.Tensor = 0.0,
                      target: int | None = None,
                      transform: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
        """Score copies of ``x`` each with one rectangle replaced by ``fill``'s pixels: the same scores as
        :meth:`score_masks` with 0/1 window masks, composed without full-size masks: one batch of clean
        copies is made once and reused, each batch writing its windows and putting back the previous batch's
        (a model that writes into its input is detected by the batch's version counter and the copies
        remade). On the shapes model this is ~6 ms per 32 images for a fresh copy vs ~45 ms for masks. On CUDA
        (``windows_by_masks``) a loop of two small copies per image is bound by kernel launches and host
        work, so each batch is one ``where`` of window masks built on the device from the boxes: the same
        values (each pixel is ``x``'s or ``fill``'s), one kernel a batch.

        Args:
            x: ``(1,C,H,W)`` model input (normalised).
            boxes: ``(n, 4)`` integer boxes ``(x0, y0, x1, y1)``, half-open pixel corners (docs/DESIGN.md,
                "Boxes"), one per copy.
            fill: a number or a tensor broadcastable to ``(1,C,H,W)``, in the model's input space.
        """
        if boxes.dim() != 2 or boxes.shape[1] != 4:
            raise ValueError(f"boxes: expected an (n, 4) tensor of (x0, y0, x1, y1), got {tuple(boxes.shape)}")
        x = x.to(self.device)
        fill = torch.as_tensor(fill, dtype=x.dtype, device=self.device).expand_as(x)
        if self.windows_by_masks:
            return self.score_inputs(self._window_composer(x, fill, boxes), len(boxes), target=target,
                                     transform=transform)
        extents = boxes.tolist()
        state: dict = {"copies": None, "written": [], "version": -1}

        def compose(start: int, stop: int) -> torch.Tensor:
            copies = state["copies"]
            if copies is None or len(copies) < stop - start or copies._version != state["version"]:
                with torch.inference_mode(False):       # a normal tensor: in-place writes bump its version
                    copies = self._empty_batch(stop - start, x)
                copies.copy_(x.expand_as(copies))
                state["copies"], state["written"] = copies, []
            for image, (x0, y0, x1, y1) in zip(copies, state["written"]):   # the clean pixels back
                image[:, y0:y1, x0:x1] = x[0, :, y0:y1, x0:x1]
            state["written"] = extents[start:stop]
            for image, (x0, y0, x1, y1) in zip(copies, state["written"]):
                image[:, y0:y1, x0:x1] = fill[0, :, y0:y1, x0:x1]
            state["version"] = copies._version
            return copies[:stop - start]

        return self.score_inputs(compose, len(extents), target=target, transform=transform)

    def _window_composer(self, x: torch.Tensor, fill: torch.Tensor, boxes: torch.Tensor) -> Callable:
        """``compose(start, stop)``: copies of ``x`` with boxes ``start:stop`` taking ``fill``'s pixels, each
        batch one ``where`` of masks built on the device (see :meth:`score_windows`)."""
        boxes = boxes.to(self.device)
        rows = torch.arange(x.shape[-2], device=self.device)
        cols = torch.arange(x.shape[-1], device=self.device)

        def compose(start: int, stop: int) -> torch.Tensor:
            x0, y0, x1, y1 = boxes[start:stop].unbind(1)
            in_rows = (rows >= y0[:, None]) & (rows < y1[:, None])
            in_cols = (cols >= x0[:, None]) & (cols < x1[:, None])
            hidden = (in_rows[:, :, None] & in_cols[:, None, :])[:, None]
            return torch.where(hidden, fill, x, out=self._empty_batch(stop - start, x))

        return compose

