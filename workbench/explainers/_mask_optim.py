"""The optimisation loop shared by the mask-learning explainers (NeuroMask, Meaningful and Extremal
Perturbation).

It runs ``iterations`` steps of ``optimiser`` on the mask parameters with the user's model in eval mode
and its parameters frozen (restored afterwards, also on error), reports ``progress(i, iterations)``,
honours cancellation before each step, counts one forward and one backward pass per mask in the batch,
records every loss term per iteration, and stops early when the total loss changes by less than ``tol``
over ``patience`` iterations (``tol=0``: never, so the papers' iteration counts hold).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from ..guard import preserved_model
from ..params import Spec, param
from .registry import Context

Losses = dict[str, torch.Tensor]


@dataclass(frozen=True)
class MaskLearningSpec(Spec):
    """Base of the mask-learning specs: the early-stopping settings every one of them has."""

    heading = "Mask-learning hyper-parameters"
    learns_mask = True

    tol: float = param(0.0, low=0.0, high=10.0, step=1e-4, label="early-stop tolerance",
                       doc="Stop when the total loss changes by less than this over `patience` iterations "
                           "(0: never, so the paper's iteration count holds).")
    patience: int = param(20, low=1, high=10000, step=1, doc="Iterations over which the loss change is measured.")

    def masks_per_step(self) -> int:
        """Masks optimised together, one forward and backward pass each per iteration."""
        return 1

    def planned_passes(self, height: int, width: int) -> int:
        """The clean pass and ``iterations`` steps (at most: ``tol`` may stop it early)."""
        return 1 + getattr(self, "iterations") * self.masks_per_step()


def mask_resolution_param(default: int, zero: str) -> object:
    """The ``mask_resolution`` field: cells per side of the learned mask grid, upsampled to the image; 0
    stands for the method's paper's grid (``zero`` says which)."""
    return param(default, low=0, high=4096, step=1, label="mask resolution",
                 doc=f"Cells per side of the learned mask grid, upsampled to the image ({zero}).")


@dataclass
class History:
    """Loss terms per iteration (``terms[name][i]``) and how many iterations ran.

    :meth:`record` keeps each iteration's terms on the device; they are copied to Python floats by
    :meth:`flush` (once at the end, or every iteration when early stopping needs them), so a CUDA run is not
    stalled by a device-to-host copy per term and step.
    """

    terms: dict[str, list[float]] = field(default_factory=dict)
    iterations: int = 0
    stopped_early: bool = False
    _pending: list[torch.Tensor] = field(default_factory=list, repr=False)
    _names: tuple[str, ...] = field(default=(), repr=False)

    def record(self, losses: Losses) -> None:
        self._names = tuple(losses)
        self._pending.append(torch.stack([value.detach().sum().float() for value in losses.values()]))

    def flush(self) -> None:
        if not self._pending:
            return
        rows = torch.stack(self._pending).cpu().tolist()
        self._pending.clear()
        for row in rows:
            for name, value in zip(self._names, row):
                self.terms.setdefault(name, []).append(value)

    @property
    def total(self) -> list[float]:
        self.flush()
        return self.terms.get("total", [])


def optimise(ctx: Context, step_losses: Callable[[int], Losses], optimiser: torch.optim.Optimizer,
             iterations: int, batch: int = 1, tol: float = 0.0, patience: int = 20,
             after_step: Callable[[int], None] | None = None) -> History:
    """Minimise ``step_losses(i)["total"]`` (summed over the batch) for ``iterations`` steps.

    ``step_losses(i)`` computes the loss terms of iteration ``i`` (a dict with a ``"total"`` entry, each a
    tensor over the batch of masks); ``after_step(i)`` runs after the optimiser step (projections such as
    clamping, schedules).
    """
    history = History()
    with preserved_model(ctx.module, eval_mode=True, freeze=True):
        for i in range(iterations):
            ctx.check_cancel()
            with ctx.autocast():   # the forward pass in the run's precision; backward follows autocast's casts
                losses = step_losses(i)
            optimiser.zero_grad(set_to_none=True)
            losses["total"].sum().backward()
            optimiser.step()
            if after_step is not None:
                after_step(i)
            ctx.count(forward=batch, backward=batch)
            history.record(losses)
            history.iterations = i + 1
            ctx.report(i + 1, iterations)
            if tol > 0:
                total = history.total
                if len(total) > patience and abs(total[-1] - total[-1 - patience]) < tol:
                    history.stopped_early = True
                    break
    history.flush()
    return history
