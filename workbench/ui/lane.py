"""A lane of background work: debounced, cancellable, cached jobs on worker threads whose news reaches the
caller on the thread that submitted them. It knows nothing of the Workbench (docs/DESIGN.md, "UI lane").

* **Debounce**: :meth:`Lane.submit` waits ``debounce`` seconds for the next submit before starting, so a
  dragged slider makes one computation, not thirty.
* **Cancel**: a submit (or :meth:`Lane.cancel`) sets the running job's cancel event; the work raises
  :class:`~workbench.Cancelled` at its next check and that job's news is never delivered (the ``log`` records it).
* **Cache**: finished results are kept by key, so going back to a setting never recomputes. At most
  ``cache_size`` results and ``cache_bytes`` bytes of arrays are kept (oldest out first); the log keeps the
  last :data:`LOG_SIZE` events.
* **One thread for news**: start, progress, partial results, the result and errors are handed to the thread
  that submitted (the kernel's, which owns the widgets): through its running asyncio loop in a Jupyter kernel,
  else queued until :meth:`Lane.wait` runs them (scripts, tests). News of a superseded job is dropped there.
* **Clean exit**: :meth:`Lane.close` cancels the pending and running jobs and joins their threads; every open
  lane is closed the same way when the interpreter exits, so no worker thread is still inside torch at
  shutdown (which aborts the process: "terminate called without an active exception").
"""
from __future__ import annotations

import asyncio
import atexit
import collections
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

from ..engine import Cancelled
from .values import approximate_bytes

Work = Callable[[threading.Event, Callable[[int, int], None], Callable[[Any], None]], Any]

LOG_SIZE = 1000            # events kept in Lane.log
CACHE_SIZE = 64            # results kept per lane
CACHE_BYTES = 256 * 2**20  # bytes of arrays kept per lane (a 700 px FMO explanation holds about 25 MB)
EXIT_TIMEOUT = 60.0        # seconds the interpreter waits at exit for cancelled jobs to stop

_OPEN: "weakref.WeakSet[Lane]" = weakref.WeakSet()


def _close_all() -> None:
    """At exit (``atexit`` runs while daemon threads still run): cancel and join every open lane's jobs."""
    deadline = time.monotonic() + EXIT_TIMEOUT
    for lane in list(_OPEN):
        lane.close(timeout=max(0.0, deadline - time.monotonic()))


atexit.register(_close_all)


@dataclass
class Handlers:
    """What to do with a job's news (called on the submitting thread); every callback is optional."""

    on_start: Callable[[], None] | None = None
    on_progress: Callable[[int, int], None] | None = None
    on_partial: Callable[[Any], None] | None = None
    on_done: Callable[[Any, bool], None] | None = None        # (result, from_cache)
    on_error: Callable[[str], None] | None = None
    on_stage: Callable[[str], None] | None = None         # a step not counted in passes (``Controls.stage``)


