"""Square occlusion windows on a grid: starts, masks, and the "mean drop of covering windows" map.

A grid of ``k x k`` windows with stride ``s`` has ``ceil((H-k)/s) + 1`` row starts ``0, s, 2s, ...`` and
the same for columns, as Captum's ``Occlusion``: the last window may reach past the image and is truncated
there (``edges="truncate"``), so every pixel is covered when ``s <= k``. ``edges="flush"`` moves that last
window inside the image, flush with the edge, at full size. Window ``(i, j)`` covers rows ``R[i]`` and columns ``C[j]`` (0/1 indicator matrices), so the sum of
the drops of the windows covering each pixel is ``R^T D C`` and the number of covering windows is
``R^T V C`` for the visited-window indicator ``V``: the map is computed in two small matrix products.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..params import param

EDGES = ("truncate", "flush")


def edges_param() -> object:
    """The ``edges`` field of a window method's spec (Occlusion Test, FMO)."""
    return param("truncate", choices=EDGES,
                 doc="Last window of a row/column: truncated at the image edge (as Captum's Occlusion) or moved "
                     "inside it, flush with the edge.")


def window_starts(size: int, patch: int, stride: int, edges: str = "truncate") -> list[int]:
    """Start offsets along one axis: ``ceil((size - patch) / stride) + 1`` starts ``0, s, 2s, ...``."""
    if edges not in EDGES:
        raise ValueError(f"edges: expected one of {EDGES}, got {edges!r}")
    starts = [i * stride for i in range(math.ceil((size - patch) / stride) + 1)]
    if edges == "flush":
        starts = list(dict.fromkeys(min(start, size - patch) for start in starts))
    return starts


def _indicator(starts: list[int], patch: int, size: int, device) -> torch.Tensor:
    rows = torch.zeros(len(starts), size, dtype=torch.float64, device=device)
    for i, s in enumerate(starts):
        rows[i, s:s + patch] = 1.0  # slicing truncates a window that reaches past the edge
    return rows


@dataclass
class WindowGrid:
    """All ``patch x patch`` windows with ``stride`` over an ``height x width`` image."""

    height: int
    width: int
    patch: int
    stride: int
    edges: str = "truncate"
    device: torch.device | str = "cpu"

    def __post_init__(self):
        self.row_starts = window_starts(self.height, self.patch, self.stride, self.edges)
        self.col_starts = window_starts(self.width, self.patch, self.stride, self.edges)
        self.rows = _indicator(self.row_starts, self.patch, self.height, self.device)  # (nh, H)
        self.cols = _indicator(self.col_starts, self.patch, self.width, self.device)   # (nw, W)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_starts), len(self.col_starts)

    @property
    def count(self) -> int:
        return len(self.row_starts) * len(self.col_starts)

    @staticmethod
    def count_for(height: int, width: int, patch: int, stride: int, edges: str = "truncate") -> int:
        """The windows of such a grid, counted without building it."""
        return len(window_starts(height, patch, stride, edges)) * len(window_starts(width, patch, stride, edges))

    def extents(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Row starts, row ends, column starts, column ends (half-open, truncated at the image)."""
        rows = torch.tensor(self.row_starts)
        cols = torch.tensor(self.col_starts)
        return rows, (rows + self.patch).clamp(max=self.height), cols, (cols + self.patch).clamp(max=self.width)

    def centres(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Centres of the windows' visible parts: ``(nh,)`` rows and ``(nw,)`` columns, in pixels."""
        top, bottom, left, right = (t.to(torch.float64) for t in self.extents())
        return (top + bottom - 1) / 2, (left + right - 1) / 2

    def boxes(self, flat_indices: torch.Tensor) -> torch.Tensor:
        """``(b, 4)`` CPU boxes ``(x0, y0, x1, y1)`` (half-open pixel corners, docs/DESIGN.md "Boxes") of the
        windows with these flat (row-major) indices, truncated at the image edge, for
        :meth:`workbench.engine.Engine.score_windows`."""
        top, bottom, left, right = self.extents()
        flat = flat_indices.cpu()
        r, c = flat // len(self.col_starts), flat % len(self.col_starts)
        return torch.stack([left[c], top[r], right[c], bottom[r]], dim=1)

    def keep_masks(self, flat_indices: torch.Tensor, dtype=torch.float32) -> torch.Tensor:
        """``(b,1,H,W)`` masks, 1 = keep, each hiding the window with that flat (row-major) index."""
        nw = len(self.col_starts)
        r = self.rows[flat_indices // nw].to(dtype)
        c = self.cols[flat_indices % nw].to(dtype)
        return (1.0 - r[:, :, None] * c[:, None, :]).unsqueeze(1)

    def mean_map(self, drops: torch.Tensor, visited: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per pixel, the mean of ``drops`` (``(nh, nw)``) over the visited windows covering it.

        Returns ``(map, covered)``: ``H x W`` float64 map (0 where no visited window covers the pixel) and
        the ``H x W`` number of visited windows covering each pixel.
        """
        weights = torch.ones_like(drops, dtype=torch.float64) if visited is None else visited.to(torch.float64)
        d = drops.to(torch.float64) * weights
        total = self.rows.T @ d @ self.cols
        covered = self.rows.T @ weights @ self.cols
        return torch.where(covered > 0, total / covered.clamp(min=1), torch.zeros_like(total)), covered
