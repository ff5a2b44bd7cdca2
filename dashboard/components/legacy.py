"""The old way of drawing, kept only while the views move to BokehView / PlotlyView: a new
figure per update (`render`). Removed once no view uses it."""
from __future__ import annotations

import time
from typing import ClassVar

import holoviews as hv
import panel as pn

from .base import View

hv.extension("bokeh", logo=False)
hv.renderer("bokeh").webgl = False


class _Rendered(View):
    def render(self, df):
        raise NotImplementedError

    def show(self, frame) -> None:
        self._show(self.render(frame))

    show_marks = show


class PlotlyView(_Rendered):
    """A view drawn with Plotly; clicks arrive as `click_data` (and box/lasso as `selected_data`)."""

    config: ClassVar[dict] = {"displaylogo": False, "responsive": True}
    # Plotly can report one click several times (a 3D scene emits plotly_click on every frame
    # while the button is down): a repeat of the same selection this soon is ignored, or it
    # would toggle the selection off and on again.
    click_debounce: ClassVar[float] = 0.8

    def _make_pane(self):
        self._last_click: tuple[dict | None, float] = (None, 0.0)
        pane = pn.pane.Plotly(None, config=self.plotly_config(), sizing_mode="stretch_width",
                              height=self.height)
        pane.param.watch(self._on_click, ["click_data"])
        pane.param.watch(self._on_select, ["selected_data"])
        pane.param.watch(self.reset, ["doubleclick_data"])
        return pane

    def plotly_config(self) -> dict:
        return dict(self.config)

    def _show(self, figure) -> None:
        if pn.config.theme == "dark":  # the page's theme (`?theme=dark`); Bokeh plots follow it by themselves
            figure.update_layout(template="plotly_dark", paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)")
            figure.update_scenes(**{f"{a}axis": dict(backgroundcolor="#2b3035", gridcolor="#555") for a in "xyz"})
            figure.update_geos(landcolor="#2b3035", subunitcolor="#777")
        self._plot.object = figure

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
        if event.new is not None:  # a box/lasso selection (None when Plotly clears it)
            self.apply_selection(self.selection_from_points((event.new or {}).get("points") or []))

    def selection_from_click(self, point: dict) -> dict | None:
        """Store updates for a clicked Plotly point (its x, y, label, customdata …)."""
        raise NotImplementedError

    def selection_from_points(self, points: list[dict]) -> dict | None:
        """Store updates for a box/lasso selection; views without brushing ignore it."""
        return None


class HoloViewsView(_Rendered):
    """A view drawn with HoloViews/Bokeh; a Tap on the plot arrives as data coordinates.

    `render` returns one element, or an Overlay when `layered` is set. HoloViews links a Tap
    only to a DynamicMap of a single element, so a layered view is drawn as two DynamicMaps
    fed by one pipe: its first layer (which the Tap listens to) and the other layers.
    `overlay_opts` are the plot options of the composed overlay (legend, size); give each element
    `framewise=True` so its axes follow the data when filters change.
    """

    layered: ClassVar[bool] = False
    overlay_opts: ClassVar[dict] = {}

    def _make_pane(self):
        self._element_stream = None  # the DynamicMaps are made from the first real figure
        return pn.pane.HoloViews(None, sizing_mode="stretch_width", height=self.height, linked_axes=False)

    def _show(self, figure) -> None:
        if self._element_stream is not None:
            self._element_stream.send(figure)
            return
        # Made lazily so the first frame fixes the element types (a DynamicMap cannot switch them).
        self._element_stream = hv.streams.Pipe(data=figure)
        first = hv.DynamicMap(lambda data: self._layers(data)[0], streams=[self._element_stream])
        self._tap = hv.streams.Tap(source=first, x=None, y=None)
        self._tap.add_subscriber(self._on_tap)
        hv.streams.DoubleTap(source=first).add_subscriber(self.reset)
        shown = first
        if self.layered:
            rest = hv.DynamicMap(lambda data: self._layers(data)[1], streams=[self._element_stream])
            shown = (first * rest).opts(hv.opts.Overlay(**self.overlay_opts))
        self._plot.object = shown

    def _layers(self, figure) -> tuple:
        if not self.layered:
            return figure, None
        layers = list(figure)
        return layers[0], hv.Overlay(layers[1:])

    def _on_tap(self, x=None, y=None, **_) -> None:
        if x is not None and y is not None and self.frame is not None and not self.frame.empty:
            self.apply_selection(self.selection_from_tap(x, y))

    def selection_from_tap(self, x, y) -> dict | None:
        """Store updates for a tap at data coordinates (x, y); categorical axes give labels."""
        raise NotImplementedError
