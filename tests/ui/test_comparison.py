"""The comparison component (with the method descriptions, the curves export and the status line's time estimate)."""
from __future__ import annotations

import numpy as np
import pytest

import workbench as wb

from .helpers import DEBOUNCE


def test_descriptions_exports_quality_and_time_estimate(shapes):
    from workbench.explainers.registry import methods
    from workbench.render import colour_range
    from workbench.ui.components.explainer import Explainer
    from workbench.ui.components.status import Status
    from workbench.ui.exports import decode_csv_link

    for name, method in methods().items():                                 # every method explains itself
        assert len(method.spec.description) > 40, name
        assert method.spec.description in Explainer.description_html(name).value.replace("&#x27;", "'")
    assert Status.time_left(done=10, total=40, elapsed=2.0) == pytest.approx(6.0)   # 5 passes/s, 30 left
    assert Status.time_left(done=0, total=40, elapsed=2.0) is None

    w = wb.Workbench(shapes, method="gradient", debounce=DEBOUNCE)
    w.state.set_param("stride", 28, "occlusion")
    w.state.set_param("patch", 56, "occlusion")
    assert w.wait(60)
    assert "The gradient of the target logit" in w.explainer.controls_box.children[1].value
    w.curves.steps.value = 5
    w.curves.request()
    assert w.wait(120) and w.status.error.value == "", w.status.error.value
    curves = decode_csv_link(w.curves.export.value)
    assert list(curves.columns) == ["regions perturbed", "morf score", "lerf score", "random score"]
    np.testing.assert_allclose(curves["morf score"], w.curves.figure.data[0].y)

    w.comparison.methods.value = ("gradient", "occlusion")
    shown = []
    w.status.message.observe(lambda c: shown.append(c["new"]), names="value")
    w.comparison.request()
    assert w.wait(240) and w.status.error.value == "", w.status.error.value
    assert "1/2 methods" in " ".join(shown) and "passes" not in " ".join(shown)   # it counts methods
    assert w.status.progress.value == w.status.progress.max and w.status.progress.bar_style == "success"   # the bar finishes
    assert w.status.message.value.startswith("comparison of 2 methods done"), w.status.message.value
    table = decode_csv_link(w.comparison.export.value)
    assert list(table["method"]) == ["gradient", "occlusion"] and table["aopc_morf"].notna().all()
    tiles = w.comparison.tiles[:2]
    assert w.comparison.grid.children == tuple(t.widget for t in tiles)   # one tile a method, on the page's grid
    for tile, (_, row) in zip(tiles, table.iterrows()):                   # the figures drawn are those exported
        caption = tile.caption.value
        assert f"AOPC {row['aopc_morf']:.3f}" in caption and f"pointing {row['pointing']}" in caption
        # one fact a line, so a caption stays over its own tile ("method: N passes, S s" ran into its neighbour's)
        method_line, cost_line, _ = caption[caption.index(">") + 1:caption.rindex("<")].split("<br>")
        assert method_line == row["method"] and cost_line.endswith(" s") and "passes" in cost_line
    for tile, method in zip(tiles, ("gradient", "occlusion")):            # each colour bar spans its own map
        images = [t for t in tile.figure.data if t.type == "image"]
        maps = [t for t in tile.figure.data if t.type == "heatmap"]
        assert len(images) == len(maps) == 1 and maps[0].showscale is not False
        assert maps[0].colorbar.orientation == "h"
        z = np.array(maps[0].z, dtype=float)
        assert (maps[0].zmin, maps[0].zmax) == pytest.approx(colour_range(z, signed=maps[0].zmin < 0))
    drawn = [[trace.uid for trace in t.figure.data] for t in tiles]      # a new trace gets a new uid
    w.comparison.show_quality({})                                      # a caption's change redraws no map
    assert [[trace.uid for trace in t.figure.data] for t in tiles] == drawn
    assert all("AOPC" not in t.caption.value for t in tiles)

def test_only_methods_that_accept_the_model_are_offered_and_the_others_say_why(bench):
    """A CNN is not offered the methods that read a transformer's attention; a ViT is not offered the LRP rules
    written for convolutional networks; the ticked methods that stay accepted stay ticked."""
    import torch
    from torchvision.models.vision_transformer import VisionTransformer

    offered = lambda: {name for _, name in bench.comparison.methods.options}   # noqa: E731
    assert {"attention_rollout", "attnlrp"}.isdisjoint(offered()) and {"gradient", "lrp_epsilon"} <= offered()
    said = bench.comparison.refused.value
    assert "2 not offered for ShapesNet" in said and "<b>attention_rollout</b>: ShapesNet has no attention layers" in said
    bench.comparison.methods.value = ("gradient", "lrp_epsilon", "occlusion")
    torch.manual_seed(5)
    vit = VisionTransformer(image_size=224, patch_size=32, num_layers=1, num_heads=2, hidden_dim=16, mlp_dim=16,
                            num_classes=4).eval()
    shapes = bench.state.model
    bench.state.set_model(wb.wrap_model(vit))
    assert {"attention_rollout", "attnlrp", "gradient"} <= offered() and "lrp_epsilon" not in offered()
    assert bench.comparison.methods.value == ("gradient", "occlusion")
    assert "lrp_epsilon</b>: VisionTransformer is a transformer" in bench.comparison.refused.value
    bench.state.set_model(shapes)
    assert "attnlrp" not in offered() and "lrp_epsilon" in offered()
    bench.session.cancel()
    assert bench.wait(120)
