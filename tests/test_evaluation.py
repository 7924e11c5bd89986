"""The evaluation runner: one row per (image, target, method, metric), resume after a kill, Dask gives
the same numbers, errors are recorded and the run goes on."""
from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pandas as pd
import torch

import workbench as wb
from workbench.evaluation import Item, run_evaluation, scene_items

N_SCENES = 8   # about 28 jobs: the kill lands after the first few
FAST = ["--steps", "5", "--region", "56", "--param", "occlusion.patch=56", "--param", "occlusion.stride=56",
        "--param", "fmo.schedule=[(112,112),(56,56)]"]
ARGS = ["evaluate", "--methods", "occlusion,fmo", "--scenes", str(N_SCENES), "--quiet"] + FAST


def _jobs(table):
    return table.groupby(["image", "target", "method"]).ngroups


def expected_jobs(n_scenes=N_SCENES):
    return 2 * sum(len(item.targets) for item in scene_items(n_scenes))


def test_kill_half_way_then_resume_without_recomputing(tmp_path):
    out = tmp_path / "r.parquet"
    journal = tmp_path / "r.parquet.journal.csv"
    proc = subprocess.Popen([sys.executable, "-m", "workbench.cli", *ARGS, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 240
    while time.time() < deadline and (not journal.is_file() or len(journal.read_text().splitlines()) < 40):
        time.sleep(0.2)
    proc.kill()
    proc.wait()
    partial = pd.read_csv(journal)
    finished_before = _jobs(partial)
    assert 0 < finished_before < expected_jobs()
    computed = []
    original = wb.evaluation.run_job

    def counting(*args, **kwargs):
        computed.append(args[1:4])
        return original(*args, **kwargs)

    wb.evaluation.run_job = counting
    try:
        table = run_evaluation("shapes", scene_items(N_SCENES), ["occlusion", "fmo"], out, steps=5, region=56,
                               params={"occlusion": {"patch": 56, "stride": 56},
                                       "fmo": {"schedule": [(112, 112), (56, 56)]}}, progress=False)
    finally:
        wb.evaluation.run_job = original
    assert len(computed) == expected_jobs() - finished_before
    assert _jobs(table) == expected_jobs()
    assert not table.duplicated(subset=["image", "target", "method", "metric"]).any()
    assert (table["error"] == "").all()
    assert len(table) == expected_jobs() * len(wb.evaluation.DEFAULT_METRICS)
    assert not journal.exists() and len(pd.read_parquet(out)) == len(table)


def test_dask_local_gives_the_same_numbers(tmp_path):
    params = {"occlusion": {"patch": 56, "stride": 56}}
    items = scene_items(3)
    local = run_evaluation("shapes", items, ["occlusion"], tmp_path / "a.csv", params=params, steps=5, region=56,
                           progress=False)
    dask = run_evaluation("shapes", items, ["occlusion"], tmp_path / "b.csv", params=params, steps=5, region=56,
                          progress=False, dask="local")
    key = ["image", "target", "method", "metric"]
    merged = local.merge(dask, on=key, suffixes=("_local", "_dask"))
    assert len(merged) == len(local) == len(dask)
    values = merged[~merged["metric"].isin(["seconds"])]
    np.testing.assert_allclose(values["value_local"], values["value_dask"], rtol=1e-5, atol=1e-6)


class FailsOnDarkImages(torch.nn.Module):
    def forward(self, x):
        if x.mean() < 0.05:  # the dark image; occluded bright ones stay far above
            raise RuntimeError("cannot handle dark images")
        return x.mean(dim=(2, 3))


def test_an_error_is_recorded_and_the_run_goes_on(tmp_path):
    bright = np.full((32, 32, 3), 0.9, dtype=np.float32)
    dark = np.zeros((32, 32, 3), dtype=np.float32)
    items = [Item("bright", bright, (0,)), Item("dark", dark, (0,)), Item("bright2", bright, (1,))]
    table = run_evaluation(FailsOnDarkImages(), items, ["occlusion"], tmp_path / "r.csv", steps=3, region=16,
                           params={"occlusion": {"patch": 16, "stride": 16}}, progress=False)
    errors = table[table["image"] == "dark"]["error"].unique()
    assert len(errors) == 1 and "cannot handle dark images" in errors[0]
    ok = table[table["image"] != "dark"]
    assert (ok["error"] == "").all() and ok["value"].notna().all()
    summary = wb.evaluation.summarise(table)
    assert set(summary.columns) >= {"method", "metric", "mean", "sem", "count"}
