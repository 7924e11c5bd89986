"""What a lane's cache counts and keys by: the bytes a result holds and a hashable form of nested settings."""
from __future__ import annotations

from typing import Any, Hashable


def approximate_bytes(value: Any, _depth: int = 0) -> int:
    """Bytes held by the arrays, tensors and tables inside ``value`` (dataclasses, dicts and sequences are
    walked a few levels deep); what the cache bound counts."""
    import dataclasses

    import numpy as np
    import pandas
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
