"""In a real browser: JupyterLab headless on a free local port (one server for the whole module), Debian's
Chromium driven by Playwright, screenshots under tests/browser/artifacts/ (git-ignored).

- The quick-start's Workbench cells run with Shift+Enter (nbval runs the whole notebook): the heatmap drawn, an
  FMO stride moved, the heatmap redrawn (the layout test below runs every tab: sweep, sanity, SpRAy...).
- What a person sees after many changes: the colour range the page draws after each explainer switch (signed
  and unsigned maps alternating); the layout at 1280 and 1024 px with every tab open (no sideways scrolling, no
  cut labels, titles clear of the toolbar), one screenshot per tab; a bare random-weight resnet18 on a 300x451
  photo.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.explainers.registry import get_method

from .labpage import (ARTIFACTS, BROWSER_ARGS, CHROMIUM, CUT_SELECTS, LAYOUT_FAULTS, ROOT, assert_no_errors, choose,
                      click_tab, overlay_rasters, read_overlay, run_notebook, selected_text, wait_for_title,
                      write_notebook)


def quick_start_workbench_cells() -> list[str]:
    """The quick-start's set-up cell, its scene and its closing Workbench cell, as stored in the repo."""
    notebook = json.loads((ROOT / "notebooks" / "01_quickstart.ipynb").read_text())
    code = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    assert "wb.Workbench(" in code[-1] and "make_scene" in code[1], code
    return [code[0], code[1], code[-1]]


@pytest.fixture(scope="module")
def chromium():
    """The module's one Chromium (its pages share the HTTP cache: JupyterLab's bundles load once)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM}: `make test` installs Debian's chromium"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def test_workbench_renders_and_reacts_in_jupyterlab(lab, lab_root, chromium):
    page = chromium.new_page(viewport={"width": 1500, "height": 1100})
    try:
        run_notebook(page, lab, write_notebook(lab_root, "quick_start.ipynb", quick_start_workbench_cells()))
        before = overlay_rasters(page)
        assert before and before[0], "the overlay heatmap did not render"
        for picker in ("model", "target", "explainer"):
            assert page.locator(f".widget-dropdown:has(label:text-is('{picker}')) select").is_visible(), picker
        shown = page.locator(".widget-dropdown:has(label:text-is('target')) select").last.evaluate(
            "el => el.selectedIndex >= 0 ? el.options[el.selectedIndex].text : ''").replace("\xa0", " ")
        assert shown.startswith("top-1: ") and shown.endswith(")"), shown   # names the class and its score

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
    finally:
        page.close()


TABS = ("curves", "correlations", "comparison", "loss history", "sweep", "sanity", "SpRAy")

# cheap settings so the 2-core CI machine draws each map in seconds
SHAPES_CELL = """
import workbench as wb
w = wb.Workbench(method="gradient", debounce=0.05)
for method, name, value in [("lime", "num_samples", 150), ("rise", "num_masks", 400), ("ablation_ca", "contexts", 24),
                            ("neuromask", "iterations", 40), ("occlusion", "stride", 16)]:
    w.state.set_param(name, value, method)
w
"""
# (widget values changed in the cell that displays the Workbench left its overlay figure empty in the page,
# seen with Plotly 7.1 / ipywidgets 8.1 under load: this notebook changes none)

# (explainer, then a colour-scale or range change to make before reading); >= 12 switches alternating signed and
# unsigned maps, with Ablation-CA -> FMO, LIME -> RISE and gradient -> cached FMO
SWITCHES = ["lime", "rise", "gradient", "fmo", "ablation_ca", "fmo", "occlusion", "rise", "gradient", "fmo",
            "lrp_epsilon", "neuromask", "lime", "rise"]


def expected_range(method: str, seen: dict) -> tuple[float, float]:
    """The shown map's own range: symmetric +-max|v| for a signed map, [min, max] for an unsigned one."""
    if get_method(method).signed and seen["low"] < 0:
        peak = max(abs(seen["low"]), abs(seen["high"]))
        return -peak, peak
    return seen["low"], seen["high"]


