"""Regenerate the README's Workbench screenshots (docs/screenshots/*.png): the main view (with the predictions
view), a long RISE run with its time estimate, progress and cancel button, and one per tab, taken in JupyterLab
with headless Chromium (the helpers of ``tests/browser/labpage.py``).

    PYTHONPATH=$PWD .venv/bin/python docs/screenshots.py

The page is 1280 px wide and tall enough to hold the whole Workbench (an element taller than the viewport
comes out with grey bands); JupyterLab's news toast is switched off in its settings. Every PNG is kept under
300 KB (quantised to 256 colours when larger). Takes a few minutes on 2 cores.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)

from tests.browser.labpage import (BROWSER_ARGS, CHROMIUM, choose, click_tab, lab_server,  # noqa: E402
                                   read_overlay, run_notebook, wait_for_title, write_notebook)

OUT = ROOT / "docs" / "screenshots"
MAX_BYTES = 300_000

# the Workbench shown first, then scene 3 (a triangle, a cross and a star) and sample counts a little below the
# defaults: edits made before the page has the widget bundle can be lost on a loaded machine
CELLS = ["""
import workbench as wb
assert wb.__file__.startswith(%r), wb.__file__      # the kernel imports this checkout
w = wb.Workbench(method="fmo", debounce=0.05)
w
""" % str(ROOT), """
for method, name, value in [("ablation_ca", "contexts", 64), ("rise", "num_masks", 500)]:
    w.state.set_param(name, value, method)
w.image.scene_seed.value = 3
"""]


def save(locator, name: str) -> Path:
    """Screenshot ``locator`` into docs/screenshots/``name``.png, quantised when over ``MAX_BYTES``."""
    from PIL import Image

    path = OUT / f"{name}.png"
    locator.screenshot(path=str(path))
    if path.stat().st_size > MAX_BYTES:
        with Image.open(path) as image:
            image.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    print(f"{path.relative_to(ROOT)}: {path.stat().st_size / 1024:.0f} KiB")
    return path


def button(page, text: str) -> None:
    page.locator("button.jupyter-button", has_text=text).last.click()


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder, lab_server(Path(folder)) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 2400})
        try:
            take(page, lab, Path(folder))
        except Exception:
            page.screenshot(path=str(Path(tempfile.gettempdir()) / "screenshots_failed.png"), full_page=True)
            raise
        finally:
            browser.close()


def explain(page, label: str, method: str) -> None:
    """Pick the explainer ``label...`` and wait for its map (``method for ...``)."""
    choose(page, "explainer", label)
    read_overlay(page, f"{method} for", timeout=600_000)


def run_tab(page, tab: str, run: str | None = None, title: str | None = None) -> None:
    """Open ``tab``, press its ``run`` button and wait for a figure titled ``title``."""
    click_tab(page, tab)
    if run:
        button(page, run)
    if title:
        wait_for_title(page, title)
    page.wait_for_timeout(800)


def take(page, lab: str, folder: Path) -> None:
    """Run the Workbench notebook in ``page`` and save the main view and every tab."""
    run_notebook(page, lab, write_notebook(folder, "workbench.ipynb", CELLS))
    read_overlay(page, "fmo for")
    # the page has scene 3 (a cross scored 1.00) before the target is picked from its list: a choice made on scene
    # 0's list, where the cross scores 0.00, left "cross (0.00)" in the drop-down in one run
    page.wait_for_function("() => [...document.querySelectorAll('.widget-dropdown select option')]"
                           ".some(o => o.text.replace(/\\u00a0/g, ' ') === 'cross (1.00)')", timeout=120_000)
    choose(page, "target", "cross")
    read_overlay(page, "fmo for cross")
    workbench, tabs = page.locator(".workbench").last, page.locator(".workbench .widget-tab").last

    run_tab(page, "curves", "evaluate", "Region perturbation:")
    save(workbench, "workbench")
    save(tabs, "curves")

    # a long run: RISE's first run (500 masks) measures its pass rate here, so at 20000 masks the explainer panel
    # says what the run will cost before it ends; the running job shows its progress and the cancel button
    explain(page, "RISE", "rise")
    masks = page.locator(".widget-inline-hbox:has(label:text-is('masks')) input").last
    masks.fill("20000")
    masks.press("Enter")
    cancel = page.locator("button.jupyter-button:has-text('cancel')").last
    cancel.wait_for(state="visible", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.workbench').innerText.includes(' left')", timeout=120_000)
    page.wait_for_timeout(2000)
    save(workbench, "running")
    cancel.click()
    page.wait_for_function("() => document.querySelector('.workbench').innerText.includes('cancelled')",
                           timeout=10_000)

    explain(page, "Ablation-CA", "ablation_ca")
    run_tab(page, "correlations")
    save(tabs, "correlations")

    # the mask-learning methods' maps at their defaults (issue 23: on the object, not the background)
    explain(page, "Meaningful Perturbation", "meaningful_perturbation")
    save(workbench, "meaningful_perturbation")
    explain(page, "NeuroMask", "neuromask")
    save(workbench, "neuromask")
    run_tab(page, "loss history")
    save(tabs, "loss_history")

    explain(page, "Occlusion", "occlusion")
    click_tab(page, "sweep")
    choose(page, "parameter", "stride")
    values = page.locator(".widget-text:has(label:text-is('values')) input").last
    values.fill("8,16,32")
    values.press("Enter")
    run_tab(page, "sweep", "sweep", "against")
    save(tabs, "sweep")

    explain(page, "Gradient", "gradient")
    run_tab(page, "sanity", "randomise the model", "Spearman after all layers")
    save(tabs, "sanity")

    run_tab(page, "comparison", "compare")      # (it stalled twice on a heavily loaded machine, not explained)
    page.wait_for_function("() => [...document.querySelectorAll('.workbench-tile-caption')]"
                           ".filter(t => t.textContent.includes('AOPC')).length >= 3", timeout=600_000)
    page.wait_for_timeout(3000)                   # the tiles' images draw after their titles
    save(tabs, "comparison")

    # SpRAy on the confounded model (the clean one shows a single cluster): the watermark strategy apart
    choose(page, "model", "shapes-watermark")
    read_overlay(page, "gradient for")
    choose(page, "target", "star")
    read_overlay(page, "gradient for star")
    run_tab(page, "SpRAy", "SpRAy", "eigenvalues")
    save(tabs, "spray")


if __name__ == "__main__":
    main()
