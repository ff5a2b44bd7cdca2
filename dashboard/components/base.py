"""What every view shares: store wiring, loading/empty/error states, CSV download, click plumbing.

A view names its gold table and the dimensions it draws (`own`). It fetches the table with
every active filter except its own (crossfilter convention), turns it into the frame it
shows (`transform`), draws that frame with the selection highlighted (`render`) and turns a
click into store updates (`selection_from_click`/`_from_tap`). Nothing here knows SQL.
"""
from __future__ import annotations

import asyncio
import io
import logging
import time
import weakref
from contextlib import contextmanager
from functools import partial
from typing import ClassVar

import holoviews as hv
import pandas as pd
import panel as pn
import param
from panel.io.state import set_curdoc

from .. import offline, panel_writes
from ..config import WarehouseError
from ..data import FILTER_PARAMETERS, DataStore
from .controls import ViewMessage, ViewStatus
from .style import CARD_STYLES

hv.extension("bokeh", logo=False)
# Canvas, not WebGL: these small plots gain nothing from it, and on software-rendered desktops
# (VDI, headless) every WebGL repaint is a slow copy to canvas.
hv.renderer("bokeh").webgl = False
log = logging.getLogger(__name__)
SPINNER_AFTER_S = 0.3
RETRY_AFTER_S = 5.0
pn.extension("plotly", notifications=True)
panel_writes.install()  # served updates are written by Panel outside the document lock: none may be lost


