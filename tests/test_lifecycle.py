"""Regressions of issue 26 and the Workbench's job lifecycle: FMO on a non-square image whose best coarse
window is a sliver at the edge, a sweep whose only metric cannot be measured, a process that exits while a
job runs, ``close()``, and the bounds of the job log and the caches."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import workbench as wb
from workbench.engine import Cancelled
from workbench.explainers.fmo import centres_inside, keep_windows
from workbench.explainers.windows import WindowGrid
from workbench.ui.lane import Handlers, Lane

ROOT = Path(__file__).resolve().parents[1]


class LastColumn(nn.Module):
    """Class 0 scores the mean of the image's last pixel column: only a window over that column matters."""

    def forward(self, x):
        last = x[..., -1:].mean(dim=(1, 2, 3))
        return torch.stack([5 * last, torch.zeros_like(last)], dim=1)


def test_fmo_refines_a_sliver_window_at_the_edge_of_a_non_square_image():
    """300x451: the default schedule's coarse grid (75, 75) ends with a 1-px-wide window at column 450, the
    one with the largest drop here; no finer window has its centre inside it. It raised
    ``RuntimeError: max(): Expected reduction dim ...`` from ``keep_windows``."""
    image = np.ones((300, 451, 3), np.float32)
    e = wb.explain(LastColumn(), image, "fmo", target=0)
    assert e.heatmap.shape == (300, 451) and np.isfinite(e.heatmap).all()
    assert all(n > 0 for n in e.extras["passes_per_level"])
    assert e.heatmap[:, -1].max() == e.heatmap.max()        # the last column is where the evidence is
    assert e.heatmap[:, -1].mean() > 2 * e.heatmap[:, :-1].mean()


def test_every_box_has_children_in_a_finer_grid():
    """The class of the bug: any kept box, however thin, has at least one window of the next level."""
    grid = WindowGrid(300, 451, 38, 19)
    boxes = torch.tensor([[450, 0, 451, 75], [0, 225, 75, 300], [450, 299, 451, 300]])   # (x0, y0, x1, y1)
    children = centres_inside(grid, boxes)
    assert children.any(dim=0).all()
    assert children[:, 1].sum() >= 4                       # an ordinary box keeps its centre rule
    assert len(keep_windows(torch.zeros(0), 0.5, 0.1)) == 0  # an empty level keeps nothing, without raising


def test_sweep_of_a_metric_the_images_cannot_give_says_what_is_missing(shapes):
    """Images without masks and ``metrics=("pointing",)`` raised pandas' KeyError on the empty table."""
    images = [wb.data.make_scene(i).image for i in range(2)]
    with pytest.raises(ValueError, match="metrics: .*pointing.* need object masks"):
        wb.sweep(shapes, images, "occlusion", "stride", [24], metrics=("pointing",), params={"patch": 24})
    # with a metric they can give, the sweep runs and simply has no pointing rows
    result = wb.sweep(shapes, images, "occlusion", "stride", [56], metrics=("pointing", "passes"),
                      params={"patch": 56})
    assert set(result.summary["metric"]) == {"passes"}
    with pytest.raises(ValueError, match="metrics"):
        wb.sweep(shapes, images, "occlusion", "stride", [56], metrics=("nonsense",), params={"patch": 56})
    with pytest.raises(ValueError, match="images"):
        wb.sweep(shapes, [], "occlusion", "stride", [56], params={"patch": 56})


def test_a_sweep_whose_runs_give_no_rows_returns_empty_tables(shapes):
    """Masks exist but not for the target: no row, and the tables still have their columns."""
    scene = wb.data.make_scene(0)
    item = wb.evaluation.Item("s", scene.image, targets=(0,), masks={1: scene.class_mask(1)})
    result = wb.sweep(shapes, [item], "occlusion", "stride", [56], metrics=("pointing",), params={"patch": 56})
    assert len(result.table) == 0 and {"setting", "metric", "value"} <= set(result.table.columns)
    assert len(result.summary) == 0


EXIT_SCRIPT = textwrap.dedent("""
    import time
    import workbench as wb

    w = wb.Workbench(method="rise", debounce=0.0)
    w.state.set_param("num_masks", 1000000, "rise")          # minutes of work
    w.request(debounce=False)
    deadline = time.monotonic() + 60
    while not any(event == "started" and key[4] == "rise" for event, key in w.session.explanations.log):
        assert time.monotonic() < deadline, w.session.explanations.log
        time.sleep(0.02)
    time.sleep(0.3)                                           # well inside torch now
    print("exiting")
""")


@pytest.mark.slow
def test_a_process_exits_cleanly_while_a_job_runs():
    """The interpreter exits while a RISE job's worker thread is inside torch: it aborted with "terminate
    called without an active exception" (status 134). The atexit hook cancels and joins the job."""
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stderr == ""
    assert done.stdout.strip() == "exiting"


def slow_work(started: threading.Event):
    def work(cancel, progress, partial):
        started.set()
        while not cancel.is_set():
            time.sleep(0.005)
        raise Cancelled("cancelled")
    return work


def test_close_cancels_and_joins_running_and_pending_jobs():
    jobs = Lane(debounce=0.0)
    started = threading.Event()
    jobs.submit("slow", slow_work(started), Handlers(), debounce=False)
    assert started.wait(10)
    thread = next(iter(jobs._threads))
    pending = Lane(debounce=30.0)
    pending.submit("later", slow_work(threading.Event()), Handlers())
    assert jobs.close(timeout=10) and pending.close(timeout=10)
    assert not thread.is_alive()
    assert ("cancelled", "slow") in jobs.log and not pending.log       # the pending one never started
    with pytest.raises(RuntimeError, match="closed"):
        jobs.submit("again", slow_work(threading.Event()), Handlers())


def test_workbench_close_joins_its_jobs(shapes, scene):
    w = wb.Workbench(shapes, scene.image, method="rise", debounce=0.0)
    w.state.set_param("num_masks", 1000000, "rise")
    w.request(debounce=False)
    deadline = time.monotonic() + 60
    while not any(e == "started" and k[4] == "rise" for e, k in w.session.explanations.log):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    threads = list(w.session.explanations._threads)
    w.close()
    assert threads and not any(t.is_alive() for t in threads)
    assert all(not lane.cache for lane in w.session.lanes)


def test_log_and_cache_are_bounded(monkeypatch):
    from workbench.ui import lane

    monkeypatch.setattr(lane, "LOG_SIZE", 10)
    jobs = Lane(debounce=0.0, cache_size=3, cache_bytes=10_000)
    for i in range(8):
        jobs.submit(i, lambda cancel, progress, partial, i=i: np.zeros(100, np.float64) + i, Handlers(),
                    debounce=False)
        assert jobs.wait(10)
    assert len(jobs.log) == 10 and jobs.log[-1] == ("done", 7)
    assert list(jobs.cache) == [5, 6, 7]                       # count bound: the oldest go first
    for i in range(8, 12):                                     # 4000 bytes each: the byte bound keeps two
        jobs.remember(i, np.zeros(500))
    assert list(jobs.cache) == [10, 11]
    jobs.remember("big", np.zeros(10_000))                     # larger than the bound: kept alone
    assert list(jobs.cache) == ["big"]
    jobs.close()
