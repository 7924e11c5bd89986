"""Incremental inference for occluded copies of one image (Nakandala, Kumar & Papakonstantinou, "Incremental
and Approximate Inference for Faster Occlusion-based Deep CNN Explanations", SIGMOD 2019, "Krypton").

A patch written into the image changes, in each layer, only its projective field. The model is traced with
``torch.fx``; the clean image runs once and every layer's activation is kept. Each occluded image then runs
only over the box its patch changes, layer by layer, on top of the clean activations: a convolution or
pooling recomputes the output box the changed input box reaches (reading the clean activation around it),
a pointwise layer (BatchNorm in eval mode, activations, dropout) maps the box, a residual addition takes the
union of its operands' boxes. The first layer it cannot handle (global pooling, flatten, a linear head,
attention, anything unknown) gets the full map, the clean activation with the box written in, and the rest
of the network runs as usual. Boxes are supersets of what changed, so the scores equal full inference up to
floating-point rounding.

>>> import torch
>>> model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(),
...                             torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(4, 2)).eval()
>>> x = torch.rand(1, 3, 16, 16)
>>> inc = IncrementalModel(model, x)
>>> occluded = x.clone(); occluded[:, :, 4:8, 4:8] = 0
>>> scores = inc.score(torch.zeros(1, 3, 4, 4), torch.tensor([4]), torch.tensor([4]))
>>> bool(torch.allclose(scores, model(occluded), atol=1e-6))
True
"""
from __future__ import annotations

import operator
import threading
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import fx, nn

from . import probe as probe_module
from .probe import PathProbe

__all__ = ["INCREMENTAL", "IncrementalModel", "IncrementalPlan", "NotIncremental", "incremental_param", "occluded_boxes", "plan_incremental"]

# Incremental inference is used when its multiply-accumulates per image are at most this share of full
# inference's (a dry run of one patch in the middle of the image decides).
MAX_MAC_RATIO = 0.7  # benchmarks/incremental.py, busy 2-core CPU: efficientnet_lite0 at 0.62-0.64 ran
# 1.37-1.78x faster, resnet18 at 0.43-0.46 0.94-1.39x

_POINTWISE_MODULES = (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.SiLU, nn.GELU, nn.Hardswish, nn.Hardsigmoid, nn.Sigmoid,
                      nn.Tanh, nn.ELU, nn.Mish, nn.Hardtanh, nn.PReLU, nn.Softplus, nn.Identity, nn.Dropout,
                      nn.Dropout2d)
_POINTWISE_FUNCTIONS = {F.relu, F.relu6, F.silu, F.gelu, F.hardswish, F.hardsigmoid, F.leaky_relu, F.hardtanh,
                        F.elu, F.dropout, torch.relu, torch.sigmoid, torch.tanh, torch.nn.functional.sigmoid}
_POINTWISE_METHODS = {"relu", "sigmoid", "tanh", "contiguous", "clamp"}
_BINARY = {operator.add: operator.add, operator.iadd: operator.add, operator.mul: operator.mul,
           operator.imul: operator.mul, operator.sub: operator.sub, operator.isub: operator.sub,
           torch.add: torch.add, torch.mul: torch.mul, torch.sub: torch.sub}
_BINARY_METHODS = {"add": operator.add, "add_": operator.add, "mul": operator.mul, "mul_": operator.mul,
                   "sub": operator.sub, "sub_": operator.sub}


class NotIncremental(ValueError):
    """The model cannot run incrementally (it could not be traced with ``torch.fx``)."""


def _same_padding_class():
    from .models.efficientnet_lite import Conv2dSame
    return Conv2dSame


# While torch.fx traces, it patches ``nn.Module.__call__`` for the whole process: a forward pass on another
# thread then runs into the tracer ("module is not installed as a submodule", or a Proxy for an output). Tracing
# holds this lock; forward passes made beside a worker that may trace (the Workbench's predictions on the kernel
# thread, :func:`workbench.targets.top_classes`) take it too.
TRACING_LOCK = threading.Lock()


class _Tracer(fx.Tracer):
    """``torch.fx`` tracer that keeps TensorFlow-"same" convolutions as single layers."""

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return isinstance(m, _same_padding_class()) or super().is_leaf_module(m, qualname)


@dataclass
class _Box:
    """Each image's activation: the clean one except inside a ``(h, w)`` box at ``(top[i], left[i])``, whose
    values are ``patches[i]`` (``(B, C, h, w)``)."""

    patches: torch.Tensor
    top: torch.Tensor
    left: torch.Tensor