def _served() -> bool:
    """True inside a `panel serve` session (False in a notebook, a script or a test)."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


def view_titles() -> set[str]:
    """The title of every view class: who a link may say set a filter."""
    found, classes = set(), View.__subclasses__()
    while classes:
        cls = classes.pop()
        found.add(cls.title)
        classes += cls.__subclasses__()
    return found - {""}


class View(pn.viewable.Viewer):
    """Base of the thirteen views; subclasses set the class variables and override two methods."""

    title: ClassVar[str] = ""
    table: ClassVar[str] = ""
    own: ClassVar[tuple[str, ...]] = ()
    help: ClassVar[str] = ""

    store = param.ClassSelector(class_=DataStore, doc="The shared reactive store (one per session)")
    frame = param.DataFrame(default=None, doc="Exactly the data the view shows (what CSV exports)")
    error = param.String(default="", doc="Why the last query failed, if it did")
    height = param.Integer(default=420)

    def __init__(self, store: DataStore | None = None, **params):
        super().__init__(store=store if store is not None else DataStore(), **params)
        self._key = None
        self._asked = None  # the filters of the query running in a worker thread, if any
        self._ticket = 0
        self._message = ViewMessage(cover=self.height, height=0, sizing_mode="stretch_width", margin=0)
        self._plot = self._make_pane()
        self._body = pn.Column(self._message, self._plot, sizing_mode="stretch_width", min_height=self.height)
        self._download = pn.widgets.FileDownload(
            callback=self._csv, filename=f"{self.slug}.csv", label="CSV", color="light",
            width=70, height=30, margin=(2, 4), description="Download the data this view shows")
        self._status = ViewStatus(self._on_status, sizing_mode="stretch_width", margin=(10, 4, 0, 4))
        self.store.param.watch(self._on_store, list(FILTER_PARAMETERS))
        knobs = [p for p in self.param if p not in View.param]  # a subclass's thresholds, top-N …
        if knobs:
            self.param.watch(self._on_knob, knobs)
        self.refresh()

    @property
    def slug(self) -> str:
        return self.title.lower().replace(" ", "_").replace("/", "_")

    # -- to override ------------------------------------------------------------------------
    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """The gold frame -> the frame shown (thresholds, top-N, pivots stay out of SQL)."""
        return df

    def render(self, df: pd.DataFrame):
        """The figure for a non-empty frame, with the store's selection of `own` highlighted."""
        raise NotImplementedError

    def summarize(self, df: pd.DataFrame) -> str:
        """A few words on what is shown (e.g. '42,843 transactions'), next to the title."""
        return f"{len(df):,} rows"

    def _make_pane(self):
        raise NotImplementedError

    def _show(self, figure) -> None:
        raise NotImplementedError

    # -- selection helpers --------------------------------------------------------------------
    def selected(self, dimension: str) -> list:
        return list(getattr(self.store, dimension))

    def is_selected(self, **values) -> bool:
        """True when nothing is selected in these dimensions or every given value is selected."""
        return all(not self.selected(d) or v in self.selected(d) for d, v in values.items())

    def apply_selection(self, selection: dict | None) -> None:
        if selection:
            self.store.select(origin=self.title, toggle=True, **selection)

    # -- data flow -----------------------------------------------------------------------------
    def refresh(self) -> None:
        """Fetch (if the filters that concern this view changed) and draw, synchronously."""
        key = self.store.filters(self.own)
        self._ticket += 1  # what this draws is newer than any answer still on its way
        if key != self._key:
            try:
                self._set_frame(self.store.fetch(self.table, self.own), key)
            except WarehouseError as exc:
                self._set_error(str(exc))
        self._draw()

    def _on_store(self, *events) -> None:
        if not _served():  # a notebook, a script or a test: do it now
            self.refresh()
            return
        _SessionUpdate.of(self.store, pn.state.curdoc).add(self)  # with the other views, off the event loop

    def _start_fetch(self, loop):
        """Begin this view's query in a worker thread, or return None if its data is current."""
        key = self.store.filters(self.own)
        self._ticket += 1  # an answer still on its way is for an older change: it is dropped
        if key == self._key and not self.error:  # e.g. a change undone before its answer came
            self._status.updating = False
            return None
        self._asked = key  # the thread queries these filters, whatever the store holds when it runs
        future = loop.run_in_executor(None, partial(self.store.fetch, self.table, self.own, key))
        return asyncio.ensure_future(self._fetched(future, key, self._ticket))

    async def _fetched(self, future, key, ticket: int):
        """The query's outcome, to apply later (with the other views') unless a newer change overtook it."""
        try:
            df, error = await future, ""
        except WarehouseError as exc:
            df, error = None, str(exc)
        return lambda: self._apply(df, error, key, ticket)

    def _apply(self, df, error: str, key, ticket: int) -> None:
        if ticket != self._ticket:  # a newer change (or a cancel) is on its way
            return
        if error:
            self._set_error(error)
        else:
            self._set_frame(df, key)
        self._status.param.update(updating=False, cancelled=False)
        self._draw()

    def _on_knob(self, *events) -> None:
        self._key = None  # re-transform (the query itself is a cache hit)
        self._on_store()

    def _set_frame(self, raw: pd.DataFrame, key) -> None:
        self.error = ""
        self.frame = self.transform(raw)
        self._key = key

    def _set_error(self, message: str) -> None:
        self.error = message
        self._key = None  # retry on the next change

    def _draw(self) -> None:
        shown = self.frame is not None and not self.frame.empty and not self.error
        self._status.param.update(summary=self.summarize(self.frame) if shown else "",
                                  resettable=any(self.selected(d) for d in self.own))
        # the message covers the figure (the figure stays: hiding it would re-lay out the page)
        if self.error:
            self._message.failed(self.error, retrying=_served())
        elif self.frame is None or self.frame.empty:
            self._message.say("No data for this selection.", "Remove a filter chip or press Clear all.")
        else:
            self._show(self.render(self.frame))
            self._message.clear()

    def _on_status(self, message) -> None:
        if message == {"reset": True}:  # the status line's Reset
            self.reset()
        elif message == {"cancel": True}:
            self.cancel()
        elif message == {"retry": True}:
            self._status.cancelled = False
            self._on_store()

    def cancel(self) -> None:
        """Stop waiting for the running query and stop it in the database (the status line's Cancel).
        The view says so instead of a figure that no longer matches the filters, and asks again on
        Retry or the next change (a cancel is not an error: no automatic retry)."""
        if not self._status.updating:
            return
        self._ticket += 1  # the answer, or the error the cancel causes, is dropped
        self._key = None
        self.store.cancel(self.table, self.own, self._asked)
        self._status.param.update(updating=False, cancelled=True)
        self._message.say("Query cancelled.", "This view does not show the current filters; press Retry in its "
                          "status line, or change a filter.")

    def reset(self, *_, **__) -> None:
        """Clear this view's own selection (Reset, or a double-click on the chart)."""
        if any(self.selected(d) for d in self.own):
            self.store.select(**{d: [] for d in self.own})

    def _csv(self) -> io.StringIO:
        buffer = io.StringIO()
        (self.frame if self.frame is not None else pd.DataFrame()).to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    def save_html(self, path, title: str | None = None):
        """This view alone as one self-contained HTML file that opens offline (a snapshot)."""
        return offline.save_html(self, path, title)

    def __panel__(self):
        header = pn.Row(
            pn.pane.Markdown(f"#### {self.title}", margin=(0, 8)),
            pn.widgets.TooltipIcon(value=self.help or self.title, margin=(12, 0)) if self.help else None,
            self._status, self._download, sizing_mode="stretch_width")
        return pn.Column(header, self._body, css_classes=["view-card"], styles=CARD_STYLES,
                         sizing_mode="stretch_width", name=self.title, margin=(6, 6))


