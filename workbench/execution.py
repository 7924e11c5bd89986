"""How a run's forward-only passes execute, chosen by measurement: runtime (torch, ONNX Runtime, OpenVINO),
memory layout and precision, once per (model, input size, device, request) for the process.

The candidates are torch eager, torch channels-last, each compiled runtime (:mod:`workbench.runtime`) and,
when the precision is ``"auto"``, their reduced-precision forms (bfloat16: torch autocast, OpenVINO's
precision hint). Each scores one probe batch of the run's image (the clean image and ``PROBE_GRID``
x ``PROBE_GRID`` copies with one window hidden, a coarse Occlusion Test): a float32 candidate is admitted
when its scores agree with torch float32's within :data:`FLOAT32_TOLERANCE` of their largest magnitude, a
reduced-precision one when the coarse heatmap it gives agrees with float32's within
:data:`REDUCED_MAP_TOLERANCE` of the map's largest value (a reduced precision that changes the map is not a
speed option: bfloat16 gave FMO on EfficientNet-Lite0 a Spearman 0.85 map). Of the admitted candidates the
fastest is used (timed in interleaved rounds, the fastest round each; torch eager is always admitted), so
``"auto"`` is never slower than torch float32 on the probe. The choice and its timings go to ``extras``.

The probe is the one-time preparation of a model: it is announced through the run's
:meth:`~workbench.progress.Controls.stage` before it starts. Timer and agreement measure are injectable
(tests fake both).
"""
from __future__ import annotations

import time
import weakref
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

from .memory_format import as_channels_last, channels_last
from .precision import autocast, resolve_precision
from .progress import Controls
from .runtime import COMPILED_RUNTIMES, CompiledModel, NotConvertible, compiled_model, parameters_fingerprint

FLOAT32_TOLERANCE = 1e-5       # largest score difference / largest score magnitude, float32 candidates
REDUCED_MAP_TOLERANCE = 1e-2   # largest coarse-heatmap difference / largest heatmap value, reduced precision
PROBE_GRID = 3                 # coarse Occlusion windows per side of the probe image
PROBE_ROUNDS = 2               # timed rounds after the warm-up call that also gives the scores
TORCH = "torch"
TORCH_CHANNELS_LAST = "torch channels-last"

Timer = Callable[[str, Callable[[], object]], float]
Measure = Callable[[str, torch.Tensor, torch.Tensor], float]


def time_once(name: str, run: Callable[[], object]) -> float:
    """Seconds of one call of ``run`` (``name``, the candidate's, is for fake timers)."""
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@dataclass(frozen=True)
class Execution:
    """How forward-only passes run: ``runtime`` (``"torch"``, ``"onnxruntime"``, ``"openvino"``), ``precision``,
    ``channels_last`` (torch's layout), the ``compiled`` model (a runtime's) and the ``reason`` for extras;
    ``ms_per_image`` holds the probe's timings (empty when nothing was timed)."""

    runtime: str
    precision: str
    channels_last: bool
    reason: str
    compiled: CompiledModel | None = None
    ms_per_image: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return candidate_name(self.runtime, self.precision, self.channels_last)

    @property
    def speedup(self) -> float:
        """How many times faster than torch float32 (channels-last where measured) the probe measured this
        execution; 1.0 when nothing was timed."""
        torch_ms = self.ms_per_image.get(TORCH_CHANNELS_LAST, self.ms_per_image.get(TORCH))
        own = self.ms_per_image.get(self.name)
        return torch_ms / own if torch_ms and own else 1.0


def candidate_name(runtime: str, precision: str, layout_channels_last: bool = False) -> str:
    base = TORCH_CHANNELS_LAST if runtime == TORCH and layout_channels_last else runtime
    return base if precision == "float32" else f"{base} {precision}"


@dataclass(frozen=True)
class Candidate:
    runtime: str
    precision: str
    channels_last: bool = False
    compiled: CompiledModel | None = None

    @property
    def name(self) -> str:
        return candidate_name(self.runtime, self.precision, self.channels_last)


