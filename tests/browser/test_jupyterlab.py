"""The Workbench in a real browser: JupyterLab headless on a free local port, Debian's Chromium driven by
Playwright, the quick-start's Workbench cells run with Shift+Enter (nbval runs the whole notebook), the heatmap
drawn, an FMO stride moved, the heatmap redrawn, a parameter sweep and a sanity check run from their tabs, and
screenshots saved under tests/browser/artifacts/ (git-ignored)."""
from __future__ import annotations

from pathlib import Path

import json

from .labpage import (ARTIFACTS, BROWSER_ARGS, CHROMIUM, ROOT, assert_no_errors, overlay_rasters, run_notebook,
                      wait_for_title, write_notebook)


def quick_start_workbench_cells() -> list[str]:
    """The quick-start's set-up cell, its scene and its closing Workbench cell, as stored in the repo."""
    notebook = json.loads((ROOT / "notebooks" / "01_quickstart.ipynb").read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "wb.Workbench(" in code[-1] and "make_scene" in code[1], code
    return [code[0], code[1], code[-1]]


def test_workbench_renders_and_reacts_in_jupyterlab(lab, lab_root):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            run_notebook(page, lab, write_notebook(lab_root, "quick_start.ipynb", quick_start_workbench_cells()))
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
            finest.fill("6")
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