def assert_range(method: str, seen: dict, expected: tuple[float, float] | None = None) -> None:
    low, high = expected or expected_range(method, seen)
    width = high - low
    assert seen["zauto"] is False, (method, seen)
    assert abs(seen["zmin"] - low) <= 0.01 * width and abs(seen["zmax"] - high) <= 0.01 * width, \
        f"{method}: the page draws [{seen['zmin']}, {seen['zmax']}], the map's range is [{low}, {high}]"
    assert not any("µ" in tick for tick in seen["ticks"]), seen["ticks"]


def rgb(colour: str) -> tuple[int, ...]:
    if colour.startswith("#"):
        return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return tuple(int(float(v)) for v in colour[colour.index("(") + 1:colour.index(")")].split(",")[:3])


def assert_scale(name: str, drawn) -> None:
    """The colour scale the drop-down names is the one the page draws (Plotly sends names as colour lists)."""
    from plotly.colors import get_colorscale

    colours = [rgb(c) for _, c in drawn] if isinstance(drawn, list) else [rgb(c) for _, c in get_colorscale(drawn)]
    expected = [rgb(c) for _, c in get_colorscale(name)]
    assert colours == expected, f"the drop-down says {name}, the page draws {drawn}"


def run_button(page, text: str) -> None:
    page.locator("button.jupyter-button", has_text=text).last.click()


@pytest.fixture(scope="module")
def shapes_page(lab, lab_root, chromium):
    """One page (1280 px wide) with the Workbench on the shapes model, shared by the tests below."""
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        run_notebook(page, lab, write_notebook(lab_root, "truth.ipynb", [SHAPES_CELL]))
        yield page
    finally:
        page.close()


def test_the_page_draws_each_maps_own_colour_range(shapes_page):
    page = shapes_page
    assert_range("gradient", read_overlay(page, "gradient for"))
    for switch, method in enumerate(SWITCHES):
        choose(page, "explainer", get_method(method).label)
        seen = read_overlay(page, f"{method} for")
        assert_range(method, seen)
        cut = page.evaluate(f"({CUT_SELECTS})(document.querySelector('.workbench'))")
        assert not cut, f"after switching to {method}: {cut}"
        assert_scale(selected_text(page, "colours"), seen["scale"])
        if switch == 7:                                    # a colour-scale change on RISE's map
            choose(page, "colours", "Viridis")
            page.wait_for_timeout(1000)
            after = read_overlay(page, f"{method} for")
            assert_scale("Viridis", after["scale"])
            assert_range(method, after)
    # the range control on an unsigned map (RISE): symmetric, then reset to auto
    choose(page, "range", "symmetric")
    page.wait_for_timeout(800)
    seen = read_overlay(page, "rise for")
    peak = max(abs(seen["low"]), abs(seen["high"]))
    assert_range("rise", seen, (-peak, peak))
    page.locator("button.jupyter-button", has_text="reset").last.click()
    page.wait_for_timeout(800)
    assert_range("rise", read_overlay(page, "rise for"))
    assert_no_errors(page)


def test_every_tab_fits_at_1280_and_1024_px(shapes_page):
    page = shapes_page
    fill_every_tab(page)
    for width in (1280, 1024):
        page.set_viewport_size({"width": width, "height": 1000})
        page.wait_for_timeout(800)
        for tab in TABS:
            click_tab(page, tab)
            faults = page.evaluate(LAYOUT_FAULTS)
            assert not faults, f"{width} px, tab {tab}: {faults}"
            if tab == "loss history":      # gradient learns no mask: a sentence, not empty axes
                note = page.locator(".workbench .widget-html:has-text('learns no mask')").last
                assert note.is_visible() and "NeuroMask" in note.inner_text(), note.inner_text()
            if width == 1280:
                page.locator(".workbench").last.screenshot(path=str(ARTIFACTS / f"tab_{tab.replace(' ', '_')}.png"))
    assert_no_errors(page)


