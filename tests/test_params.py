"""Parameter specs: validation with the name in the message, dict round-trip, registry listing."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

import workbench as wb
from workbench.params import Spec, param


@dataclass(frozen=True)
class Demo(Spec):
    count: int = param(10, low=2, high=100, doc="How many.")
    share: float = param(0.5, low=0.0, high=1.0, open_low=True, open_high=True)
    mode: str = param("mean", choices=("mean", "blur"))
    flag: bool = param(False)
    levels: tuple = param(((8, 4),), kind="schedule")
    areas: tuple = param((0.1, 0.2))


def test_round_trip_and_defaults():
    spec = Demo()
    assert Demo.from_dict(spec.to_dict()) == spec
    assert [p.name for p in Demo.params()] == ["count", "share", "mode", "flag", "levels", "areas"]
    assert Demo.params()[0].doc == "How many." and Demo.params()[0].kind == "int"
    assert Demo(levels=[[8, 4], (4, 2)]).levels == ((8, 4), (4, 2))


@pytest.mark.parametrize("values,error,match", [
    ({"count": 1}, ValueError, "count: expected an integer >= 2 and <= 100, got 1"),
    ({"share": 1.0}, ValueError, "share: expected a number > 0 and < 1, got 1.0"),
    ({"share": float("nan")}, ValueError, "share: expected a number"),
    ({"mode": "median"}, ValueError, r"mode: expected one of \['mean', 'blur'\], got 'median'"),
    ({"flag": 1}, TypeError, "flag: expected True or False"),
    ({"levels": []}, ValueError, "levels: expected at least one"),
    ({"levels": [(8, 0)]}, ValueError, "levels: level 1 stride must be a positive integer"),
    ({"levels": [(8,)]}, ValueError, "levels: level 1 must be a"),
    ({"areas": "0.1"}, TypeError, "areas: expected a list of numbers"),
    ({"nope": 1}, TypeError, "nope: not a parameter"),
])
def test_invalid_values_name_the_parameter(values, error, match):
    with pytest.raises(error, match=match):
        Demo.from_dict(values)


def test_registry_lists_methods_with_their_specs():
    listed = wb.methods()
    assert "occlusion" in listed
    occ = listed["occlusion"]
    names = {p.name: p for p in occ.params}
    assert names["patch"].default == 16 and names["patch"].low == 1
    assert occ.citation and occ.label


def test_every_registered_method_runs_with_its_defaults_on_a_tiny_model():
    import torch
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.AdaptiveAvgPool2d(1),
                                torch.nn.Flatten(), torch.nn.Linear(4, 3))
    from torchvision.models.vision_transformer import VisionTransformer

    # methods that read attention weights get a tiny vision transformer (48 px, 16 px patches, one block)
    transformer = VisionTransformer(image_size=48, patch_size=16, num_layers=1, num_heads=2, hidden_dim=16,
                                    mlp_dim=32, num_classes=3)
    image = torch.rand(3, 48, 48)
    for name, method in wb.methods().items():
        defaults = method.spec().to_dict()
        # every default but the mask learners' step count, which changes only the time (Extremal
        # Perturbation's 800 steps took 44 s of CPU here)
        short = {"iterations": 10} if "iterations" in defaults else {}
        e = wb.explain(transformer if method.reads_attention else model, image, name, **short)
        assert e.heatmap.shape == (48, 48) and e.method == name
        assert e.params == {**defaults, **short, **({"seed": 0} if e.seed is not None else {})}
