"""Integrated Gradients (Sundararajan, Taly & Yan, "Axiomatic Attribution for Deep Networks", ICML 2017).

The attribution of input feature ``i`` is ``(x_i - b_i) * integral_0^1 d f_c(b + a (x - b)) / d x_i da``: the
gradient integrated along the straight path from a baseline ``b`` to the input ``x``. Its *completeness*
axiom: the attributions sum to ``f_c(x) - f_c(b)``; the integral is approximated by a quadrature rule over
``steps`` points of the path, and ``extras["completeness_residual"]`` (``sum(attribution) - (f_c(x) -
f_c(b))``) with ``extras["relative_residual"]`` (the same over ``|f_c(x) - f_c(b)|``) say how far the
approximation is from it.

Attributions are with respect to the model's normalised input (``x`` = the image after the model's
normalisation, as for the gradient method); the baseline is a fill of :mod:`workbench.fills`: ``"black"``
(pixel value 0, the paper's), ``"constant"`` (``baseline_value`` in the normalised space; 0 is the data set's
mean colour and Captum's default all-zero baseline on the normalised input) or ``"blur"`` (a Gaussian blur of
the image, sigma :data:`~workbench.fills.BLUR_SIGMA` px). Rules and names as Captum's
``IntegratedGradients``: ``"gausslegendre"`` (its default), ``"riemann_left"``, ``"riemann_right"``,
``"riemann_middle"``, ``"riemann_trapezoid"``; equal to Captum's attributions for the same baseline (tests), but
for the trapezoid rule: Captum gives its ``n`` points the weights ``1/n`` (ends ``1/(2n)``), which sum to
``(n-1)/n``, so its integral is ``(n-1)/n`` of this one, whose weights ``1/(n-1)`` (ends halved) sum to 1.

The path points are batched (with the images of a batch, see :func:`path_integrals`) in chunks bounded by
memory (:mod:`._input_gradients`; the forward pass of the image and the baseline, one batch of two, also
measures the activations that size them).
Heatmap: the attribution summed over the channels (``heat``), its ``3 x H x W`` channels in
``extras["relevance"]``. Cost: ``steps`` forward and backward passes, plus the forward passes of the image
and the baseline (one batch).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from ..fills import BLUR_SIGMA, fill_image
from ..models.zoo import ModelEntry
from ..params import Spec, param
from ._input_gradients import GradientLayouts, chunked_gradients, gradient_batch_size, gradient_layouts, probe_forward
from .backprop import heat_of, heat_param
from .registry import Context, MethodOutput, register

RULES = ("gausslegendre", "riemann_left", "riemann_right", "riemann_middle", "riemann_trapezoid")
BASELINES = ("black", "constant", "blur")
BASELINE_MEANINGS = {"black": "pixel value 0 (the paper's)",
                     "constant": "baseline value in the model's normalised space (0 = data-set mean colour)",
                     "blur": f"a Gaussian blur of the image (sigma {BLUR_SIGMA:g} px)"}


def steps_param() -> object:
    return param(50, low=1, high=1000, step=1, doc="Points of the path from the baseline to the image at which the "
                                                   "gradient is taken (one forward and backward pass each).")


def rule_param() -> object:
    return param("gausslegendre", choices=RULES, doc="Quadrature rule of the path integral (Captum's names; "
                                                     "gausslegendre is Captum's default).")


def baseline_param() -> object:
    meanings = "; ".join(f"{name}: {meaning}" for name, meaning in BASELINE_MEANINGS.items())
    return param("black", choices=BASELINES, doc=f"Where the path starts ({meanings}).")


def baseline_value_param() -> object:
    return param(0.0, low=-10.0, high=10.0, step=0.1, label="baseline value",
                 doc="The constant baseline in the model's normalised input space (0 = data-set mean colour).")


def check_steps_for_rule(steps: int, rule: str) -> None:
    if rule == "riemann_trapezoid" and steps < 2:
        raise ValueError(f"steps: the riemann_trapezoid rule needs at least 2 steps (both ends), got {steps}")


@dataclass(frozen=True)
class IntegratedGradientsSpec(Spec):
    citation = "Sundararajan, Taly & Yan, ICML 2017"
    description = (
        'The gradient of the target logit averaged along the straight path from a baseline image to the '
        'image, times the difference between them; the map sums to the logit gained from the baseline. '
        'Red/blue: the pixel raised/lowered the score.'
    )
    steps: int = steps_param()
    rule: str = rule_param()
    baseline: str = baseline_param()
    baseline_value: float = baseline_value_param()
    heat: str = heat_param()

    def check(self) -> None:
        check_steps_for_rule(self.steps, self.rule)

    def planned_passes(self, height: int, width: int) -> int:
        """The clean pass, the baseline's and one (with its backward pass) per step."""
        return 2 + self.steps


