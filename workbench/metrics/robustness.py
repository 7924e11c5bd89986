"""Max-sensitivity (Yeh, Hsieh, Suggala, Inouye & Ravikumar, "On the (In)fidelity and Sensitivity of
Explanations", NeurIPS 2019, def. 3.1): how much a map changes when the input moves a little.

``samples`` inputs ``clip(x + u, 0, 1)`` with noise ``u ~ U(-radius, radius)`` per pixel and channel (pixel
space) are explained again with the same method, parameters, target and seed; the metric is the largest
relative change

    max_sensitivity = max_u ||g(x + u) - g(x)||_F / ||g(x)||_F

(lower is better), as Quantus' ``MaxSensitivity`` (difference, Frobenius norms, no normalisation, no absolute
value). Quantus draws its noise in whatever space it is given (its default ``lower_bound`` 0.2, 200 samples);
the workbench draws it in pixel space, clipped so that the input stays an image, from a CPU ``torch.Generator``
seeded with ``seed`` (one seed, the same noise on every device), and defaults to 10 samples. The perturbed
inputs are explained with :func:`workbench.explain_batch`: one batched run on the device for the methods
that have one (the backpropagation methods), one run per input otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..images import as_image_tensor
from ..progress import ProgressArg
from ..results import Explanation
from .inputs import check_count, explained_target, read_heatmap


@dataclass(frozen=True)
class MaxSensitivity:
    """The ``value`` (max over the samples) and each sample's relative change."""

    value: float
    sensitivities: np.ndarray
    method: str
    target: int | str | None


def perturbed_inputs(image: torch.Tensor, samples: int, radius: float, seed: int) -> torch.Tensor:
    """``(samples, 3, H, W)``: ``clip(image + U(-radius, radius), 0, 1)`` from a CPU generator seeded with
    ``seed``."""
    generator = torch.Generator().manual_seed(int(seed))
    noise = torch.rand((samples, *image.shape), generator=generator, dtype=torch.float32) * (2 * radius) - radius
    return torch.clamp(image.cpu()[None] + noise, 0.0, 1.0)


def max_sensitivity(model, image, explanation, target=None, method: str | None = None,
                    params: dict | None = None, samples: int = 10, radius: float = 0.2, seed: int = 0,
                    device="auto", batch_size: int | None = None, progress: ProgressArg = None,
                    cancel=None, runtime: str | None = None) -> MaxSensitivity:
    """Max-sensitivity (module docstring) of ``explanation``. An :class:`Explanation` brings its method, parameters,
    target, seed and precision; a bare ``H x W`` heatmap needs ``method`` (and ``params``, ``target``: without one each input
    is explained for its own top-1 class). NaN for an all-zero map. Cost: ``samples`` explanations of the method
    (``runtime`` as for :func:`workbench.explain`).
    """
    from ..api import explain_batch

    pixels = as_image_tensor(image)
    heatmap = read_heatmap(explanation, tuple(pixels.shape[1:]))
    samples = check_count(samples, "samples", 1)
    if isinstance(radius, bool) or not isinstance(radius, (int, float)) or not 0 < radius <= 1:
        raise ValueError(f"radius: expected a noise bound in (0, 1] (pixel values), got {radius!r}")
    if isinstance(explanation, Explanation):
        method = explanation.method if method is None else method
        params = {k: v for k, v in explanation.params.items() if k != "seed"} if params is None else params
        seed_of_method = explanation.seed if explanation.seed is not None else seed
        precision = explanation.extras.get("precision", "float32")   # a reduced-precision map: re-run alike
    elif method is None:
        raise ValueError("method: expected the name of the method that made the heatmap (a bare heatmap does "
                         "not say), got None")
    else:
        seed_of_method, precision = seed, "float32"
    target = explained_target(explanation, target)
    inputs = perturbed_inputs(pixels, samples, float(radius), seed)
    maps = explain_batch(model, list(inputs), method, target=target, device=device, seed=int(seed_of_method),
                         batch_size=batch_size, progress=progress, cancel=cancel, precision=precision,
                         runtime=runtime, **(params or {}))
    reference = heatmap.numpy().reshape(1, -1)
    norm = np.linalg.norm(reference)
    changes = np.linalg.norm(maps.reshape(samples, -1).astype(np.float64) - reference, axis=1)
    sensitivities = changes / norm if norm > 0 else np.full(samples, np.nan)
    return MaxSensitivity(value=float(np.max(sensitivities)), sensitivities=sensitivities, method=method,
                          target=target)
