"""The SpRAy component (Lapuschkin et al. 2019): heatmaps of the target class over generated scenes, their
embedding by cluster and the cluster means; clicking a point shows that image's map next to its cluster's."""
from __future__ import annotations

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from ...explainers.registry import get_method
from ..figures import TOOLBAR, maps_grid, replace, spray_traces, title
from ..lane import Handlers
from ..style import AUTO
from ..transport import LiveFigure
from .base import Component, register

SPRAY_METHOD = "lrp_epsilon_gamma_box"   # workbench.analysis.spray's default, the paper's choice
CURRENT = "current"


def clusters(n: int) -> str:
    """``"1 cluster"``, ``"3 clusters"``."""
    return f"{n} cluster{'' if n == 1 else 's'}"


@register
class Spray(Component):
    name, place, order, title = "spray", "tab", 70, "SpRAy"
    fresh_keys = ("model", "target", "method")

    def __init__(self, context):
        super().__init__(context)
        self.figure = LiveFigure(layout=go.Layout(
            width=430, height=360, margin=dict(l=30, r=10, t=TOOLBAR + 26, b=30),
            title=title("SpRAy: heatmaps of one class"), xaxis=dict(showticklabels=False),
            yaxis=dict(showticklabels=False)))
        self.result = None
        # 60 scenes: on the confounded model SpRAy separates the watermarked half on 10 of 10 scene seeds with
        # LRP (40: 8 of 10; benchmarks/spray_purity.py)
        self.images = widgets.BoundedIntText(value=60, min=3, max=2000, description="scenes",
                                             layout=widgets.Layout(width="160px"))
        self.watermark = widgets.Checkbox(value=True, description="watermark on half", indent=False, layout=AUTO)
        self.source = widgets.Dropdown(options=[(f"{get_method(SPRAY_METHOD).label} (the paper's)", SPRAY_METHOD),
                                                ("the current explainer", CURRENT)],
                                       value=SPRAY_METHOD, description="heatmaps", layout=widgets.Layout(width="340px"))
        self.button = widgets.Button(description="SpRAy", icon="object-group", layout=AUTO)
        self.button.on_click(lambda _: self.request())
        self.maps = LiveFigure()
        self.widget = widgets.VBox([
            widgets.HTML("Spectral Relevance Analysis (Lapuschkin et al. 2019) of heatmaps for the target class "
                         "over generated scenes: clusters are prediction strategies. Perturbation maps of a "
                         "confident model rarely show a second cue such as the watermark; LRP does."),
            self.source, widgets.HBox([self.images, self.watermark, self.button]), self.freshness.banner,
            self.until_shown("The scenes' heatmaps as points, coloured by cluster, and a map per cluster: press "
                             "<b>SpRAy</b>.", self.figure, self.maps)])

    def request(self) -> None:
        """SpRAy over generated scenes of the current target class, with the heatmaps the tab's source names."""
        method = None if self.source.value == CURRENT else self.source.value
        self.context.status.say(f"SpRAy over {self.images.value} scenes...")
        self.session.request_spray(self.images.value, self.watermark.value, method=method, handlers=Handlers(
            on_done=self.shown_by(self.show), on_error=self.report_error))

    def show(self, result) -> None:
        self.reveal()
        self.result = result
        gaps = ", ".join(f"{v:.3f}" for v in result.eigenvalues[:5])
        with self.figure.batch_update():
            self.figure.data = ()
            self.figure.add_traces(spray_traces(result.layout, result.labels))
            self.figure.layout.title.text = f"{clusters(result.n_clusters)} (eigenvalues {gaps} ...)"
        for trace in self.figure.data:
            trace.on_click(self._clicked)
        titles = [f"cluster {c} mean ({int((result.labels == c).sum())})" for c in range(result.n_clusters)]
        replace(self.maps, maps_grid(titles, list(result.cluster_means), columns=3, tile=150))
        self.context.status.say(f"SpRAy: {html.escape(clusters(result.n_clusters))}")

    def _clicked(self, trace, points, state) -> None:
        if points.point_inds:
            self.show_point(int(trace.customdata[points.point_inds[0]]))

    def show_point(self, index: int) -> None:
        """That image's map next to its cluster's mean."""
        result = self.result
        cluster = int(result.labels[index])
        replace(self.maps, maps_grid([f"image {index}", f"cluster {cluster} mean"],
                                     [result.heatmaps[index], result.cluster_means[cluster]], columns=3, tile=150))