@dataclass
class _Full:
    """Each image's whole activation, ``(B, ...)``."""

    value: object


def _crops(clean: torch.Tensor, box: _Box, top: torch.Tensor, left: torch.Tensor, height: int, width: int,
           pad: float = 0.0) -> torch.Tensor:
    """``(B, C, height, width)``: image ``i``'s activation at rows ``top[i]...`` and columns ``left[i]...``,
    ``pad`` outside the map. Channels-last: one gather of windows, then the patches written in by groups that
    land at the same place (each a single copy; many small copies are slow on a busy CPU)."""
    size_h, size_w = clean.shape[-2:]
    tops, lefts = top.tolist(), left.tolist()
    margin = max(0, -min(tops), max(tops) + height - size_h, -min(lefts), max(lefts) + width - size_w)
    padded = F.pad(clean, (margin,) * 4, value=pad) if margin else clean
    windows = padded.contiguous(memory_format=torch.channels_last).unfold(2, height, 1).unfold(3, width, 1)[0]
    out = windows[:, top + margin, left + margin].transpose(0, 1).contiguous(memory_format=torch.channels_last)
    patch_h, patch_w = box.patches.shape[-2:]
    groups: dict[tuple[int, ...], list[int]] = {}  # images whose patch lands at the same place in their crop
    for i, (row, col, box_row, box_col) in enumerate(zip(tops, lefts, box.top.tolist(), box.left.tolist())):
        r0, r1 = max(row, box_row), min(row + height, box_row + patch_h)
        c0, c1 = max(col, box_col), min(col + width, box_col + patch_w)
        if r0 < r1 and c0 < c1:
            key = (r0 - row, r1 - row, c0 - col, c1 - col, r0 - box_row, r1 - box_row, c0 - box_col, c1 - box_col)
            groups.setdefault(key, []).append(i)
    for (a, b, c, d, e, f, g, h), images in groups.items():
        if len(images) == len(tops):
            out[:, :, a:b, c:d] = box.patches[:, :, e:f, g:h]
        else:
            index = torch.tensor(images, device=clean.device)
            out[index, :, a:b, c:d] = box.patches[index, :, e:f, g:h]
    return out


