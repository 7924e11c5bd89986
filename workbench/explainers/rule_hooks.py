"""Zennit's LRP rules applied without Zennit's redundant passes: same rules, same numbers, less work.

Zennit (Anders et al. 2021) implements a rule as a ``BasicHook``: during the backward pass it re-runs the
layer once per ``(input modifier, parameter modifier, output modifier)`` triple, takes the gradient of those
outputs (the rule's ``gradient_mapper`` maps the incoming relevance) and combines the inputs and gradients
with the rule's ``reducer`` (Montavon et al., "Layer-Wise Relevance Propagation: An Overview", 2019, eq. 9's
generic form ``R_j = sum_k a_j rho(w_jk) R_k / (eps + sum_0,j a_j rho(w_jk))``). On top of that the layer's
ordinary backward runs as well and is thrown away. This module registers the same rule objects (taken from
the same Zennit composite, with its canonizers) as a forward hook that swaps the layer's autograd node for
one that computes only the rule, and:

- skips the layer's ordinary backward (Zennit computes it and discards it);
- reuses the layer's own forward output and graph for a triple that modifies nothing (Epsilon's only term,
  Gamma's sign term, ZBox's first term) instead of re-running the layer;
- for the rules whose reducer is a weighted sum of ``input_i * gradient_i`` (Epsilon, ZPlus, AlphaBeta,
  Gamma, Norm), skips the forward and backward of a term whose modified input is all zeros (``x.clamp(max=0)``
  after a ReLU): its share ``0 * gradient`` is zero; for a convolution or linear layer its output, which the
  ``gradient_mapper`` still reads, is the modified bias alone;
- ``Pass`` (activations) hands the relevance straight to the layer's input.

Every other hook (Deconvnet's and Guided Backprop's ReLU hooks, a user's own rules) is registered as Zennit
registers it. Everything is removed (hooks, canonizers) when the ``with`` block ends, also on error. What this
needs of Zennit beyond its public API (a rule's terms, its default modifier, how a composite registers) is
read through :mod:`.zennit_adapter`, the pinned range's one reader.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import torch
from torch import nn

from . import zennit_adapter as zennit

_LINEAR_LAYERS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)


def _bias_only_output(layer: nn.Module, like: torch.Tensor) -> torch.Tensor:
    """The output of a (modified) convolution or linear layer on an all-zero input: its bias, broadcast."""
    bias = getattr(layer, "bias", None)
    if bias is None:
        return torch.zeros_like(like)
    return bias.detach().view(1, -1, *([1] * (like.dim() - 2))).expand_as(like).to(like.dtype)


class _RuleNode(torch.autograd.Function):
    """Identity on the layer's output values; its backward is the rule's relevance for the layer's input."""

    @staticmethod
    def forward(ctx, x, output_values, apply_rule):
        ctx.apply_rule = apply_rule
        return output_values.clone()

    @staticmethod
    def backward(ctx, grad_output):
        relevance = ctx.apply_rule(grad_output)
        ctx.apply_rule = None
        return relevance, None, None


class _PassNode(torch.autograd.Function):
    """Identity on the activation's output values; hands the incoming relevance to its input unchanged."""

    @staticmethod
    def forward(ctx, x, output_values):
        return output_values.clone()

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output, None


