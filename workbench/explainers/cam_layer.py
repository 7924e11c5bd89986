"""The layer a class activation map is read from: one way for every CAM method to name, check and hook it.

A *feature-map layer* is a module of the model that runs once per forward pass and outputs an
``(N, C, h, w)`` tensor with ``h * w > 1``. The default (``layer="auto"``) is found structurally, not from a
table of architectures: the last feature-map layer to finish in the forward pass, global pooling layers left
out (``AdaptiveAvgPool2d``/``AdaptiveMaxPool2d``). That is the last convolutional block: ``layer4`` of a
torchvision ResNet (the layer Selvaraju et al. 2017 and pytorch-grad-cam use), ``features`` of a VGG (its last
max-pool, pytorch-grad-cam's ``features[-1]``), ``head_act`` of EfficientNet-Lite0 (its head convolution's
activated output). A model whose last feature map is a pre-activation output (a BatchNorm followed by a
functional ReLU) gets that one: mostly negative, which suits gradient CAMs and leaves Score-CAM's positively
weighted sum at zero; name the layer there. On a vision transformer ``"auto"`` is the LayerNorm before the last
attention layer, its tokens read as a feature map on the patch grid (:func:`transformer_layer`,
:func:`token_grid`: ViT and DeiT tokens, Swin's channels-last stages).

Finding the feature-map layers takes one forward pass with a hook on every module, through a copy of the model
whose weights are empty tensors on PyTorch's ``meta`` device (shapes only, no arithmetic; the CPU where an
operation has no meta kernel); the user's model is neither run nor touched. The result is kept per module and
input size.
"""
from __future__ import annotations

import weakref
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn

from ..guard import _HOOK_DICTS

