"""The SpRAy component."""
from __future__ import annotations

import numpy as np

import workbench as wb
from workbench.ui.components.spray import clusters



def test_spray_view_shows_clusters_and_a_clicked_heatmap(bench):
    w = bench
    w.explainer.picker.value = "gradient"
    assert w.wait(60)
    assert w.spray.source.value == "lrp_epsilon_gamma_box" and w.spray.images.value == 60
    w.spray.images.value = 12
    w.spray.request()
    assert w.wait(180) and w.status.error.value == "", w.status.error.value
    result = w.spray.result
    assert sum(len(t.x) for t in w.spray.figure.data) == 12
    assert len(w.spray.figure.data) == result.n_clusters
    title = w.spray.figure.layout.title.text
    assert title.startswith(f"{clusters(result.n_clusters)} ("), title
    assert (clusters(1), clusters(3)) == ("1 cluster", "3 clusters")
    w.spray.show_point(3)
    titles = [a.text for a in w.spray.maps.layout.annotations]
    assert titles[0] == "image 3" and titles[1].startswith(f"cluster {result.labels[3]}")
    # the tab's heatmaps: LRP by default (the paper's), the current explainer's on request
    from workbench.analysis.spray import pool_heatmaps
    from workbench.data.scenes import images_with_class

    target = w.state.resolved_target()
    first = images_with_class(target, 1, seed=9191, marked=1)
    for source, method in (("lrp_epsilon_gamma_box", "lrp_epsilon_gamma_box"), ("current", "gradient")):
        w.spray.source.value = source
        w.spray.request()
        assert w.wait(180) and w.status.error.value == "", w.status.error.value
        expected = pool_heatmaps(wb.explain_batch(w.state.model, first, method, target=target), 32)[0]
        np.testing.assert_allclose(w.spray.result.heatmaps[0], expected, rtol=1e-5, atol=1e-9)
