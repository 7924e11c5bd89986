"""The model zoo: ``load_model(name)`` returns a :class:`ModelEntry` (module + preprocessing + labels).

No function here downloads anything. The shipped shapes models load from weight files inside the package;
torchvision architectures get random weights unless the user passes a weights file they already have.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..device import resolve_device
from ..geometry import Framing
from ..images import as_image_tensor
from .shapes import WEIGHTS_DIR, ShapesNet

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelEntry:
    """A model with everything needed to feed it.

    Attributes:
        module: the ``torch.nn.Module`` (maps a normalised ``(N,3,H,W)`` batch to ``(N, n_classes)`` logits).
        class_names: one name per output.
        input_size: ``(H, W)`` the model was trained at (inputs of other sizes are accepted where the
            architecture allows; images are never resized implicitly).
        mean, std: per-channel normalisation applied by :meth:`preprocess`.
        multilabel: sigmoid outputs (True) or softmax (False).
        name: the zoo name.
        framing: how a photo is framed for this model (resize the shorter side, centre-crop), applied by
            :meth:`frame`; ``None``: images are used as they are. Explanations are computed on the image they
            are given, so frame a photo first (``entry.frame(photo)``) to explain what the model was trained
            to see; masks and boxes go through the same :class:`~workbench.geometry.Framing`.
    """

    module: nn.Module
    class_names: tuple[str, ...]
    input_size: tuple[int, int]
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    multilabel: bool = False
    name: str = "custom"
    info: dict = field(default_factory=dict, compare=False)
    framing: Framing | None = None

    @property
    def device(self) -> torch.device:
        first = next(self.module.parameters(), None)
        return first.device if first is not None else torch.device("cpu")

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """``(N,3,H,W)`` in [0,1] -> normalised for the module."""
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def preprocess(self, image) -> torch.Tensor:
        """Any accepted image (see :func:`workbench.images.as_image_tensor`) -> ``(1,3,H,W)`` normalised."""
        return self.normalise(as_image_tensor(image).unsqueeze(0))

    def frame(self, image) -> np.ndarray:
        """Any accepted image -> ``H x W x 3`` float32 in [0, 1], framed as the model expects (a copy of the
        image itself when the entry has no :attr:`framing`)."""
        t = as_image_tensor(image)
        if self.framing is not None:
            t = self.framing.image(t)
        return t.permute(1, 2, 0).cpu().numpy()

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Sigmoid for multi-label models, softmax otherwise; computed as the exponential of the log form so
        that the gradient of a saturated probability (1.0 in float32) is tiny instead of exactly zero, which
        keeps mask optimisers (Meaningful Perturbation) moving on confident models."""
        if self.multilabel:
            return torch.exp(torch.nn.functional.logsigmoid(logits))
        return torch.exp(torch.log_softmax(logits, dim=-1))


def wrap_module(module: nn.Module) -> ModelEntry:
    """A bare module as a :class:`ModelEntry`: identity preprocessing on [0,1] images."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"model: expected a ModelEntry or torch.nn.Module, got {type(module).__name__}")
    n_out = getattr(module, "out_features", None)
    names = tuple(str(i) for i in range(n_out)) if isinstance(n_out, int) else ()
    return ModelEntry(module=module, class_names=names, input_size=(0, 0), name=type(module).__name__)


def _load_shapes(weights: str | Path | None, default_file: str) -> tuple[nn.Module, dict]:
    path = Path(weights) if weights is not None else WEIGHTS_DIR / default_file
    if not path.is_file():
        if weights is None:
            raise FileNotFoundError(f"name: this version does not ship weights for that model ({str(path)!r}); "
                                    f"train them with python -m workbench.models.train_shapes or pass weights=")
        raise FileNotFoundError(f"weights: no file at {str(path)!r}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    module = ShapesNet(n_classes=len(checkpoint["class_names"]), width=int(checkpoint["width"]))
    module.load_state_dict(checkpoint["state_dict"])
    return module, checkpoint


_TORCHVISION = ("resnet18", "resnet50", "vgg11", "vgg16", "densenet121", "mobilenet_v2", "inception_v3")


def _imagenet_class_names() -> tuple[str, ...]:
    try:
        from torchvision.models import ResNet18_Weights

        return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])
    except Exception:  # pragma: no cover - older torchvision
        return tuple(f"class {i}" for i in range(1000))


def _load_torchvision(name: str, weights: str | Path | None) -> nn.Module:
    import torchvision

    options = {"aux_logits": False, "init_weights": False} if name == "inception_v3" else {}
    module = getattr(torchvision.models, name)(weights=None, **options)
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(f"weights: no file at {str(path)!r}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        module.load_state_dict(state.get("state_dict", state) if isinstance(state, dict) else state)
    return module


def available_models() -> tuple[str, ...]:
    """Models that load here: the shipped shapes models, then torchvision architectures."""
    shipped = tuple(name for name in ("shapes", "shapes-watermark")
                    if (WEIGHTS_DIR / f"{name.replace('-', '_')}.pt").is_file())
    return shipped + _TORCHVISION


def load_model(name: str = "shapes", device: str | torch.device = "auto",
               weights: str | Path | None = None) -> ModelEntry:
    """Load a model from the zoo, in eval mode, on ``device`` (``"auto"``: CUDA, then MPS, then CPU).

    Args:
        name: ``"shapes"`` (shipped, trained), ``"shapes-watermark"`` (once its weights ship) or a torchvision
            architecture (``"resnet18"``, ``"resnet50"``, ``"vgg11"``, ``"vgg16"``, ``"densenet121"``,
            ``"mobilenet_v2"``, ``"inception_v3"``).
        weights: a local weights file. Torchvision models without one get random weights (fine for speed
            work, meaningless as explanations); nothing is ever downloaded.

    >>> entry = load_model("shapes", device="cpu")
    >>> entry.class_names
    ('circle', 'square', 'triangle', 'cross', 'star')
    """
    dev = resolve_device(device)
    if name in ("shapes", "shapes-watermark"):
        module, ckpt = _load_shapes(weights, f"{name.replace('-', '_')}.pt")
        entry = ModelEntry(module=module.to(dev).eval(), class_names=tuple(ckpt["class_names"]),
                           input_size=tuple(ckpt["input_size"]), mean=tuple(ckpt["mean"]), std=tuple(ckpt["std"]),
                           multilabel=True, name=name, info=dict(ckpt.get("info", {})))
        return entry
    if name in _TORCHVISION:
        module = _load_torchvision(name, weights)
        size = (299, 299) if name == "inception_v3" else (224, 224)
        return ModelEntry(module=module.to(dev).eval(), class_names=_imagenet_class_names(), input_size=size,
                          mean=IMAGENET_MEAN, std=IMAGENET_STD, multilabel=False, name=name,
                          info={"weights": str(weights) if weights else "random"})
    raise ValueError(f"name: unknown model {name!r}; expected one of {available_models()}")


def module_on(entry: ModelEntry, device: torch.device) -> nn.Module:
    """The entry's module on ``device``: itself if it is there, else a copy (the user's module is never moved)."""
    if entry.device == device or (entry.device.type == device.type and device.index is None):
        return entry.module
    import copy

    return copy.deepcopy(entry.module).to(device)


def as_model_entry(model) -> ModelEntry:
    return model if isinstance(model, ModelEntry) else wrap_module(model)
