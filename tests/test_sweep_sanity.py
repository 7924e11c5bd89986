"""Parameter sweeps (passes follow the window-count formula; pointing per value; stability of random methods)
and the model-randomisation sanity check (gradient maps change, a model-independent edge map does not; the
user's model is untouched)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest
import torch

import workbench as wb
from conftest import assert_same_state, model_state
from workbench.evaluation import Item
from workbench.explainers.registry import MethodOutput, register, unregister
from workbench.params import Spec


def small_items(n: int, size: int = 112) -> list[Item]:
    items = []
    for i in range(n):
        scene = wb.data.make_scene((77, i), size=size)
        targets = tuple(sorted(set(scene.labels)))
        items.append(Item(image_id=f"s{i}", source=scene.image, targets=targets,
                          masks={t: scene.class_mask(t) for t in targets}))
    return items


def test_occlusion_stride_sweep_counts_windows_and_scores_pointing(shapes):
    result = wb.sweep(shapes, small_items(2), "occlusion", "stride", [4, 8, 16], params={"patch": 16},
                      metrics=("pointing", "passes", "seconds"))
    settings, passes, _ = result.series("passes")
    for stride, mean in zip(settings, passes):
        per_axis = math.ceil((112 - 16) / stride) + 1           # Captum's window count, edges truncated
        assert mean == per_axis ** 2 + 1                         # + the clean pass
    values, pointing, errors = result.series("pointing")
    assert list(values) == [4, 8, 16] and np.all((0 <= pointing) & (pointing <= 1)) and np.all(errors >= 0)
    assert set(result.table["metric"]) == {"pointing", "passes", "seconds"}


def test_a_sweep_on_aopc_morf_pays_for_the_morf_curve_alone(shapes):
    """Each metric declares its curves: AOPC-MoRF needs one curve, (steps + 1) passes and a clean pass per
    setting on top of the explanation; all five curve metrics need the three curves."""
    forward = []
    hook = shapes.module.register_forward_hook(lambda module, inputs, output: forward.append(len(inputs[0])))
    try:
        items, steps = small_items(1, size=64)[:1], 4
        items[0] = Item(image_id="s0", source=items[0].source, targets=items[0].targets[:1])
        result = wb.sweep(shapes, items, "occlusion", "stride", [32, 16], params={"patch": 32},
                          metrics=("aopc_morf", "passes"), steps=steps, region=32)
        explained = result.table[result.table["metric"] == "passes"]["value"].sum()
        assert sum(forward) == explained + 2 * (steps + 1 + 1)           # two settings, one curve each
        forward.clear()
        wb.evaluation.run_job(shapes, items[0], items[0].targets[0], "occlusion", {"patch": 32, "stride": 32},
                              wb.evaluation.PERTURBATION_METRICS, steps, 32, "uniform", 0)
        assert sum(forward) == 4 + 1 + 3 * (steps + 1 + 1)                 # 4 windows + clean, three curves
    finally:
        hook.remove()


def test_repeats_give_the_stability_of_a_random_method(shapes):
    result = wb.sweep(shapes, small_items(1), "rise", "num_masks", [64, 512], metrics=("passes",), repeats=3)
    _, stability, _ = result.series("stability")
    assert len(stability) == 2 and stability[1] > stability[0]    # more masks, more stable maps


def test_sweep_rejects_bad_input(shapes):
    with pytest.raises(ValueError, match="param: 'occlusion' has no parameter 'strides'"):
        wb.sweep(shapes, small_items(1), "occlusion", "strides", [4])
    with pytest.raises(ValueError, match="stride"):
        wb.sweep(shapes, small_items(1), "occlusion", "stride", [0])


@dataclass(frozen=True)
class EdgeSpec(Spec):
    citation = "test only"


@pytest.fixture
def edge_method():
    @register("edges_test", spec=EdgeSpec, label="edge map (test)", family="test", citation="test only")
    def edges(ctx, spec):
        grey = ctx.image[0].mean(dim=0)
        dy, dx = torch.zeros_like(grey), torch.zeros_like(grey)
        dy[1:] = grey[1:] - grey[:-1]
        dx[:, 1:] = grey[:, 1:] - grey[:, :-1]
        return MethodOutput(heatmap=torch.sqrt(dx ** 2 + dy ** 2))
    yield "edges_test"
    unregister("edges_test")


def test_randomising_the_model_changes_gradients_not_edge_maps(shapes, scene, edge_method):
    before = model_state(shapes.module)
    gradient = wb.sanity_check(shapes, scene.image, "gradient")
    edges = wb.sanity_check(shapes, scene.image, edge_method)
    assert_same_state(before, model_state(shapes.module))
    assert gradient.layers[0] != gradient.layers[-1] and len(gradient.heatmaps) == len(gradient.layers)
    assert gradient.table["spearman"].iloc[-1] < 0.3, gradient.table
    assert (edges.table["spearman"] > 0.9).all() and (edges.table["ssim"] > 0.9).all(), edges.table


def test_cli_sweep_writes_the_table(tmp_path, capsys):
    from workbench.cli import main, parse_values

    assert parse_values("0.1:0.7:0.1") == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    assert parse_values("4,8,16") == [4, 8, 16]
    out = tmp_path / "sweep.csv"
    code = main(["sweep", "--method", "occlusion", "--param", "stride", "--values", "28,56", "--scenes", "1",
                 "--metrics", "passes,pointing", "--device", "cpu", "--out", str(out)])
    assert code == 0
    import pandas as pd
    table = pd.read_csv(out)
    assert set(table["setting"]) == {28, 56} and set(table["metric"]) == {"passes", "pointing"}
    assert "pointing" in capsys.readouterr().out
