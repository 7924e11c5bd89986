"""One seed, one map on every device (workbench.seeding): every seeded draw is made on the CPU and then moved,
so the numbers a seed draws do not depend on the device named. A CPU-only machine checks it by naming the
"meta" device (shapes without values) and recording what passes through ``seeding.on_device``."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

import workbench as wb
from workbench import seeding
from workbench.engine import Engine
from workbench.explainers.ablation_ca import ablation_contexts
from workbench.explainers.lime import lime_samples
from workbench.explainers.registry import Context
from workbench.explainers.rise import RiseMasks
from workbench.progress import Controls


@pytest.fixture
def recorded(monkeypatch):
    """The CPU tensors handed to ``seeding.on_device``, with the device each went to."""
    seen: list[tuple[torch.Tensor, torch.device]] = []
    real = seeding.on_device

    def record(drawn: torch.Tensor, device) -> torch.Tensor:
        seen.append((drawn.clone(), torch.device(device)))
        return real(drawn, device)

    monkeypatch.setattr(seeding, "on_device", record)
    return seen


def _draws(recorded, device: str, draw) -> list[torch.Tensor]:
    recorded.clear()
    result = draw(device)
    assert result.device.type == device
    assert recorded and all(d.device.type == "cpu" and to.type == device for d, to in recorded)
    return [d for d, _ in recorded]


@pytest.mark.parametrize("draw", [
    lambda device: RiseMasks(150, 5, 0.4, 40, 50, seed=7, device=device)(0, 150),
    lambda device: lime_samples(seeding.cpu_generator(4), 300, 17, device),
    lambda device: ablation_contexts(seeding.cpu_generator(5), 64, 12, 0.3, device),
], ids=["rise", "lime", "ablation_ca"])
def test_a_seed_draws_the_same_numbers_whatever_the_device(recorded, draw):
    on_cpu, on_meta = _draws(recorded, "cpu", draw), _draws(recorded, "meta", draw)
    assert len(on_cpu) == len(on_meta)
    assert all(torch.equal(a, b) for a, b in zip(on_cpu, on_meta))


def test_rise_masks_on_the_cpu_are_built_from_those_draws():
    """The masks of a block are its CPU draws upsampled and cropped (rebuilt independently here)."""
    masks = RiseMasks(20, 4, 0.5, 30, 30, seed=2, device="cpu")
    cells, dy, dx = masks.draws(0)
    up = torch.nn.functional.interpolate(cells, size=(5 * 8, 5 * 8), mode="bilinear", align_corners=False)
    expected = torch.stack([up[i, :, y:y + 30, x:x + 30] for i, (y, x) in enumerate(zip(dy.tolist(), dx.tolist()))])
    assert torch.equal(masks(0, 20), expected)


def test_the_run_generator_is_a_cpu_generator_seeded_from_the_seed_on_any_device():
    module = torch.nn.Linear(2, 2)
    for device in ("cpu", "meta"):
        ctx = Context(model=None, module=module, engine=Engine(module, device=device), controls=Controls(), seed=11)
        g = ctx.generator(3)
        assert g.device.type == "cpu"
        assert torch.equal(torch.rand(5, generator=g), torch.rand(5, generator=torch.Generator().manual_seed(14)))


@pytest.mark.parametrize("method, params", [
    ("rise", {"num_masks": 70, "grid": 4}), ("lime", {"num_samples": 40, "n_segments": 10}),
    ("ablation_ca", {"n_segments": 8, "contexts": 8}), ("neuromask", {"iterations": 2, "mask_resolution": 8}),
])
def test_random_methods_draw_through_the_cpu(recorded, random_image, method, params):
    """Each random method's draws are CPU tensors handed to ``on_device``; the same seed, the same draws."""
    wb.explain(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1),
                                           torch.nn.Flatten()), random_image, method, seed=9, **params)
    draws = [d for d, _ in recorded]
    assert draws and all(d.device.type == "cpu" for d in draws)
    recorded.clear()
    wb.explain(torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()),
               random_image, method, seed=9, **params)
    assert len(recorded) == len(draws) and all(torch.equal(a, b) for (a, _), b in zip(recorded, draws))


def test_no_module_draws_on_the_device_or_makes_a_device_generator():
    """The rule, read off the sources: no ``Generator(device=...)`` other than the CPU's, no random draw given
    both a generator and a device (draw on the CPU, then ``seeding.on_device``)."""
    sources = Path(wb.__file__).parent.rglob("*.py")
    device_generator = re.compile(r"Generator\(device=(?!\"cpu\")")
    draw_on_device = re.compile(r"torch\.(rand|randn|randint|randperm|bernoulli|normal|multinomial)\([^)]*generator=[^)]*device=")
    offenders = [f"{path.name}:{n}" for path in sources for n, line in enumerate(path.read_text().splitlines(), 1)
                 if device_generator.search(line) or draw_on_device.search(line)]
    assert offenders == []
