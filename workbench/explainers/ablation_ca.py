"""Ablation-CA: superpixel ablation and correlation analysis (Wang et al., J. Xiamen Univ. Nat. Sci. 2024,
63(3):562-569).

Only the paper's abstract is public; this is the workbench's reconstruction (docs/METHODS.md,
"Ablation-CA"):

1. Objects are SLIC superpixels (``n_segments``, default 40; the paper finds 30-50 useful).
2. Sensitivity ``s_i = f_c(x) - f_c(x without i)`` (object filled with the image's mean colour by default,
   ``fill``: its own mean colour would remove nothing from a one-colour object);
   the heatmap paints ``s_i`` on object ``i``.
3. Synchronous ablation: ``T`` Monte-Carlo contexts, each keeping every object with probability ``p``;
   in context ``t`` the effect of object ``i`` is ``e_i^t = f_c(x_t) - f_c(x_t without i)``.
4. ``r_ij`` = Pearson correlation of ``e_i`` and ``e_j`` over contexts (``K x K``). An object whose effect
   never varies gets correlation 0 and is flagged in ``constant``, never NaN.
5. Groups: pairs with ``|r_ij| >= group_threshold`` and the connected components (3 or more objects) of
   the graph of such pairs, ranked by ``mean|r| * sum(s)`` over the group, i.e. ``|r_ij| (s_i + s_j)``
   for a pair.

Cost: the original specification counts ``K + T (K + 1)`` passes. Removing an object that a context already hides gives
the same image (effect exactly 0), so those passes are skipped: ``K + T + (objects present over all
contexts)``, about ``K + T (1 + p K)``, with identical results. ``f_c`` is the logit unless
``output`` says otherwise (``"auto"``: the logit on every model, see :mod:`workbench.scores`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import seeding
from ..params import param
from ..results import Group, ObjectCorrelation
from ..scores import output_param
from ..superpixels import SuperpixelSpec, n_segments_param, segment_masks
from .registry import Context, MethodOutput, register


@dataclass(frozen=True)
class AblationCASpec(SuperpixelSpec):
    citation = "Wang et al., J. Xiamen Univ. Nat. Sci. 2024, 63(3):562-569"
    description = (
        'Ablates superpixels alone and in random contexts and correlates their effects; '
        'red/blue: removing the superpixel lowers/raises the score, groups act together.'
    )
    n_segments: int = n_segments_param(40, "Target number of SLIC superpixels (objects). The paper finds 30-50 "
                                           "useful.")
    contexts: int = param(256, low=8, high=100000, step=8, doc="Monte-Carlo contexts T of synchronous ablation.")
    p_keep: float = param(0.5, low=0.0, high=1.0, open_low=True, open_high=True, step=0.05,
                          label="keep probability", doc="Probability that a context keeps each object.")
    group_threshold: float = param(0.5, low=0.0, high=1.0, step=0.05, label="group |r| threshold",
                                   doc="Pairs with |r| at least this form groups.")
    output: str = output_param("logit")

    def planned_passes(self, height: int, width: int) -> int:
        """About ``1 + K + T (1 + p K)`` (module docstring), with ``K`` the superpixels asked for (a segmentation
        often makes a few fewer)."""
        objects = self.n_segments if self.segments is None else len(np.unique(np.asarray(self.segments)))
        return round(1 + objects + self.contexts * (1 + self.p_keep * objects))


def pearson_matrix(effects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(K, K)`` Pearson correlations of the columns of ``effects`` ``(T, K)``; constant columns get 0
    (flagged in the returned ``(K,)`` bool array) and the diagonal is 1 for the others."""
    centred = effects - effects.mean(axis=0)
    norms = np.sqrt((centred ** 2).sum(axis=0))
    constant = norms <= 1e-12 * max(1.0, float(np.abs(effects).max(initial=0.0)))
    safe = np.where(constant, 1.0, norms)
    matrix = (centred.T @ centred) / np.outer(safe, safe)
    matrix[constant, :] = 0.0
    matrix[:, constant] = 0.0
    np.fill_diagonal(matrix, np.where(constant, 0.0, 1.0))
    return np.clip(matrix, -1.0, 1.0), constant


