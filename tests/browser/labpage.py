"""Helpers of the browser tests: start a headless JupyterLab, write and run a notebook in Chromium (Playwright),
read what the page draws."""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# JupyterLab's own settings for the headless server: no news toast ("Would you like to get notified about
# official Jupyter news?"), no update check
LAB_SETTINGS = {"@jupyterlab/apputils-extension/notification.jupyterlab-settings":
                {"fetchNews": "false", "checkForUpdates": False}}


@contextlib.contextmanager
def lab_server(root: Path):
    """A JupyterLab server on 127.0.0.1 serving ``root`` (kernels inherit this process's environment, so
    PYTHONPATH picks the checkout they import); yields its URL."""
    for name, values in LAB_SETTINGS.items():
        path = root / ".settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    env = {**os.environ, "OMP_NUM_THREADS": "1", "JUPYTER_PLATFORM_DIRS": "1"}
    log = open(root / "jupyter.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--LabApp.extension_manager=readonly", f"--LabApp.workspaces_dir={root / '.workspaces'}",
         f"--LabApp.user_settings_dir={root / '.settings'}",
         "--IdentityProvider.token=", "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
         f"--ServerApp.root_dir={root}", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    try:
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
            raise RuntimeError("JupyterLab did not start in 90 s: " + (root / "jupyter.log").read_text()[-2000:])
        yield url
    finally:
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


BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]


def write_notebook(root: Path, name: str, cells: list[str]) -> str:
    """A notebook of code cells (Python 3 kernel) in ``root``; returns its name."""
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                           "source": source} for source in cells],
                "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
                "nbformat": 4, "nbformat_minor": 5}
    (root / name).write_text(json.dumps(notebook))
    return name


def run_notebook(page, lab: str, name: str) -> None:
    """Open ``name`` and run every cell with Shift+Enter once the kernel is idle; returns when the first
    heatmap is drawn (keys sent before the kernel is up are lost under load, so the run is retried)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    console = []
    page.on("console", lambda m: console.append(f"{m.type}: {m.text[:400]}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: console.append(f"pageerror: {str(e)[:400]}"))
    page.goto(f"{lab}/lab/tree/{name}?reset", timeout=120_000)     # ?reset: no other notebook restored
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
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
    try:
        page.wait_for_function(
            "() => document.querySelectorAll('.js-plotly-plot .heatmaplayer image').length > 0", timeout=240_000)
    except PlaywrightTimeout:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"failed_{name}.png"), full_page=True)
        (ARTIFACTS / f"failed_{name}.console.txt").write_text("\n".join(console))
        assert_no_errors(page)
        raise
    page.wait_for_timeout(500)


def choose(page, label: str, text: str) -> None:
    """Pick the option of the drop-down labelled ``label`` whose text starts with ``text``."""
    select = page.locator(f".widget-dropdown:has(label:text-is('{label}')) select").last
    index = select.evaluate("(el, text) => [...el.options].findIndex(o => o.text.replace(/\\u00a0/g, ' ')"
                            ".startsWith(text))", text)
    assert index >= 0, f"{label}: no option starting with {text!r}"
    select.select_option(index=index)


# The heatmap the overlay figure draws, read from Plotly's own state in the page: the full trace's zmin/zmax
# and colour scale (what the colour bar shows) and the extremes of the values it colours (calcdata).
READ_OVERLAY = """(prefix) => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && gd.layout.title
      && String(gd.layout.title.text || '').startsWith(prefix));
  if (!plot || !plot.calcdata) return null;
  const index = plot._fullData.findIndex(t => t.type === 'heatmap');
  if (index < 0 || !plot.calcdata[index] || !plot.calcdata[index][0].z) return null;
  const full = plot._fullData[index];
  const values = plot.calcdata[index][0].z.flat().filter(v => Number.isFinite(v));
  const ticks = [...plot.querySelectorAll('.colorbar .cbaxis text, .colorbar text.ytick, .cbaxis text')]
      .map(t => t.textContent);
  return {title: String(plot.layout.title.text), zmin: full.zmin, zmax: full.zmax, zauto: full.zauto,
          low: Math.min(...values), high: Math.max(...values), scale: plot.data[index].colorscale, ticks};
}"""


def read_overlay(page, prefix: str, timeout: float = 300_000) -> dict:
    """Wait for the overlay titled ``prefix...`` and return what it draws (see ``READ_OVERLAY``)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(f"(prefix) => ({READ_OVERLAY})(prefix) !== null", arg=prefix, timeout=timeout)
    except PlaywrightTimeout:
        assert_no_errors(page)
        raise
    page.wait_for_timeout(300)             # let a batch of updates land in full
    return page.evaluate(f"(prefix) => ({READ_OVERLAY})(prefix)", prefix)


