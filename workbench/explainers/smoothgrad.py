"""SmoothGrad (Smilkov, Thorat, Kim, Viégas & Wattenberg, "SmoothGrad: removing noise by adding noise", 2017).

The attribution averaged over ``samples`` noisy copies ``x + e_i`` of the (normalised) input, ``e_i ~ N(0,
sigma^2)`` with ``sigma = noise * (max x - min x)`` (the paper's noise level, eq. 3): over the gradient (the
paper's sensitivity map) or over Integrated Gradients (its path and baseline from the clean image, as Captum's
``NoiseTunnel`` around ``IntegratedGradients``). Equal to Captum's ``NoiseTunnel`` (``nt_type="smoothgrad"``)
around ``Saliency(abs=False)`` or ``IntegratedGradients`` given the same noise (tests).

The noise of copy ``i`` comes from a CPU ``torch.Generator`` seeded with ``(seed, i)`` and is moved to the
device, so one seed gives one map on every device and at every chunk size. The copies (and, over Integrated
Gradients, their path points) are batched in chunks bounded by memory (:mod:`._input_gradients`).
Attributions are with respect to the normalised input; heatmap: summed over the channels (``heat``), the
``3 x H x W`` channels in ``extras["relevance"]``. Cost: ``samples`` forward and backward passes over the
gradient, ``samples x steps`` over Integrated Gradients, plus the clean pass.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..params import Spec, param
from ._input_gradients import chunked_gradients, gradient_batch_size, gradient_layouts
from .backprop import heat_of, heat_param
from .integrated_gradients import (baseline_param, baseline_value_param, check_steps_for_rule, path_baseline,
                                   path_integrals, rule_param, steps_param)
from .registry import Context, MethodOutput, register

BASES = ("gradient", "integrated_gradients")


@dataclass(frozen=True)
class SmoothGradSpec(Spec):
    citation = "Smilkov et al. 2017"
    description = (
        'The gradient (or Integrated Gradients) of the target logit averaged over copies of the image with '
        'Gaussian noise added: the sensitivity map without its pixel-to-pixel jitter. Red/blue: brightening the '
        'pixel would raise/lower the score.'
    )
    samples: int = param(50, low=1, high=500, step=1, doc="Noisy copies averaged (the paper's 50).")
    noise: float = param(0.15, low=0.0, high=1.0, step=0.01, label="noise level",
                         doc="Noise standard deviation as a share of the input's range, max - min (the paper: "
                             "0.1-0.2).")
    base: str = param("gradient", choices=BASES, doc="What is averaged over the noisy copies: the gradient "
                                                     "(SmoothGrad) or Integrated Gradients (its steps, rule and "
                                                     "baseline below).")
    steps: int = steps_param()
    rule: str = rule_param()
    baseline: str = baseline_param()
    baseline_value: float = baseline_value_param()
    heat: str = heat_param()

    def check(self) -> None:
        if self.base == "integrated_gradients":
            check_steps_for_rule(self.steps, self.rule)

    def planned_passes(self, height: int, width: int) -> int:
        """The clean pass and one (with its backward pass) per noisy copy, or per copy and step for IG."""
        return 1 + self.samples * (self.steps if self.base == "integrated_gradients" else 1)


def smoothgrad_noise(seed: int, first: int, stop: int, shape: tuple[int, ...]) -> torch.Tensor:
    """``(stop - first, *shape)`` standard normal noise on the CPU, copy ``i`` drawn from a generator seeded
    with ``(seed, i)`` (the same noise whatever the chunks)."""
    return torch.stack([torch.randn(shape, generator=torch.Generator().manual_seed(seed * 1_000_003 + i))
                        for i in range(first, stop)])


def smoothgrad(ctx: Context, spec: SmoothGradSpec) -> MethodOutput:
    x = ctx.x
    sigma = spec.noise * float(x.max() - x.min())
    shape = tuple(x.shape[1:])
    batch_size = gradient_batch_size(ctx.module, x, ctx.engine.batch_size)
    target = torch.tensor([ctx.target])
    layouts = gradient_layouts(ctx.engine.measures_speed)
    if spec.base == "gradient":
        total = 1 + spec.samples
        summed = torch.zeros_like(x[0])

        def make(start: int, stop: int) -> torch.Tensor:
            return x + sigma * smoothgrad_noise(ctx.seed, start, stop, shape).to(x.device)

        def consume(start: int, stop: int, gradients: torch.Tensor) -> None:
            summed.add_(gradients.float().sum(0))
            ctx.show(heat_of(summed / stop, spec.heat), f"SmoothGrad: {stop} of {spec.samples} copies", stop / spec.samples)

        with ctx.autocast():
            layout = chunked_gradients(ctx.module, make, spec.samples, target.expand(spec.samples), consume,
                                       batch_size, check_cancel=ctx.check_cancel,
                                       report=lambda done: ctx.report(1 + done, total), layouts=layouts)
        attribution = summed / spec.samples
        ctx.count(forward=spec.samples, backward=spec.samples)
    else:
        points = spec.samples * spec.steps
        noisy = x + sigma * smoothgrad_noise(ctx.seed, 0, spec.samples, shape).to(x.device)
        with ctx.autocast():
            attributions, layout = path_integrals(ctx.module, noisy, path_baseline(spec, x, ctx.model.normalise),
                                                  target.expand(spec.samples), spec.steps, spec.rule, batch_size,
                                                  check_cancel=ctx.check_cancel,
                                                  report=lambda done: ctx.report(1 + done, 1 + points),
                                                  layouts=layouts)
        attribution = attributions.mean(0)
        ctx.count(forward=points, backward=points)
    extras = {"relevance": attribution.float().cpu().numpy(), "sigma": sigma, "layout": layout}
    return MethodOutput(heatmap=heat_of(attribution, spec.heat), extras=extras)


register("smoothgrad", spec=SmoothGradSpec, label="SmoothGrad", family="backprop", citation=SmoothGradSpec.citation,
         random=True, gradients=True)(smoothgrad)