def fill_every_tab(page) -> None:
    """Give each tab something to show: curves, correlations, a comparison, a loss history, a sweep, a sanity
    check and SpRAy."""
    choose(page, "explainer", get_method("ablation_ca").label)
    read_overlay(page, "ablation_ca for")
    run_button(page, "evaluate")
    wait_for_title(page, "Region perturbation:")
    click_tab(page, "comparison")
    run_button(page, "compare")
    page.wait_for_function(f"() => ({TILE_CAPTIONS})('passes') >= 3", timeout=300_000)
    choose(page, "explainer", get_method("neuromask").label)
    read_overlay(page, "neuromask for")
    choose(page, "explainer", get_method("occlusion").label)
    read_overlay(page, "occlusion for")
    click_tab(page, "sweep")
    values = page.locator(".widget-text:has(label:text-is('values')) input").last
    values.fill("16,32")
    values.press("Enter")
    run_button(page, "sweep")
    wait_for_title(page, "against")
    click_sweep_point(page)
    choose(page, "explainer", get_method("gradient").label)
    read_overlay(page, "gradient for")
    click_tab(page, "sanity")
    run_button(page, "randomise the model")
    wait_for_title(page, "Spearman after all layers")
    click_tab(page, "SpRAy")
    run_button(page, "SpRAy")
    wait_for_title(page, "eigenvalues")      # "1 cluster (eigenvalues ...)" or "3 clusters (...)"
    assert_no_errors(page)


def click_sweep_point(page) -> None:
    """Click the sweep plot's first metric point with the mouse: the overlay shows that setting's map."""
    box = page.evaluate("""() => {
      const plot = [...document.querySelectorAll('.js-plotly-plot')].find(
        p => (p.querySelector('.gtitle') || {}).textContent?.includes('against'));
      const point = plot.querySelector('.scatterlayer .trace .points path');
      const r = point.getBoundingClientRect();
      return {x: r.x + r.width / 2, y: r.y + r.height / 2};
    }""")
    page.mouse.move(box["x"], box["y"])
    page.wait_for_timeout(300)                 # Plotly finds the hovered point before the click
    page.mouse.click(box["x"], box["y"])
    read_overlay(page, "occlusion with ", timeout=30_000)


RESNET_CELL = """
import numpy as np, torchvision
from PIL import Image
import workbench as wb
from workbench.data.photos import PHOTOS, photo
module = torchvision.models.resnet18()          # random weights: nothing downloaded
picture = np.asarray(Image.fromarray(photo(PHOTOS[0])).convert("RGB").resize((451, 300)))
assert picture.shape == (300, 451, 3)
w = wb.Workbench(module, picture, method="gradient", debounce=0.05)
# FMO at its defaults makes ~250-580 passes of a random resnet18 (no clear peak to refine): two coarse levels
# make 20, enough to draw its map
for method, name, value in [("lime", "num_samples", 60), ("rise", "num_masks", 100), ("occlusion", "patch", 96),
                            ("occlusion", "stride", 64), ("fmo", "schedule", [[112, 112], [56, 56]])]:
    w.state.set_param(name, value, method)
w
"""


@pytest.mark.parametrize("methods", [("fmo", "occlusion", "lime", "rise", "gradient")])
def test_bare_resnet18_on_a_non_square_photo(lab, lab_root, chromium, methods):
    """In a page of the module's Chromium (a second Playwright in one process is refused)."""
    name = write_notebook(lab_root, "resnet18.ipynb", [RESNET_CELL])
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        run_notebook(page, lab, name)
        for method in methods:
            choose(page, "explainer", get_method(method).label)
            assert_range(method, read_overlay(page, f"{method} for", timeout=400_000))
        page.locator(".workbench").last.screenshot(path=str(ARTIFACTS / "resnet18_300x451.png"))
        assert_no_errors(page)
    finally:
        page.close()


FIRST_HOUR_CELL = """
import workbench as wb
w = wb.Workbench(method="gradient", debounce=0.05)       # the default scene view: the shapes model
for name, value in [("l_sparse", 100.0), ("temperature", 0.01), ("iterations", 20)]:
    w.state.set_param(name, value, "neuromask")          # the collapsed NeuroMask case, 20 steps
w
"""

# the overlay figure's drawn image (its first trace, a PNG data URI), its pointing marker's points, and the title
READ_IMAGE = """() => {
  const plot = [...document.querySelectorAll('.js-plotly-plot')].find(gd => gd.layout && gd.layout.title
      && gd.data && gd.data[0] && gd.data[0].type === 'image' && gd.data.length >= 4);
  if (!plot) return null;
  const marker = plot.data.find(t => t.type === 'scatter');
  return {source: plot.data[0].source, title: String(plot.layout.title.text),
          marked: marker && marker.x ? marker.x.length : 0};
}"""