def relative_difference(a: torch.Tensor, reference: torch.Tensor) -> float:
    """Largest ``|a - reference|`` over the largest ``|reference|``."""
    scale = reference.abs().max().clamp_min(1e-30)
    return float((a.double() - reference.double()).abs().max() / scale)


def decide(seconds: dict[str, float], agreement: dict[str, float], reduced: set[str],
           baseline: str = TORCH) -> tuple[str, str]:
    """The candidate to use and why: the fastest whose ``agreement`` (relative difference to float32 torch: of
    the scores for float32 candidates, of the coarse heatmap for those in ``reduced``) is within its tolerance;
    ``baseline`` (always admitted) when none is faster."""
    def admitted(name: str) -> bool:
        if name == baseline:
            return True
        return agreement.get(name, float("inf")) <= (REDUCED_MAP_TOLERANCE if name in reduced else FLOAT32_TOLERANCE)

    refused = [name for name in seconds if not admitted(name)]
    chosen = min((name for name in seconds if admitted(name)), key=lambda name: seconds[name])
    why = "fastest of the candidates whose results agree with float32 torch"
    if refused:
        why += "; " + ", ".join(f"{name} refused ({agreement.get(name, float('inf')):.1e} > "
                                 f"{REDUCED_MAP_TOLERANCE if name in reduced else FLOAT32_TOLERANCE:g})"
                                 for name in refused)
    return chosen, why


