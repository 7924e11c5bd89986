"""Fills: what a hidden pixel becomes (occluded, masked, ablated or perturbed). One vocabulary for every
method, metric and Workbench control; each consumer accepts a subset and names it when it rejects a name.

Each name means one thing everywhere:

- ``"constant"``: ``fill_value`` in the model's normalised input space (0 = the data set's mean colour):
  the Occlusion Test's grey (Zeiler & Fergus, ECCV 2014), RISE's masked pixels (Petsiuk et al., BMVC 2018),
  the deterministic region perturbation (Samek et al., IEEE TNNLS 2017);
- ``"black"``: pixel value 0 (NeuroMask's ``x * M``, Alzantot et al., SMARTCOMP 2019);
- ``"uniform"``: noise U(0, 1) in pixel space, seeded (Samek et al. 2017); only seeded consumers take it;
- ``"blur"``: a Gaussian blur of the image (each consumer documents its sigma);
- ``"image-mean"``: the image's mean colour, per channel;
- ``"segment-mean"``: each pixel its superpixel's mean colour (LIME's ``hide_color=None``, Ribeiro et al.,
  KDD 2016); only superpixel methods take it.

Meaningful and Extremal Perturbation always blur (their papers' deletion); they have no ``fill`` parameter.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

from . import seeding
from .params import param

MEANINGS = {
    "constant": "fill_value in the model's normalised space (0 = data-set mean colour)",
    "black": "pixel value 0",
    "uniform": "seeded noise U(0,1) in pixel space",
    "blur": "a Gaussian blur of the image",
    "image-mean": "the image's mean colour",
    "segment-mean": "the superpixel's own mean colour",
}
FILLS = tuple(MEANINGS)
# the subsets consumers accept: "uniform" needs a seed, "segment-mean" a segmentation
WINDOW_FILLS = ("constant", "black", "blur", "image-mean")            # Occlusion, FMO, RISE
SUPERPIXEL_FILLS = ("segment-mean",) + WINDOW_FILLS                   # LIME, Ablation-CA
METRIC_FILLS = ("uniform",) + WINDOW_FILLS                            # region perturbation
RENAMED = {"baseline": "constant", "mean": "segment-mean (superpixels) or image-mean"}
BLUR_SIGMA = 5.0   # px, the "blur" fill of the superpixel methods, the window methods and the metrics


def check_fill(fill: Any, accepted: tuple[str, ...], argument: str = "fill") -> str:
    """``fill`` if ``accepted`` holds it, else ``ValueError`` naming ``argument`` and the accepted names."""
    if fill not in accepted:
        hint = f" ({fill!r} is now {RENAMED[fill]!r})" if isinstance(fill, str) and fill in RENAMED else ""
        raise ValueError(f"{argument}: expected one of {list(accepted)}, got {fill!r}{hint}")
    return fill


def fill_param(default: str, accepted: tuple[str, ...], note: str | None = None) -> Any:
    """The ``fill`` field of a spec: a choice of ``accepted`` names, documented from :data:`MEANINGS` and
    ``note`` (default: the :data:`BLUR_SIGMA` of the "blur" fill, where ``accepted`` offers it)."""
    if note is None:
        note = f" (blur sigma {BLUR_SIGMA:g} px)" if "blur" in accepted else ""
    meanings = "; ".join(f"{name}: {MEANINGS[name]}" for name in accepted)
    return param(default, choices=accepted, doc=f"What hidden pixels become ({meanings}){note}.")


def fill_value_param() -> Any:
    """The ``fill_value`` field of a spec (the ``"constant"`` fill)."""
    return param(0.0, low=-10.0, high=10.0, step=0.1, label="fill value",
                 doc="The constant fill in the model's normalised input space (0 = data-set mean colour).")


def blur_image(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur of ``(N,C,H,W)`` (kernel of 3 sigma each side, reflect padding): the "blur" fill; a sigma
    under 0.1 px returns ``x`` (nothing to blur; a vanishing sigma would overflow the kernel).

    torchvision's 2-D kernel, not :func:`workbench.blur.gaussian_blur` with reflect padding: the separable pass
    is closer to a float64 blur (1.4e-7 vs 4.4e-7 on a 224 px image) but moves float32 logits by a few units
    in the last place, which changed the blur-fill heatmaps by up to 3.3e-6 (Occlusion), 2.3e-6 (LIME) and
    9.5e-6 (FMO's raw level maps) on the shapes model (benchmarks/part_d_equivalence.py), above the 1e-6
    the refactor keeps."""
    from torchvision.transforms.functional import gaussian_blur

    if sigma < 0.1:
        return x
    radius = int(np.ceil(3 * sigma))
    return gaussian_blur(x, [2 * radius + 1] * 2, [sigma] * 2)


def segment_mean(x: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
    """``(1,C,H,W)``: each pixel of ``x`` its segment's mean (per channel); ``segments`` ``(H,W)`` long. An
    affine normalisation commutes with it, so it applies to normalised inputs."""
    k = int(segments.max()) + 1
    flat = segments.flatten()
    channels = x[0].flatten(1)  # (C, HW)
    sums = torch.zeros(channels.shape[0], k, dtype=x.dtype, device=x.device).index_add_(1, flat, channels)
    counts = torch.bincount(flat, minlength=k).to(x.dtype)
    return (sums / counts)[:, flat].view_as(x)


def fill_image(fill: str, x: torch.Tensor, normalise: Callable[[torch.Tensor], torch.Tensor], *,
               accepted: tuple[str, ...] = FILLS, value: float = 0.0, blur_sigma: float = BLUR_SIGMA,
               segments: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """What hidden pixels of ``x`` (``(1,C,H,W)``, normalised for the model) become, in the same space.

    ``normalise`` maps ``[0, 1]`` pixels to the model's input (for ``"black"`` and ``"uniform"``); ``value``
    is the ``"constant"`` fill, ``segments`` the label map of ``"segment-mean"``, ``generator`` (a CPU one,
    :mod:`workbench.seeding`) seeds ``"uniform"``. A name outside ``accepted`` (the consumer's subset) raises ``ValueError``.
    """
    check_fill(fill, accepted)
    if fill == "constant":
        return torch.full_like(x, float(value))
    if fill == "black":
        return normalise(torch.zeros_like(x))
    if fill == "uniform":
        if generator is None:
            raise ValueError("generator: the 'uniform' fill needs a seeded torch.Generator")
        return normalise(seeding.on_device(torch.rand(x.shape, generator=generator), x.device))
    if fill == "blur":
        return blur_image(x, blur_sigma)
    if fill == "image-mean":
        return x.mean(dim=(2, 3), keepdim=True).expand_as(x)
    if segments is None:
        raise ValueError("segments: the 'segment-mean' fill needs a label map")
    return segment_mean(x, segments)