def upload(page, name: str, content: bytes) -> None:
    """Choose a file in the upload button's file chooser (its <input type=file> is not in the page)."""
    with page.expect_file_chooser() as chooser:
        page.locator("button.widget-upload").last.click()
    chooser.value.set_files(files=[{"name": name, "mimeType": "image/jpeg", "buffer": content}])


CAT_CLASSES = ("tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat")


def test_a_new_users_upload_is_framed_and_explained_by_the_imagenet_model(lab, lab_root, chromium):
    """After the default scene view: the collapsed NeuroMask map is said to be flat and marks no pointing; a cat
    JPEG of 451 x 300 is explained by efficientnet_lite0 as a cat, drawn as the framed 224 x 224 crop; a text
    file named .jpg is refused with a message naming it."""
    import base64
    import io

    import numpy as np
    from PIL import Image

    import workbench as wb
    from workbench.data.photos import photo

    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        run_notebook(page, lab, write_notebook(lab_root, "first_hour.ipynb", [FIRST_HOUR_CELL]))
        read_overlay(page, "gradient for")
        choose(page, "explainer", get_method("neuromask").label)
        seen = read_overlay(page, "neuromask for")
        page.wait_for_function(f"() => ({READ_IMAGE})().title.includes('flat map')", timeout=120_000)
        seen, drawn = read_overlay(page, "neuromask for"), page.evaluate(READ_IMAGE)
        assert "flat map: every pixel is 0" in seen["title"] and (seen["zmin"], seen["zmax"]) == (0, 1), seen
        assert drawn["marked"] == 0, "a flat map marks no pointing"
        status = page.locator(".workbench .widget-html:has-text('flat map: every pixel is 0')")
        assert status.count() >= 1, "the status line says so too"
        page.locator(".workbench").last.screenshot(path=str(ARTIFACTS / "flat_neuromask.png"))

        choose(page, "explainer", get_method("gradient").label)
        read_overlay(page, "gradient for")
        buffer = io.BytesIO()
        Image.fromarray(photo("chelsea")).resize((451, 300), Image.BILINEAR).save(buffer, "JPEG", quality=92)
        jpeg = buffer.getvalue()
        page.locator(".widget-toggle-buttons button", has_text="upload").last.click()
        upload(page, "cat.jpg", jpeg)
        page.wait_for_function("(cats) => { const d = (" + READ_IMAGE + ")(); return d && "
                               "d.title.startsWith('gradient for') && cats.some(c => d.title.includes(c)); }",
                               arg=list(CAT_CLASSES), timeout=300_000)
        assert_no_errors(page)
        drawn = page.evaluate(READ_IMAGE)
        assert selected_text(page, "model") == "efficientnet_lite0"
        with Image.open(io.BytesIO(base64.b64decode(drawn["source"].split(",", 1)[1]))) as shown:
            pixels = np.asarray(shown.convert("RGB"), dtype=np.float64) / 255
        lite0 = wb.load_model("efficientnet_lite0", device="cpu")
        with Image.open(io.BytesIO(jpeg)) as decoded:
            framed = lite0.frame(np.asarray(decoded.convert("RGB")))
        assert pixels.shape == (224, 224, 3), pixels.shape        # the framed crop, not a squashed square
        assert np.abs(pixels - framed).max() <= 1 / 255 + 1e-6
        page.locator(".workbench").last.screenshot(path=str(ARTIFACTS / "upload_cat.png"))

        upload(page, "notimage.jpg", b"just some text\n")
        page.wait_for_function("() => [...document.querySelectorAll('.widget-html pre')].some(p => "
                               "p.textContent.includes('notimage.jpg: not an image file this workbench can read'))",
                               timeout=60_000)
        assert page.evaluate(READ_IMAGE)["source"] == drawn["source"]           # the last good image stays
        page.locator(".workbench").last.screenshot(path=str(ARTIFACTS / "upload_not_an_image.png"))
    finally:
        page.close()


PREDICTIONS_CELL = """
import workbench as wb
w = wb.Workbench(method="gradient", debounce=0.05)
w
"""

PLOT_DATA = """(prefix) => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.layout
    && g.layout.title && String(g.layout.title.text || '').startsWith(prefix)); return gd ? {y: gd.data[0].y,
    box: gd.querySelectorAll('.barlayer .point path').length, rects: [...gd.querySelectorAll('.barlayer .point path')]
    .map(p => { const r = p.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })} : null; }"""


