"""Notebook runs (nbval): fast mode by default, and a notebook that takes longer than ``NOTEBOOK_LIMIT_S``
fails in CI (each notebook under 60 s on CI's 2 cores in fast mode, 120 s is the limit). Elsewhere the time is
said in the summary, not made a verdict: a wall-clock limit depends on the machine and on what else runs on
it, and a slower or busier machine is not a broken notebook."""
from __future__ import annotations

import os
from collections import defaultdict

import pytest

# printed numbers compared within what the computation guarantees across machines (notebooks/compare.py)
pytest_plugins = ["notebooks.compare"]

os.environ.setdefault("WORKBENCH_FAST", "1")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # one worker per core (`-n auto`): one thread each, so workers and notebook kernels never oversubscribe
    # the cores (PyTorch's OpenMP threads spin and slow everything down several times when they do)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
NOTEBOOK_LIMIT_S = 120.0
_notebook_seconds: dict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not str(item.fspath).endswith(".ipynb") or call.when != "call":
        return
    _notebook_seconds[str(item.fspath)] += call.duration
    spent = _notebook_seconds[str(item.fspath)]
    if spent > NOTEBOOK_LIMIT_S and report.passed and os.environ.get("CI"):
        report.outcome = "failed"
        report.longrepr = (f"{os.path.basename(str(item.fspath))} has run for {spent:.0f} s, over the "
                           f"{NOTEBOOK_LIMIT_S:.0f} s limit for a notebook in fast mode (WORKBENCH_FAST=1)")


def pytest_terminal_summary(terminalreporter):
    over = {path: s for path, s in _notebook_seconds.items() if s > NOTEBOOK_LIMIT_S}
    for path, spent in over.items():
        terminalreporter.write_line(f"notebook time: {os.path.basename(path)} ran {spent:.0f} s, over the "
                                    f"{NOTEBOOK_LIMIT_S:.0f} s that CI allows (a verdict only where CI is set)")

