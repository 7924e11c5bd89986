"""Everything that touches Plotly's private widget internals, in one place: how figures travel to the browser.

Tested on plotly 7.1 (pinned ``>=7.1,<7.2`` in pyproject.toml: the names below are private and may change in any
minor release). Plotly 7.1 encodes typed arrays itself only in ``plotly.io`` (``to_json``, HTML); its
``FigureWidget`` serialiser (``plotly.serializers._py_to_js``) still sends a 2-D array as nested lists, so
:func:`to_js` sends it as plotly.js's typed-array spec instead. :class:`LiveFigure` keeps the synced state equal
to the figure drawn and answers a view that missed edits. Nothing else in the Workbench imports Plotly's
private names (``tests/ui/test_transport.py`` checks it).
"""
from __future__ import annotations

import base64
from copy import deepcopy

import numpy as np
import plotly.graph_objects as go
from plotly.serializers import _js_to_py, _py_to_js
from traitlets import Dict, List, observe

_TYPED = {"f": "f4", "i1": "i1", "i2": "i2", "i4": "i4", "u1": "u1", "u2": "u2", "u4": "u4"}


def to_js(value, manager=None):
    """Plotly's serialiser, but a numeric array of two or more dimensions travels as plotly.js's typed-array
    spec (``dtype``, base64 ``bdata``, ``shape``; floats as float32, enough for maps drawn to 3 significant
    digits) instead of nested lists: one string, where nested lists cost the kernel a walk over every cell of
    a heatmap for each edit and each state sync."""
    if isinstance(value, dict):
        return {key: to_js(item, manager) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_js(item, manager) for item in value]
    if isinstance(value, np.ndarray) and value.ndim >= 2 and value.size:
        code = _TYPED.get(value.dtype.kind if value.dtype.kind == "f" else value.dtype.str[1:])
        if code is not None:
            if _last_typed[0] is value:
                return _last_typed[1]
            data = np.ascontiguousarray(value, dtype=np.dtype("<" + code))
            spec = {"dtype": code, "bdata": base64.b64encode(data.tobytes()).decode("ascii"),
                    "shape": ",".join(str(n) for n in value.shape)}
            if not value.flags.writeable and value.flags.owndata:   # Plotly's own read-only copy: it never changes
                _last_typed[:] = [value, spec]
            return spec
    return _py_to_js(value, manager)


# the last read-only array encoded and its spec: an edit sends a map once as the edit and once in the synced state
_last_typed: list = [None, None]


def _synced(trait, to_json=to_js):
    """A synced figure trait that serialises with :func:`to_js`."""
    return trait.tag(sync=True, to_json=to_json, from_json=_js_to_py)


def _layout_to_js(layout, figure):
    """:func:`to_js` of a layout whose template (about 550 values of Plotly's default one, never edited by the
    Workbench) is serialised once per template object, not at every edit."""
    template = layout.get("template") if isinstance(layout, dict) else None
    if template is None:
        return to_js(layout, figure)
    cached = getattr(figure, "_template_js", None)
    if cached is None or cached[0] is not template:
        cached = figure._template_js = (template, to_js(template, figure))
    return {key: cached[1] if key == "template" else to_js(value, figure) for key, value in layout.items()}


