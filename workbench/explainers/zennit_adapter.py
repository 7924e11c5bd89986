"""The one module that reads Zennit's internals (Anders et al., "Software for Dataset-wide XAI: From Local
Explanations to Global Insights with Zennit, CoRelAy, and ViRelAy", 2021), for :mod:`.rule_hooks`.

:mod:`.rule_hooks` computes Zennit's rules without Zennit's redundant passes, so it needs what Zennit keeps
to itself; every such name is read here and nowhere else (docs/DESIGN.md, "Peer libraries"):

- a ``BasicHook``'s terms: the ``(input, parameter, output)`` modifier triples, ``gradient_mapper`` and
  ``reducer`` that ``BasicHook.__init__`` stores as attributes;
- ``BasicHook._default_modifier`` (private): the identity Zennit fills a rule's missing modifiers with;
- what ``Composite.register`` does, re-done here so that the workbench registers its own hook for a
  ``BasicHook`` rule: the canonizers applied in order, then ``composite.module_map(ctx, name, module)``
  over ``module.named_modules()`` with one ``ctx`` dict, each template copied and registered.

:data:`TESTED_RANGE` is the range the tests cover, pinned in pyproject.toml (a test checks both agree and
that the installed Zennit lies in it).

Zennit 1.0.0 (git tag ``1.0.0``; it needs Python >= 3.11.11, and the package index this project installs from
offers 0.5.1 at most) keeps every name above with the same meaning, but ``tests/test_backprop.py`` run on its
source passes 35 of 38: ``test_nothing_left_behind`` fails for ``lrp_alpha2_beta1``, ``deep_taylor`` and
``lrp_epsilon_gamma_box``, because 1.0.0's ``MergeBatchNorm.remove`` restores attributes with
``object.__setattr__``, so a layer built without a bias keeps the zero ``bias`` Parameter the merge
registered (``state_dict`` gains a key; 0.5.1 removes it). The range stays below 0.6 until that is handled.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Callable, Iterator

import torch
from torch import nn

TESTED_RANGE = ">=0.5.1,<0.6"


def installed_version() -> str:
    from importlib.metadata import version

    return version("zennit")


def is_basic_hook(template) -> bool:
    """A rule Zennit computes by re-running the layer on modified inputs and parameters (``BasicHook``)."""
    from zennit.core import BasicHook

    return isinstance(template, BasicHook)


def is_pass(template) -> bool:
    """Zennit's ``Pass`` rule: the relevance goes to the layer's input unchanged."""
    from zennit.rules import Pass

    return type(template) is Pass


def sums_input_times_gradient(rule) -> bool:
    """Whether ``rule``'s reducer is a weighted sum of ``input_i * gradient_i`` (Epsilon, ZPlus, AlphaBeta,
    Gamma, Norm), so a term whose modified input is all zeros contributes nothing."""
    from zennit.rules import AlphaBeta, Epsilon, Gamma, Norm, ZPlus

    return isinstance(rule, (Epsilon, ZPlus, AlphaBeta, Gamma, Norm))


def ignored_terms(rule) -> frozenset[int]:
    """Terms whose gradient the rule's reducer never reads (Gamma's fifth, sign-only term)."""
    from zennit.rules import Gamma

    return frozenset({4}) if type(rule) is Gamma else frozenset()


def rule_terms(rule) -> list[tuple[Callable, object, Callable]]:
    """The ``(input modifier, parameter modifier, output modifier)`` triples of a ``BasicHook`` rule."""
    return list(zip(rule.input_modifiers, rule.param_modifiers, rule.output_modifiers))


def leaves_params(modifier) -> bool:
    """Whether a parameter modifier leaves the layer as it is (Zennit's default modifier, ``NoMod()``, or a
    ``ParamMod`` with no parameter keys and nothing zeroed)."""
    from zennit.core import BasicHook, ParamMod
    from zennit.rules import NoMod

    if modifier is BasicHook._default_modifier:
        return True
    if not isinstance(modifier, ParamMod) or modifier.zero_params:
        return False
    return type(modifier) is NoMod or modifier.param_keys == []


def modified_layer(modifier, layer: nn.Module) -> AbstractContextManager[nn.Module]:
    """``with modified_layer(modifier, layer) as modified``: the layer with the rule's parameter modifier
    applied for the block (Zennit's ``ParamMod.ensure``)."""
    from zennit.core import ParamMod

    return ParamMod.ensure(modifier)(layer)


def mapped_gradients(rule, grad_output: torch.Tensor, outputs: list[torch.Tensor]) -> list[torch.Tensor]:
    """The rule's ``gradient_mapper`` of the incoming relevance, one tensor per term (Zennit's mappers return
    the tensor itself when there is one term)."""
    mapped = rule.gradient_mapper(grad_output, outputs)
    return [mapped] if isinstance(mapped, torch.Tensor) else list(mapped)


def reduced(rule, inputs: list[torch.Tensor], gradients: list[torch.Tensor]) -> torch.Tensor:
    """The rule's ``reducer``: the relevance of the layer's input from the terms' inputs and gradients."""
    return rule.reducer(inputs, gradients)


def apply_canonizers(composite, module: nn.Module) -> list:
    """Apply ``composite``'s canonizers to ``module`` in order; returns their handles (``.remove()`` reverts)."""
    handles: list = []
    for canonizer in composite.canonizers:
        handles.extend(canonizer.apply(module))
    return handles


def templates(composite, module: nn.Module) -> Iterator[tuple[nn.Module, object]]:
    """``(submodule, rule template)`` for every submodule ``composite`` assigns a rule, as ``Composite.register``
    walks them (``named_modules`` order, one ``ctx`` shared by the calls of ``module_map``)."""
    ctx: dict = {}
    for name, child in module.named_modules():
        template = composite.module_map(ctx, name, child)
        if template is not None:
            yield child, template


def register_as_zennit(template, module: nn.Module):
    """Register a copy of ``template`` on ``module`` as Zennit does; returns its handle."""
    return template.copy().register(module)
