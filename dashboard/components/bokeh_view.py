"""Views drawn with Bokeh: the figure and its ColumnDataSources are made once; an update sets
new columns on those sources (only the columns that changed travel, as binary arrays), and
ranges and colour limits are set explicitly. A figure may be declared with HoloViews
(`holoviews_figure`) when that reads better; its sources are then fed the same way."""
from __future__ import annotations

import math
from typing import ClassVar

import holoviews as hv
import holoviews.plotting.bokeh  # noqa: F401  the Bokeh backend, without hv.extension's notebook output
import numpy as np
import panel as pn
from bokeh.document import Document
from bokeh.events import DoubleTap, SelectionGeometry, Tap
from bokeh.models import BoxSelectTool, ColumnDataSource, CustomJS, HoverTool

from .base import View
from .brush import Brush
from .sources import patch


# A drag starts: the hover tools stop, and the tooltip shown where the drag began goes.
HOVER_OFF_JS = """
for (const t of tools) {
  t.active = false
  const view = Bokeh.index.find_one(t)
  if (view != null) view._clear()
}"""


def holoviews_figure(element):
    """(Bokeh figure, HoloViews' handles: 'source', 'color_mapper' …) of an element, drawn once."""
    renderer = hv.renderer("bokeh")
    renderer.webgl = False  # canvas: small plots gain nothing from WebGL, software-rendered desktops lose
    plot = renderer.get_plot(element, doc=Document())
    # only the Bokeh models are kept: untie the plot from the session's document (HoloViews hooks
    # its clean-up there, and Panel's end of a session would then find its set of hooks changing)
    plot.document = None
    return plot.state, plot.handles


def factor_at(factors, x) -> object | None:
    """The factor of a categorical axis at a synthetic coordinate (factor i spans [i, i + 1))."""
    if x is None or not math.isfinite(float(x)):
        return None
    i = math.floor(float(x))
    return factors[i] if 0 <= i < len(factors) else None


class BokehView(View):
    """A view drawn with Bokeh; a tap arrives as data coordinates (`selection_from_tap`), a brush (Bokeh's
    box select, when `brushes` names dimensions) as a data rectangle (`selection_from_brush`)."""

    brush_shape: ClassVar[str] = "both"  # "both": a rectangle; "width": an interval along x

    # -- to override --------------------------------------------------------------------------------
    def build(self):
        """The figure, once, with every glyph and source it will ever have (see `source`)."""
        raise NotImplementedError

    def data(self, frame) -> dict[str, dict]:
        """{source name: {column: array}} for a new frame (the highlight included)."""
        raise NotImplementedError

    def marks(self, frame) -> dict[str, dict]:
        """{source name: {column: array}}: only the columns the highlight sets."""
        raise NotImplementedError

    def fit(self, frame) -> None:
        """Set ranges and colour limits for a new frame (explicit: nothing is auto-ranged)."""

    def selection_from_tap(self, x, y) -> dict | None:
        """Store updates for a tap at data coordinates (x, y)."""
        raise NotImplementedError

    def selection_from_brush(self, x0: float, x1: float, y0: float, y1: float) -> dict | None:
        """Store updates for a brush over [x0, x1] x [y0, y1] (data coordinates, x0 <= x1, y0 <= y1; a
        categorical axis in synthetic ones: factor i spans [i, i + 1)); None when it covers no mark."""
        raise NotImplementedError

    # -- the figure ----------------------------------------------------------------------------------
    def source(self, name: str, **columns) -> ColumnDataSource:
        """A named source of the figure (made in `build`, fed by `data` and `marks`)."""
        self.sources[name] = ColumnDataSource({k: np.asarray(v) for k, v in columns.items()})
        return self.sources[name]

    def _make_pane(self):
        self.sources: dict[str, ColumnDataSource] = {}
        self.figure = self.build()
        self.figure.on_event(Tap, self._on_tap)
        self.figure.on_event(DoubleTap, lambda event: self.reset())
        if self.brushes:
            self._brush = Brush(self)
            # selects no glyph itself (no renderers): Bokeh's own selection would fade marks against the
            # highlight; it only reports its rectangle, on every move (continuous) and on release
            tool = BoxSelectTool(dimensions=self.brush_shape, continuous=True, renderers=[],
                                 description="Brush: drag to filter the other views")
            self.figure.add_tools(tool)
            self.figure.toolbar.active_drag = tool
            self.figure.on_event(SelectionGeometry, self._on_brush)
            hovers = [t for t in self.figure.tools if isinstance(t, HoverTool)]
            if hovers:  # no tooltip over the marks being brushed (each move also re-laid out the page)
                self.figure.js_on_event("panstart", CustomJS(args={"tools": hovers}, code=HOVER_OFF_JS))
                self.figure.js_on_event("panend", CustomJS(args={"tools": hovers},
                                                           code="for (const t of tools) t.active = true"))
        return pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", height=self.height)

    def show(self, frame) -> None:
        self._patch(self.data(frame))
        self.fit(frame)

    def show_marks(self, frame) -> None:
        self._patch(self.marks(frame))

    def _patch(self, updates: dict[str, dict]) -> None:
        for name, columns in updates.items():
            patch(self.sources[name], columns)

    def _on_tap(self, event) -> None:
        if event.x is not None and event.y is not None and self.shown:
            self.apply_selection(self.selection_from_tap(event.x, event.y))

    def _on_brush(self, event) -> None:
        geometry = event.geometry or {}
        if geometry.get("type") != "rect" or not self.shown:
            return
        try:
            x0, x1 = sorted(float(geometry[k]) for k in ("x0", "x1"))
            y0, y1 = sorted(float(geometry[k]) for k in ("y0", "y1"))
        except (KeyError, TypeError, ValueError):  # the browser's message: checked, never trusted
            return
        if all(math.isfinite(v) for v in (x0, x1, y0, y1)):
            self._brush.step(self.selection_from_brush(x0, x1, y0, y1), final=bool(event.final))
