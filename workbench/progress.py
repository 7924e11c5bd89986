"""Progress and cancellation: one contract for every long-running public function.

Each such function (``explain``, ``explain_batch``, ``perturbation_curve``, ``evaluate``, ``run_evaluation``,
``sweep``, ``sanity_check``, ``spray``, ``ablation_ca``, ``ablation_ca_sweep``) takes

* ``progress``: a callable ``progress(done, total)``, called as work completes with ``done`` rising to
  ``total``; ``True`` for a text progress bar (tqdm); ``None`` or ``False`` for nothing.
* ``cancel``: a ``threading.Event`` or ``None``; once it is set, the run stops at its next check (the next
  batch, step, image or job) by raising :class:`Cancelled`.

Compute code never draws progress itself: it reports to a :class:`Controls`, which does.
"""
from __future__ import annotations

from typing import Callable, Union

Progress = Callable[[int, int], None]
ProgressArg = Union[Progress, bool, None]


class Cancelled(Exception):
    """Raised by every long-running function when its ``cancel`` event is set; the computation stopped early."""


def check_controls(progress: ProgressArg, cancel) -> None:
    """Refuse a ``progress`` that is not a callable, a bool or ``None``, and a ``cancel`` without ``is_set()``."""
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise TypeError(f"progress: expected a callable progress(done, total), True/False or None, got {progress!r}")
    if cancel is not None and not callable(getattr(cancel, "is_set", None)):
        raise TypeError(f"cancel: expected a threading.Event (with is_set()) or None, got {cancel!r}")


class Controls:
    """The ``progress`` and ``cancel`` of one call (module docstring); ``desc`` labels a text progress bar.

    >>> seen = []
    >>> controls = Controls(lambda done, total: seen.append((done, total)))
    >>> controls.report(1, 2); controls.report(2, 2); seen
    [(1, 2), (2, 2)]
    """

    def __init__(self, progress: ProgressArg = None, cancel=None, desc: str = ""):
        check_controls(progress, cancel)
        self.callback = progress if callable(progress) and not isinstance(progress, bool) else None
        self.bar = progress is True
        self.cancel = cancel
        self.desc = desc
        self._tqdm = None

    @property
    def reporting(self) -> bool:
        """True when someone listens for progress."""
        return self.callback is not None or self.bar

    @property
    def cancelled(self) -> bool:
        """True once the cancel event is set."""
        return self.cancel is not None and self.cancel.is_set()

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` when the cancel event is set."""
        if self.cancelled:
            raise Cancelled("cancelled")

    def report(self, done: int, total: int) -> None:
        """``done`` of ``total`` units finished."""
        if self.callback is not None:
            self.callback(done, total)
        elif self.bar:
            if self._tqdm is None:
                from tqdm.auto import tqdm

                self._tqdm = tqdm(total=total, desc=self.desc or None)
            self._tqdm.total = total
            self._tqdm.update(done - self._tqdm.n)

    def stage(self, message: str) -> None:
        """Announce a step that is not counted in passes (the one-time preparation of a model): passed to the
        progress callback's ``stage(message)`` when it has one, shown as a text bar's description."""
        hook = getattr(self.callback, "stage", None)
        if callable(hook):
            hook(message)
        elif self.bar:
            self.desc = message if not self.desc else f"{self.desc} ({message})"
            if self._tqdm is not None:
                self._tqdm.set_description(self.desc)

    def part(self, index: int, count: int) -> Progress | None:
        """The progress callback of part ``index`` of ``count`` parts of equal totals (e.g. the curves of one
        evaluation): each part's ``(done, total)`` is reported as ``(index * total + done, count * total)``."""
        if not self.reporting:
            return None
        return lambda done, total: self.report(index * total + done, count * total)

    def close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
            self._tqdm = None

    def __enter__(self) -> "Controls":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