def selected_text(page, label: str) -> str:
    """The shown option of the drop-down whose label starts with ``label``."""
    select = page.locator(f".widget-dropdown:has(label:text-matches('^{label}')) select").last
    return select.evaluate("el => el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : ''").replace("\xa0", " ")


def click_tab(page, title: str) -> None:
    page.locator(f".lm-TabBar-tab:has-text('{title}')").last.click()
    page.wait_for_timeout(400)


# Drop-downs inside ``root`` whose shown (selected) text is wider than the room the <select> gives it (its
# inner width less its padding, which holds the arrow), and list boxes (multiple selection) with any option
# wider than theirs: the browser cuts such text without an ellipsis.
CUT_SELECTS = """(root) => {
  const ctx = document.createElement('canvas').getContext('2d');
  const cut = [];
  for (const select of root.querySelectorAll('select')) {
    if (select.offsetParent === null) continue;
    const list = select.multiple || select.size > 1;
    if (!list && select.selectedIndex < 0) continue;
    const style = getComputedStyle(select);
    ctx.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const texts = list ? Array.from(select.options, o => o.text) : [select.options[select.selectedIndex].text];
    const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const text of texts) {
      const width = ctx.measureText(text).width;
      if (width > room + 1) cut.push(`select text cut (${Math.ceil(width)} > ${Math.floor(room)}): "${text}"`);
    }
  }
  return cut;
}"""

# Layout faults inside the Workbench (selector ``.workbench``): boxes that scroll sideways, labels cut short
# (text wider than its box), drop-downs whose shown text is cut (``CUT_SELECTS``), plot titles under the Plotly
# toolbar.
LAYOUT_FAULTS = """() => {
  const root = document.querySelector('.workbench');
  if (!root) return ['no .workbench element'];
  const visible = el => el.offsetParent !== null && el.getClientRects().length > 0;
  const faults = [];
  const name = el => (el.className && el.className.baseVal === undefined ? el.className : '') + ' "'
      + (el.textContent || '').trim().slice(0, 40) + '"';
  for (const box of [root, ...root.querySelectorAll('.widget-box, .widget-tab, .lm-TabPanel-stackedPanel')]) {
    if (visible(box) && box.scrollWidth > box.clientWidth + 1)
      faults.push(`box scrolls sideways (${box.scrollWidth} > ${box.clientWidth}): ${name(box)}`);
  }
  for (const label of root.querySelectorAll('.lm-TabBar-tabLabel, .widget-label, .widget-label-basic, '
                                            + 'label, .widget-button, .jupyter-button')) {
    if (visible(label) && label.scrollWidth > label.clientWidth + 1)
      faults.push(`label truncated (${label.scrollWidth} > ${label.clientWidth}): ${name(label)}`);
  }
  faults.push(...(""" + CUT_SELECTS + """)(root));
  const overlap = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  for (const plot of root.querySelectorAll('.js-plotly-plot')) {
    if (!visible(plot)) continue;
    const title = plot.querySelector('.gtitle'), bar = plot.querySelector('.modebar');
    if (!title || !bar || !(title.textContent || '').trim()) continue;
    const t = title.getBoundingClientRect(), m = bar.getBoundingClientRect();
    if (m.width > 0 && overlap(t, m)) faults.push(`title under the toolbar: "${title.textContent}"`);
  }
  return faults;
}"""
