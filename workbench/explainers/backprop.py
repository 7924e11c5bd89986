"""Backpropagation explainers built on Zennit's composites, rules and canonizers (Anders et al.,
"Software for Dataset-wide XAI: From Local Explanations to Global Insights with Zennit, CoRelAy, and
ViRelAy", 2021).

- ``gradient``: sensitivity ``d f_c / d x`` (Simonyan, Vedaldi & Zisserman 2014).
- ``deconvnet`` (Zeiler & Fergus 2014) and ``guided_backprop`` (Springenberg et al. 2015): modified ReLU
  backward passes (on ``nn.ReLU`` and ``nn.ReLU6``).
- ``lrp_epsilon``: LRP-epsilon on every convolution and linear layer (Bach et al. 2015, eq. 58).
- ``lrp_alpha2_beta1``: alpha-beta rule on convolutions, epsilon on linear layers (Zennit's
  ``EpsilonAlpha2Beta1`` when alpha=2, beta=1).
- ``deep_taylor``: z+ on convolutions with a flat first layer, epsilon on linear layers (Montavon et al.,
  "Explaining nonlinear classification decisions with deep Taylor decomposition", 2017; Zennit's
  ``EpsilonPlusFlat``).
- ``lrp_epsilon_gamma_box``: z^B (box) on the first layer with bounds from the model's normalisation of
  [0, 1] pixels, gamma on other convolutions, epsilon on linear layers (Zennit's ``EpsilonGammaBox``).

The rules are Zennit's own rule objects, applied by :mod:`.rule_hooks` without the passes Zennit makes and
throws away (same relevance as Zennit's ``Gradient`` attributor, within float rounding; 1.3-1.6x faster on
resnet18 on a CPU). Canonizers merge BatchNorm into the preceding layer (``SequentialMergeBatchNorm``; ``ResNetCanonizer`` and
``VGGCanonizer`` for torchvision ResNets and VGGs; :func:`mbconv_residual_canonizer` for EfficientNet-Lite's
residual additions); they are undone and every hook removed when the call
ends, also on error. The output is the relevance (or gradient) with respect to the normalised input;
``extras["relevance"]`` keeps its ``3 x H x W`` channels.

Initial relevance: the LRP family starts from ``R = f_c(x)`` at the target output (Bach et al. 2015: the
relevance to distribute is the prediction), so a conserving rule gives input relevances summing to the
logit; ``extras["conservation"] = sum(relevance) / f_c(x)`` shows how far a model breaks it, and
``extras["absorbed"]`` the share the layers kept (their biases and the rules' stabilisers; with every operation
between them conserving, conservation + absorbed = 1: on EfficientNet-Lite0 the merged BatchNorm biases
keep most of the logit under LRP-epsilon). Gradient,
Deconvnet and Guided Backprop start from the one-hot vector (the gradient of the target logit).
Cost: 1 forward + 1 backward pass (the forward is also the clean pass that picks the top-1 target).

Transformers (a model with attention layers): only ``gradient`` runs here (AttnLRP: :mod:`.attnlrp`); the LRP
rules and modified ReLUs are written for convolutional networks and refuse them, naming the transformer methods.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from ..models.zoo import ModelEntry
from ..params import Spec, param
from .attention_weights import TRANSFORMER_METHODS, attention_layers
from .registry import Context, MethodOutput, register
from .rule_hooks import rules_registered

HEATS = ("sum", "abs-sum")
# Zennit's DeconvNet and GuidedBackprop composites give their ReLU rule to ``nn.ReLU`` only; a network of ReLU6
# (EfficientNet-Lite0, MobileNetV2) kept the plain gradient through every activation, so Deconvnet and Guided
# Backprop there were one and the same map (measured: equal AOPC on every photo). ReLU6 gets the same rules.
CLIPPED_RELUS = (nn.ReLU6,)
CANONIZE = ("auto", "off")


def heat_param() -> object:
    """The ``heat`` parameter of methods whose attribution has the input's 3 channels: how they become a map."""
    return param("sum", choices=HEATS, doc="Heatmap from the 3 input channels: signed sum or sum of |.|.")


def mbconv_residual_canonizer():
    """A Zennit canonizer for the residual addition of EfficientNet's MBConv blocks, as Zennit's
    ``ResNetCanonizer`` does for torchvision's blocks: the block's ``branch(x) + x`` becomes a Zennit ``Sum``
    over the stacked summands, so the composites' ``Norm`` rule splits the relevance between the branch and the
    shortcut in proportion to their contributions (a plain ``+`` would hand the full relevance to both)."""
    from zennit.canonizers import AttributeCanonizer
    from zennit.layer import Sum

    from ..models.efficientnet_lite import MBConvBlock

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        return self.canonizer_sum(torch.stack([x, out], dim=-1)) if self.has_residual else out

    def attributes(name: str, module: nn.Module):
        if isinstance(module, MBConvBlock):
            return {"forward": forward.__get__(module), "canonizer_sum": Sum()}
        return None

    return AttributeCanonizer(attributes)


