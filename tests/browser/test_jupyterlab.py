"""The Workbench in a real browser: JupyterLab headless on a free local port, Debian's Chromium driven by
Playwright, the quick-start notebook run cell by cell, the heatmap drawn, an FMO stride moved, the heatmap
redrawn, a parameter sweep and a sanity check run from their tabs, and screenshots saved under
tests/browser/artifacts/ (git-ignored)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOK = "01_quickstart.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 serving a copy of the notebooks (the run never edits the repo)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / NOTEBOOK, root / NOTEBOOK)
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(root / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--LabApp.extension_manager=readonly",
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


def overlay_rasters(page) -> list[str]:
    """The rendered heatmap rasters (Plotly draws a heatmap as an <image> inside its SVG)."""
    return page.eval_on_selector_all(".js-plotly-plot .heatmaplayer image",
                                     "nodes => nodes.map(n => n.getAttribute('href') || '')")


def assert_no_errors(page) -> None:
    errors = page.locator(".widget-html pre").all_inner_texts()
    assert not any(text.strip() for text in errors), errors


def wait_for_title(page, text: str) -> None:
    """Wait for a Plotly figure whose title contains ``text``; on timeout, fail with the panel's errors."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function("(text) => [...document.querySelectorAll('.js-plotly-plot .gtitle')]"
                               ".some(t => t.textContent.includes(text))", arg=text, timeout=300_000)
    except PlaywrightTimeout:
        assert_no_errors(page)
        raise


def test_workbench_renders_and_reacts_in_jupyterlab(lab):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.goto(f"{lab}/lab/tree/{NOTEBOOK}", timeout=120_000)
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            # the kernel must be up before keys are sent, or they are lost (seen under load in CI)
            page.wait_for_function("() => document.body.innerText.includes('| Idle')", timeout=180_000)
            cells = page.locator(".jp-Notebook .jp-Cell")
            for attempt in range(3):
                cells.first.click()
                page.keyboard.press("Escape")                 # command mode
                for _ in range(cells.count()):
                    page.keyboard.press("Shift+Enter")         # run the cell, select the next
                    page.wait_for_timeout(300)
                try:                                          # the kernel picked the cells up
                    page.wait_for_function("() => document.body.innerText.includes('| Busy') || document"
                                           ".querySelectorAll('.js-plotly-plot .heatmaplayer image').length > 0",
                                           timeout=30_000)
                    break
                except PlaywrightTimeout:
                    continue
            page.wait_for_function(
                "() => document.querySelectorAll('.js-plotly-plot .heatmaplayer image').length > 0",
                timeout=240_000)
            page.wait_for_timeout(500)
            before = overlay_rasters(page)
            assert before and before[0], "the overlay heatmap did not render"
            for picker in ("model", "target", "explainer"):
                assert page.locator(f".widget-dropdown:has(label:text-is('{picker}')) select").is_visible(), picker
            shown = page.locator(".widget-dropdown:has(label:text-is('target')) select").last.evaluate(
                "el => el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : ''").replace("\xa0", " ")
            assert shown == "top-1 (auto)", shown

            strides = page.locator(".widget-inline-hbox:has(label:text-is('stride')) input")
            assert strides.count() >= 2, "the FMO schedule editor's stride controls are missing"
            finest = strides.last
            finest.fill("2")
            finest.press("Enter")
            page.wait_for_function(
                "(old) => { const n = document.querySelector('.js-plotly-plot .heatmaplayer image');"
                " return n && (n.getAttribute('href') || '') !== old; }",
                arg=before[0], timeout=240_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(ARTIFACTS / "workbench.png"), full_page=True)
            after = overlay_rasters(page)
            assert after[0] != before[0]
            assert_no_errors(page)

            # the sweep view: choose two values, run, see the plot titled with the swept parameter
            page.locator(".lm-TabBar-tab:has-text('sweep')").last.click()
            values = page.locator(".widget-text:has(label:text-is('values')) input").last
            values.fill("0.3,0.6")
            values.press("Enter")
            page.locator("button.jupyter-button", has_text="sweep").last.click()
            wait_for_title(page, "against keep_threshold")
            # the sanity view: randomise the model, see the similarity curve's title
            page.locator(".lm-TabBar-tab:has-text('sanity')").last.click()
            page.locator("button.jupyter-button", has_text="randomise the model").last.click()
            wait_for_title(page, "Spearman after all layers")
            page.screenshot(path=str(ARTIFACTS / "workbench_sanity.png"), full_page=True)
            assert_no_errors(page)
        finally:
            browser.close()