def _draw(view: View, task=None) -> None:
    """Draw one view's answer (or, with no task, its highlight alone); a view that fails to draw
    says so and does not stop the others."""
    try:
        task.result()() if task is not None else view._draw()
    except Exception as exc:  # a bug in one view's drawing, not a database problem
        log.exception("drawing %s failed", view.title)
        view._set_error(f"drawing this view failed ({type(exc).__name__})")
        view._status.updating = False
        view._draw()  # the error state


@contextmanager
def _wave(doc):
    """Draw a wave of views as one change of the document: its events go to the browser
    together (`hold`), and Bokeh re-indexes the document's ~1,100 models once, when the wave
    is drawn (`freeze`), instead of after each HoloViews plot update, a full walk of the
    model graph each time (12 walks a click). Measured on a served-like document, one
    segment change drew in 2.1 s of CPU, 0.11 s frozen."""
    with pn.io.hold(doc), doc.models.freeze():  # the index is rebuilt before the events leave
        yield


class _SessionUpdate:
    """One filter change in one served session: every view's query runs at once in worker
    threads, and what they draw goes to the browser together (`pn.io.hold`), one message per
    wave instead of one per view. Answers ready within SPINNER_AFTER_S form the first wave;
    only views still waiting then show a spinner in their status line (none for a cached answer,
    so a quick click does not flicker). Views whose query failed (the database is down, a query
    timed out) are retried every RETRY_AFTER_S until they answer: the page heals by itself."""

    _gathering: "weakref.WeakKeyDictionary[DataStore, _SessionUpdate]" = weakref.WeakKeyDictionary()
    _failed: "weakref.WeakKeyDictionary[DataStore, list[View]]" = weakref.WeakKeyDictionary()

    def __init__(self, store: DataStore, doc):
        self.store, self.doc = store, doc
        self.views: list[View] = []

    @classmethod
    def of(cls, store: DataStore, doc) -> "_SessionUpdate":
        """The update gathering this change's views (the store notifies them all in one tick)."""
        update = cls._gathering.get(store)
        if update is None:
            update = cls._gathering[store] = cls(store, doc)
            pn.state.execute(update._run)
        return update

    def add(self, view: View) -> None:
        if view not in self.views:
            self.views.append(view)

    async def _run(self) -> None:
        self._gathering.pop(self.store, None)  # a change from now on starts a new update
        loop = asyncio.get_running_loop()
        started = {view: view._start_fetch(loop) for view in self.views}
        tickets = {view: view._ticket for view in started}
        waiting = {task for task in started.values() if task is not None}
        done: set = set()
        if waiting:
            done, waiting = await asyncio.wait(waiting, timeout=SPINNER_AFTER_S)
        with _wave(self.doc):
            for view, task in started.items():
                if task is None:
                    _draw(view)  # only the highlight changed
                elif task in done:
                    _draw(view, task)
                elif view._ticket == tickets[view]:  # not overtaken by a newer change meanwhile
                    view._status.updating = True
        while waiting:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            with _wave(self.doc):
                for view, task in started.items():
                    if task in done:
                        _draw(view, task)
        self._retry_later([view for view in started if view.error])

    def _retry_later(self, failed: list[View]) -> None:
        """Ask the failed views again in RETRY_AFTER_S (one pending retry per session)."""
        if not failed:
            return
        pending = self._failed.get(self.store)
        if pending is not None:  # a retry is already scheduled: it takes these views too
            pending.extend(v for v in failed if v not in pending)
            return
        self._failed[self.store] = list(failed)

        def retry() -> None:
            with set_curdoc(self.doc):
                update = _SessionUpdate.of(self.store, self.doc)
                for view in self._failed.pop(self.store, []):
                    update.add(view)

        self._later(retry)

    def _later(self, callback) -> None:
        """Run `callback` in RETRY_AFTER_S on this session's document (its own lock and loop)."""
        self.doc.add_timeout_callback(callback, int(RETRY_AFTER_S * 1000))


class PlotlyView(View):
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


class HoloViewsView(View):
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
