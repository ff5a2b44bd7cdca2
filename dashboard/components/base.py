"""What every view shares: its card (title, status line, message box, CSV), the store, and its
part as a client of the session's coordinator.

A view names its gold table and the dimensions it draws (`own`). It asks for the table under
every active filter except its own (crossfilter convention), turns it into the frame it shows
(`transform`) and draws it on a figure made once (`BokehView`, `PlotlyView`): a filter change
sends new data columns, a change of its own dimensions only the highlight (`show_marks`), and
neither makes a model. Nothing here knows SQL or how a figure is drawn.
"""
from __future__ import annotations

import io
from functools import partial
from typing import ClassVar

import pandas as pd
import panel as pn
import param

from .. import offline
from ..data import DataStore
from ..warehouse.needs import Need
from .message import ViewMessage
from .coordinator import Coordinator, guarded, served
from .header import ViewHeader
from .shaped import SHAPED
from .style import CARD_STYLES


def view_titles() -> set[str]:
    """The title of every view class: who a link may say set a filter."""
    found, classes = set(), View.__subclasses__()
    while classes:
        cls = classes.pop()
        found.add(cls.title)
        classes += cls.__subclasses__()
    return found - {""}


class View(pn.viewable.Viewer):
    """Base of the thirteen views; a subclass sets the class variables, `transform`, `summarize`
    and, through BokehView or PlotlyView, how its figure is built and fed."""

    title: ClassVar[str] = ""
    table: ClassVar[str] = ""
    own: ClassVar[tuple[str, ...]] = ()
    # Only these sums of `table` are drawn: asked as such, any filter is answered without the gold
    # table's distinct counts (warehouse/needs.py). None: the whole table.
    need: ClassVar[Need | None] = None
    help: ClassVar[str] = ""
    shares_frames: ClassVar[bool] = True  # `transform` depends on the answer and the knobs alone
    brushes: ClassVar[tuple[str, ...]] = ()  # the store dimensions a brush on this view sets (brush.py)
    themed_data: ClassVar[bool] = False  # the data sent holds colours chosen for the theme: redrawn on a switch

    store = param.ClassSelector(class_=DataStore, doc="The shared reactive store (one per session)")
    frame = param.DataFrame(default=None, doc="Exactly the data the view shows (what CSV exports)")
    error = param.String(default="", doc="Why the last query failed, if it did")
    height = param.Integer(default=420, doc="The figure's height in pixels (fixed: an update re-lays out nothing)")

    def __init__(self, store: DataStore | None = None, **params):
        super().__init__(store=store if store is not None else DataStore(), **params)
        self._key = None  # the filters of the frame shown
        self._message = ViewMessage(self.message_action, cover=self.height, height=0, sizing_mode="stretch_width",
                                    margin=0)
        self._plot = self._make_pane()
        self._body = pn.Column(self._message, self._plot, sizing_mode="stretch_width", height=self.height)
        self._status = ViewHeader(self._on_status, heading=self.title, help=self.help, csv_name=f"{self.slug}.csv",
                                  sizing_mode="stretch_width", margin=(6, 4, 2, 0))
        self._unsent = False  # the figure lags the frame: drawn when the card comes into sight
        self._behind = False  # the frame lags the filters (they changed out of sight): asked for when seen
        self._settling = False  # an export or a save wants the frame now, in sight or not
        self._status.param.watch(self._on_seen, ["seen"])
        self._knobs = [p for p in self.param if p not in View.param]  # a subclass's thresholds, top-N …
        if self._knobs:
            self.param.watch(self._on_knob, self._knobs)
        self.coordinator = Coordinator.of(self.store)
        self.coordinator.add(self)

    @property
    def slug(self) -> str:
        return self.title.lower().replace(" ", "_").replace("/", "_")

    # -- to override ------------------------------------------------------------------------
    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """The gold frame -> the frame shown (thresholds, top-N, pivots stay out of SQL)."""
        return df

    def summarize(self, df: pd.DataFrame) -> str:
        """A few words on what is shown (e.g. '42,843 transactions'), next to the title."""
        return f"{len(df):,} rows"

    def message_action(self) -> None:
        """What the button of the view's message does (a view that offers one says it in the message)."""

    def _make_pane(self):
        """The pane holding the figure, built once (BokehView, PlotlyView)."""
        raise NotImplementedError

    def apply_theme(self) -> None:
        """Set the figure's theme-dependent properties for the session's theme (see theme.py)."""

    def show(self, frame: pd.DataFrame) -> None:
        """Send a new frame's data (and its highlight) to the figure."""
        raise NotImplementedError

    def show_marks(self, frame: pd.DataFrame) -> None:
        """Send only the highlight of the store's selection of `own` (no query ran)."""
        raise NotImplementedError

    # -- selection helpers --------------------------------------------------------------------
    def selected(self, dimension: str) -> list:
        return list(getattr(self.store, dimension))

    def is_selected(self, **values) -> bool:
        """True when nothing is selected in these dimensions or every given value is selected."""
        return all(not self.selected(d) or v in self.selected(d) for d, v in values.items())

    def apply_selection(self, selection: dict | None, toggle: bool = True) -> None:
        """Set the store dimensions of a click (`toggle`: the same click again clears them) or a brush.
        On a brushable view a click and a brush replace each other: what this view set before and the
        new selection does not name is cleared."""
        if selection:
            if self.brushes:
                selection = {**{d: [] for d, title in self.store.origin.items() if title == self.title}, **selection}
            self.store.select(origin=self.title, toggle=toggle, **selection)

    @property
    def shown(self) -> bool:
        """Whether the figure shows data (not an error, not an empty selection)."""
        return self.frame is not None and not self.frame.empty and not self.error

    # -- the coordinator's client ------------------------------------------------------------------
    def request(self):
        key = self.store.filters(self.own)
        self._behind = False
        if key == self._key and not self.error:  # e.g. only the highlight changed
            return None
        if served() and not self._status.seen and not self._settling:  # no query, no pandas for a card
            self._behind = True                                          # no one sees: asked for when seen
            return None
        self.store.expect(self.table, self.own, key, self.need)  # the change's other views say so too, first
        return partial(self.store.fetch, self.table, self.own, key, self.need), key

    def receive(self, raw: pd.DataFrame, key) -> None:
        self.error = ""
        self._status.cancelled = False
        self.frame = SHAPED(self, raw, key)
        self._key = key
        self._draw(data=True)

    def fail(self, message: str) -> None:
        self.error = message
        self._key = None  # ask again on the next change
        self._draw(data=False)

    def remark(self) -> None:
        if not self._behind:  # a frame that lags the filters has no highlight worth sending
            self._draw(data=False)

    def waiting(self, on: bool) -> None:
        self._status.updating = on

    def stop(self, key) -> None:
        self.store.cancel(self.table, self.own, key, self.need)

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def behind(self) -> bool:
        return self._behind

    def refresh(self) -> None:
        """Fetch (if the filters that concern this view changed) and draw, now."""
        self.coordinator.run_now([self])

    def _on_knob(self, *events) -> None:
        self._key = None  # re-transform (the query itself is a cache hit)
        self.coordinator.update([self])

    def _draw(self, data: bool) -> None:
        self._status.param.update(summary=self.summarize(self.frame) if self.shown else "",
                                  resettable=any(self.selected(d) for d in self.own))
        # the message covers the figure (the figure stays: hiding it would re-lay out the page)
        if self.error:
            self._message.failed(self.error, retrying=self.coordinator.retries)
        elif not self.shown:
            self._message.say("No data for this selection.", "Remove a filter chip or press Clear all.")
        elif served() and not self._status.seen:  # out of sight: the frame and summary are current,
            self._unsent = True                    # the figure is drawn when it is seen
            self._message.clear()
        elif not self.attached:  # in sight before its deferred figure joined the card: now, with its data
            self._unsent = True
            self.catch_up()
            self._message.clear()
        else:
            (self.show if data or self._unsent else self.show_marks)(self.frame)
            self._unsent = False
            self._message.clear()

    def restyle(self) -> None:
        """The page's theme changed (theme.switch): the figure follows now; data coloured for the theme
        is sent again, at once in sight, else when the card is seen."""
        self.apply_theme()
        if self.themed_data and self.shown:
            self._unsent = True
            self._draw(data=True)

    def _on_seen(self, event) -> None:
        if event.new and (self._behind or self._unsent or not self.attached):
            self.coordinator.sighted(self)

    @property
    def attached(self) -> bool:
        """Whether the figure is in the card (see `defer`)."""
        return self._plot in self._body.objects

    def defer(self) -> None:
        """Leave the figure out of the card until `catch_up` (a served card below the fold): the
        page's first paint lays out the figures a visitor sees, not thirteen. Call before the card
        is rendered; its card keeps its size, its status line its summary."""
        self._body.objects = [self._message]

    def catch_up(self) -> None:
        """Draw what the figure has not been sent yet (the card came into sight, or it is saved);
        a deferred figure joins its card with its data (one message, no separate update)."""
        if self._unsent and self.shown:
            self.show(self.frame)
        self._unsent = False
        if not self.attached:
            self._body.append(self._plot)

    def settle(self) -> None:
        """Make the frame current now, out of sight or not: what an export or a save holds."""
        if self._behind:
            self._settling = True
            try:
                self.coordinator.run_now([self])
            finally:
                self._settling = False

    def _on_status(self, message) -> None:
        if message == {"reset": True}:  # the status line's Reset
            self.reset()
        elif message == {"cancel": True}:
            self.cancel()
        elif message == {"retry": True}:
            self._status.cancelled = False
            self.coordinator.update([self])
        elif message == {"csv": True}:
            self._status.csv = {"n": self._status.csv.get("n", 0) + 1, "text": self._csv().getvalue()}

    def cancel(self) -> None:
        """Stop waiting for the running query and stop it in the database (the status line's Cancel).
        The view says so instead of a figure that no longer matches the filters, and asks again on
        Retry or the next change (a cancel is not an error: no automatic retry)."""
        if not self._status.updating:
            return
        self._key = None
        self.coordinator.cancel(self)
        self._status.cancelled = True
        self._message.say("Query cancelled.", "This view does not show the current filters; press Retry in its "
                          "status line, or change a filter.")

    def reset(self, *_, **__) -> None:
        """Clear this view's own selection (Reset, or a double-click on the chart)."""
        if any(self.selected(d) for d in self.own):
            self.store.select(**{d: [] for d in self.own})

    def _csv(self) -> io.StringIO:
        self.settle()
        buffer = io.StringIO()
        (self.frame if self.frame is not None else pd.DataFrame()).to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    def save_html(self, path, title: str | None = None):
        """This view alone as one self-contained HTML file that opens offline (a snapshot)."""
        self.settle()
        guarded(self, self.catch_up)
        return offline.save_html(self, path, title)

    def __panel__(self):
        return pn.Column(self._status, self._body, css_classes=["view-card"], styles=CARD_STYLES,
                         sizing_mode="stretch_width", name=self.title, margin=(6, 6))