def _reach(start: torch.Tensor, size: int, out_size: int, kernel: int, stride: int, pad: int, dilation: int):
    """Output box ``(start, size)`` (one per image, common size, inside the map) of a sliding window reached by
    an input box ``(start, size)``, and the input rows it reads: ``(first, count)``."""
    lo = torch.div(start + pad - dilation * (kernel - 1) + stride - 1, stride, rounding_mode="floor").clamp(min=0)
    hi = torch.div(start + size - 1 + pad, stride, rounding_mode="floor").clamp(max=out_size - 1)
    length = min(out_size, int((hi - lo).max()) + 1)
    lo = lo.clamp(max=out_size - length)
    return lo, length, lo * stride - pad, (length - 1) * stride + dilation * (kernel - 1) + 1


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _window_layer(module: nn.Module, clean_in: torch.Tensor):
    """``(kernel, stride, low pads, dilation, pad value, run)`` of a convolution or pooling layer this module
    handles, or ``None``. ``run(crops)`` applies the layer without padding."""
    if isinstance(module, nn.Conv2d) and module.padding_mode == "zeros":
        kernel, stride, dilation = module.kernel_size, module.stride, module.dilation
        if isinstance(module, _same_padding_class()):
            pads = []
            for size, k, s, d in zip(clean_in.shape[-2:], kernel, stride, dilation):
                total = max((-(-size // s) - 1) * s + (k - 1) * d + 1 - size, 0)
                pads.append(total // 2)
        elif type(module) in (nn.Conv2d,) and not isinstance(module.padding, str):
            pads = list(module.padding)
        elif type(module) in (nn.Conv2d,) and module.padding == "valid":
            pads = [0, 0]
        else:
            return None
        return kernel, stride, pads, dilation, 0.0, lambda t: F.conv2d(
            t, module.weight, module.bias, stride, 0, dilation, module.groups)
    if isinstance(module, nn.MaxPool2d) and not module.return_indices:
        kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        dilation = _pair(module.dilation)
        return kernel, stride, list(_pair(module.padding)), dilation, float("-inf"), lambda t: F.max_pool2d(
            t, kernel, stride, 0, dilation)
    if (isinstance(module, nn.AvgPool2d) and not module.ceil_mode and module.divisor_override is None
            and (module.count_include_pad or _pair(module.padding) == (0, 0))):
        kernel, stride = _pair(module.kernel_size), _pair(module.stride or module.kernel_size)
        return kernel, stride, list(_pair(module.padding)), (1, 1), 0.0, lambda t: F.avg_pool2d(t, kernel, stride)
    return None


def _macs(module: nn.Module, out: torch.Tensor) -> int:
    """Multiply-accumulates of a convolution or linear layer that produced ``out``."""
    if isinstance(module, nn.Conv2d):
        return out.numel() * module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
    if isinstance(module, nn.Linear):
        return out.numel() * module.in_features
    return 0


_MODULE_INTERNALS = ("_parameters", "_buffers", "_modules")


def _python_attributes(module: nn.Module) -> dict[str, dict]:
    """Each submodule's plain attributes (not parameters, buffers or children), by submodule name."""
    return {name: {k: v for k, v in vars(m).items() if k not in _MODULE_INTERNALS}
            for name, m in module.named_modules()}


def _restore_attributes(module: nn.Module, before: dict[str, dict]) -> list[str]:
    """Put back any plain attribute that tracing rebound or added; the names of those that changed."""
    changed = []
    for name, m in module.named_modules():
        saved = before.get(name, {})
        for key in [k for k in vars(m) if k not in _MODULE_INTERNALS]:
            if key not in saved:
                changed.append(f"{name}.{key}".lstrip("."))
                delattr(m, key)
            elif vars(m)[key] is not saved[key]:
                changed.append(f"{name}.{key}".lstrip("."))
                setattr(m, key, saved[key])
    return changed


def _map(value, fn):
    if isinstance(value, (list, tuple)):
        return type(value)(_map(v, fn) for v in value)
    if isinstance(value, dict):
        return {k: _map(v, fn) for k, v in value.items()}
    return fn(value)


class IncrementalModel:
    """Scores copies of one image that differ from it in one box each, incrementally (see the module doc).

    Args:
        module: an eval-mode network mapping ``(N, C, H, W)`` to ``(N, K)``.
        x: the clean ``(1, C, H, W)`` input; its activations are computed and kept.
        clean_output: the module's output on ``x`` when already computed (the run's clean pass); the traced
            graph must reproduce it (else :class:`NotIncremental`).

    Raises :class:`NotIncremental` when ``torch.fx`` cannot trace the module.
    """

    def __init__(self, module: nn.Module, x: torch.Tensor, clean_output: torch.Tensor | None = None):
        if x.dim() != 4 or x.shape[0] != 1:
            raise ValueError(f"x: expected one (1, C, H, W) image, got shape {tuple(x.shape)}")
        attributes = _python_attributes(module)
        try:
            with TRACING_LOCK:
                graph = _Tracer().trace(module)
        except Exception as error:  # tracing fails in many ways (control flow on values, unsupported calls)
            raise NotIncremental(f"model: torch.fx could not trace it ({type(error).__name__}: {error})") from error
        finally:
            changed = _restore_attributes(module, attributes)
        if changed:   # e.g. a call counter: the traced graph would not be the forward the user wrote
            raise NotIncremental(f"model: its forward changes the model's own attributes ({', '.join(changed)})")
        self.graph = fx.GraphModule(module, graph)
        self.modules = dict(self.graph.named_modules())
        self.inputs = [n for n in self.graph.graph.nodes if n.op == "placeholder"]
        if len(self.inputs) != 1:
            raise NotIncremental(f"model: expected one input, the traced graph has {len(self.inputs)}")
        self.x = x
        self.clean: dict[fx.Node, object] = {}
        self.full_macs = 0  # multiply-accumulates of full inference of one image
        self.macs = 0       # multiply-accumulates made by score() so far
        self.node_macs: dict[fx.Node, int] = {}  # each layer's, in full inference of one image
        self._dry = False   # shapes only, for mac_ratio
        with torch.inference_mode():
            self._clean_pass(x)
            # the forward the user wrote: the run's clean pass when given, else one more pass
            expected = module(x) if clean_output is None else clean_output.reshape(1, -1)
        traced = self.clean[next(n for n in self.graph.graph.nodes if n.op == "output")]
        if not (isinstance(traced, torch.Tensor) and traced.shape == expected.shape
                and torch.allclose(traced.float(), expected.float(), rtol=1e-4,
                                   atol=1e-5 * float(expected.abs().max()) + 1e-12)):
            raise NotIncremental("model: the traced graph does not reproduce its forward (Python control flow?)")

    # -- the clean pass ------------------------------------------------------------------------------
    def _call(self, node: fx.Node, args, kwargs):
        if node.op == "call_module":
            module = self.modules[node.target]
            if getattr(module, "inplace", False):
                args = (args[0].clone(), *args[1:])
            return module(*args, **kwargs)
        if node.op == "call_function":
            target = _BINARY.get(node.target, node.target)
            if "inplace" in kwargs:
                kwargs = {**kwargs, "inplace": False}
            return target(*args, **kwargs)
        if node.op == "call_method":
            name = node.target[:-1] if node.target.endswith("_") and not node.target.endswith("__") else node.target
            return getattr(args[0], name)(*args[1:], **kwargs)
        if node.op == "get_attr":
            value = self.graph
            for part in node.target.split("."):
                value = getattr(value, part)
            return value
        raise AssertionError(node.op)

    def _clean_pass(self, x: torch.Tensor) -> None:
        for node in self.graph.graph.nodes:
            if node.op == "placeholder":
                self.clean[node] = x
            elif node.op == "output":
                self.clean[node] = _map(node.args[0], lambda v: self.clean[v] if isinstance(v, fx.Node) else v)
            else:
                args = _map(node.args, lambda v: self.clean[v] if isinstance(v, fx.Node) else v)
                kwargs = _map(node.kwargs, lambda v: self.clean[v] if isinstance(v, fx.Node) else v)
                out = self._call(node, args, kwargs)
                if isinstance(out, torch.Tensor) and out.dim() == 4:
                    out = out.contiguous(memory_format=torch.channels_last)  # fast crops and convolutions
                self.clean[node] = out
                if node.op == "call_module" and isinstance(out, torch.Tensor):
                    self.node_macs[node] = _macs(self.modules[node.target], out)
                    self.full_macs += self.node_macs[node]

    # -- incremental passes --------------------------------------------------------------------------
    def _full(self, node: fx.Node, value) -> object:
        if isinstance(value, _Full):
            return value.value
        if isinstance(value, _Box):
            clean = self.clean[node]
            zeros = torch.zeros_like(value.top)
            return _crops(clean, value, zeros, zeros, clean.shape[-2], clean.shape[-1])
        return value

    def _step(self, node: fx.Node, env: dict) -> object:
        """The activation of ``node`` for the batch: a :class:`_Box`, a :class:`_Full` or a clean value."""
        sources = [a for a in node.all_input_nodes if isinstance(env[a], (_Box, _Full))]
        if not sources:
            return self.clean[node]  # no patch reaches it
        boxes = [a for a in node.all_input_nodes if isinstance(env[a], _Box)]
        if len(boxes) == len(sources) and isinstance(self.clean[node], torch.Tensor) and self.clean[node].dim() == 4:
            out = self._box_step(node, env)
            if out is not None:  # a box as large as the map is the full map: later layers run as usual
                return _Full(out.patches) if out.patches.shape[-2:] == self.clean[node].shape[-2:] else out
        if self._dry:  # from here on as full inference
            self.macs += self.node_macs.get(node, 0)
            return _Full(None)
        args = _map(node.args, lambda v: self._full(v, env[v]) if isinstance(v, fx.Node) else v)
        kwargs = _map(node.kwargs, lambda v: self._full(v, env[v]) if isinstance(v, fx.Node) else v)
        out = self._call(node, args, kwargs)
        if node.op == "call_module" and isinstance(out, torch.Tensor):
            self.macs += _macs(self.modules[node.target], out)
        return _Full(out)

    def _box_step(self, node: fx.Node, env: dict) -> _Box | None:
        """The node on boxes, or ``None`` when it is not a layer handled incrementally."""
        first = node.args[0] if node.args else None
        box = env.get(first) if isinstance(first, fx.Node) else None
        clean_out = self.clean[node]
        if node.op == "call_module":
            module = self.modules[node.target]
            if not isinstance(box, _Box) or len(node.args) != 1 or node.kwargs:
                return None
            if isinstance(module, _POINTWISE_MODULES) or (isinstance(module, nn.BatchNorm2d) and not module.training):
                patches = box.patches.clone() if getattr(module, "inplace", False) else box.patches
                return _Box(module(patches), box.top, box.left)
            layer = _window_layer(module, self.clean[first])
            if layer is None:
                return None
            kernel, stride, pads, dilation, pad_value, run = layer
            (h, w), (out_h, out_w) = box.patches.shape[-2:], clean_out.shape[-2:]
            top, height, row0, rows = _reach(box.top, h, out_h, kernel[0], stride[0], pads[0], dilation[0])
            left, width, col0, cols = _reach(box.left, w, out_w, kernel[1], stride[1], pads[1], dilation[1])
            if self._dry:
                out = clean_out.new_empty((len(top), clean_out.shape[1], height, width))
            else:
                out = run(_crops(self.clean[first], box, row0, col0, rows, cols, pad_value))
            self.macs += _macs(module, out)
            return _Box(out, top, left)
        if node.op == "call_function" and node.target in _POINTWISE_FUNCTIONS and isinstance(box, _Box):
            if any(isinstance(a, fx.Node) for a in (*node.args[1:], *node.kwargs.values())):
                return None
            kwargs = {**node.kwargs, "inplace": False} if "inplace" in node.kwargs else node.kwargs
            return _Box(node.target(box.patches, *node.args[1:], **kwargs), box.top, box.left)
        if node.op == "call_method" and node.target in _POINTWISE_METHODS and isinstance(box, _Box):
            if any(isinstance(a, fx.Node) for a in (*node.args[1:], *node.kwargs.values())):
                return None
            return _Box(getattr(box.patches, node.target)(*node.args[1:], **node.kwargs), box.top, box.left)
        op = _BINARY.get(node.target) if node.op == "call_function" else (
            _BINARY_METHODS.get(node.target) if node.op == "call_method" else None)
        if op is None or len(node.args) != 2 or node.kwargs:
            return None
        return self._binary(op, node, env)

    def _binary(self, op, node: fx.Node, env: dict) -> _Box | None:
        """``a op b`` with ``a`` and/or ``b`` a box and the other a box or a number: on the union of the boxes."""
        a, b = node.args
        numbers = [v for v in (a, b) if not isinstance(v, fx.Node)]
        if any(not isinstance(v, (int, float)) for v in numbers):
            return None
        operands = [v for v in (a, b) if isinstance(v, fx.Node)]
        if any(not isinstance(env[v], _Box) or self.clean[v].shape != self.clean[node].shape for v in operands):
            return None
        if len(operands) == 1:
            box = env[operands[0]]
            return _Box(op(box.patches, b) if operands[0] is a else op(a, box.patches), box.top, box.left)
        out_h, out_w = self.clean[node].shape[-2:]
        first, second = env[a], env[b]
        edges = []
        for axis, size in ((-2, out_h), (-1, out_w)):
            start_a = first.top if axis == -2 else first.left
            start_b = second.top if axis == -2 else second.left
            start = torch.minimum(start_a, start_b)
            end = torch.maximum(start_a + first.patches.shape[axis], start_b + second.patches.shape[axis])
            length = min(size, int((end - start).max()))
            edges.append((start.clamp(max=size - length), length))
        (top, height), (left, width) = edges
        left_operand = _crops(self.clean[a], first, top, left, height, width)
        right_operand = _crops(self.clean[b], second, top, left, height, width)
        return _Box(op(left_operand, right_operand), top, left)

    def mac_ratio(self, patch: int) -> float:
        """Multiply-accumulates of one ``patch x patch`` box in the middle of the image, as a share of full
        inference's (a dry run: box sizes only, no convolution computed)."""
        height, width = self.x.shape[-2:]
        h, w = min(patch, height), min(patch, width)
        before, self._dry = self.macs, True
        try:
            self.score(torch.zeros(1, self.x.shape[1], h, w, device=self.x.device, dtype=self.x.dtype),
                       torch.tensor([(height - h) // 2]), torch.tensor([(width - w) // 2]))
            return (self.macs - before) / max(self.full_macs, 1)
        finally:
            self.macs, self._dry = before, False

    def score(self, patches: torch.Tensor, top: torch.Tensor, left: torch.Tensor) -> torch.Tensor:
        """The model's outputs for ``B`` copies of the clean input, copy ``i`` with ``patches[i]``
        (``(B, C, h, w)``) written at row ``top[i]``, column ``left[i]`` (the box inside the image)."""
        h, w = patches.shape[-2:]
        height, width = self.x.shape[-2:]
        top, left = top.to(self.x.device).long(), left.to(self.x.device).long()
        if patches.dim() != 4 or patches.shape[1] != self.x.shape[1] or not len(top) == len(patches) == len(left):
            raise ValueError(f"patches: expected (B, {self.x.shape[1]}, h, w) with B tops and lefts, got "
                             f"{tuple(patches.shape)}, {len(top)}, {len(left)}")
        if len(top) and (int(top.min()) < 0 or int(left.min()) < 0 or int(top.max()) + h > height
                         or int(left.max()) + w > width):
            raise ValueError(f"top, left: every {h}x{w} box must lie inside the {height}x{width} image")
        env: dict[fx.Node, object] = {}
        with torch.inference_mode():
            for node in self.graph.graph.nodes:
                if node.op == "placeholder":
                    env[node] = _Box(patches.to(self.x), top, left)
                elif node.op == "output":
                    return _map(node.args[0], lambda v: self._full(v, env[v]) if isinstance(v, fx.Node) else v)
                else:
                    env[node] = self._step(node, env)
        raise AssertionError("graph without output")


INCREMENTAL = ("auto", "off")


def incremental_param() -> object:
    """The ``incremental`` field of a window method's spec (Occlusion Test, FMO)."""
    from .params import param
    return param("auto", choices=INCREMENTAL,
                 doc="Incremental inference (Krypton, Nakandala et al. 2019): recompute only the part of each "
                     "layer a window changes; same scores. 'auto': when the model can be traced and it saves "
                     "enough work; 'off': full inference.")


PROBE_BATCH = 32   # occluded copies per timed batch when the caller names no batch size


class IncrementalPlan:
    """Whether to score ``patch x patch`` occluders of ``x`` incrementally, per patch size (FMO's levels differ):
    ``mode`` ``"auto"`` uses an :class:`IncrementalModel` (traced once) when the model traces and one patch
    in the middle needs at most ``max_ratio`` of full inference's multiply-accumulates, and, on a device whose
    choices are measured (CUDA, :mod:`workbench.probe`), when a batch of ``batch`` such occluders also runs
    faster incrementally than by full inference; ``"off"`` never. Incremental inference runs in float32
    only: at a reduced ``precision`` the run's clean score and the occluded scores would come from different
    precisions, so it stays off. ``full_speedup``: how many times faster than torch full inference runs (a
    compiled runtime's speed-up measured by :mod:`workbench.execution`, named ``full_name``): the
    multiply-accumulate bound becomes ``max_ratio / full_speedup`` (incremental inference runs in torch)."""

    def __init__(self, module: nn.Module, x: torch.Tensor, mode: str = "auto", max_ratio: float = MAX_MAC_RATIO,
                 precision: str = "float32", clean_output: torch.Tensor | None = None, batch: int | None = None,
                 probe: PathProbe | None = None, full_speedup: float = 1.0, full_name: str = "torch"):
        if mode not in INCREMENTAL:
            raise ValueError(f"incremental: expected one of {INCREMENTAL}, got {mode!r}")
        self.module, self.x, self.mode, self.max_ratio, self.clean_output = module, x, mode, max_ratio, clean_output
        self.batch = batch or PROBE_BATCH
        self.probe = probe if probe is not None else probe_module.PROBE
        self.full_speedup, self.full_name = max(1.0, full_speedup), full_name
        self._model: IncrementalModel | None = None
        self._failure = ("incremental='off'" if mode == "off" else
                         f"precision {precision} (incremental inference runs in float32)" if precision != "float32"
                         else "")

    def model_for(self, patch: int) -> tuple[IncrementalModel | None, str]:
        """The model to score ``patch``-sized occluders with, or ``None`` for full inference; and a sentence
        saying which and why (for an Explanation's extras)."""
        key = ("incremental", tuple(self.x.shape), patch, self.batch)
        if self._model is None and not self._failure and self.probe.measures(self.x.device):   # measured: no trace
            known = self.probe.remembered(self.module, key, self.x.device, ("incremental", "full"))
            if known is not None and known[0] == "full":
                return None, f"full inference: faster ({self._timing(known[1])}, in an earlier run)"
        if self._model is None and not self._failure:
            try:
                self._model = IncrementalModel(self.module, self.x, self.clean_output)
            except NotIncremental as error:
                self._failure = str(error)
        if self._model is None:
            return None, f"full inference: {self._failure}"
        ratio = self._model.mac_ratio(patch)
        if ratio > self.max_ratio / self.full_speedup:
            against = (f"{self.max_ratio} / {self.full_name}'s measured {self.full_speedup:.2f}x speed-up over torch"
                       if self.full_speedup > 1 else f"{self.max_ratio}")
            return None, (f"full inference: incremental inference would need {ratio:.2f} of its "
                          f"multiply-accumulates (more than {against})")
        work = f"{ratio:.2f} of full inference's multiply-accumulates"
        if not self.probe.measures(self.x.device):
            return self._model, f"incremental inference (Krypton): {work}"
        choice, seconds = self.probe.choose(self.module, key, self._candidates(patch), self.x.device)
        timing = self._timing(seconds)
        if choice == "full":
            return None, f"full inference: faster ({timing}; incremental needs {work})"
        return self._model, f"incremental inference (Krypton): faster ({timing}); {work}"

    def _timing(self, seconds: dict[str, float]) -> str:
        return (f"measured on {self.x.device}, {self.batch} occluded copies: incremental "
                f"{1e3 * seconds['incremental']:.3g} ms, full {1e3 * seconds['full']:.3g} ms")

    def _candidates(self, patch: int) -> dict[str, Callable[[], object]]:
        """One batch of ``patch``-sized occluders in the middle of the image, scored each way."""
        height, width = self.x.shape[-2:]
        h, w = min(patch, height), min(patch, width)
        top, left = (height - h) // 2, (width - w) // 2
        patches = torch.zeros(self.batch, self.x.shape[1], h, w, device=self.x.device, dtype=self.x.dtype)
        tops = torch.full((self.batch,), top, device=self.x.device)
        lefts = torch.full((self.batch,), left, device=self.x.device)
        copies = self.x.expand(self.batch, *self.x.shape[1:]).clone()
        copies[:, :, top:top + h, left:left + w] = 0
        convolutions = [m.weight for m in self.module.modules() if isinstance(m, nn.Conv2d)]
        if convolutions and convolutions[0].is_contiguous(memory_format=torch.channels_last):
            copies = copies.contiguous(memory_format=torch.channels_last)   # as the engine feeds them

        def full() -> object:
            with torch.inference_mode():
                return self.module(copies)

        return {"incremental": lambda: self._model.score(patches, tops, lefts), "full": full}


def plan_incremental(module: nn.Module, x: torch.Tensor, patch: int, mode: str = "auto",
                     max_ratio: float = MAX_MAC_RATIO, precision: str = "float32",
                     clean_output: torch.Tensor | None = None, batch: int | None = None
                     ) -> tuple[IncrementalModel | None, str]:
    """:meth:`IncrementalPlan.model_for` of one patch size."""
    return IncrementalPlan(module, x, mode, max_ratio, precision, clean_output, batch).model_for(patch)


def occluded_boxes(x: torch.Tensor, fill: torch.Tensor, rows: tuple[torch.Tensor, torch.Tensor],
                   cols: tuple[torch.Tensor, torch.Tensor], size: int):
    """The boxes for :meth:`IncrementalModel.score` of copies of ``x`` (``(1,C,H,W)``) whose windows (rows
    ``rows[0][i]`` to ``rows[1][i]``, columns likewise, half-open) take ``fill``'s pixels: ``size x size``
    boxes inside the image holding the windows. Returns ``(patches, top, left)``."""
    height, width = x.shape[-2:]
    size_h, size_w = min(size, height), min(size, width)
    top, left = rows[0].clamp(max=height - size_h), cols[0].clamp(max=width - size_w)
    steps_h = torch.arange(size_h, device=x.device)
    steps_w = torch.arange(size_w, device=x.device)
    hidden_rows = (steps_h >= (rows[0] - top)[:, None]) & (steps_h < (rows[1] - top)[:, None])
    hidden_cols = (steps_w >= (cols[0] - left)[:, None]) & (steps_w < (cols[1] - left)[:, None])
    hidden = (hidden_rows[:, :, None] & hidden_cols[:, None, :])[:, None]

    def crops(image: torch.Tensor) -> torch.Tensor:
        return image.expand_as(x).unfold(2, size_h, 1).unfold(3, size_w, 1)[0][:, top, left].transpose(0, 1)

    return torch.where(hidden, crops(fill), crops(x)), top, left
