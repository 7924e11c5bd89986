"""The Workbench's state machine, free of widgets: a settings change becomes one compute call on a worker
thread.

* **Debounce**: :meth:`Jobs.submit` waits ``debounce`` seconds for the next change before starting, so a
  dragged slider makes one computation, not thirty.
* **Cancel**: starting a job sets the running job's cancel event; the engine raises
  :class:`~workbench.Cancelled` at its next batch and that job's results are never drawn (the
  ``log`` records it).
* **Cache**: finished results are kept by key (model, image, target, method, parameters, seed), so going back
  to a setting or switching views never recomputes.
* **Progress and partial results** reach the callbacks only while their job is the current one.
* **Bounded**: the cache keeps at most ``cache_size`` results and ``cache_bytes`` bytes of arrays (oldest
  out first); the log keeps the last :data:`LOG_SIZE` events.
* **Clean exit**: :meth:`Jobs.close` (and :meth:`Session.close`) cancel the pending and running jobs and join
  their threads; every open lane is closed the same way when the interpreter exits, so no worker thread is
  still inside torch at shutdown (which aborts the process: "terminate called without an active exception").

Callbacks run on the worker (or timer) thread; ipywidgets and Plotly ``FigureWidget`` accept updates from
there (the widget state is synced by the kernel's comm layer).
"""
from __future__ import annotations

import atexit
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

# Imported here, on the kernel's thread: a library first imported by two worker threads at once can fail with
# "partially initialized module" (seen with pandas when a sweep and a sanity check started together).
import pandas  # noqa: F401,E402
import scipy.stats  # noqa: F401,E402
import skimage.feature  # noqa: F401,E402
import skimage.metrics  # noqa: F401,E402
import sklearn.cluster  # noqa: F401,E402
import sklearn.neighbors  # noqa: F401,E402

from ..engine import Cancelled

Work = Callable[[threading.Event, Callable[[int, int], None], Callable[[Any], None]], Any]

LOG_SIZE = 1000            # events kept in Jobs.log
CACHE_SIZE = 64            # results kept per lane
CACHE_BYTES = 256 * 2**20  # bytes of arrays kept per lane (a 700 px FMO explanation holds about 25 MB)
EXIT_TIMEOUT = 60.0        # seconds the interpreter waits at exit for cancelled jobs to stop

_OPEN: "weakref.WeakSet[Jobs]" = weakref.WeakSet()