def _copy_edited(value, shared=()):
    """A copy of a figure's props for the synced state: dicts and lists copied (Plotly edits them in place),
    arrays shared (Plotly stores them read-only and replaces them on an edit), as are the keys in ``shared``."""
    if isinstance(value, dict):
        return {key: item if key in shared else _copy_edited(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_edited(item) for item in value)
    return value


class LiveFigure(go.FigureWidget):
    """A ``FigureWidget`` whose synced state always holds the figure as drawn.

    Plotly sends each edit to the browser as a one-off message (``_py2js_restyle`` set, then reset to None) and
    leaves the synced ``_widget_data``/``_widget_layout`` as they were at construction. A browser view that
    starts after an edit, because the page loads the 5 MB widget bundle more slowly than a fast method
    computes, or because the notebook is reopened, drew the figure's first state: an empty heatmap under a
    finished explanation. Here every edit also refreshes the synced state, so a late view draws what is
    current (live views already applied the edit and do not redraw on a state change).

    A page that loads the bundle slowly also loses the edit messages sent while it loads, and then draws the
    state it got first. A view reports the edit it drew when it starts (``_js2py_layoutDelta`` with its
    ``layout_edit_id``); an older one than the last edit sent gets the whole figure again (:meth:`redraw`)."""

    _widget_layout = _synced(Dict(), to_json=_layout_to_js)
    _widget_data = _synced(List())
    _py2js_addTraces = _synced(Dict(allow_none=True))
    _py2js_restyle = _synced(Dict(allow_none=True))
    _py2js_relayout = _synced(Dict(allow_none=True))
    _py2js_update = _synced(Dict(allow_none=True))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._answered: set[int] = set()       # stale edit ids already answered with a redraw
        self._view_traces = 0                  # traces the last reporting view holds
        self.observe(self._traces_reported, names="_js2py_traceDeltas")
        self.observe(self._view_reported, names="_js2py_layoutDelta")

    @observe("_js2py_traceDeltas")
    def _handler_js2py_traceDeltas(self, change) -> None:
        """Plotly's handler of the defaults a view reports per trace, less the array properties this figure set
        itself: a view reports an array it received as a typed-array spec (:func:`to_js`) back as a
        "default" (its decoded ``fullData`` differs from the spec), and plotly then failed on it
        (``ValueError: The truth value of an array ... is ambiguous``, once per redraw in the log)."""
        message = change["new"]
        for delta in (message or {}).get("trace_deltas") or []:
            trace = next((t for t in self.data if t.uid == delta.get("uid")), None)
            if trace is not None:
                for key in [k for k, v in trace._props.items() if isinstance(v, np.ndarray) and k in delta]:
                    del delta[key]
        go.FigureWidget._handler_js2py_traceDeltas.func(self, change)

    def _traces_reported(self, change) -> None:
        if change["new"]:
            self._view_traces = len(change["new"].get("trace_deltas") or [])

    def _view_reported(self, change) -> None:
        message = change["new"]
        if not message:
            return
        drawn = message.get("layout_edit_id")
        if isinstance(drawn, int) and drawn < self._last_layout_edit_id and drawn not in self._answered:
            self._answered.add(drawn)
            self.redraw()

    def redraw(self) -> None:
        """Send the whole layout and every trace the view holds (a view reports its traces before its layout) as
        edits that any view applies; every trace of the figure when no view reported its traces (the predictions
        view's bars kept the first image's classes after a scene change in one of two runs of
        docs/screenshots.py, and the kernel had heard of no trace from any view: ``_view_traces`` 0)."""
        self._send_relayout_msg(deepcopy(self._layout_obj._props))
        for index, trace in enumerate(self._data[:self._view_traces or len(self._data)]):
            self._send_restyle_msg({key: [value] for key, value in trace.items() if key not in ("type", "uid")},
                                   trace_indexes=[index])

    def _sync_state(self) -> None:
        """The synced state as drawn now: one copy of what Plotly edits in place; its arrays and the layout's
        template shared, not copied (``deepcopy`` and serialising the template took about half of a redraw)."""
        self._widget_data = _copy_edited(self._data)
        self._widget_layout = _copy_edited(self._layout_obj._props, shared=("template",))


def _then_sync(name: str):
    """``FigureWidget.<name>`` (one edit message to the views) followed by :meth:`LiveFigure._sync_state`."""
    send = getattr(go.FigureWidget, name)

    def send_and_sync(self, *args, **kwargs):
        send(self, *args, **kwargs)
        self._sync_state()

    send_and_sync.__name__ = name
    return send_and_sync


# every kind of edit Plotly sends: relayout, restyle, update, add/delete/move traces
for _name in ("_send_relayout_msg", "_send_restyle_msg", "_send_update_msg", "_send_addTraces_msg",
              "_send_deleteTraces_msg", "_send_moveTraces_msg"):
    setattr(LiveFigure, _name, _then_sync(_name))