def canonizers_for(module: nn.Module) -> list:
    """Zennit canonizers for an architecture: ResNet/VGG ones for torchvision models, BatchNorm merging plus
    the residual canonizer for EfficientNet-Lite, else BatchNorm merging."""
    from zennit.canonizers import SequentialMergeBatchNorm
    from zennit.torchvision import ResNetCanonizer, VGGCanonizer

    kind = type(module).__name__
    if kind == "ResNet":
        return [ResNetCanonizer()]
    if kind == "VGG":
        return [VGGCanonizer()]
    if kind == "EfficientNetLite0":
        return [SequentialMergeBatchNorm(), mbconv_residual_canonizer()]
    return [SequentialMergeBatchNorm()]


def check_rules_cover(module: nn.Module) -> None:
    """LRP rules exist for convolutions, linear layers and BatchNorm; any other layer with parameters would
    silently fall back to the gradient, so refuse it, naming the layer."""
    from zennit.types import BatchNorm, Convolution, Linear

    for name, layer in module.named_modules():
        own_params = list(layer.parameters(recurse=False))
        if own_params and not isinstance(layer, (Convolution, Linear, BatchNorm)):
            raise ValueError(f"model: layer {name!r} ({type(layer).__name__}) has parameters but no LRP rule "
                             f"applies to it; use 'gradient' or a model of convolutions and linear layers")


def refuse_transformers(module: nn.Module, method: str) -> None:
    """The LRP rules and modified ReLUs here are written for convolutional networks (no rule for attention,
    LayerNorm or GELU): on a transformer they would give a map that looks fine and means nothing, so refuse it,
    naming the methods that do explain transformers."""
    layers = attention_layers(module)
    if layers:
        name, layer = layers[0]
        raise ValueError(f"model: {type(module).__name__} is a transformer (attention layer {name!r}, "
                         f"{type(layer).__name__}); {method}'s rules are written for convolutional networks; "
                         f"use {' or '.join(repr(m) for m in TRANSFORMER_METHODS)} (or a perturbation method)")


@dataclass(frozen=True)
class GradientSpec(Spec):
    citation = "Simonyan, Vedaldi & Zisserman 2014"
    description = (
        'The gradient of the target logit with respect to the pixels (one backward pass); '
        'red/blue: brightening the pixel would raise/lower the score locally.'
    )
    heat: str = heat_param()

    def planned_passes(self, height: int, width: int) -> int:
        """One forward pass (and its backward pass)."""
        return 1


@dataclass(frozen=True)
class ModifiedReluSpec(GradientSpec):
    """The gradient's ``heat`` and a BatchNorm merge (the LRP rules and the modified ReLUs)."""
    citation = "Zeiler & Fergus 2014; Springenberg et al. 2015"
    description = (
        'Backpropagates through ReLUs with modified rules (only positive signals); '
        "a bright pixel is an input pattern that excites the target's evidence."
    )
    canonize: str = param("auto", choices=CANONIZE, doc="Merge BatchNorm layers first (auto) or not (off).")


@dataclass(frozen=True)
class EpsilonSpec(ModifiedReluSpec):
    citation = "Bach et al., PLOS ONE 2015"
    description = (
        'Layer-wise relevance propagation: the target logit is redistributed layer by layer to the pixels '
        '(relevance is conserved); red: evidence for the class, blue: against it.'
    )
    epsilon: float = param(1e-6, low=0.0, high=10.0, log=True, doc="Stabiliser of the epsilon rule.")


@dataclass(frozen=True)
class AlphaBetaSpec(EpsilonSpec):
    citation = "Bach et al., PLOS ONE 2015"
    alpha: float = param(2.0, low=1.0, high=10.0, step=0.5, doc="Weight of positive contributions (alpha - beta = 1).")
    beta: float = param(1.0, low=0.0, high=9.0, step=0.5, doc="Weight of negative contributions.")

    def check(self) -> None:
        if abs(self.alpha - self.beta - 1.0) > 1e-9:
            raise ValueError(f"beta: alpha - beta must be 1 for conservation, got alpha={self.alpha}, beta={self.beta}")


