"""How long a run will take before it starts: the forward passes its method plans at the current settings
(each spec's :meth:`~workbench.params.Spec.planned_passes`) at the pass rate the last run of that method
measured here, on that model and image size (its :class:`~workbench.results.Cost`: forward passes per second,
the backward passes and the method's own work included). Nothing is estimated before such a run: passes per
second differ more than tenfold between methods on one model (the Occlusion Test's copies against RISE's
upsampled masks, an optimiser's backward passes), so no other method's rate stands in for it.

>>> rates = PassRates()
>>> rates.record("shapes", (224, 224), "rise", Cost(forward_passes=401, seconds=2.0))
>>> rates.seconds("shapes", (224, 224), "rise", passes=4001)
19.95...
>>> duration_text(2532)
'about 42 min'
"""
from __future__ import annotations

import threading
from typing import Any

from .results import Cost


def planned_passes(method: str, params: dict[str, Any], size: tuple[int, int]) -> int | None:
    """The forward passes a run of ``method`` with ``params`` (the rest its defaults) makes on an image of
    ``size`` (height, width), the clean pass included; None when only the run can tell (Score-CAM's channels).
    Invalid settings raise ``ValueError`` naming the parameter, as :func:`workbench.explain` would."""
    from .explainers.registry import get_method

    spec = get_method(method).spec.from_dict(params)
    height, width = (int(n) for n in size)
    spec.check_image(height, width)
    return spec.planned_passes(height, width)


class PassRates:
    """The pass rate of the last run of each method on each model and image size (thread-safe: runs finish on
    worker threads)."""

    def __init__(self):
        self._rates: dict[tuple, float] = {}
        self._lock = threading.Lock()

    def record(self, model: str, size: tuple[int, int], method: str, cost: Cost) -> None:
        """A finished run's cost (one without passes or time says nothing and is ignored)."""
        if cost.forward_passes > 0 and cost.seconds > 0:
            with self._lock:
                self._rates[(model, tuple(size), method)] = cost.forward_passes / cost.seconds

    def rate(self, model: str, size: tuple[int, int], method: str) -> float | None:
        """Forward passes per second of the last such run, None before one."""
        with self._lock:
            return self._rates.get((model, tuple(size), method))

    def seconds(self, model: str, size: tuple[int, int], method: str, passes: int | None) -> float | None:
        """The estimated seconds of a run of ``passes`` forward passes; None without a plan or a rate."""
        rate = self.rate(model, size, method)
        return None if rate is None or passes is None else passes / rate


def duration_text(seconds: float) -> str:
    """A duration as a person says it: ``"about 40 s"``, ``"about 42 min"`` (seconds past a minute are read
    in minutes), ``"about 2 h 5 min"``."""
    if seconds < 59.5:
        return f"about {max(0, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h" + (f" {minutes} min" if minutes else "")
