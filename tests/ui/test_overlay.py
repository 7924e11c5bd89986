"""The overlay component: colour range and scale per map, ground truth and pointing marker, intermediate maps."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb

from .helpers import DEBOUNCE


def drawn(w) -> tuple[float, float, float, float]:
    """(zmin, zmax) the figure tells the browser, and the min/max of the map it draws."""
    trace = w.overlay.view.figure.data[1]
    z = np.array(trace.z, dtype=float)
    assert trace.zauto is False, "zauto must be off so the browser uses this map's zmin/zmax"
    return trace.zmin, trace.zmax, z.min(), z.max()


def test_colour_range_follows_every_switch_and_the_range_control(shapes, scene):
    w = wb.Workbench(shapes, scene.image, method="gradient", debounce=DEBOUNCE)
    for method, name, value in (("lime", "num_samples", 100), ("rise", "num_masks", 300),
                                ("ablation_ca", "contexts", 16)):
        w.state.set_param(name, value, method)
    assert w.wait(60)
    for method in ("lime", "rise", "gradient", "fmo", "ablation_ca", "fmo", "gradient", "fmo", "rise"):
        w.explainer.picker.value = method
        assert w.wait(120) and w.status.error.value == "", w.status.error.value
        low, high, z_low, z_high = drawn(w)
        if wb.explainers.registry.get_method(method).signed and z_low < 0:
            peak = max(abs(z_low), abs(z_high))
            assert (low, high) == pytest.approx((-peak, peak)), method
        else:
            assert (low, high) == pytest.approx((z_low, z_high)), method
        assert w.overlay.colour_scale.value == w.overlay.view.drawn_scale      # the drop-down names what is drawn

    # unsigned (RISE) on screen: a scale change applies to it and leaves the range alone
    w.overlay.colour_scale.value = "Viridis"
    assert drawn(w)[:2] == pytest.approx(drawn(w)[2:])
    w.explainer.picker.value = "gradient"                      # signed maps keep their own scale
    assert w.wait(60)
    assert w.overlay.colour_scale.value == "RdBu_r" and w.overlay.colour_scale.description == "colours (±)"
    w.explainer.picker.value = "rise"
    assert w.wait(60)
    assert w.overlay.colour_scale.value == "Viridis"

    w.overlay.colour_range.value = "symmetric"
    low, high, z_low, z_high = drawn(w)
    assert (low, high) == pytest.approx((-max(abs(z_low), abs(z_high)), max(abs(z_low), abs(z_high))))
    # around zero an unsigned scale would paint the background mid-scale: the diverging scale is drawn
    import plotly.graph_objects as go
    assert w.overlay.view.figure.data[1].colorscale == go.Heatmap(colorscale="RdBu_r").colorscale
    assert w.overlay.colour_scale.value == w.overlay.view.drawn_scale == "RdBu_r" and w.overlay.colour_scale.description == "colours (±)"
    w.overlay.colour_range.value = "fixed"                          # starts from the range on screen
    assert (w.overlay.range_low.value, w.overlay.range_high.value) == pytest.approx((low, high))
    w.overlay.range_low.value, w.overlay.range_high.value = 0.1, 0.2
    assert drawn(w)[:2] == pytest.approx((0.1, 0.2))
    w.overlay.range_low.value = 0.3                                 # low above high: a clear error, range kept
    assert "colour range" in w.status.error.value and "low &lt; high" in w.status.error.value
    assert drawn(w)[:2] == pytest.approx((0.1, 0.2))
    w.overlay.range_reset.click()
    assert w.overlay.colour_range.value == "auto" and drawn(w)[:2] == pytest.approx(drawn(w)[2:])
    assert w.overlay.colour_scale.value == "Viridis" and w.overlay.colour_scale.description == "colours"   # its own scale again


def test_colour_range_modes():
    from workbench.render import colour_range

    heat = np.array([[-1.0, 0.5], [2.0, 0.0]])
    assert colour_range(heat, signed=True) == (-2.0, 2.0)
    assert colour_range(heat, signed=False) == (-1.0, 2.0)
    assert colour_range(heat + 5, signed=False, mode="symmetric") == (-7.0, 7.0)
    assert colour_range(heat, signed=False, mode="fixed", fixed=(0, 1)) == (0.0, 1.0)
    assert colour_range(np.full((2, 2), 3.0), signed=False) == (2.5, 3.5)      # constant maps still drawn
    for bad in (dict(mode="fixed"), dict(mode="fixed", fixed=(1, 0)), dict(mode="log")):
        with pytest.raises(ValueError, match="mode|fixed"):
            colour_range(heat, signed=False, **bad)


def test_scene_truth_outline_and_pointing_marker(shapes):
    from workbench.data.scenes import make_scene
    from workbench.metrics.localisation import peak, pointing_game

    w = wb.Workbench(shapes, method="gradient", debounce=DEBOUNCE)          # scene 0 by default
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    mask = make_scene(0).class_mask(w.explanation.target)
    truth, marker = w.overlay.view.figure.data[4], w.overlay.view.figure.data[3]
    assert truth.source and truth.source.startswith("data:image/png")
    row, col = peak(w.explanation.heatmap)
    assert (list(marker.x), list(marker.y)) == ([col], [row])
    assert w.explanation.heatmap[row, col] == w.explanation.heatmap.max()
    hit = pointing_game(w.explanation.heatmap, mask) >= 0.5
    assert marker.marker.color == ("#00c853" if hit else "#ff1744")
    w.overlay.truth.value = False                                    # the check box hides both
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []
    w.overlay.truth.value = True
    absent = next(c for c in range(len(shapes.class_names)) if not make_scene(0).class_mask(c).any())
    w.model.target.value = absent                                         # a class not in the scene: no truth
    assert w.wait(60) and w.status.error.value == "", w.status.error.value
    assert w.explanation.target == absent
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []
    assert w.overlay.truth.layout.display == "none"                         # nothing it could draw: not offered
    w.model.target.value = -1                                               # back to the top-1 class: offered
    assert w.wait(60) and w.overlay.truth.layout.display is None
    w.image.source.value = "photo"                                         # a photo has no ground truth
    assert w.wait(60)
    assert w.overlay.view.figure.data[4].source is None and list(w.overlay.view.figure.data[3].x) == []
    assert w.overlay.truth.layout.display == "none"


def test_rise_draws_intermediate_maps(shapes, scene):
    shown = []
    e = wb.explain(shapes, scene.image, "rise", num_masks=4000, partial=shown.append)
    assert len(shown) >= 1 and all(p.fraction < 1 for p in shown)
    assert shown[-1].heatmap.shape == e.heatmap.shape
    # the last partial map (most masks) already looks like the final one
    assert np.corrcoef(shown[-1].heatmap.ravel(), e.heatmap.ravel())[0, 1] > 0.9


def test_ablation_ca_shows_sensitivity_before_the_contexts(shapes, scene):
    shown = []
    e = wb.explain(shapes, scene.image, "ablation_ca", contexts=16, partial=shown.append)
    assert len(shown) == 1 and shown[0].fraction < 1
    np.testing.assert_allclose(shown[0].heatmap, e.heatmap, atol=1e-6)   # step 2 is final before step 3


def test_a_flat_map_is_said_to_be_flat_drawn_on_its_range_and_marks_no_pointing(shapes):
    """The collapsed NeuroMask case (sparsity weight 100, temperature 0.01): a constant mask on scene 0."""
    w = wb.Workbench(shapes, method="gradient", debounce=DEBOUNCE)          # scene 0: truth is known
    assert w.wait(60) and len(w.overlay.view.figure.data[3].x) == 1        # a pointing marker for gradient
    for name, value in (("l_sparse", 100.0), ("temperature", 0.01), ("iterations", 5)):
        w.state.set_param(name, value, "neuromask")
    w.explainer.picker.value = "neuromask"
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    assert w.explanation.flat
    low, high, z_low, z_high = drawn(w)
    assert (low, high) == (0.0, 1.0) and z_low == z_high                   # the mask's true range, not -0.5..0.5
    assert "flat map: every pixel is 0" in w.overlay.view.figure.layout.title.text
    assert "flat map: every pixel is 0" in w.status.message.value
    assert list(w.overlay.view.figure.data[3].x) == []                     # no pointing marker at a corner
    assert w.overlay.view.figure.data[4].source                            # the truth is still drawn
    from workbench.ui.figures import tile_caption
    assert tile_caption(w.explanation, {"aopc": 0.1, "pointing": "no point"}).endswith(
        "AOPC 0.100, pointing no point<br><b>flat map</b>: it points nowhere")


def test_outlines_drawn_again_from_kept_pngs_are_the_outlines_of_their_own_maps():
    """Going back to a label map drawn before reuses its PNG (no new encoding); a different map, or the same map
    in another colour, is outlined anew: each outline decodes to the boundaries of the map it belongs to."""
    import base64
    import io

    from PIL import Image

    from workbench.superpixels import boundaries
    from workbench.ui.overlay_view import VISITED_COLOUR, OverlayView

    def edges(source: str) -> np.ndarray:
        png = Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1])))
        return np.asarray(png)[..., 3] > 0

    view = OverlayView()
    view.show_image(np.zeros((32, 32, 3), dtype=np.uint8))
    halves = np.repeat([[0] * 16 + [1] * 16], 32, axis=0)
    quarters = halves + 2 * (np.arange(32)[:, None] >= 16)
    drawn = {}
    for name, labels in [("halves", halves), ("quarters", quarters), ("halves", halves.copy())]:
        view.show_regions(labels)
        drawn.setdefault(name, []).append(view.figure.data[2].source)
        assert np.array_equal(edges(view.figure.data[2].source), boundaries(labels.astype(np.int32)))
    assert drawn["halves"][0] == drawn["halves"][1] and drawn["halves"][0] != drawn["quarters"][0]
    view.show_segments(quarters, highlight=(0,))
    assert np.array_equal(edges(view.figure.data[2].source), boundaries((quarters == 0).astype(np.int32)))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(base64.b64decode(
        view.figure.data[2].source.split(",", 1)[1]))))[..., :3][edges(view.figure.data[2].source)][0],
        VISITED_COLOUR)
    view.show_regions(quarters, VISITED_COLOUR)      # the same map as the highlight, another colour than before
    assert np.array_equal(edges(view.figure.data[2].source), boundaries(quarters.astype(np.int32)))
