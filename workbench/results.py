"""Result objects: frozen, detached, on the CPU, carrying the parameters used and the cost."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Cost:
    """What a result cost: model passes and wall-clock seconds."""

    forward_passes: int = 0
    backward_passes: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"forward_passes": self.forward_passes, "backward_passes": self.backward_passes,
                "seconds": self.seconds}


def _read_only(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.setflags(write=False)
    return array


@dataclass(frozen=True)
class Partial:
    """An intermediate heatmap offered while a method runs (progressive display).

    Attributes:
        heatmap: ``H x W`` float32, on the same scale as the final heatmap would be at this point.
        label: what it is, e.g. ``"level 2/3"`` or ``"1200/4000 masks"``.
        fraction: the share of the method's work done, in [0, 1].
    """

    heatmap: np.ndarray
    label: str
    fraction: float


@dataclass(frozen=True)
class Levels:
    """FMO's result per level, coarse to fine (Behzadi-Khormouji & Rostami 2021): each level's normalised map,
    its ``(patch, stride)`` and the pixels it visited."""

    maps: tuple[np.ndarray, ...]
    schedule: tuple[tuple[int, int], ...]
    visited: tuple[np.ndarray, ...]


@dataclass(frozen=True)
class ObjectCorrelation:
    """Ablation-CA's result over its ``k`` objects (superpixels, Wang et al. 2024): each object's sensitivity,
    the effects of removing it in each context, the contexts, the ``k x k`` correlation matrix (``constant``:
    objects whose effects never vary) and the ranked groups."""

    sensitivity: np.ndarray
    effects: np.ndarray
    contexts: np.ndarray
    matrix: np.ndarray
    constant: np.ndarray
    groups: list



@dataclass(frozen=True)
class Explanation:
    """A heatmap and everything needed to reproduce and judge it.

    Attributes:
        heatmap: ``H x W`` float32 at the input image's size (read-only). Higher = more evidence for the target.
        method: registry name of the method.
        target: class index explained; ``target_name`` its name.
        params: every parameter value actually used, defaults included.
        cost: forward/backward passes and seconds.
        extras: method-specific results besides the typed layers below.
        levels: FMO's per-level maps, schedule and visited pixels (:class:`Levels`), else None.
        segments: the superpixel label map of a superpixel method (LIME, Ablation-CA), else None.
        loss_history: a mask-learning method's loss per iteration (the total and each raw term), else None.
        correlation: Ablation-CA's objects and their correlation (:class:`ObjectCorrelation`), else None.
        score: the model's clean score (logit) for the target.
        seed: the seed used by random methods (None for deterministic ones).
        model, device: where it ran.
    """

    heatmap: np.ndarray
    method: str
    target: int
    target_name: str
    params: dict[str, Any]
    cost: Cost
    extras: dict[str, Any] = field(default_factory=dict)
    score: float = float("nan")
    seed: int | None = None
    model: str = ""
    device: str = "cpu"
    levels: Levels | None = None
    segments: np.ndarray | None = None
    loss_history: dict[str, list[float]] | None = None
    correlation: ObjectCorrelation | None = None

    def __post_init__(self):
        object.__setattr__(self, "heatmap", _read_only(np.asarray(self.heatmap, dtype=np.float32)))

    @property
    def shape(self) -> tuple[int, int]:
        return self.heatmap.shape

    @property
    def flat(self) -> bool:
        """The map has (almost) no variation (:func:`workbench.flatness.is_flat`): it points nowhere."""
        from .flatness import is_flat

        return is_flat(self.heatmap)

    def execution_note(self) -> str:
        """What ran the model's passes, in words: the precision and, when it was chosen by measurement, the
        runtime and why (``extras["precision"]``, ``extras["runtime"]``, ``extras["execution"]``; "" if none)."""
        parts = [f"{key} {self.extras[key]}" for key in ("precision", "runtime")
                 if isinstance(self.extras.get(key), str)]
        why = self.extras.get("execution")
        return ", ".join(parts) + (f" ({why})" if isinstance(why, str) and why else "")

    def __repr__(self) -> str:
        return (f"Explanation(method={self.method!r}, target={self.target} ({self.target_name!r}), "
                f"shape={self.heatmap.shape}, passes={self.cost.forward_passes}+{self.cost.backward_passes}bwd, "
                f"seconds={self.cost.seconds:.3f})")


@dataclass(frozen=True)
class Group:
    """A group of objects the model uses together (Ablation-CA): members, ranking score and mean |r| of its
    pairs."""

    members: tuple[int, ...]
    score: float
    mean_abs_r: float


@dataclass(frozen=True)
class Correlation:
    """Result of Ablation-CA (Wang et al. 2024): segments, sensitivities, effects, the correlation matrix and
    ranked groups."""

    segments: np.ndarray
    sensitivity: np.ndarray
    effects: np.ndarray
    contexts: np.ndarray
    matrix: np.ndarray
    constant: np.ndarray
    groups: list[Group]
    target: int
    target_name: str
    params: dict
    cost: Cost
    heatmap: np.ndarray

    @property
    def max_abs_r(self) -> float:
        """Largest |r| between two different objects (0 with fewer than two varying objects)."""
        off = np.abs(self.matrix.copy())
        np.fill_diagonal(off, 0.0)
        return float(off.max(initial=0.0))
