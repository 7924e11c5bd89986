"""Fixtures of the browser tests: one JupyterLab server per worker (the browser tests are one module, so
``--dist loadfile`` runs them on one worker and one server; see ``labpage.py`` for the helpers)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .labpage import lab_server


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """The folder JupyterLab serves (the repo is never edited): tests write their notebooks here (see
    :func:`write_notebook`)."""
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def lab(lab_root):
    """A JupyterLab server on 127.0.0.1 serving ``lab_root`` (see :func:`lab_server`); yields its URL."""
    with lab_server(lab_root) as url:
        yield url