AUTO = "auto"
GLOBAL_POOLING = (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


@dataclass(frozen=True)
class FeatureMapLayer:
    """One feature-map layer: its name in ``named_modules()`` and its output shape ``(C, h, w)`` for one image."""

    name: str
    shape: tuple[int, int, int]


# per module: {(input size, module names): feature-map layers in named_modules order, and the default's name}
_FOUND: "weakref.WeakKeyDictionary[nn.Module, dict]" = weakref.WeakKeyDictionary()


def _signature(module: nn.Module, size: tuple[int, int]) -> tuple:
    return (tuple(size), tuple((name, type(m).__name__) for name, m in module.named_modules()))


def _detached_copy(module: nn.Module, device: torch.device) -> nn.Module:
    """A copy of ``module`` for the structural pass: parameters and buffers as empty tensors on ``device``
    (``meta``: no memory, no arithmetic), no hooks, eval mode. The user's module is never run or touched, so a
    pass running on it in another thread (the Workbench's worker) neither sees nor disturbs the probe."""
    memo: dict[int, torch.Tensor] = {}
    for p in module.parameters():
        memo[id(p)] = nn.Parameter(torch.empty_like(p, device=device), requires_grad=False)
    for b in module.buffers():
        memo[id(b)] = torch.zeros_like(b, device=device)
    copy = deepcopy(module, memo)
    for m in copy.modules():
        for name in _HOOK_DICTS:
            if hasattr(m, name):
                getattr(m, name).clear()
    return copy.eval()


def _probe(module: nn.Module, size: tuple[int, int]) -> tuple[tuple[FeatureMapLayer, ...], str | None]:
    """One forward pass of a zero image of ``size`` through a hook-free copy of ``module`` (on the ``meta``
    device: shapes only; on the CPU where an operation has no meta kernel) with a hook on every module: the
    feature-map layers in ``named_modules()`` order, and the default (the last to finish, global pooling left
    out)."""
    first = next(module.parameters(), None)
    dtype = first.dtype if first is not None and first.is_floating_point() else torch.float32
    for device in (torch.device("meta"), torch.device("cpu")):
        copy = _detached_copy(module, device)
        try:
            return _probe_copy(copy, size, device, dtype)
        except (RuntimeError, NotImplementedError, TypeError, ValueError):
            if device.type != "meta":
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _probe_copy(module: nn.Module, size: tuple[int, int], device: torch.device, dtype: torch.dtype
                ) -> tuple[tuple[FeatureMapLayer, ...], str | None]:
    names = {m: name for name, m in module.named_modules() if name}
    calls: dict[str, int] = {}
    shapes: dict[str, tuple] = {}
    finished: list[str] = []

    def record(m: nn.Module, inputs, output) -> None:
        name = names[m]
        calls[name] = calls.get(name, 0) + 1
        shapes[name] = tuple(output.shape) if isinstance(output, torch.Tensor) else ()
        finished.append(name)

    for m in names:
        m.register_forward_hook(record)
    with torch.no_grad():
        module(torch.zeros(1, 3, *size, device=device, dtype=dtype))

    def is_feature_map(name: str) -> bool:
        shape = shapes.get(name, ())
        return calls.get(name, 0) == 1 and len(shape) == 4 and shape[2] * shape[3] > 1

    layers = tuple(FeatureMapLayer(name, tuple(shapes[name][1:])) for name in names.values() if is_feature_map(name))
    default = next((name for name in reversed(finished)
                    if is_feature_map(name) and not isinstance(module.get_submodule(name), GLOBAL_POOLING)), None)
    return layers, default


def _found(module: nn.Module, size: tuple[int, int]) -> tuple[tuple[FeatureMapLayer, ...], str | None]:
    key = _signature(module, size)
    kept = _FOUND.setdefault(module, {})
    if key not in kept:
        kept.clear()    # one entry per module: the architecture or size changed
        kept[key] = _probe(module, size)
    return kept[key]


def feature_map_layers(module: nn.Module, size: tuple[int, int]) -> tuple[FeatureMapLayer, ...]:
    """The feature-map layers of ``module`` on ``(H, W)`` inputs, in ``named_modules()`` order (the names a CAM's
    ``layer`` accepts; the Workbench's layer picker lists them)."""
    return _found(module, tuple(size))[0]


def default_layer(module: nn.Module, size: tuple[int, int]) -> str:
    """The name ``layer="auto"`` resolves to: the last feature-map layer to finish in a forward pass on
    ``(H, W)`` inputs, global pooling left out (the last convolutional block)."""
    default = _found(module, tuple(size))[1]
    if default is None:
        raise ValueError(f"layer: the model has no layer with an (N, C, h, w) feature-map output on "
                         f"{size[0]}x{size[1]} images; class activation maps need a convolutional model")
    return default


def _accepted(module: nn.Module, size: tuple[int, int]) -> str:
    names = [layer.name for layer in feature_map_layers(module, size)]
    shown = names if len(names) <= 40 else names[:20] + ["..."] + names[-19:]
    return f"expected 'auto' or the name of a feature-map layer ({len(names)}): {', '.join(shown)}"


def transformer_layer(module: nn.Module) -> str | None:
    """On a vision transformer (a model with attention layers), the layer ``layer="auto"`` reads: the LayerNorm
    before its last attention layer (the last block's tokens as that attention reads them, where the patch
    tokens still reach the class; pytorch-grad-cam's advice for ViT, DeiT and Swin); ``None`` for other
    models. Its tokens become a feature map by :func:`token_grid`."""
    from .attention_weights import attention_layers

    layers = attention_layers(module)
    if not layers:
        return None
    name, attention = layers[-1]
    block_name = name.rpartition(".")[0]
    block = module.get_submodule(block_name) if block_name else module
    norm = None
    for child_name, child in block.named_children():
        if child is attention:
            break
        if isinstance(child, nn.LayerNorm):
            norm = f"{block_name}.{child_name}" if block_name else child_name
    if norm is None:
        raise ValueError(f"layer: {type(module).__name__} is a transformer whose last attention layer ({name!r}) "
                         f"has no LayerNorm before it in its block; name the layer a class activation map reads")
    return norm


def token_grid(output: torch.Tensor, layer: nn.Module, module: nn.Module, size: tuple[int, int]):
    """A transformer layer's tokens as an ``(N, C, h, w)`` feature map, and the function that puts a map of that
    shape back into the layer's layout: ``(N, T, C)`` tokens (ViT, DeiT: the last ``h * w`` are the patches on
    the input's patch grid, the ones before are class/distillation tokens, kept as they are) or ``(N, h, w, C)``
    (Swin's channels-last stages, after a LayerNorm over ``C``). ``None`` when ``output`` is neither."""
    if output.dim() == 3:
        from .attention_rollout import patch_size

        try:
            patch = patch_size(module)
        except ValueError:
            return None
        grid = (size[0] // patch[0], size[1] // patch[1])
        prefix = output.shape[1] - grid[0] * grid[1]
        if prefix < 0 or grid[0] * grid[1] <= 1:
            return None
        tokens = output[:, prefix:]
        feature_map = tokens.transpose(1, 2).reshape(output.shape[0], output.shape[2], *grid)
        return feature_map, lambda m: torch.cat([output[:, :prefix], m.flatten(2).transpose(1, 2)], dim=1)
    if (output.dim() == 4 and isinstance(layer, nn.LayerNorm) and output.shape[-1] == layer.normalized_shape[-1]
            and output.shape[1] * output.shape[2] > 1):
        return output.permute(0, 3, 1, 2), lambda m: m.permute(0, 2, 3, 1)
    return None


def resolve_layer(module: nn.Module, layer: str, size: tuple[int, int]) -> tuple[str, nn.Module]:
    """``(name, module)`` of ``layer`` (``"auto"``: :func:`default_layer`); a name that is no module of the
    model is a ``ValueError`` listing the accepted names. Whether its output is a feature map is checked by
    :func:`captured` on the pass that reads it."""
    name = (transformer_layer(module) or default_layer(module, size)) if layer == AUTO else layer
    try:
        return name, module.get_submodule(name) if name else module
    except AttributeError:
        raise ValueError(f"layer: the model has no module named {layer!r}; {_accepted(module, size)}") from None


class Capture:
    """What :func:`captured` read from the layer: its ``(N, C, h, w)`` output ``activation`` (a leaf that
    requires grad when gradients are wanted) and its name."""

    def __init__(self, name: str):
        self.name = name
        self.activation: torch.Tensor | None = None
        self.calls = 0
        self.bad_output: str | None = None
        self._accepted = lambda: ""

    def checked(self) -> torch.Tensor:
        """The activation, after checking that the layer ran once and gave a feature map (a ``ValueError``
        naming the accepted layers otherwise)."""
        if self.bad_output is not None:
            raise ValueError(f"layer: {self.name!r} outputs {self.bad_output}, not an (N, C, h, w) feature map "
                             f"with h*w > 1; {self._accepted()}")
        if self.calls != 1:
            raise ValueError(f"layer: {self.name!r} runs {self.calls} times in one forward pass, so its output is "
                             f"no one feature map; {self._accepted()}")
        return self.activation


@contextmanager
def captured(module: nn.Module, name: str, layer: nn.Module, size: tuple[int, int], gradients: bool
             ) -> Iterator[Capture]:
    """A forward hook on ``layer`` while the block runs: its output is kept in ``Capture.activation`` (a
    transformer's tokens as a feature map, see :func:`token_grid`). With
    ``gradients``, the output is replaced in the pass by a copy of a leaf that requires grad, so
    ``torch.autograd.grad(score, capture.activation)`` stops at the layer (with the parameters frozen nothing
    before it is recorded); without, a copy is kept (a later in-place ReLU cannot change it). After the block a
    layer that did not run once or gave no feature map is a ``ValueError`` naming the accepted layers (raised by
    :meth:`Capture.checked`, which the block calls after its forward pass)."""
    capture = Capture(name)
    capture._accepted = lambda: _accepted(module, size)

    def hook(m: nn.Module, inputs, output):
        capture.calls += 1
        grid = token_grid(output, m, module, size) if isinstance(output, torch.Tensor) else None
        feature_map, back = grid if grid is not None else (output, lambda x: x)
        if grid is None and (not isinstance(output, torch.Tensor) or output.dim() != 4
                             or output.shape[2] * output.shape[3] <= 1):
            capture.bad_output = (f"a {tuple(output.shape)} tensor" if isinstance(output, torch.Tensor)
                                  else f"a {type(output).__name__}")
            return None
        if not gradients:
            capture.activation = feature_map.detach().clone()
            return None
        with torch.enable_grad():
            leaf = feature_map.detach().requires_grad_(True)
            capture.activation = leaf
            return back(leaf).clone()

    handle = layer.register_forward_hook(hook)
    try:
        yield capture
    finally:
        handle.remove()


@contextmanager
def frozen(module: nn.Module) -> Iterator[None]:
    """The module's parameters do not require grad while the block runs (restored on exit, also on error):
    a backward pass from the score then stops at the captured layer."""
    flags = [(p, p.requires_grad) for p in module.parameters()]
    try:
        for p, _ in flags:
            p.requires_grad_(False)
        yield
    finally:
        for p, flag in flags:
            p.requires_grad_(flag)
