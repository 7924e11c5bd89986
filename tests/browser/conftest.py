"""Fixtures of the browser tests: one JupyterLab server per worker (the browser tests are one module, so
``--dist loadfile`` runs them on one worker and one server; see ``labpage.py`` for the helpers)."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .labpage import free_port


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """The folder JupyterLab serves (the repo is never edited): tests write their notebooks here (see
    :func:`write_notebook`)."""
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="session")
def lab(lab_root):
    """A JupyterLab server on 127.0.0.1 serving ``lab_root``; yields its URL."""
    root = lab_root
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(root / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--LabApp.extension_manager=readonly", f"--LabApp.workspaces_dir={root / '.workspaces'}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            break
        except OSError:
            if server.poll() is not None:
                raise RuntimeError("JupyterLab exited: " + (root / "jupyter.log").read_text()[-2000:])
            time.sleep(0.5)
    else:
        server.terminate()
        raise RuntimeError("JupyterLab did not start in 90 s: " + (root / "jupyter.log").read_text()[-2000:])
    yield url
    server.terminate()
    try:
        server.wait(15)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