def _close_all() -> None:
    """At interpreter exit: cancel and join every open lane's jobs (registered with ``atexit``, which runs
    while daemon threads still run, before the interpreter tears down)."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    for lane in list(_OPEN):
        lane.close(timeout=max(0.0, deadline - time.monotonic()))


atexit.register(_close_all)


def approximate_bytes(value: Any, _depth: int = 0) -> int:
    """Bytes held by the arrays, tensors and tables inside ``value`` (dataclasses, dicts and sequences
    are walked a few levels deep); what the cache bound counts."""
    import dataclasses

    import numpy as np
    import torch

    if _depth > 4 or value is None or isinstance(value, (str, bytes, int, float, bool)):
        return 0
    if isinstance(value, np.ndarray):
        return int(value.nbytes)
    if isinstance(value, torch.Tensor):
        return int(value.numel() * value.element_size())
    if isinstance(value, pandas.DataFrame):
        return int(value.memory_usage(index=False).sum())
    if isinstance(value, dict):
        return sum(approximate_bytes(v, _depth + 1) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(approximate_bytes(v, _depth + 1) for v in value)
    if dataclasses.is_dataclass(value):
        return sum(approximate_bytes(getattr(value, f.name), _depth + 1) for f in dataclasses.fields(value))
    return 0


def freeze(value: Any) -> Hashable:
    """A hashable, order-independent version of nested dicts/lists (for cache keys)."""
    if isinstance(value, dict):
        return tuple(sorted((k, freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


@dataclass
class Handlers:
    """What to do with a job's news; every callback is optional."""

    on_start: Callable[[], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    on_partial: Callable[[Any], None] | None = None
    on_done: Callable[[Any, bool], None] | None = None        # (result, from_cache)
    on_error: Callable[[str], None] | None = None


@dataclass(eq=False)   # hashed by identity (kept in a set while it runs)
class _Job:
    number: int
    key: Hashable
    work: Work
    handlers: Handlers
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Jobs:
    """One lane of debounced, cancellable, cached background work (one lane per view that computes)."""

    def __init__(self, debounce: float = 0.25, cache_size: int = CACHE_SIZE, cache_bytes: int = CACHE_BYTES):
        self.debounce = debounce
        self.cache_size = cache_size
        self.cache_bytes = cache_bytes
        self.cache: dict[Hashable, Any] = {}
        self.log: list[tuple[str, Hashable]] = []   # ("started" | "cancelled" | "done" | "cached" | "error", key)
        self.closed = False
        self._sizes: dict[Hashable, int] = {}
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._current: _Job | None = None
        self._numbers = 0
        self._idle = threading.Event()
        self._idle.set()
        self._threads: set[threading.Thread] = set()
        self._running: set[_Job] = set()
        _OPEN.add(self)

    # -- public ---------------------------------------------------------------------------------------------
    def remember(self, key: Hashable, result: Any) -> None:
        """Cache ``result`` under ``key``, dropping the oldest results beyond ``cache_size`` entries or
        ``cache_bytes`` bytes (the newest result is always kept)."""
        size = approximate_bytes(result)
        with self._lock:
            self.cache.pop(key, None)
            self.cache[key] = result
            self._sizes[key] = size
            while len(self.cache) > 1 and (len(self.cache) > self.cache_size
                                           or sum(self._sizes.values()) > self.cache_bytes):
                oldest = next(iter(self.cache))
                self.cache.pop(oldest)
                self._sizes.pop(oldest, None)

    def close(self, timeout: float = EXIT_TIMEOUT) -> bool:
        """Cancel the pending and running jobs, wait up to ``timeout`` seconds for their threads to stop and
        empty the cache; later submits are refused. True when every thread stopped in time."""
        with self._lock:
            self.closed = True
            if self._timer is not None:
                self._timer.cancel()
            timer, self._timer = self._timer, None
            for job in list(self._running) + ([self._current] if self._current is not None else []):
                job.cancel.set()
            self._current = None
            self._idle.set()
            threads = [t for t in (timer, *self._threads) if t is not None and t is not threading.current_thread()]
        deadline = time.monotonic() + timeout
        for thread in threads:
            if thread.ident is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            self.cache.clear()
            self._sizes.clear()
        _OPEN.discard(self)
        return not any(t.is_alive() for t in threads)

    def submit(self, key: Hashable, work: Work, handlers: Handlers, debounce: bool = True) -> None:
        """Run ``work(cancel, progress, partial)`` for ``key`` after the debounce delay, cancelling whatever runs.
        A cached key answers at once (``on_done(result, True)``) without calling ``work``."""
        with self._lock:
            if self.closed:
                raise RuntimeError("this Workbench is closed; open a new one")
            self._numbers += 1
            job = _Job(self._numbers, key, work, handlers)
            if self._timer is not None:
                self._timer.cancel()
            if self._current is not None:
                self._current.cancel.set()           # a newer setting supersedes the running job now
            self._current = job
            self._idle.clear()
            if key in self.cache:
                self._timer = None
                self._record("cached", key)
                result = self.cache[key]
            else:
                result = None
                delay = self.debounce if debounce else 0.0
                self._timer = threading.Timer(delay, self._start, args=(job,))
                self._timer.daemon = True
                self._timer.start()
        if result is not None:
            self._finish(job, lambda: handlers.on_done and handlers.on_done(result, True))

    def wait(self, timeout: float = 60.0) -> bool:
        """Block until no job is pending or running, superseded ones included (tests, notebooks); False on
        timeout."""
        deadline = time.monotonic() + timeout
        if not self._idle.wait(timeout):
            return False
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in list(self._threads)) and self._idle.is_set()

    # -- worker side ----------------------------------------------------------------------------------------
    def _is_current(self, job: _Job) -> bool:
        with self._lock:
            return self._current is job and not job.cancel.is_set()

    def _record(self, event: str, key: Hashable) -> None:
        with self._lock:
            self.log.append((event, key))
            if len(self.log) > LOG_SIZE:
                del self.log[:len(self.log) - LOG_SIZE]

    def _start(self, job: _Job) -> None:
        with self._lock:
            if self.closed or not self._is_current(job):
                return
            # a daemon thread, so a stuck job never blocks exit; the atexit hook cancels and joins it first
            job.thread = threading.Thread(target=self._run, args=(job,), daemon=True,
                                          name=f"workbench-job-{job.number}")
            self._threads.add(job.thread)
            self._running.add(job)
            job.thread.start()

    def _run(self, job: _Job) -> None:
        try:
            self._run_job(job)
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
                self._running.discard(job)

    def _run_job(self, job: _Job) -> None:
        h = job.handlers
        self._record("started", job.key)
        if h.on_start:
            self._guard(job, h.on_start)

        def progress(done: int, total: int) -> None:
            if h.on_progress and self._is_current(job):
                self._guard(job, lambda: h.on_progress(done, total))

        def partial(value: Any) -> None:
            if h.on_partial and self._is_current(job):
                self._guard(job, lambda: h.on_partial(value))

        try:
            result = job.work(job.cancel, progress, partial)
        except Cancelled:
            self._record("cancelled", job.key)
            self._settle(job)
            return
        except Exception as error:  # shown in the panel, never lost in a log
            self._record("error", job.key)
            message = f"{type(error).__name__}: {error}"
            self._finish(job, lambda: h.on_error and h.on_error(message))
            return
        if not self.closed:
            self.remember(job.key, result)
        self._record("done", job.key)
        self._finish(job, lambda: h.on_done and h.on_done(result, False))

    def _guard(self, job: _Job, call: Callable[[], None]) -> None:
        """Run a UI callback; a failure in drawing is reported through ``on_error``, not swallowed."""
        try:
            call()
        except Exception as error:
            if job.handlers.on_error:
                job.handlers.on_error(f"while drawing: {type(error).__name__}: {error}\n"
                                      + traceback.format_exc(limit=3))

    def _finish(self, job: _Job, call: Callable[[], None]) -> None:
        if self._is_current(job):
            self._guard(job, call)
        self._settle(job)

    def _settle(self, job: _Job) -> None:
        with self._lock:
            if self._current is job:
                self._current = None
                self._idle.set()
            elif self._current is None:
                self._idle.set()


