"""The score of the target class that a method reads from the model's logits: one place that decides it.

``"logit"`` is the raw output; ``"probability"`` the sigmoid (multi-label models) or softmax; ``"log-probability"``
its logarithm (NeuroMask's cross-entropy is minus it).

The rule: a method's score parameter is called ``output``, takes :data:`OUTPUTS` and defaults to ``"auto"``,
the score of the method's paper on a softmax model (LIME, Meaningful Perturbation: the probability;
NeuroMask: the log-probability; Ablation-CA: the logit, as the workbench's reconstruction reads ``f_c``).
RISE is the exception: its default is ``"probability"`` on every model (eq. 6 weights masks by it). On a
multi-label sigmoid model ``"auto"`` is decided here:

* methods that regress the score (LIME, Ablation-CA) read the logit: the shipped ``shapes``
  model gives its classes logits of 15-25, where the sigmoid is 1.0 in float32 and flat, so a regression on
  the probability sees a constant until the object is nearly gone;
* mask-learning games minimise the binary cross-entropy towards the game's goal (:func:`game_loss`):
  ``softplus(-z)`` to keep the class (preservation: NeuroMask's own loss) and ``softplus(z)`` to remove it
  (deletion: Meaningful Perturbation). Both are linear in the logit ``z`` while the model still says the
  wrong thing and flat once it says the right one. The paper's probability (deletion) has no gradient at
  ``z = 20``, so Meaningful Perturbation's mask never moved (map max 1e-5); the bare logit has no floor, so
  both games kept deleting or keeping far beyond the object (energy on the object 0.07 instead of 0.75 for
  NeuroMask on 4 scenes, see ``benchmarks/mask_objectives.py``).

Extremal Perturbation (Fong et al. 2019) maximises the logit on every model, as its paper does, under an
exact area constraint that gives the unbounded score its floor.
"""
from __future__ import annotations

import torch

from .params import param

OUTPUTS = ("auto", "logit", "probability", "log-probability")


def output_param(paper: str) -> object:
    """The ``output`` field of a regressing or averaging method's spec; ``paper`` is what ``"auto"`` means on a
    softmax model (pass the same to ``Context.score_transform``)."""
    return param("auto", choices=OUTPUTS,
                 doc=f"Score of the target: auto (the paper's {paper}; the logit on multi-label models, see "
                     f"workbench.scores), the logit, the probability or the log-probability.")


def resolve_output(model, output: str, paper: str) -> str:
    """The score ``output`` stands for on ``model`` (a :class:`~workbench.models.ModelEntry`): ``"auto"``
    is the logit on a multi-label model, else ``paper`` (the method's paper's score)."""
    if output not in OUTPUTS:
        raise ValueError(f"output: expected one of {OUTPUTS}, got {output!r}")
    if output != "auto":
        return output
    return "logit" if model.multilabel else paper


def score_transform(model, output: str, paper: str = "probability"):
    """``None`` when the score is the logit itself, else a function of ``(N, K)`` logits returning the
    ``(N, K)`` scores (for the engine's ``transform``)."""
    resolved = resolve_output(model, output, paper)
    if resolved == "logit":
        return None
    if resolved == "probability":
        return model.probabilities
    if model.multilabel:
        return torch.nn.functional.logsigmoid
    return lambda logits: torch.log_softmax(logits, dim=-1)


def target_score(model, logits: torch.Tensor, target: int, output: str, paper: str) -> torch.Tensor:
    """``(N,)`` score of class ``target`` from ``(N, K)`` logits (differentiable)."""
    transform = score_transform(model, output, paper)
    scores = logits if transform is None else transform(logits)
    return scores[:, target]


GAMES = ("preserve", "delete")


def game_loss(model, logits: torch.Tensor, target: int, output: str, game: str, paper: str) -> torch.Tensor:
    """``(N,)`` loss of a mask-learning game: minus the score to keep class ``target`` (``"preserve"``), the
    score to remove it (``"delete"``). ``output="auto"`` on a multi-label model: the binary cross-entropy
    towards the goal (see the module docstring)."""
    if game not in GAMES:
        raise ValueError(f"game: expected one of {GAMES}, got {game!r}")
    z = logits[:, target]
    if output == "auto" and model.multilabel:
        return torch.nn.functional.softplus(-z if game == "preserve" else z)
    score = target_score(model, logits, target, output, paper)
    return -score if game == "preserve" else score