def _rule_backward(rule, layer: nn.Module, x: torch.Tensor, output: torch.Tensor, absorbed: list | None = None):
    """The backward of one layer under ``rule`` (a Zennit ``BasicHook``), given its input and output; appends
    to ``absorbed`` the ``(N,)`` relevance the layer keeps (what enters at its output minus what leaves at its
    input: its bias's share and the stabiliser's)."""
    skip_zeros = zennit.sums_input_times_gradient(rule)
    ignored = zennit.ignored_terms(rule)

    version = x._version

    def apply_rule(grad_output: torch.Tensor) -> torch.Tensor:
        if x._version != version:
            raise RuntimeError(f"an in-place operation changed the input of {type(layer).__name__} after its "
                               f"forward pass; the LRP rule needs it as it was")
        inputs, outputs, differentiate = [], [], []
        with torch.enable_grad():
            for i, (in_mod, param_mod, out_mod) in enumerate(zennit.rule_terms(rule)):
                with torch.no_grad():
                    modified_input = in_mod(x)
                if modified_input is x and zennit.leaves_params(param_mod) and out_mod(output) is output:
                    inputs.append(x)               # the layer's own forward and graph
                    outputs.append(output)
                    differentiate.append(i not in ignored)
                    continue
                zero = skip_zeros and not bool(modified_input.any())
                with zennit.modified_layer(param_mod, layer) as modified:
                    if zero and isinstance(modified, _LINEAR_LAYERS):
                        out = out_mod(_bias_only_output(modified, output))
                    else:
                        modified_input = modified_input.detach().requires_grad_(not zero)
                        out = out_mod(modified.forward(modified_input))
                inputs.append(modified_input)
                outputs.append(out)
                differentiate.append(not zero and i not in ignored)
            grad_outputs = zennit.mapped_gradients(rule, grad_output, outputs)
            wanted = [i for i, d in enumerate(differentiate) if d]
            found = torch.autograd.grad([outputs[i] for i in wanted], [inputs[i] for i in wanted],
                                        grad_outputs=[grad_outputs[i] for i in wanted]) if wanted else ()
        found_by_term = dict(zip(wanted, found))
        gradients = [found_by_term[i] if i in found_by_term else torch.zeros_like(t) for i, t in enumerate(inputs)]
        relevance = zennit.reduced(rule, [t.detach() for t in inputs], gradients)
        if absorbed is not None:
            absorbed.append(grad_output.detach().flatten(1).sum(1) - relevance.detach().flatten(1).sum(1))
        return relevance

    return apply_rule


def _rule_hook(rule, absorbed: list | None):
    def hook(layer: nn.Module, args: tuple, output: torch.Tensor):
        x = args[0]
        if not (isinstance(output, torch.Tensor) and x.requires_grad):
            return output
        return _RuleNode.apply(x, output.detach(), _rule_backward(rule, layer, x, output, absorbed))
    return hook


def _pass_hooks(layer: nn.Module):
    """Pre- and post-forward hooks for ``Pass``; an in-place activation works on a copy of its input, so the
    input the relevance goes to keeps its values and its own autograd node."""
    originals: list[torch.Tensor] = []

    def pre(layer: nn.Module, args: tuple):
        originals[:] = [args[0]]
        if getattr(layer, "inplace", False) and args[0].requires_grad:
            return (args[0].clone(), *args[1:])
        return None

    def post(layer: nn.Module, args: tuple, output: torch.Tensor):
        x = originals.pop() if originals else args[0]
        if not (isinstance(output, torch.Tensor) and x.requires_grad and output.shape == x.shape):
            return output
        return _PassNode.apply(x, output.detach())

    return [layer.register_forward_pre_hook(pre), layer.register_forward_hook(post)]


@contextmanager
def rules_registered(composite, module: nn.Module, absorbed: list | None = None) -> Iterator[nn.Module]:
    """Apply ``composite``'s canonizers and rules to ``module`` for the duration of the block (the fast path
    for Zennit's ``BasicHook`` rules and ``Pass``; other hooks as Zennit registers them); yields the module.
    ``absorbed``: a list that receives, per rule layer in the backward pass, the ``(N,)`` relevance it keeps
    (bias and stabiliser shares), so that input relevance + absorbed = output relevance can be checked."""
    handles: list = []
    try:
        handles.extend(zennit.apply_canonizers(composite, module))
        for child, template in zennit.templates(composite, module):
            if zennit.is_basic_hook(template):
                handles.append(child.register_forward_hook(_rule_hook(template, absorbed)))
            elif zennit.is_pass(template):
                handles.extend(_pass_hooks(child))
            else:
                handles.append(zennit.register_as_zennit(template, child))
        yield module
    finally:
        for handle in reversed(handles):
            handle.remove()