@dataclass(eq=False)   # hashed by identity (kept in a set while it runs)
class _Job:
    number: int
    key: Hashable
    work: Work
    handlers: Handlers
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Lane:
    """One lane of debounced, cancellable, cached background work (one lane per kind of result)."""

    def __init__(self, debounce: float = 0.25, cache_size: int = CACHE_SIZE, cache_bytes: int = CACHE_BYTES):
        self.debounce, self.cache_size, self.cache_bytes = debounce, cache_size, cache_bytes
        self.cache: dict[Hashable, Any] = {}
        self.log: list[tuple[str, Hashable]] = []   # ("started" | "cancelled" | "done" | "cached" | "error", key)
        self.closed = False
        self._sizes: dict[Hashable, int] = {}
        self._lock = threading.RLock()
        self._timer: threading.Timer | None = None
        self._current: _Job | None = None
        self._numbers = 0
        self._threads: set[threading.Thread] = set(); self._running: set[_Job] = set()  # noqa: E702
        self._outbox: collections.deque[tuple[_Job, Callable[[], None], bool, bool]] = collections.deque()
        self._news = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        _OPEN.add(self)

    # -- the submitting thread ------------------------------------------------------------------------------
    def submit(self, key: Hashable, work: Work, handlers: Handlers, debounce: bool = True) -> None:
        """Run ``work(cancel, progress, partial)`` for ``key`` after the debounce delay, cancelling whatever runs.
        A cached key answers without calling ``work`` (``on_done(result, True)``, delivered like any news); the
        key of the job running now keeps that job."""
        try:
            self._loop = asyncio.get_running_loop()      # a Jupyter kernel: news comes back through its loop
        except RuntimeError:
            self._loop = None                            # no loop: news waits for wait()
        with self._lock:
            if self.closed:
                raise RuntimeError("this Workbench is closed; open a new one")
            running = self._current
            if running is not None and running.key == key and running.thread is not None \
                    and not running.cancel.is_set():
                return                               # already computing this: keep it
            self._numbers += 1
            job = _Job(self._numbers, key, work, handlers)
            if self._timer is not None:
                self._timer.cancel()
            if self._current is not None:
                self._current.cancel.set()           # a newer setting supersedes the running job now
            self._current = job
            self._timer = None
            if key in self.cache:
                self._record("cached", key)
                result = self.cache[key]
                self._deliver(job, lambda: handlers.on_done and handlers.on_done(result, True), final=True)
                return
            self._timer = threading.Timer(self.debounce if debounce else 0.0, self._start, args=(job,))
            self._timer.daemon = True
            self._timer.start()

    def wait(self, timeout: float = 60.0) -> bool:
        """Deliver the news; block until no job is pending or running (tests, notebooks); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._news.clear()
            self.deliver_news()
            if not self.busy:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._news.wait(min(left, 0.05))

    @property
    def busy(self) -> bool:
        """A job is pending or running, or news waits for delivery."""
        with self._lock:
            return (self._current is not None or bool(self._outbox)
                    or any(t.is_alive() for t in self._threads))

    def deliver_news(self) -> None:
        """Run the news waiting for this thread; a superseded job's news is dropped."""
        while True:
            with self._lock:
                if not self._outbox:
                    return
                job, call, final, _ = self._outbox.popleft()
            if self._is_current(job):
                self._guard(job, call)
            if final:
                self._settle(job)

    def remember(self, key: Hashable, result: Any) -> None:
        """Cache ``result`` under ``key``, the oldest out beyond ``cache_size`` entries or ``cache_bytes`` bytes."""
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

    def cancel(self) -> bool:
        """Stop the pending or running job (a cancel button); its news is dropped. True when there was one."""
        with self._lock:
            job, timer = self._current, self._timer
            if job is not None:
                job.cancel.set()
                self._record("cancelled", job.key)
                if job.thread is None and timer is not None:     # still in its debounce: it never starts
                    timer.cancel()
                    self._timer, self._current = None, None
        self._news.set()
        return job is not None

    def close(self, timeout: float = EXIT_TIMEOUT) -> bool:
        """Cancel the pending and running jobs, wait up to ``timeout`` seconds for their threads to stop and
        empty the cache; later submits are refused. True when every thread stopped in time."""
        with self._lock:
            self.closed = True
            timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            for job in list(self._running) + ([self._current] if self._current is not None else []):
                job.cancel.set()
            self._current = None
            self._outbox.clear()
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

    # -- worker side ----------------------------------------------------------------------------------------
    def _deliver(self, job: _Job, call: Callable[[], None], final: bool = False, progress: bool = False) -> None:
        """Queue ``call`` for the submitting thread (``final``: the job's last news, which settles it). Progress
        not yet delivered is replaced by newer progress (only the latest is drawn; the worker is not held up)."""
        with self._lock:
            if progress and self._outbox and self._outbox[-1][0] is job and self._outbox[-1][3]:
                self._outbox[-1] = (job, call, final, progress)
                return                                   # its delivery is already on its way
            self._outbox.append((job, call, final, progress))
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.deliver_news)
            except RuntimeError:     # the loop closed meanwhile: wait() delivers
                pass
        self._news.set()

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
            self._news.set()

    def _run_job(self, job: _Job) -> None:
        h = job.handlers
        self._record("started", job.key)
        if h.on_start:
            self._deliver(job, h.on_start)

        def progress(done: int, total: int) -> None:
            if h.on_progress and self._is_current(job):
                self._deliver(job, lambda: h.on_progress(done, total), progress=True)

        def partial(value: Any) -> None:
            if h.on_partial and self._is_current(job):
                self._deliver(job, lambda: h.on_partial(value))

        progress.stage = lambda message: (   # type: ignore[attr-defined]  # read by Controls.stage
            h.on_stage and self._is_current(job) and self._deliver(job, lambda: h.on_stage(message)))

        try:
            result = job.work(job.cancel, progress, partial)
        except Cancelled:
            self._record("cancelled", job.key)
            self._deliver(job, lambda: None, final=True)
            return
        except Exception as error:  # shown in the panel, never lost in a log
            self._record("error", job.key)
            message = f"{type(error).__name__}: {error}"
            self._deliver(job, lambda: h.on_error and h.on_error(message), final=True)
            return
        if not self.closed:
            self.remember(job.key, result)
        self._record("done", job.key)
        self._deliver(job, lambda: h.on_done and h.on_done(result, False), final=True)

    def _guard(self, job: _Job, call: Callable[[], None]) -> None:
        """Run a callback; a failure in drawing is reported through ``on_error``, not swallowed."""
        try:
            call()
        except Exception as error:
            if job.handlers.on_error:
                job.handlers.on_error(f"while drawing: {type(error).__name__}: {error}\n"
                                      + traceback.format_exc(limit=3))

    def _settle(self, job: _Job) -> None:
        with self._lock:
            if self._current is job:
                self._current = None