def rank_groups(matrix: np.ndarray, sensitivity: np.ndarray, threshold: float) -> list[Group]:
    """Pairs above ``threshold`` and larger connected groups, best first (see the module docstring)."""
    from scipy.sparse.csgraph import connected_components

    strong = np.abs(matrix) >= threshold
    np.fill_diagonal(strong, False)
    pair_i, pair_j = np.nonzero(np.triu(strong, 1))
    pair_r = np.abs(matrix[pair_i, pair_j])
    pair_score = pair_r * (sensitivity[pair_i] + sensitivity[pair_j])
    ranked = [Group(members=(int(i), int(j)), score=float(s), mean_abs_r=float(r))
              for i, j, s, r in zip(pair_i, pair_j, pair_score, pair_r)]
    _, component = connected_components(strong, directed=False)
    for label in np.unique(component):
        idx = np.flatnonzero(component == label)
        if len(idx) < 3:
            continue
        block = np.abs(matrix[np.ix_(idx, idx)])[np.triu_indices(len(idx), 1)]
        mean_r = float(block[block >= threshold].mean())
        ranked.append(Group(members=tuple(int(i) for i in idx), score=mean_r * float(sensitivity[idx].sum()),
                            mean_abs_r=mean_r))
    return sorted(ranked, key=lambda g: (-g.score, g.members))


def ablation_contexts(generator: torch.Generator, count: int, objects: int, p_keep: float,
                      device: str | torch.device) -> torch.Tensor:
    """``(count, objects)`` uint8 contexts on ``device``, each object kept with probability ``p_keep``, drawn
    from a CPU ``generator`` (:mod:`workbench.seeding`)."""
    return seeding.on_device((torch.rand(count, objects, generator=generator) < p_keep).to(torch.uint8), device)


def ablation_plan(contexts: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Keep vectors to score: the K single ablations, then per context the context itself and the context
    without each present object. Returns ``(keep (N,K) uint8, context_row (T,), removal (P,3))`` where
    ``removal`` rows are ``(row of the ablated image, context t, object i)``."""
    t_count, k = contexts.shape
    device = contexts.device
    singles = 1 - torch.eye(k, dtype=torch.uint8, device=device)
    present_t, present_i = torch.nonzero(contexts, as_tuple=True)
    removed = contexts[present_t].clone()
    removed[torch.arange(len(present_t), device=device), present_i] = 0
    keep = torch.cat([singles, contexts, removed])
    context_row = k + torch.arange(t_count, device=device)
    removal_row = k + t_count + torch.arange(len(present_t), device=device)
    return keep, context_row, torch.stack([removal_row, present_t, present_i], dim=1)


@register("ablation_ca", spec=AblationCASpec, label="Ablation-CA (superpixel correlation)", family="analysis",
          citation=AblationCASpec.citation, random=True, forward_only=True)
def ablation_ca_method(ctx: Context, spec: AblationCASpec) -> MethodOutput:
    labels = spec.labels(ctx.image)
    segs = torch.from_numpy(labels).to(ctx.device)
    k = int(labels.max()) + 1
    contexts = ablation_contexts(ctx.generator(), spec.contexts, k, spec.p_keep, ctx.device)
    keep, context_row, removal = ablation_plan(contexts)
    fill = spec.fill_for(ctx.x, ctx.model.normalise, segs)
    transform = ctx.score_transform(spec.output, paper="logit")
    clean = transform(ctx.clean_scores[None])[0, ctx.target] if transform else ctx.clean_scores[ctx.target]
    singles = torch.zeros(k, dtype=torch.float64, device=ctx.device)

    def sensitivity_so_far(start: int, stop: int, _: torch.Tensor, batch_scores: torch.Tensor) -> None:
        """The first ``k`` rows remove one object each: their map (step 2) is shown before the contexts."""
        if ctx.on_partial is not None and start < k:
            singles[start:min(stop, k)] = batch_scores[:k - start].double()
            if k <= stop < len(keep):
                ctx.show((clean.double() - singles)[segs], f"sensitivity of {k} objects, contexts next",
                         stop / len(keep), force=True)

    scores = ctx.engine.score_masks(ctx.x, lambda a, b: segment_masks(keep[a:b].float(), segs), n=len(keep),
                                    baseline=fill, target=ctx.target, transform=transform,
                                    consume=sensitivity_so_far).double()
    sensitivity = (clean.double() - scores[:k]).cpu().numpy()
    effects = torch.zeros(spec.contexts, k, dtype=torch.float64, device=ctx.device)
    rows, ts, objs = removal.unbind(1)
    effects[ts, objs] = scores[context_row[ts]] - scores[rows]
    effects_np = effects.cpu().numpy()
    matrix, constant = pearson_matrix(effects_np)
    groups = rank_groups(matrix, sensitivity, spec.group_threshold)
    heat = torch.from_numpy(sensitivity).to(ctx.device)[segs]
    return MethodOutput(heatmap=heat, segments=labels, correlation=ObjectCorrelation(
        sensitivity=sensitivity, effects=effects_np, contexts=contexts.cpu().numpy().astype(bool), matrix=matrix,
        constant=constant, groups=groups))