def _probe_batch(x: torch.Tensor) -> torch.Tensor:
    """The clean image and copies with one of ``PROBE_GRID`` x ``PROBE_GRID`` windows set to 0 (the normalised
    mean colour)."""
    height, width = x.shape[-2:]
    copies = [x[0]]
    for i in range(PROBE_GRID):
        for j in range(PROBE_GRID):
            copy = x[0].clone()
            copy[:, i * height // PROBE_GRID:(i + 1) * height // PROBE_GRID,
                 j * width // PROBE_GRID:(j + 1) * width // PROBE_GRID] = 0
            copies.append(copy)
    return torch.stack(copies).contiguous()


def _has_convolutions(module: nn.Module) -> bool:
    return any(isinstance(m, nn.Conv2d) for m in module.modules())


def _scorer(module: nn.Module, candidate: Candidate, device: torch.device) -> Callable[[torch.Tensor], torch.Tensor]:
    if candidate.compiled is not None:
        return lambda batch: candidate.compiled(batch)

    def score(batch: torch.Tensor) -> torch.Tensor:
        with channels_last(module, candidate.channels_last) as converted, torch.inference_mode(), \
                autocast(candidate.precision, device):
            return module(as_channels_last(batch) if converted else batch).float()

    return score


_CHOICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def choose_execution(module: nn.Module, x: torch.Tensor, runtime: str = "auto", precision: str = "float32",
                     controls: Controls | None = None, timer: Timer = time_once,
                     measure: Measure | None = None) -> Execution:
    """The execution of ``module``'s forward-only passes on copies of ``x`` ``(1,C,H,W)`` (on ``x``'s device) for
    the requested ``runtime`` (one of :data:`workbench.runtime.RUNTIMES`) and ``precision`` (see the module
    docstring); remembered per module (weakly), input size, device and request while the module's parameters
    stay the same. ``controls``: where the one-time preparation is announced. ``timer(name, run)`` and
    ``measure(name, values, reference)`` (default :func:`relative_difference` of the two) are for tests."""
    measure = measure if measure is not None else (lambda name, values, reference: relative_difference(values, reference))
    device = x.device
    resolved = resolve_precision(precision, device)
    if runtime in COMPILED_RUNTIMES and device.type != "cpu":
        raise ValueError(f"runtime: {runtime!r} runs on the CPU, got device {device.type!r}; use 'torch' or 'auto'")
    key = (str(device), tuple(x.shape[1:]), runtime, precision)
    fingerprint = parameters_fingerprint(module)
    remembered = _CHOICES.get(module, {}).get(key)
    if remembered is not None and remembered[0] == fingerprint:
        return remembered[1]

    precisions = [resolved] if precision != "auto" else ["float32"] + (["bfloat16"] if device.type in ("cpu", "cuda")
                                                                     else [])
    runtimes = [runtime] if runtime != "auto" else [TORCH] + (list(COMPILED_RUNTIMES) if device.type == "cpu" else [])
    if controls is not None:
        controls.stage(f"preparing the model (once): timing {', '.join(runtimes)} at "
                       f"{' and '.join(precisions)} on {device.type}")
    candidates, failures = [], []
    for name in runtimes:
        for p in precisions:
            if name == TORCH:
                candidates.append(Candidate(TORCH, p))
                if _has_convolutions(module):
                    candidates.append(Candidate(TORCH, p, channels_last=True))
                continue
            try:
                candidates.append(Candidate(name, p, compiled=compiled_model(module, x, name, p)))
            except NotConvertible as error:
                failures.append(f"{candidate_name(name, p)}: {error}")
    reference = Candidate(TORCH, "float32")
    batch = _probe_batch(x)
    if runtime in COMPILED_RUNTIMES:   # an explicit runtime: used when it converts, whatever the timings
        usable = [c for c in candidates if c.precision == "float32"] or candidates
        if not usable:
            execution = Execution(TORCH, "float32" if precision == "auto" else resolved, device.type == "cpu",
                                  f"torch: {runtime} cannot run this model ({'; '.join(failures)})")
        else:
            pick = usable[0]
            difference = measure(pick.name, _scorer(module, pick, device)(batch),
                                 _scorer(module, reference, device)(batch))
            execution = Execution(pick.runtime, pick.precision, False,
                                  f"{pick.name}: requested (probe scores within {difference:.1e} of float32 torch's, "
                                  f"relative)", pick.compiled)
        _CHOICES.setdefault(module, {})[key] = (fingerprint, execution)
        return execution

    scorers = {c.name: _scorer(module, c, device) for c in candidates}
    scores = {name: score(batch) for name, score in scorers.items()}   # warm-up calls; their scores are compared
    if reference.name not in scores:
        scores[reference.name] = _scorer(module, reference, device)(batch)
    seconds = {name: float("inf") for name in scorers}
    for _ in range(PROBE_ROUNDS):                                      # interleaved: a busy moment hits all alike
        for name, score in scorers.items():
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            seconds[name] = min(seconds[name], timer(name, lambda: (score(batch), device.type == "cuda"
                                                                    and torch.cuda.synchronize(device))))
    reduced = {c.name for c in candidates if c.precision != "float32"}
    target = int(scores[reference.name][0].argmax())
    clean_map = scores[reference.name][0, target] - scores[reference.name][1:, target]
    agreement = {}
    for name, values in scores.items():
        if name in reduced:
            agreement[name] = measure(name, values[0, target] - values[1:, target], clean_map)
        else:
            agreement[name] = measure(name, values, scores[reference.name])
    baseline = reference.name if reference.name in seconds else min(seconds, key=seconds.get)
    chosen, why = decide(seconds, agreement, reduced, baseline)
    pick = next(c for c in candidates if c.name == chosen)
    per_image = {name: 1e3 * s / len(batch) for name, s in seconds.items()}
    timings = ", ".join(f"{name} {ms:.3g}" for name, ms in sorted(per_image.items(), key=lambda item: item[1]))
    reason = f"{chosen}: {why} (ms/image on {device.type}, {len(batch)} images: {timings})"
    if failures:
        reason += "; not converted: " + "; ".join(failures)
    execution = Execution(pick.runtime, pick.precision, pick.channels_last, reason, pick.compiled, per_image)
    _CHOICES.setdefault(module, {})[key] = (fingerprint, execution)
    return execution


def fastest_layout(module: nn.Module, x: torch.Tensor, timer: Timer = time_once) -> bool:
    """Whether ``module`` runs faster channels-last than contiguous on copies of ``x`` ``(1,C,H,W)`` on ``x``'s
    device, float32 torch (for gradient methods: the same probe, torch candidates only; remembered)."""
    if not _has_convolutions(module):
        return False
    return choose_execution(module, x, TORCH, "float32", timer=timer).channels_last
