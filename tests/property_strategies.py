"""Strategies and the contract for the property-based tests (Hypothesis) in ``test_properties_*.py`` (split by
method family so that ``--dist loadfile`` spreads them over the cores): any image, any registered method, any
parameters its spec allows.

The contract (issue 26): a call returns an :class:`~workbench.Explanation` whose heatmap has the image's
height and width and only finite values, or raises ``ValueError``/``TypeError`` whose message starts with
the name of the argument at fault ("image: ...", "patch: ..."). Any other exception fails the test, and
Hypothesis prints the shrunk example. The image passed in is never changed. The same holds for
``perturbation_curve``/``evaluate``, ``sweep``, ``sanity_check``, ``ablation_ca`` and ``spray``.

What is drawn: image sides 16-700 px (non-square), uint8 / float32 / float64 arrays, 2-D and ``H x W x 1``
grayscale, RGBA, PIL images and tensors (float and uint8), noisy, flat or blocky content; a tiny bare module
or the same module as a ``ModelEntry`` with class names; targets as ``None``, an index (in range or not) or a
name (known or not); every parameter from its spec (ranges with their open ends, choices, FMO schedules,
lists of floats, label maps).

Cost (the suite must stay under 120 s on 2 cores; the profile is fixed in ``tests/conftest.py``): the model
is a 1-convolution network, and the parameters that only multiply the work without changing the code path
are drawn from the low end of their range: ``num_masks``, ``num_samples``, ``iterations``, ``contexts``,
superpixel counts, mask grid sizes, Extremal Perturbation's grid step (its Gaussian bumps and the margin
around the image grow with it; the 9 x 9 taps stay), and the window strides of Occlusion and FMO schedules (at least 1/8 of the longer image
side, so a level has at most about 81 windows). Segmentation (SLIC, quickshift), FMO's windows and the mask
generators' cost grows with the pixel count, so for the methods that use them one side still reaches 700
px but the area is capped (:data:`AREA`). Everything else about a parameter, its bounds included, is drawn.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from hypothesis import strategies as st
from PIL import Image
from torch import nn

import workbench as wb
from workbench.models.zoo import IMAGENET_MEAN, IMAGENET_STD, ModelEntry

EXAMPLES = int(__import__("os").environ.get("PROP_EX", 100))                 # per method (issue 26: at least 100)
CLASSES = ("cat", "dog", "car", "tree", "sky")
MIN_SIDE, MAX_SIDE = 16, 700

# upper ends for parameters that only multiply the cost
CHEAP = {"num_masks": 24, "num_samples": 24, "iterations": 3, "contexts": 12, "mask_resolution": 48,
         "patience": 5, "budget": 0.03, "n_segments": 120, "mask_step": 8, "steps": 4, "samples": 3}
# pixel-count caps for methods whose cost grows with the area beyond the model's
AREA = {"lime": 40_000, "ablation_ca": 20_000, "extremal_perturbation": 6_000, "meaningful_perturbation": 20_000,
        "fmo": 100_000, "integrated_gradients": 40_000, "smoothgrad": 40_000}
QUICKSHIFT_AREA = 6_000
ARGUMENTS = {"image", "target", "model", "seed", "method", "images", "explanation", "region", "steps", "values",
             "param", "metrics", "size", "k", "n_clusters", "repeats", "mode", "order", "fill"}


def tiny_module() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, len(CLASSES)))


MODULE = tiny_module()
ENTRY = ModelEntry(module=tiny_module(), class_names=CLASSES, input_size=(32, 32), mean=IMAGENET_MEAN,
                   std=IMAGENET_STD, name="tiny")


# -- strategies ------------------------------------------------------------------------------------------------
@st.composite
def sizes(draw, area: int | None = None):
    """(height, width), sides 16-700 px; with ``area`` the shorter side shrinks so that h * w <= area."""
    long = draw(st.integers(MIN_SIDE, MAX_SIDE))
    high = MAX_SIDE if area is None else max(MIN_SIDE, min(MAX_SIDE, area // long))
    short = draw(st.integers(MIN_SIDE, high))
    return (long, short) if draw(st.booleans()) else (short, long)


FORMS = ("uint8", "float32", "float64", "gray", "gray1", "rgba", "pil", "tensor", "tensor_uint8")


def make_image(size: tuple[int, int], form: str, content: str, seed: int):
    """An image of ``size`` in one of the accepted forms, generated with numpy (fast at 700 px)."""
    h, w = size
    rng = np.random.default_rng(seed)
    if content == "noise":
        rgb = rng.random((h, w, 3))
    elif content == "flat":
        rgb = np.full((h, w, 3), rng.random())
    else:  # blocks of colour
        cells = rng.random((4, 4, 3))
        rgb = cells[np.arange(h) * 4 // h][:, np.arange(w) * 4 // w]
    u8 = (rgb * 255).round().astype(np.uint8)
    if form == "uint8":
        return u8
    if form == "float32":
        return rgb.astype(np.float32)
    if form == "float64":
        return rgb
    if form == "gray":
        return rgb[:, :, 0]
    if form == "gray1":
        return u8[:, :, :1]
    if form == "rgba":
        return np.concatenate([u8, np.full((h, w, 1), 128, np.uint8)], axis=2)
    if form == "pil":
        return Image.fromarray(u8)
    if form == "tensor":
        return torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)
    return torch.from_numpy(u8).permute(2, 0, 1).contiguous()


@st.composite
def images(draw, area: int | None = None):
    size = draw(sizes(area))
    image = make_image(size, draw(st.sampled_from(FORMS)), draw(st.sampled_from(("noise", "flat", "blocks"))),
                       draw(st.integers(0, 2**16)))
    return size, image


def models():
    return st.sampled_from((MODULE, ENTRY))


def targets(model):
    names = st.sampled_from(CLASSES + ("unicorn",))
    return st.one_of(st.none(), st.integers(-1, len(CLASSES)), names)


def number(info, integer: bool):
    low = info.low if info.low is not None else (-10 if not integer else 0)
    high = info.high if info.high is not None else 10
    high = min(high, CHEAP.get(info.name, high))
    if integer:
        return st.integers(int(math.ceil(low)), int(high))
    return st.floats(low, high, exclude_min=info.open_low, exclude_max=info.open_high and high == info.high,
                     allow_nan=False)


@st.composite
def schedules(draw, size):
    """None (the default scaled to the image), or 1-4 levels coarse to fine, sometimes out of order or with a
    patch larger than the image (errors the spec must name)."""
    if draw(st.booleans()):
        return None
    side, longest = min(size), max(size)
    least = max(1, longest // 8)
    levels = []
    for _ in range(draw(st.integers(1, 4))):
        stride = draw(st.integers(least, max(least, side + 8)))
        patch = draw(st.integers(max(1, stride - 2), max(1, stride) * 3))
        levels.append((patch, stride))
    if draw(st.booleans()):
        levels.sort(reverse=True)
    return levels


@st.composite
def label_maps(draw, size):
    h, w = size
    if draw(st.integers(0, 9)) == 0:
        return np.zeros((h + 1, w), dtype=np.int64)                  # wrong shape: "segments: ..."
    k = draw(st.integers(1, 6))
    return (np.arange(h)[:, None] * k // h + np.arange(w)[None, :] * 0).astype(np.int64)


@st.composite
def parameters(draw, method: str, size):
    """Keyword parameters for ``method``: each parameter left at its default or drawn from its spec."""
    params = {}
    for info in wb.methods()[method].params:
        if draw(st.integers(0, 2)) == 0 and info.kind != "array" and info.name not in CHEAP:
            continue                                                  # keep the default
        if info.kind == "int":
            value = draw(number(info, integer=True))
        elif info.kind == "float":
            value = draw(number(info, integer=False))
        elif info.kind == "bool":
            value = draw(st.booleans())
        elif info.kind == "choice":
            value = draw(st.sampled_from(info.choices))
        elif info.kind == "floats":
            value = draw((st.none() if info.default is None else st.nothing())
                         | st.lists(number(info, integer=False), min_size=1, max_size=4))
        elif info.kind == "schedule":
            value = draw(schedules(size))
        elif info.kind == "array":
            value = draw(st.none() | label_maps(size))
        elif info.kind == "layer":                                    # a bad name: "layer: ..."
            value = draw(st.sampled_from(["auto", "auto", "no_such_layer"]))
        else:  # pragma: no cover - a new kind needs a strategy here
            raise AssertionError(info.kind)
        params[info.name] = value
    if method == "occlusion":                                         # windows: at most about 81
        longest = max(size)
        params["stride"] = draw(st.integers(max(1, longest // 8), 4096))
        params["patch"] = draw(st.integers(1, min(4096, longest + 16)))
    if params.get("segmenter") == "quickshift" and size[0] * size[1] > QUICKSHIFT_AREA:
        params["segmenter"] = "slic"
    return params


# -- the contract ---------------------------------------------------------------------------------------------
def snapshot(image):
    if isinstance(image, Image.Image):
        return np.asarray(image).copy()
    return image.clone() if isinstance(image, torch.Tensor) else image.copy()


def unchanged(image, before) -> bool:
    if isinstance(image, Image.Image):
        return np.array_equal(np.asarray(image), before)
    return torch.equal(image, before) if isinstance(image, torch.Tensor) else np.array_equal(image, before)


def outcome(call, names):
    """The call's result, or None when it raised ValueError/TypeError naming one of ``names``."""
    try:
        return call()
    except (ValueError, TypeError) as error:
        head = str(error).split(":", 1)[0]
        assert head in names, f"{type(error).__name__} that names no argument: {error}"
        return None


def check_heatmap(heatmap, size):
    heatmap = np.asarray(heatmap)
    assert heatmap.shape == tuple(size), (heatmap.shape, size)
    assert np.isfinite(heatmap).all()


def explains_any_image_or_names_the_bad_argument(method: str, data) -> None:
    """One example of the contract for ``method`` (each test module runs it for its family of methods)."""
    size, image = data.draw(images(AREA.get(method)), label="image")
    model = data.draw(models(), label="model")
    target = data.draw(targets(model), label="target")
    params = data.draw(parameters(method, size), label="params")
    seed = data.draw(st.integers(0, 3), label="seed")
    before = snapshot(image)
    names = ARGUMENTS | {p.name for p in wb.methods()[method].params}
    e = outcome(lambda: wb.explain(model, image, method, target=target, seed=seed, **params), names)
    assert unchanged(image, before)
    if e is not None:
        assert isinstance(e, wb.Explanation)
        check_heatmap(e.heatmap, size)
        assert 0 <= e.target < len(CLASSES)


def methods_of(*families: str) -> list[str]:
    return sorted(name for name, m in wb.methods().items() if m.family in families)
