"""The method registry: one entry per explainer, read by ``explain``, the UI, the CLI and generated tests.

A method is a function ``run(context, spec) -> MethodOutput`` plus its :class:`~workbench.params.Spec`
class, registered by name where it lives (a module in ``workbench/explainers/`` is imported, and so
registered, with the package; a method defined elsewhere registers when its module is imported)::

    @register("occlusion", spec=OcclusionSpec, label="Occlusion Test", family="perturbation",
              citation="Zeiler & Fergus 2014", forward_only=True)
    def occlusion(ctx: Context, spec: OcclusionSpec) -> MethodOutput: ...

Behaviour depends only on a method's capabilities (``forward_only``, ``gradients``, ``batch``,
``needs_clean_pass``, ``random``, ``signed``, ``reads_attention``); ``family`` is a label for display and grouping.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch

from .. import seeding
from ..models.zoo import ModelEntry
from ..params import ParamInfo, Spec
from ..results import Levels, ObjectCorrelation, Partial
from ..run import RunContext


@dataclass
class Context(RunContext):
    """What a method gets: the run context of :mod:`workbench.run` (the model on its device, the guarded
    module, the engine, progress and cancel, pass counts, the image, its clean scores and target) plus the
    seed and the caller's ``partial`` callback.

    ``clean_scores`` and ``target`` are set before the method runs for methods that need a clean pass, else
    by the method from its own first forward pass (:meth:`observe_clean`; gradient methods). Passes made
    outside the engine are added with :meth:`count`; progress outside the engine goes to :meth:`report`.
    """

    seed: int = 0
    on_partial: Callable[[Partial], None] | None = None
    partial_interval: float = 0.3
    _last_partial: float = field(default=0.0, repr=False)

    @property
    def wants_partial(self) -> bool:
        """True when a caller listens for intermediate heatmaps and one is due (see :meth:`show`)."""
        return self.on_partial is not None and time.perf_counter() - self._last_partial >= self.partial_interval

    def show(self, heatmap: torch.Tensor, label: str, fraction: float, force: bool = False) -> None:
        """Offer an intermediate ``H x W`` heatmap to the caller's ``partial`` callback: at most one every
        ``partial_interval`` seconds, or always with ``force`` (FMO's levels)."""
        if self.on_partial is None or not (force or self.wants_partial):
            return
        self._last_partial = time.perf_counter()
        self.on_partial(Partial(heatmap=heatmap.detach().to("cpu", torch.float32).numpy(), label=label,
                                fraction=float(fraction)))

    def score_transform(self, output: str, paper: str = "probability"):
        """``None`` for raw logits, else a function of the logits (see :func:`workbench.scores.score_transform`;
        ``paper``: what ``"auto"`` means on a softmax model)."""
        from ..scores import score_transform

        return score_transform(self.model, output, paper)

    def generator(self, offset: int = 0) -> torch.Generator:
        """A fresh CPU ``torch.Generator`` seeded from ``seed`` (never the global RNG): draw on the CPU and
        move the draws with :func:`workbench.seeding.on_device`, so that one seed gives one map on every
        device (:mod:`workbench.seeding`)."""
        return seeding.cpu_generator(self.seed + offset)


@dataclass
class MethodOutput:
    """What a method returns: an ``H x W`` heatmap tensor, method-specific extras and the typed result layers
    it produces (see :class:`~workbench.results.Explanation`)."""

    heatmap: torch.Tensor
    extras: dict[str, Any] = field(default_factory=dict)
    levels: Levels | None = None
    segments: Any = None                      # H x W integer label map (numpy)
    loss_history: dict[str, list[float]] | None = None
    correlation: ObjectCorrelation | None = None


BatchRun = Callable[[Spec, ModelEntry, torch.nn.Module, torch.Tensor, torch.Tensor | None], torch.Tensor]


@dataclass(frozen=True)
class Method:
    """A registered explainer and its capabilities.

    Attributes:
        family: a display and grouping label only (the picker shows it); nothing branches on it.
        random: the heatmap depends on ``seed``.
        signed: heatmaps may be negative (drawn on a symmetric colour scale).
        needs_clean_pass: ``explain`` scores the clean image before ``run``; ``False``: ``run`` makes its
            own first forward pass and calls ``context.observe_clean``.
        forward_only: the method scores the model only through the engine's forward passes (no gradients),
            so ``explain`` runs it with channels-last weights and batches.
        gradients: the method backpropagates through the model (counts backward passes).
        batch: ``batch(spec, model, module, images, targets) -> (N,H,W)`` heatmaps of ``(N,3,H,W)`` images in
            [0,1] in one pass (``targets``: ``(N,)`` class indices or ``None`` for each top-1), each equal to
            the map ``run`` gives the image alone; ``explain_batch`` uses it, else it calls ``explain`` per image.
        reads_attention: the method reads a vision transformer's attention weights, so it explains only models
            with readable attention layers (see :mod:`.attention_weights`) and refuses others.
        value_range: the interval every map of the method lies in by construction (a mask: ``(0, 1)``), or
            None; a flat map is drawn on it (:func:`workbench.render.colour_range`).
        check_model: ``check_model(module, name)`` raises the ``ValueError`` the method's run raises for a model
            it cannot explain (LRP's rules on a transformer), before anything runs; see :meth:`refusal`.
    """

    name: str
    run: Callable[[Context, Spec], MethodOutput]
    spec: type[Spec]
    label: str
    family: str
    citation: str
    random: bool = False
    signed: bool = True
    needs_clean_pass: bool = True
    forward_only: bool = False
    gradients: bool = False
    batch: BatchRun | None = None
    reads_attention: bool = False
    value_range: tuple[float, float] | None = None
    check_model: Callable[[torch.nn.Module, str], None] | None = None

    def refusal(self, module: torch.nn.Module) -> str | None:
        """Why the method cannot explain ``module`` (the message its run would raise), or None when it can: a
        method reading attention needs readable attention layers, others say so through ``check_model``."""
        checks = [self.check_model] if self.check_model is not None else []
        if self.reads_attention:
            from .attention_weights import check_readable

            checks.insert(0, check_readable)
        for check in checks:
            try:
                check(module, self.name)
            except ValueError as error:
                return str(error)
        return None

    @property
    def params(self) -> tuple[ParamInfo, ...]:
        return self.spec.params()

    @property
    def learns_mask(self) -> bool:
        """True for methods that optimise a mask and record its loss history (their spec says so:
        ``MaskLearningSpec`` of :mod:`._mask_optim` sets :attr:`~workbench.params.Spec.learns_mask`)."""
        return bool(self.spec.learns_mask)

    def __repr__(self) -> str:
        names = ", ".join(f"{p.name}={p.default!r}" for p in self.params)
        return f"<method {self.name!r} ({self.label}; {self.citation}): {names}>"


REGISTRY: dict[str, Method] = {}


def register(name: str, *, spec: type[Spec], label: str, family: str, citation: str, random: bool = False,
             signed: bool = True, needs_clean_pass: bool = True, forward_only: bool = False,
             gradients: bool = False, batch: BatchRun | None = None, reads_attention: bool = False,
             value_range: tuple[float, float] | None = None,
             check_model: Callable[[torch.nn.Module, str], None] | None = None) -> Callable:
    """Decorator that registers ``run(context, spec)`` under ``name`` with its capabilities (see
    :class:`Method`)."""

    def decorate(run: Callable[[Context, Spec], MethodOutput]) -> Callable:
        if name in REGISTRY:
            raise ValueError(f"name: a method called {name!r} is already registered")
        if forward_only and gradients:
            raise ValueError(f"forward_only: method {name!r} uses gradients, so it cannot be forward-only")
        REGISTRY[name] = Method(name=name, run=run, spec=spec, label=label, family=family, citation=citation,
                                random=random, signed=signed, needs_clean_pass=needs_clean_pass,
                                forward_only=forward_only, gradients=gradients, batch=batch,
                                reads_attention=reads_attention, value_range=value_range,
                                check_model=check_model)
        return run

    return decorate


def unregister(name: str) -> None:
    REGISTRY.pop(name, None)


def get_method(name: str) -> Method:
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"method: unknown method {name!r}; expected one of {sorted(REGISTRY)}")
    return REGISTRY[name]


def methods() -> dict[str, Method]:
    """The registered methods by name, each with its parameter specs (``.params``)."""
    return dict(REGISTRY)