def status_text(page) -> str:
    return " ".join(page.locator(".workbench .widget-html").all_inner_texts())


PLOT_BOX = """(prefix) => { const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g.layout
    && g.layout.title && String(g.layout.title.text || '').startsWith(prefix)); const r = gd.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; }"""


def assert_beside_the_map(page) -> None:
    """With JupyterLab's file browser open (its default) at the page's width, the predictions view is beside the
    map: side by side, their heights overlapping, both inside the window (not wrapped under the map)."""
    browser = page.locator("#filebrowser")
    assert browser.is_visible() and browser.bounding_box()["width"] > 200, "the file browser is open"
    bars, overlay = (page.evaluate(f"({PLOT_BOX})('{prefix}')") for prefix in ("predictions", "gradient for"))
    width = page.viewport_size["width"]
    assert bars["right"] <= overlay["left"] or overlay["right"] <= bars["left"], (bars, overlay)
    assert bars["top"] < overlay["bottom"] and overlay["top"] < bars["bottom"], (bars, overlay)
    assert max(bars["right"], overlay["right"]) <= width, (bars, overlay, width)


def test_predictions_click_error_fix_and_cancel(lab, lab_root, chromium):
    """Click the second predicted class: the map is recomputed for it; fix an invalid setting: the error goes;
    cancel during a RISE run: the page says so within a second and the previous map is drawn again."""
    ARTIFACTS.mkdir(exist_ok=True)
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        run_notebook(page, lab, write_notebook(lab_root, "predictions.ipynb", [PREDICTIONS_CELL]))
        read_overlay(page, "gradient for")
        page.wait_for_function(f"() => ({PLOT_DATA})('predictions') !== null", timeout=60_000)
        bars = page.evaluate(f"({PLOT_DATA})('predictions')")
        assert bars["box"] == 5, bars
        assert_beside_the_map(page)
        assert selected_text(page, "target").startswith(f"top-1: {bars['y'][4].strip()} (")
        page.screenshot(path=str(ARTIFACTS / "predictions.png"))
        second = bars["y"][3].strip()                                   # bars run best-last (top of the plot)
        page.mouse.click(*bars["rects"][3])
        wait_for_title(page, f"gradient for {second}")
        assert selected_text(page, "target").startswith(second)

        choose(page, "explainer", get_method("occlusion").label)
        read_overlay(page, "occlusion for")
        window = page.locator(".widget-inline-hbox:has(label:text-is('window')) input").last
        window.fill("300")
        window.press("Enter")
        page.wait_for_function("() => [...document.querySelectorAll('.workbench .widget-html pre')]"
                               ".some(p => p.innerText.includes('window'))", timeout=60_000)
        window.fill("8")
        window.press("Enter")
        page.wait_for_timeout(1500)
        assert_no_errors(page)                                          # the error went with its cause
        before = read_overlay(page, "occlusion for")
        rasters = overlay_rasters(page)

        choose(page, "explainer", get_method("rise").label)
        masks = page.locator(".widget-inline-hbox:has(label:text-is('masks')) input").last
        masks.fill("400000")
        masks.press("Enter")
        cancel = page.locator("button.jupyter-button:has-text('cancel')").last
        cancel.wait_for(state="visible", timeout=60_000)
        page.wait_for_function("() => document.querySelector('.workbench').innerText.includes('passes')",
                               timeout=120_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "cancel_button.png"))
        cancel.click()
        page.wait_for_function("() => document.querySelector('.workbench').innerText.includes('cancelled')",
                               timeout=1_000)                            # said within a second of the click
        assert not cancel.is_visible()
        after = read_overlay(page, "occlusion for", timeout=5_000)       # the last finished map, drawn again
        assert (after["low"], after["high"]) == (before["low"], before["high"])
        page.wait_for_timeout(3000)
        assert overlay_rasters(page) == rasters and "cancelled" in status_text(page)   # nothing drawn since
        page.screenshot(path=str(ARTIFACTS / "cancelled.png"))
        click_tab(page, "curves")
        page.screenshot(path=str(ARTIFACTS / "empty_curves_tab.png"))
        assert page.locator(".workbench-hint:visible").count() >= 1
        assert_no_errors(page)
    finally:
        page.close()


