"""Leave the user's model exactly as it was: training flags, ``requires_grad``, ``.grad`` and hooks are
saved on entry and restored in ``finally`` (so also when the body raises)."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from torch import nn

_HOOK_DICTS = (
    "_forward_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
    "_forward_pre_hooks", "_forward_pre_hooks_with_kwargs",
    "_backward_hooks", "_backward_pre_hooks",
)


@contextmanager
def preserved_model(module: nn.Module, *, eval_mode: bool = True, freeze: bool = False) -> Iterator[nn.Module]:
    """Run the body with ``module`` in eval mode (and its parameters frozen if ``freeze``); restore every
    submodule's ``training`` flag, every parameter's ``requires_grad`` and ``.grad``, and every hook
    dictionary (hooks added inside are removed, none of the user's are touched) on exit."""
    modules = list(module.modules())
    training = [(m, m.training) for m in modules]
    parameters = list(module.parameters())
    flags = [(p, p.requires_grad, p.grad) for p in parameters]
    hooks = [(m, name, dict(getattr(m, name))) for m in modules for name in _HOOK_DICTS if hasattr(m, name)]
    try:
        if eval_mode:
            module.eval()
        if freeze:
            for p in parameters:
                p.requires_grad_(False)
        yield module
    finally:
        for m, was_training in training:
            m.training = was_training
        for p, requires_grad, grad in flags:
            p.requires_grad_(requires_grad)
            p.grad = grad
        for m, name, saved in hooks:
            current = getattr(m, name)
            if current.keys() != saved.keys():
                current.clear()
                current.update(saved)
