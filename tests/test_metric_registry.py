"""The metrics known by name: wb.evaluate computes each as its own function does, the evaluation runner, the
report and the CLI accept the new names, and an unknown name is answered with the known ones."""
from __future__ import annotations

import pytest

import workbench as wb
from workbench import cli
from workbench.data import Item
from workbench.evaluation import summary_table
from workbench.metrics import (complexity, faithfulness_correlation, insertion_deletion_curve, max_sensitivity,
                               road_curve, sparseness)

NEW = ["road_morf", "road_lerf", "road_combined", "insertion_auc", "deletion_auc", "faithfulness_correlation",
       "max_sensitivity", "sparseness", "complexity"]


@pytest.fixture(scope="module")
def small(shapes):
    scene = wb.data.make_scene((777, 0))
    image, target = scene.image[::4, ::4], scene.labels[0]   # 56 x 56
    return image, target, wb.explain(shapes, image, "gradient", target=target)


def test_evaluate_by_name_equals_each_metric(shapes, small):
    image, target, e = small
    result = wb.evaluate(shapes, image, e, metrics=NEW, seed=3)
    morf = road_curve(shapes, image, e, order="morf", seed=3)
    lerf = road_curve(shapes, image, e, order="lerf", seed=3)
    expected = {
        "road_morf": morf.mean_drop, "road_lerf": lerf.mean_drop,
        "road_combined": (morf.mean_drop - lerf.mean_drop) / 2,
        "insertion_auc": insertion_deletion_curve(shapes, image, e, kind="insertion").auc,
        "deletion_auc": insertion_deletion_curve(shapes, image, e, kind="deletion").auc,
        "faithfulness_correlation": faithfulness_correlation(shapes, image, e, seed=3).value,
        "max_sensitivity": max_sensitivity(shapes, image, e, seed=3).value,
        "sparseness": sparseness(e.heatmap), "complexity": complexity(e.heatmap),
    }
    for name, value in expected.items():
        assert abs(result[name] - value) <= 1e-6 * max(1.0, abs(value)), name
    assert set(result["road"]) == {"morf", "lerf"} and set(result["insertion_deletion"]) == {"insertion", "deletion"}
    assert "curves" not in result   # no region-perturbation metric asked: no region curve computed


def test_unknown_metric_names_the_known_ones(shapes, small):
    image, _, e = small
    with pytest.raises(ValueError, match=r"metrics: expected some of \[.*'road_morf'.*'complexity'\], got \['rod'\]"):
        wb.evaluate(shapes, image, e, metrics=["rod"])
    with pytest.raises(ValueError, match=r"metrics: unknown \['rod'\]; expected some of \[.*'max_sensitivity'"):
        wb.run_evaluation(shapes, [], ["gradient"], "x.csv", metrics=["rod"])


def test_runner_and_report_know_the_new_metrics(shapes, small, tmp_path):
    image, target, e = small
    item = Item(image_id="small", source=image, targets=(target,), frame=False)
    metrics = ["road_lerf", "deletion_auc", "sparseness", "complexity", "passes"]
    table = wb.run_evaluation(shapes, [item], ["gradient"], tmp_path / "r.csv", metrics=metrics, progress=False)
    assert (table["error"] == "").all() and sorted(table["metric"]) == sorted(metrics)
    expected = wb.evaluate(shapes, image, e, metrics=metrics[:-1])
    for name in metrics[:-1]:
        value = float(table.loc[table["metric"] == name, "value"].iloc[0])
        assert abs(value - expected[name]) <= 1e-6 * max(1.0, abs(expected[name])), name
    columns = list(summary_table(table).columns)
    assert "road_lerf ↓" in columns and "sparseness ↑" in columns and "complexity ↓" in columns


def test_cli_evaluates_new_metrics_by_name(tmp_path, capsys):
    out = tmp_path / "r.csv"
    assert cli.main(["evaluate", "--methods", "gradient", "--scenes", "1", "--quiet", "--metrics",
                     "sparseness,complexity", "--out", str(out)]) == 0
    table = wb.evaluation.read_results(out)
    assert set(table["metric"]) == {"sparseness", "complexity"} and (table["error"] == "").all()
    assert "sparseness" in capsys.readouterr().out
    assert cli.main(["evaluate", "--methods", "gradient", "--scenes", "1", "--quiet", "--metrics", "rod",
                     "--out", str(out)]) == 2
    assert "'road_morf'" in capsys.readouterr().err


def test_sweep_measures_a_new_metric(shapes, small):
    image, target, _ = small
    item = Item(image_id="small", source=image, targets=(target,), frame=False)
    result = wb.sweep(shapes, [item], "gradient", "heat", ["sum", "abs-sum"], metrics=["sparseness", "complexity"])
    rows = result.table.set_index(["setting", "metric"])["value"]
    for heat in ("sum", "abs-sum"):
        e = wb.explain(shapes, image, "gradient", target=target, heat=heat)
        assert abs(rows[(heat, "sparseness")] - sparseness(e.heatmap)) <= 1e-9
        assert abs(rows[(heat, "complexity")] - complexity(e.heatmap)) <= 1e-9
