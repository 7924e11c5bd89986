"""What every metric reads from its arguments: the ``H x W`` heatmap of an explanation (checked against the
image), the target it explains, checked counts, and the target's clean score of a run."""
from __future__ import annotations

import numpy as np
import torch

from ..results import Explanation


def read_heatmap(explanation, shape: tuple[int, int]) -> torch.Tensor:
    """``explanation`` (an :class:`Explanation` or an ``H x W`` heatmap) as a float64 CPU tensor of ``shape``;
    ``ValueError`` for another shape or non-finite values."""
    heatmap = explanation.heatmap if isinstance(explanation, Explanation) else explanation
    heatmap = torch.as_tensor(np.array(heatmap, dtype=np.float64))
    if tuple(heatmap.shape) != tuple(shape):
        raise ValueError(f"explanation: expected a heatmap of the image's shape {tuple(shape)}, "
                         f"got {tuple(heatmap.shape)}")
    if not torch.isfinite(heatmap).all():
        raise ValueError("explanation: the heatmap contains NaN or infinite values")
    return heatmap


def explained_target(explanation, target):
    """``target``, or the explanation's own target when ``target`` is ``None``."""
    if target is None and isinstance(explanation, Explanation):
        return explanation.target
    return target


def check_count(value, name: str, low: int = 1, high: int | None = None) -> int:
    """``value`` if it is an integer in ``[low, high]``, else ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low \
            or (high is not None and value > high):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise ValueError(f"{name}: expected an integer {span}, got {value!r}")
    return int(value)


def clean_score(run, transform) -> float:
    """The target's score on the clean image of ``run`` (its clean pass's logits, through ``transform``)."""
    logits = run.clean_scores.float()[None]
    return float((logits if transform is None else transform(logits))[0, run.target])