class Session:
    """The settings of one Workbench and the compute calls they make, without any widget.

    ``compute`` is :func:`workbench.explain` (injectable so tests can count calls). Settings are plain
    attributes; ``request_*`` validate them at once (an invalid setting is reported through ``on_error``
    and nothing is started) and hand the call to a :class:`Jobs` lane.
    """

    def __init__(self, model, image, method: str = "fmo", compute: Callable[..., Any] | None = None,
                 debounce: float = 0.25, device: str = "auto", image_key: Hashable | None = None):
        from ..api import explain
        from ..images import as_numpy_image
        from ..models.zoo import as_model_entry

        self.model = as_model_entry(model)
        self.image = as_numpy_image(image)
        self.image_key: Hashable = ("given", id(image)) if image_key is None else image_key
        self.target: int | None = None
        self.method = method
        self.params: dict[str, dict[str, Any]] = {}
        self.seed = 0
        self.device = device
        self.precision = "float32"              # of the model's passes (workbench.precision); "auto" when fast
        self.compute = compute or explain
        self.explanations = Jobs(debounce)
        self.evaluations = Jobs(debounce)
        self.comparisons = Jobs(debounce)
        self.analyses = Jobs(debounce)          # sweeps, sanity checks and SpRAy

    # -- settings -------------------------------------------------------------------------------------------
    def set_image(self, image, key: Hashable) -> None:
        from ..images import as_numpy_image
        self.image, self.image_key = as_numpy_image(image), key

    def set_model(self, model) -> None:
        from ..models.zoo import as_model_entry
        self.model = as_model_entry(model)
        self.target = None

    def params_for(self, method: str | None = None) -> dict[str, Any]:
        """The current parameters of ``method`` (defaults until a control changes one)."""
        from ..explainers.registry import get_method
        method = method or self.method
        values = self.params.setdefault(method, {})
        return {p.name: values.get(p.name, p.default) for p in get_method(method).params}

    def set_param(self, name: str, value: Any, method: str | None = None) -> None:
        self.params.setdefault(method or self.method, {})[name] = value

    def validate(self, method: str | None = None) -> None:
        """Raise ``ValueError`` (naming the parameter) when the current settings cannot run."""
        from ..explainers.registry import get_method
        method = method or self.method
        spec = get_method(method).spec.from_dict(self.params_for(method))
        spec.check_image(*self.image.shape[:2])

    def resolved_target(self) -> int:
        """The chosen target, or the model's top-1 class on the image when none is chosen."""
        from ..targets import top_classes

        return self.target if self.target is not None else top_classes(self.model, self.image, k=1)[0][0]

    def key(self, method: str | None = None) -> Hashable:
        method = method or self.method
        return (self.model.name, id(self.model), self.image_key, self.target, method,
                freeze(self.params_for(method)), self.seed, self.precision)

    # -- compute --------------------------------------------------------------------------------------------
    def explain_work(self, method: str) -> Work:
        params, target, seed = self.params_for(method), self.target, self.seed
        model, image, device, precision = self.model, self.image, self.device, self.precision

        def work(cancel, progress, partial):
            return self.compute(model, image, method, target=target, seed=seed, device=device, progress=progress,
                                cancel=cancel, partial=partial, precision=precision, **params)
        return work

    def request_explanation(self, handlers: Handlers, debounce: bool = True) -> bool:
        """Explain with the current settings (cached, debounced, cancelling the running job); False and
        ``on_error`` when the settings are invalid."""
        try:
            self.validate()
        except ValueError as error:
            if handlers.on_error:
                handlers.on_error(f"ValueError: {error}")
            return False
        self.explanations.submit(self.key(), self.explain_work(self.method), handlers, debounce=debounce)
        return True

    def request_evaluation(self, explanation, settings: dict[str, Any], handlers: Handlers,
                           curve: str = "region") -> None:
        """The curves of ``explanation``: ``curve`` ``"region"`` (MoRF/LeRF/random with ``settings``: region,
        steps, fill), ``"road"`` (MoRF/LeRF) or ``"insertion_deletion"`` (their papers' settings)."""
        from ..metrics import evaluate
        from ..metrics.registry import INSERTION_DELETION_METRICS, ROAD_METRICS
        families = {"road": ROAD_METRICS, "insertion_deletion": INSERTION_DELETION_METRICS}
        if curve != "region" and curve not in families:
            raise ValueError(f"curve: expected one of {['region', *families]}, got {curve!r}")
        model, image, device = self.model, self.image, self.device
        options = settings if curve == "region" else {"metrics": families[curve]}
        key = (self.key(explanation.method), curve, freeze(options))

        def work(cancel, progress, partial):
            return evaluate(model, image, explanation, device=device, cancel=cancel, **options)
        self.evaluations.submit(key, work, handlers, debounce=True)

    def request_comparison(self, methods: list[str], handlers: Handlers) -> None:
        """Explain with each of ``methods`` (current settings for each); the result is a list of Explanations,
        each one taken from the explanation cache when it is there."""
        for method in methods:
            self.validate(method)
        jobs = [(self.key(m), self.explain_work(m)) for m in methods]
        cache = self.explanations.cache

        def work(cancel, progress, partial):
            done = []
            for i, (key, one) in enumerate(jobs):
                result = cache.get(key)
                if result is None:
                    result = one(cancel, lambda a, b: None, lambda p: None)
                    self.explanations.remember(key, result)
                done.append(result)
                progress(i + 1, len(jobs))
                partial(list(done))
            return done
        self.comparisons.submit(("compare", tuple(k for k, _ in jobs)), work, handlers, debounce=False)

    def request_quality(self, explanations: list, settings: dict[str, Any], mask, handlers: Handlers) -> None:
        """AOPC of the MoRF curve (``settings``: region, steps, fill) of each explanation and, when the target's
        ``mask`` is known, its pointing-game hit; the result is ``{method: {"aopc", "pointing"}}``."""
        from ..metrics import perturbation_curve
        from ..metrics.localisation import pointing_game
        model, image, device = self.model, self.image, self.device

        def work(cancel, progress, partial):
            quality = {}
            for i, e in enumerate(explanations):
                curve = perturbation_curve(model, image, e, order="morf", device=device, cancel=cancel, **settings)
                quality[e.method] = {"aopc": curve.aopc,
                                     "pointing": None if mask is None else pointing_game(e.heatmap, mask) >= 0.5}
                progress(i + 1, len(explanations))
                partial(dict(quality))
            return quality
        key = ("quality", tuple(self.key(e.method) for e in explanations), freeze(settings), mask is not None)
        self.comparisons.submit(key, work, handlers, debounce=False)

    def request_sweep(self, param: str, values: list, metrics: tuple[str, ...], handlers: Handlers,
                      mask=None, steps: int = 20) -> None:
        """Sweep ``param`` of the current method over ``values`` on the current image and target (pointing
        needs the target's ``mask``); the result keeps every heatmap."""
        from ..analysis.sweep import sweep
        from ..evaluation import Item

        method, params = self.method, {k: v for k, v in self.params_for().items() if k != param}
        target = self.resolved_target()
        item = Item(image_id="current", source=self.image, targets=(target,),
                    masks=None if mask is None else {target: mask})
        model, seed = self.model, self.seed
        key = ("sweep", self.key(), param, freeze(values), metrics, steps)

        def work(cancel, progress, partial):
            return sweep(model, [item], method, param, values, metrics=metrics, seed=seed, steps=steps,
                         params=params, keep_heatmaps=True, cancel=cancel)
        self.analyses.submit(key, work, handlers, debounce=False)

    def request_sanity(self, handlers: Handlers) -> None:
        """Cascading model-parameter randomisation of the current method (on a copy of the model)."""
        from ..analysis.sanity import sanity_check

        method, params, model, image, target, seed = (self.method, self.params_for(), self.model, self.image,
                                                      self.target, self.seed)

        def work(cancel, progress, partial):
            return sanity_check(model, image, method, target=target, seed=seed, progress=progress, cancel=cancel,
                                **params)
        self.analyses.submit(("sanity", self.key()), work, handlers, debounce=False)

    def request_spray(self, n_images: int, watermark_half: bool, handlers: Handlers, method: str | None = None
                      ) -> None:
        """SpRAy over ``n_images`` generated scenes that contain the current target class (half of them with the
        corner watermark when ``watermark_half``), with ``method``'s heatmaps and its settings in this session
        (``None``: the current method)."""
        from ..analysis.spray import spray
        from ..data.scenes import images_with_class

        method = method or self.method
        params, model, seed = self.params_for(method), self.model, self.seed
        target = self.resolved_target()

        def work(cancel, progress, partial):
            images = images_with_class(target, n_images, seed=9191, marked=n_images // 2 if watermark_half else 0)
            return spray(model, images, target, method=method, seed=seed, progress=progress, cancel=cancel, **params)
        key = ("spray", self.key(method), n_images, watermark_half)
        self.analyses.submit(key, work, handlers, debounce=False)

    @property
    def lanes(self) -> tuple[Jobs, ...]:
        return self.explanations, self.evaluations, self.comparisons, self.analyses

    def wait(self, timeout: float = 120.0) -> bool:
        """Block until every lane is idle."""
        return all(lane.wait(timeout) for lane in self.lanes)

    def close(self, timeout: float = EXIT_TIMEOUT) -> bool:
        """Cancel every pending and running job, join their threads and empty the caches (True when every
        thread stopped within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        return all([lane.close(max(0.0, deadline - time.monotonic())) for lane in self.lanes])
