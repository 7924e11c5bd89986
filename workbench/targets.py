"""Targets: which class an explanation is for, given as ``None`` (top-1), an index or a class name."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch


def resolve_target(target: Any, scores: torch.Tensor, class_names: tuple[str, ...], check_only: bool = False) -> int:
    """Class index from ``None`` (top-1 of the ``(K,)`` ``scores``), an index or a class name.
    ``check_only`` validates an explicit target without needing real scores (returns -1 for ``None``)."""
    n_classes = int(scores.shape[-1])
    if target is None:
        return -1 if check_only else int(torch.argmax(scores))
    if isinstance(target, str):
        if target not in class_names:
            shown = list(class_names[:10]) + (["..."] if len(class_names) > 10 else [])
            raise ValueError(f"target: unknown class name {target!r}; expected one of {shown}")
        return class_names.index(target)
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)):
        raise TypeError(f"target: expected a class index, a class name or None, got {type(target).__name__}")
    if not 0 <= int(target) < n_classes:
        raise ValueError(f"target: class index {int(target)} out of range 0..{n_classes - 1}")
    return int(target)


def top_classes(model, image, k: int = 5) -> list[tuple[int, str, float]]:
    """The model's ``k`` best classes on ``image`` as ``(index, name, probability)``, best first (one
    forward pass; the model's mode and flags are left as they were)."""
    from .guard import preserved_model
    from .incremental import TRACING_LOCK
    from .models.zoo import as_model_entry

    entry = as_model_entry(model)
    with TRACING_LOCK, preserved_model(entry.module), torch.no_grad():   # not while torch.fx traces elsewhere
        logits = entry.module(entry.preprocess(image).to(entry.device))[0]
    probabilities = entry.probabilities(logits).cpu()
    best = torch.argsort(probabilities, descending=True)[:k].tolist()
    names = entry.class_names
    return [(i, names[i] if i < len(names) else str(i), float(probabilities[i])) for i in best]