def path_points(steps: int, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """``(alphas, weights)``, float64: the quadrature nodes in [0, 1] and their weights for ``rule``
    (``integral_0^1 g(a) da ~ sum_k weights[k] g(alphas[k])``)."""
    check_steps_for_rule(steps, rule)
    if rule == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return 0.5 * (nodes + 1.0), 0.5 * weights
    if rule == "riemann_trapezoid":
        weights = np.full(steps, 1.0 / (steps - 1))
        weights[[0, -1]] /= 2
        return np.linspace(0.0, 1.0, steps), weights
    offset = {"riemann_left": 0.0, "riemann_middle": 0.5, "riemann_right": 1.0}.get(rule)
    if offset is None:
        raise ValueError(f"rule: expected one of {list(RULES)}, got {rule!r}")
    return (np.arange(steps) + offset) / steps, np.full(steps, 1.0 / steps)


def path_baseline(spec, x: torch.Tensor, normalise: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """The baseline of ``spec`` for normalised inputs ``x`` ``(N,C,H,W)``, in the same space."""
    return fill_image(spec.baseline, x, normalise, accepted=BASELINES, value=spec.baseline_value)


def path_integrals(module: nn.Module, x: torch.Tensor, baseline: torch.Tensor, targets: torch.Tensor, steps: int,
                   rule: str, batch_size: int, check_cancel: Callable[[], None] = lambda: None,
                   report: Callable[[int], None] = lambda done: None,
                   layouts: GradientLayouts | None = None) -> tuple[torch.Tensor, str]:
    """``(N,C,H,W)`` Integrated Gradients of ``N`` normalised inputs ``x`` from ``baseline`` (broadcastable to
    ``x``) for ``targets`` ``(N,)``: the ``N * steps`` path points are made and differentiated
    ``batch_size`` at a time; ``report(done)`` counts points. Also the sentence saying which memory layout
    the passes ran in (``layouts``, :func:`._input_gradients.chunked_gradients`)."""
    n, device = len(x), x.device
    baseline = baseline.expand_as(x)
    delta = x - baseline
    alphas, weights = path_points(steps, rule)
    alphas = torch.as_tensor(alphas, dtype=x.dtype, device=device)
    weights = torch.as_tensor(weights, dtype=x.dtype, device=device)
    points = torch.arange(n * steps, device=device)
    image_of, step_of = points // steps, points % steps
    integrals = torch.zeros_like(x)

    def make(start: int, stop: int) -> torch.Tensor:
        image, step = image_of[start:stop], step_of[start:stop]
        return baseline[image] + alphas[step].view(-1, 1, 1, 1) * delta[image]

    def consume(start: int, stop: int, gradients: torch.Tensor) -> None:
        weighted = gradients.float() * weights[step_of[start:stop]].view(-1, 1, 1, 1)
        integrals.index_add_(0, image_of[start:stop], weighted.to(integrals.dtype))

    layout = chunked_gradients(module, make, n * steps, targets.to(device)[image_of], consume, batch_size,
                               check_cancel=check_cancel, report=report, layouts=layouts)
    return delta * integrals, layout


def integrated_gradients(ctx: Context, spec: IntegratedGradientsSpec) -> MethodOutput:
    x = ctx.x
    baseline = path_baseline(spec, x, ctx.model.normalise)
    with ctx.autocast():   # f(x) and f(baseline) in one batch of two, which also sizes the chunks
        scores, activation_bytes = probe_forward(ctx.module, torch.cat([x, baseline.expand_as(x)]))
    ctx.observe_clean(scores[0].float())
    baseline_score = float(scores.float()[1, ctx.target])
    ctx.count(forward=2)
    activation_bytes //= 2
    done_before, total = 2, 2 + spec.steps           # the clean pass and the baseline's
    with ctx.autocast():
        attributions, layout = path_integrals(
            ctx.module, x, baseline, torch.tensor([ctx.target]), spec.steps, spec.rule,
            gradient_batch_size(ctx.module, x, ctx.engine.batch_size, activation_bytes),
            check_cancel=ctx.check_cancel, report=lambda done: ctx.report(done_before + done, total),
            layouts=gradient_layouts(ctx.engine.measures_speed))
    attribution = attributions[0]
    ctx.count(forward=spec.steps, backward=spec.steps)
    gained = ctx.clean_score - baseline_score
    residual = float(attribution.double().sum()) - gained
    extras = {"relevance": attribution.float().cpu().numpy(), "output": ctx.clean_score,
              "baseline_output": baseline_score, "completeness_residual": residual,
              "relative_residual": abs(residual) / abs(gained) if gained != 0 else float("nan"), "layout": layout}
    return MethodOutput(heatmap=heat_of(attribution, spec.heat), extras=extras)


def integrated_gradients_batch(spec: IntegratedGradientsSpec, model: ModelEntry, module: nn.Module,
                               images: torch.Tensor, targets: torch.Tensor | None) -> torch.Tensor:
    """``(N,H,W)`` heatmaps of ``(N,3,H,W)`` images in [0,1] (``targets`` ``None``: each image's top-1 class),
    the path points of all images batched together."""
    x = model.normalise(images)
    if targets is None:
        with torch.inference_mode():
            targets = module(x).argmax(-1)
    attributions, _ = path_integrals(module, x, path_baseline(spec, x, model.normalise), targets, spec.steps,
                                     spec.rule, gradient_batch_size(module, x[:1]))
    return heat_of(attributions, spec.heat)


register("integrated_gradients", spec=IntegratedGradientsSpec, label="Integrated Gradients", family="backprop",
         citation=IntegratedGradientsSpec.citation, gradients=True, needs_clean_pass=False,
         batch=integrated_gradients_batch)(integrated_gradients)
