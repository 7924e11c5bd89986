"""The Workbench's compute calls, free of widgets: each ``request_*`` reads the :class:`~workbench.ui.state.State`,
validates at once (an invalid setting is reported through ``on_error`` and nothing starts) and hands one call to
a :class:`~workbench.ui.lane.Lane` (docs/DESIGN.md, "UI data flow").
"""
from __future__ import annotations

import time
from typing import Any, Callable

# Imported here, on the kernel's thread: a library first imported by two worker threads at once can fail with
# "partially initialized module" (seen with pandas when a sweep and a sanity check started together).
import pandas  # noqa: F401,E402
import scipy.stats  # noqa: F401,E402
import skimage.feature  # noqa: F401,E402
import skimage.metrics  # noqa: F401,E402
import sklearn.cluster  # noqa: F401,E402
import sklearn.neighbors  # noqa: F401,E402

from .lane import EXIT_TIMEOUT, Handlers, Lane, Work
from .values import freeze
from .state import State


class Session:
    """The compute calls of one Workbench: one lane per kind of result, the choices read from ``state``."""

    def __init__(self, state: State, compute: Callable[..., Any] | None = None, debounce: float = 0.25):
        from ..api import explain
        from ..estimate import PassRates

        self.state = state
        self.pass_rates = PassRates()           # the last run's rate of each method, model and image size
        self.compute = compute or explain
        self.explanations = Lane(debounce)
        self.evaluations = Lane(debounce)
        self.comparisons = Lane(debounce)
        self.analyses = Lane(debounce)          # sweeps, sanity checks and SpRAy
        self._scene: tuple[Any, Any] = (None, None)

    def scene_mask(self, target: int | None = None):
        """The exact mask of ``target`` (default the resolved target) when the image is a generated scene (for
        the pointing game and the ground-truth outline), else None; None too when the class is not in the
        scene (nothing to point at: explaining an absent class is a normal question, not an error)."""
        key = self.state.image_key
        if not (isinstance(key, tuple) and key[0] == "scene"):
            return None
        from ..data.scenes import make_scene

        if self._scene[0] != key[1]:
            self._scene = (key[1], make_scene(key[1]))      # one scene kept: masks at every redraw
        mask = self._scene[1].class_mask(self.state.resolved_target() if target is None else target)
        return mask if mask.any() else None

    # -- compute --------------------------------------------------------------------------------------------
    def explain_work(self, method: str) -> Work:
        params, target, seed = self.state.params_for(method), self.state.target, self.state.seed
        model, image, device, precision = (self.state.model, self.state.image, self.state.device,
                                           self.state.precision)

        def work(cancel, progress, partial):
            result = self.compute(model, image, method, target=target, seed=seed, device=device,
                                  progress=progress, cancel=cancel, partial=partial, precision=precision, **params)
            self.pass_rates.record(model.name, image.shape[:2], method, result.cost)
            return result
        return work

    def estimate(self, method: str | None = None) -> tuple[int | None, float | None]:
        """The forward passes ``method`` (default the current one) plans at the current settings and the seconds
        they will take at the rate its last run measured on this model and image size (:mod:`workbench.estimate`);
        ``(None, None)`` for invalid settings."""
        from ..estimate import planned_passes

        method = method or self.state.method
        size = tuple(self.state.image.shape[:2])
        try:
            passes = planned_passes(method, self.state.params_for(method), size)
        except (ValueError, TypeError):
            return None, None
        return passes, self.pass_rates.seconds(self.state.model.name, size, method, passes)

    def request_explanation(self, handlers: Handlers, debounce: bool = True) -> bool:
        """Explain with the current settings (cached, debounced, cancelling the running job); False and
        ``on_error`` when the settings are invalid."""
        try:
            self.state.validate()
        except ValueError as error:
            if handlers.on_error:
                handlers.on_error(f"ValueError: {error}")
            return False
        self.explanations.submit(self.state.key(), self.explain_work(self.state.method), handlers,
                                 debounce=debounce)
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
        model, image, device = self.state.model, self.state.image, self.state.device
        options = settings if curve == "region" else {"metrics": families[curve]}
        key = (self.state.key(explanation.method), curve, freeze(options))

        def work(cancel, progress, partial):
            return evaluate(model, image, explanation, device=device, cancel=cancel, **options)
        self.evaluations.submit(key, work, handlers, debounce=True)

    def request_comparison(self, methods: list[str], handlers: Handlers) -> None:
        """Explain with each of ``methods`` (current settings for each); the result is a list of Explanations,
        each one taken from the explanation cache when it is there."""
        for method in methods:
            self.state.validate(method)
        jobs = [(self.state.key(m), self.explain_work(m)) for m in methods]
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
        ``mask`` is known, its pointing-game outcome ("hit", "miss" or "no point" for a flat map); the result is
        ``{method: {"aopc", "pointing"}}``."""
        from ..metrics import perturbation_curve
        from ..metrics.localisation import pointing_outcome
        model, image, device = self.state.model, self.state.image, self.state.device

        def work(cancel, progress, partial):
            quality = {}
            for i, e in enumerate(explanations):
                curve = perturbation_curve(model, image, e, order="morf", device=device, cancel=cancel, **settings)
                quality[e.method] = {"aopc": curve.aopc,
                                     "pointing": None if mask is None else pointing_outcome(e.heatmap, mask)}
                progress(i + 1, len(explanations))
                partial(dict(quality))
            return quality
        key = ("quality", tuple(self.state.key(e.method) for e in explanations), freeze(settings), mask is not None)
        self.comparisons.submit(key, work, handlers, debounce=False)

    def request_sweep(self, param: str, values: list, metrics: tuple[str, ...], handlers: Handlers,
                      mask=None, steps: int = 20) -> None:
        """Sweep ``param`` of the current method over ``values`` on the current image and target (pointing
        needs the target's ``mask``); the result keeps every heatmap."""
        from ..analysis.sweep import sweep
        from ..evaluation import Item

        method, params = self.state.method, {k: v for k, v in self.state.params_for().items() if k != param}
        target = self.state.resolved_target()
        item = Item(image_id="current", source=self.state.image, targets=(target,),
                    masks=None if mask is None else {target: mask})
        model, seed = self.state.model, self.state.seed
        key = ("sweep", self.state.key(), param, freeze(values), metrics, steps)

        def work(cancel, progress, partial):
            return sweep(model, [item], method, param, values, metrics=metrics, seed=seed, steps=steps,
                         params=params, keep_heatmaps=True, cancel=cancel)
        self.analyses.submit(key, work, handlers, debounce=False)

    def request_sanity(self, handlers: Handlers) -> None:
        """Cascading model-parameter randomisation of the current method (on a copy of the model)."""
        from ..analysis.sanity import sanity_check

        s = self.state
        method, params, model, image, target, seed = s.method, s.params_for(), s.model, s.image, s.target, s.seed

        def work(cancel, progress, partial):
            return sanity_check(model, image, method, target=target, seed=seed, progress=progress, cancel=cancel,
                                **params)
        self.analyses.submit(("sanity", self.state.key()), work, handlers, debounce=False)

    def request_spray(self, n_images: int, watermark_half: bool, handlers: Handlers, method: str | None = None
                      ) -> None:
        """SpRAy over ``n_images`` generated scenes that contain the current target class (half of them with the
        corner watermark when ``watermark_half``), with ``method``'s heatmaps and its settings in this session
        (``None``: the current method)."""
        from ..analysis.spray import spray
        from ..data.scenes import images_with_class

        method = method or self.state.method
        params, model, seed = self.state.params_for(method), self.state.model, self.state.seed
        target = self.state.resolved_target()

        def work(cancel, progress, partial):
            images = images_with_class(target, n_images, seed=9191, marked=n_images // 2 if watermark_half else 0)
            return spray(model, images, target, method=method, seed=seed, progress=progress, cancel=cancel, **params)
        key = ("spray", self.state.key(method), n_images, watermark_half)
        self.analyses.submit(key, work, handlers, debounce=False)

    @property
    def lanes(self) -> tuple[Lane, ...]:
        return self.explanations, self.evaluations, self.comparisons, self.analyses

    def cancel(self) -> bool:
        """Stop every lane's pending or running job (the cancel button); True when one was stopped."""
        return any([lane.cancel() for lane in self.lanes])

    def wait(self, timeout: float = 120.0) -> bool:
        """Deliver the news and block until every lane is idle (news of one lane may start work in another: a
        finished comparison starts its quality figures)."""
        deadline = time.monotonic() + timeout
        while all(lane.wait(max(0.0, deadline - time.monotonic())) for lane in self.lanes):
            if not any(lane.busy for lane in self.lanes):
                return True
        return False

    def close(self, timeout: float = EXIT_TIMEOUT) -> bool:
        """Cancel every pending and running job, join their threads and empty the caches (True when every
        thread stopped within ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        return all([lane.close(max(0.0, deadline - time.monotonic())) for lane in self.lanes])