@dataclass(frozen=True)
class DeepTaylorSpec(EpsilonSpec):
    citation = "Montavon et al., Pattern Recognition 2017"


@dataclass(frozen=True)
class GammaBoxSpec(EpsilonSpec):
    citation = "Montavon et al., Pattern Recognition 2017; Kohlbrenner et al. 2020"
    gamma: float = param(0.25, low=0.0, high=10.0, step=0.05, doc="Gamma rule: weight of positive weights.")


Box = Callable[[], tuple[torch.Tensor, torch.Tensor]]
Composite = Callable[[Spec, list, Box], object]


def input_box(model: ModelEntry, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Bounds of the normalised input: the model's normalisation of all-0 and all-1 pixels."""
    return model.normalise(torch.zeros_like(images)), model.normalise(torch.ones_like(images))


def relevance(module: nn.Module, composite, x: torch.Tensor, pick_targets: Callable[[torch.Tensor], torch.Tensor],
              scale_by_output: bool, absorbed: list | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(output (N,K), relevance (N,C,H,W))``: Zennit's rules (see :mod:`.rule_hooks`, which applies them
    without Zennit's redundant passes; same numbers as Zennit's ``Gradient`` attributor) for a batch ``x``.

    The output relevance (Zennit's ``attr_output``) is the one-hot vector of each image's target, times the
    output for the LRP family; ``pick_targets(output)`` chooses the ``(N,)`` targets from the forward pass.
    In eval mode every rule acts on each image alone, so a batch gives each image the relevance it gets on
    its own. ``absorbed`` collects the relevance each rule layer keeps (see :func:`.rule_hooks.rules_registered`).
    """
    def attr_output(out: torch.Tensor) -> torch.Tensor:
        one_hot = torch.nn.functional.one_hot(pick_targets(out), out.shape[-1]).to(out.dtype)
        return one_hot * out if scale_by_output else one_hot

    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad(), (rules_registered(composite, module, absorbed) if composite is not None else nullcontext()):
        output = module(x)
        attribution, = torch.autograd.grad(output, x, grad_outputs=attr_output(output.detach()))
    return output.detach(), attribution.detach()


def heat_of(channels: torch.Tensor, heat: str) -> torch.Tensor:
    """``(..., C, H, W)`` relevance -> ``(..., H, W)`` heatmap: signed sum or sum of absolute values."""
    return channels.sum(-3) if heat == "sum" else channels.abs().sum(-3)


@dataclass(frozen=True)
class Rules:
    """One backpropagation method: its name, its composite (see :func:`backprop_method`), its initial relevance
    and whether it explains transformers (only the plain gradient does)."""

    name: str
    composite: Composite
    lrp: bool
    transformers: bool = False

    def check_model(self, module: nn.Module, method: str) -> None:
        """Refuse a model the rules cannot explain: a transformer (unless the method explains them), a layer with
        parameters no LRP rule covers."""
        if not self.transformers:
            refuse_transformers(module, method)
        if self.lrp:
            check_rules_cover(module)

    def composite_for(self, spec: Spec, module: nn.Module, box: Box):
        """The Zennit composite for ``module``, with its canonizers (``spec.canonize``); transformers are refused
        by the methods written for convolutional networks; LRP rules cover convolutions and linear layers only,
        so other layers with parameters are refused first."""
        self.check_model(module, self.name)
        canonizers = [] if getattr(spec, "canonize", "off") == "off" else canonizers_for(module)
        return self.composite(spec, canonizers, box)

    def heatmaps(self, spec: Spec, model: ModelEntry, module: nn.Module, images: torch.Tensor,
                 targets: torch.Tensor | None) -> torch.Tensor:
        """``(N,H,W)`` heatmaps for a batch of ``(N,3,H,W)`` images in [0,1] on the module's device: one forward
        and one backward pass for the whole batch. ``targets``: ``(N,)`` class indices, or ``None`` for each
        image's top-1 class."""
        composite = self.composite_for(spec, module, lambda: input_box(model, images))
        pick = (lambda out: out.argmax(-1)) if targets is None else (lambda out: targets)
        _, channels = relevance(module, composite, model.normalise(images), pick, scale_by_output=self.lrp)
        return heat_of(channels, spec.heat)

    def run(self, ctx: Context, spec: Spec) -> MethodOutput:
        composite = self.composite_for(spec, ctx.module, lambda: input_box(ctx.model, ctx.image))
        absorbed: list[torch.Tensor] = []
        with ctx.autocast():
            output, channels = relevance(ctx.module, composite, ctx.x,
                                         lambda out: torch.tensor([ctx.observe_clean(out[0].float())],
                                                                  device=out.device),
                                         scale_by_output=self.lrp, absorbed=absorbed)
        ctx.count(forward=1, backward=1)
        channels = channels[0]
        score = float(output[0, ctx.target])
        extras = {"relevance": channels.float().cpu().numpy(), "output": score}
        if self.lrp:
            kept = float(sum(a[0] for a in absorbed)) if absorbed else 0.0
            extras["conservation"] = float(channels.sum()) / score if score != 0 else float("nan")
            extras["absorbed"] = kept / score if score != 0 else float("nan")
        return MethodOutput(heatmap=heat_of(channels, spec.heat), extras=extras)


def backprop_method(name: str, spec: type[Spec], label: str, lrp: bool = False,
                    transformers: bool = False) -> Callable[[Composite], Composite]:
    """Decorator that registers a backpropagation method from its rule set: ``composite(spec, canonizers, box)``
    returns the Zennit composite (``None`` for the plain gradient; ``box()`` gives the bounds of the
    normalised input for the z^B rule). ``lrp``: the relevance starts from the logit, not the one-hot
    gradient. ``transformers``: the method explains transformers too (else they are refused). The registration
    carries the rules to :func:`workbench.explain` and, batched, to
    :func:`workbench.explain_batch`."""

    def decorate(composite: Composite) -> Composite:
        rules = Rules(name, composite, lrp, transformers)
        register(name, spec=spec, label=label, family="backprop", citation=spec.citation, needs_clean_pass=False,
                 gradients=True, batch=rules.heatmaps, check_model=rules.check_model)(rules.run)
        return composite

    return decorate


@backprop_method("gradient", GradientSpec, "Gradient (sensitivity)", transformers=True)
def gradient_rules(spec: GradientSpec, canonizers: list, box: Box) -> None:
    return None


@backprop_method("deconvnet", ModifiedReluSpec, "Deconvnet")
def deconvnet_rules(spec: ModifiedReluSpec, canonizers: list, box: Box):
    from zennit.composites import DeconvNet
    from zennit.rules import ReLUDeconvNet

    return DeconvNet(layer_map=[(CLIPPED_RELUS, ReLUDeconvNet())], canonizers=canonizers)


@backprop_method("guided_backprop", ModifiedReluSpec, "Guided Backprop")
def guided_backprop_rules(spec: ModifiedReluSpec, canonizers: list, box: Box):
    from zennit.composites import GuidedBackprop
    from zennit.rules import ReLUGuidedBackprop

    return GuidedBackprop(layer_map=[(CLIPPED_RELUS, ReLUGuidedBackprop())], canonizers=canonizers)


@backprop_method("lrp_epsilon", EpsilonSpec, "LRP-epsilon", lrp=True)
def lrp_epsilon_rules(spec: EpsilonSpec, canonizers: list, box: Box):
    from zennit.composites import LayerMapComposite, layer_map_base
    from zennit.rules import Epsilon
    from zennit.types import Convolution

    rule = Epsilon(epsilon=spec.epsilon)
    return LayerMapComposite(layer_map=layer_map_base() + [(Convolution, rule), (nn.Linear, rule)],
                             canonizers=canonizers)


@backprop_method("lrp_alpha2_beta1", AlphaBetaSpec, "LRP-alpha2beta1", lrp=True)
def lrp_alpha_beta_rules(spec: AlphaBetaSpec, canonizers: list, box: Box):
    from zennit.composites import LayerMapComposite, layer_map_base
    from zennit.rules import AlphaBeta, Epsilon
    from zennit.types import Convolution

    return LayerMapComposite(
        layer_map=layer_map_base() + [(Convolution, AlphaBeta(alpha=spec.alpha, beta=spec.beta)),
                                      (nn.Linear, Epsilon(epsilon=spec.epsilon))],
        canonizers=canonizers)


@backprop_method("deep_taylor", DeepTaylorSpec, "Deep Taylor (EpsilonPlusFlat)", lrp=True)
def deep_taylor_rules(spec: DeepTaylorSpec, canonizers: list, box: Box):
    from zennit.composites import EpsilonPlusFlat

    return EpsilonPlusFlat(epsilon=spec.epsilon, canonizers=canonizers)


@backprop_method("lrp_epsilon_gamma_box", GammaBoxSpec, "LRP EpsilonGammaBox", lrp=True)
def gamma_box_rules(spec: GammaBoxSpec, canonizers: list, box: Box):
    from zennit.composites import EpsilonGammaBox

    low, high = box()
    return EpsilonGammaBox(low=low, high=high, epsilon=spec.epsilon, gamma=spec.gamma, canonizers=canonizers)
