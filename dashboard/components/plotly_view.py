"""Views drawn with Plotly: the figure is made once, with a fixed set of traces; an update
sets new NumPy arrays on those traces, which Panel's Plotly pane sends as binary columns
(only the arrays that changed), and the browser redraws with `Plotly.react`. Anything but an
array that differs between updates (a Python list, a changed number of traces) would make
the pane re-send every trace as JSON, so `traces` and `marks` return arrays only."""
from __future__ import annotations

import time
from typing import ClassVar

import plotly.graph_objects as go

from .base import View
from .brush import Brush
from .plotly_patch import FigurePane, flatten, send
from .theme import is_dark


class PlotlyView(View):
    """A view drawn with Plotly; clicks arrive as `click_data` (and box/lasso as `selected_data`)."""

    config: ClassVar[dict] = {"displaylogo": False, "responsive": True}
    # Plotly can report one click several times (a 3D scene emits plotly_click on every frame
    # while the button is down): a repeat of the same selection this soon is ignored, or it
    # would toggle the selection off and on again.
    click_debounce: ClassVar[float] = 0.8

    # -- to override --------------------------------------------------------------------------------
    def build(self) -> go.Figure:
        """The figure, once: every trace it will ever have (empty arrays until data comes)."""
        raise NotImplementedError

    def traces(self, frame) -> list[dict]:
        """Per trace of the built figure, in order: the properties a new frame sets (arrays)."""
        raise NotImplementedError

    def marks(self, frame) -> list[dict]:
        """Per trace: the properties the highlight sets (by default all of `traces`)."""
        return self.traces(frame)

    def layout(self, frame) -> dict:
        """Layout properties a new frame sets (explicit ranges, colour limits); none by default."""
        return {}

    def theme_layout(self, dark: bool) -> dict:
        """Every layout property that depends on the page's theme (dotted paths; None: the template's),
        for the dark theme or the light one: set as the figure is built and on a theme switch. A view
        that picks colours for a background extends it."""
        if dark:  # transparent: the card's colour shows through, as Bokeh's dark theme paints it
            return {"template": "plotly_dark", "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}
        return {"template": "plotly", "paper_bgcolor": None, "plot_bgcolor": None}

    def plotly_config(self) -> dict:
        return dict(self.config)

    def selection_from_click(self, point: dict) -> dict | None:
        """Store updates for a clicked Plotly point (its x, y, label, customdata …)."""
        raise NotImplementedError

    def selection_from_points(self, points: list[dict]) -> dict | None:
        """Store updates for the points a box or lasso covers (None: no point of a mark); used when
        `brushes` names the dimensions it sets."""
        raise NotImplementedError

    # -- the figure ----------------------------------------------------------------------------------
    def _make_pane(self):
        self._last_click: tuple[dict | None, float] = (None, 0.0)
        self.figure = self.build()
        # the pane's height; uirevision keeps the user's zoom
        self.figure.update_layout(self.theme_layout(is_dark()), height=self.height, uirevision=self.title)
        pane = FigurePane(self.figure, link_figure=False, config=self.plotly_config(), sizing_mode="stretch_width",
                          height=self.height)
        pane.param.watch(self._on_click, ["click_data"])
        pane.param.watch(self._on_select, ["selected_data"])
        pane.param.watch(self.reset, ["doubleclick_data"])
        self._brush = Brush(self)
        self._boxed = 0  # brushes drawn in the browser since Plotly's selection was last cleared
        self._cleared = 0  # the layout's `selectionrevision`: a new one drops Plotly's own selection
        return pane

    def apply_theme(self) -> None:
        self.figure.update_layout(self.theme_layout(is_dark()))
        self._plot.param.trigger("object")  # the pane's own diff: the new template, its toolbar's colours

    def show(self, frame) -> None:
        self._patch(self.traces(frame), self.layout(frame))

    def show_marks(self, frame) -> None:
        self._patch(self.marks(frame), {})

    def _patch(self, traces: list[dict], layout: dict) -> None:
        if self._boxed and not any(self.selected(d) for d in self.brushes):
            # the brush was cleared (a chip, Reset, Undo, another view): Plotly keeps drawing its box and
            # fading the points outside it until the selection's revision changes
            self._boxed, self._cleared = 0, self._cleared + 1
            layout = {**layout, "selectionrevision": self._cleared, "selections": []}
        if len(traces) != len(self.figure.data):
            raise ValueError(f"{type(self).__name__} returned {len(traces)} traces for a figure of "
                             f"{len(self.figure.data)}: the structure is fixed when it is built")
        send(self._plot, self.figure, [flatten(t) for t in traces], layout)

    # -- clicks -------------------------------------------------------------------------------------
    def _on_click(self, event) -> None:
        points = (event.new or {}).get("points") or []
        if not points:
            return
        self._plot.click_data = None  # so a second click on the same mark is an event too
        selection, now = self.selection_from_click(points[0]), time.monotonic()
        if selection is None or (selection == self._last_click[0] and now - self._last_click[1] < self.click_debounce):
            return
        self._last_click = (selection, now)
        self.apply_selection(selection)

    def _on_select(self, event) -> None:
        """A box or lasso: while it moves (`live`, brush.LIVE_SELECT_JS) and on release. None when Plotly
        clears its selection (a double-click, which also resets the view)."""
        if event.new is None or not self.brushes or not isinstance(event.new, dict):
            return
        points = [p for p in event.new.get("points") or [] if isinstance(p, dict)]
        self._boxed += 1
        self._brush.step(self.selection_from_points(points), final=event.new.get("live") is not True)