# every tile element of the comparison figure: its map (the heatmap's raster), its caption (a subplot title) and
# its colour bar, as page boxes
TILE_BOXES = """() => {
  const box = (kind, e) => { const r = e.getBoundingClientRect();
    return {kind, text: e.textContent.slice(0, 40), left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
  const found = [];
  for (const caption of document.querySelectorAll('.workbench-tile-caption')) {
    if (caption.offsetParent === null) continue;
    const tile = caption.parentElement;
    found.push(box('caption', caption));
    tile.querySelectorAll('.heatmaplayer image').forEach(e => found.push(box('map', e)));
    tile.querySelectorAll('.infolayer .colorbar').forEach(e => found.push(box('colour bar', e)));
  }
  return found;
}"""
# the captions of the comparison's tiles (their own widgets above each tile's figure) that contain a text
TILE_CAPTIONS = ("(text) => [...document.querySelectorAll('.workbench-tile-caption')]"
                 ".filter(c => c.textContent.includes(text)).length")


def overlapping(boxes: list[dict]) -> list[tuple[str, str]]:
    """Pairs of boxes that share more than a pixel in both directions."""
    pairs = []
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            if min(a["right"], b["right"]) - max(a["left"], b["left"]) > 1 and \
                    min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 1:
                pairs.append((f"{a['kind']} {a['text']!r}", f"{b['kind']} {b['text']!r}"))
    return pairs


COMPARE_CELL = """
import workbench as wb
w = wb.Workbench(method="gradient", debounce=0.05)
w.state.set_param("stride", 16, "occlusion")
w
"""


def test_four_compared_methods_have_tiles_that_do_not_overlap(lab, lab_root, chromium):
    """Compare FMO, Occlusion, Gradient and LRP-epsilon on a scene: after the run has drawn (and its AOPC and
    pointing captions came), no two of the tiles' maps, captions and colour bars overlap, each caption sits just
    above its own map and each colour bar just under it."""
    page = chromium.new_page(viewport={"width": 1280, "height": 1000})
    try:
        run_notebook(page, lab, write_notebook(lab_root, "compare_four.ipynb", [COMPARE_CELL]))
        read_overlay(page, "gradient for")
        click_tab(page, "comparison")
        labels = [get_method(m).label for m in ("fmo", "occlusion", "gradient", "lrp_epsilon")]
        page.locator(".widget-select-multiple select").last.select_option(label=labels)
        page.wait_for_timeout(500)
        run_button(page, "compare")
        page.wait_for_function(f"() => ({TILE_CAPTIONS})('AOPC') >= 4", timeout=300_000)
        page.wait_for_timeout(8000)                       # the issue saw the overlap still 8 s after the run
        boxes = page.evaluate(TILE_BOXES)
        page.locator(".workbench .widget-tab").last.screenshot(path=str(ARTIFACTS / "compare_four.png"))
        kinds = [b["kind"] for b in boxes]
        assert (kinds.count("map"), kinds.count("caption"), kinds.count("colour bar")) == (4, 4, 4), boxes
        assert not overlapping(boxes), overlapping(boxes)
        panel = page.locator(".workbench .widget-tab > .widget-tab-contents, .workbench .widget-tab > .p-TabPanel-"
                             "stackedPanel, .workbench .widget-tab > .lm-StackedPanel").last.bounding_box()
        cut = [b for b in boxes if b["right"] > panel["x"] + panel["width"] or b["left"] < panel["x"]]
        assert not cut, f"cut at the tab's edge {panel}: {cut}"
        maps = [b for b in boxes if b["kind"] == "map"]
        for element in (b for b in boxes if b["kind"] != "map"):
            centre = (element["left"] + element["right"]) / 2
            own = [m for m in maps if m["left"] <= centre <= m["right"]]
            own = min(own, key=lambda m: min(abs(m["top"] - element["bottom"]), abs(element["top"] - m["bottom"])))
            gap = own["top"] - element["bottom"] if element["kind"] == "caption" else element["top"] - own["bottom"]
            assert 0 <= gap <= 30, f"{element['kind']} {element['text']!r} is {gap:.0f} px from its map"
        assert_no_errors(page)
    finally:
        page.close()
