"""Drill to detail: the customers or transactions behind the current selection, one page at a time.

Pages come from the database (`DataStore.detail`: LIMIT/OFFSET under a stable order), never the
whole list, which can hold millions of transactions. Every active filter applies, since that is
the selection. A click on a column header sorts the whole list in the database (Tabulator
reports it as `sorters`); a filter change, a new sort or the other list starts again at page 1.
Text cells use Tabulator's `plaintext` formatter, which escapes markup in the data.
"""
from __future__ import annotations

from functools import partial

import pandas as pd
import panel as pn
import param
from bokeh.models import DateFormatter

from ..config import WarehouseError
from ..data import DataStore, value_label
from .coordinator import Coordinator, served
from .message import ViewMessage
from .header import SightedStatus
from .style import CARD_STYLES


TEXT = "plaintext"
COUNT = {"type": "money", "symbol": "", "precision": 0}
MONEY = {"type": "money", "symbol": "$", "precision": 2}
FLAG = {"type": "tickCross", "crossElement": False}
# explicit: the tables are made before their first rows, so Panel cannot tell this column holds times
# (it sent them as epoch milliseconds, shown as 1767225546000); the header's date style, in UTC
WHEN = DateFormatter(format="%d %b %Y %H:%M")
# column -> (title, Tabulator formatter), in the store's column order
COLUMNS = {
    "customers": {
        "customer_id": ("Customer", TEXT), "customer_segment": ("Segment", TEXT), "age_group": ("Age", TEXT),
        "income_bracket": ("Income", TEXT), "city": ("City", TEXT), "state": ("State", TEXT),
        "region": ("Region", TEXT), "credit_score_band": ("Credit band", TEXT),
        "transaction_count": ("Transactions", COUNT), "total_spend": ("Spend", MONEY)},
    "transactions": {
        "transaction_ts": ("Date and time", WHEN), "transaction_id": ("Transaction", TEXT),
        "customer_id": ("Customer", TEXT), "merchant_name": ("Merchant", TEXT),
        "merchant_category": ("Category", TEXT), "category_group": ("Category group", TEXT),
        "channel": ("Channel", TEXT), "amount": ("Amount", MONEY), "is_recurring": ("Recurring", FLAG),
        "is_international": ("International", FLAG), "is_fraud": ("Fraud", FLAG),
        "is_high_value": ("≥ $1,000", FLAG)},
}
TABLE_CSS = """
.tabulator .tabulator-cell { font-size: 13px; }
.tabulator .tabulator-col-title { font-size: 12px; }
.tabulator.table-sm .tabulator-tableholder .tabulator-table .tabulator-row .tabulator-cell[tabulator-field] {
  padding: 4px !important; }
.tabulator.table-sm .tabulator-header .tabulator-col[tabulator-field] .tabulator-col-content { padding: 4px !important; }
.tabulator .tabulator-tableholder { overflow-x: auto !important; }
.tabulator .tabulator-header .tabulator-col:not([tabulator-field]) { visibility: hidden; }
.tabulator .tabulator-header .tabulator-col.tabulator-sortable .tabulator-col-title { padding-right: 13px !important; }
"""  # Tabulator's filler column past the last one: its cut sort arrow read as a phantom column. A title keeps
#     room for its 12 px sort arrow, not 25 px: the customers' ten columns fit a 1280 px page's card
MESSAGE_HEIGHT = 120  # px: the box of "No customers for this selection" and errors
DEFAULT_SORT = {"customers": ("total_spend", True), "transactions": ("transaction_ts", True)}
# words on the buttons, not in a tooltip (it covered the button it explained)
MOVES = {"first": "« First", "prev": "‹ Previous", "next": "Next ›", "last": "Last »"}


def pages(total: int, page_size: int) -> int:
    """How many pages `total` rows fill (at least one, empty)."""
    return max(1, -(-total // page_size))


class DetailTable(pn.viewable.Viewer):
    """The customers or transactions behind the selection, a page at a time, sorted by any column."""

    title = "Behind the selection"
    help = ("The customers or the transactions every active filter selects. Customers: their chosen "
            "transactions over the full period (all of them without a transaction filter). Click a "
            "column header to sort the whole list.")

    store = param.ClassSelector(class_=DataStore, doc="The shared reactive store (one per session)")
    kind = param.Selector(default="customers", objects={"Customers": "customers", "Transactions": "transactions"})
    page_size = param.Selector(default=25, objects=[10, 25, 50, 100])
    page = param.Integer(default=1, bounds=(1, None), doc="The page shown (1-based); move with go()")
    total = param.Integer(default=0, doc="How many rows the selection holds")
    frame = param.DataFrame(default=None, doc="The rows shown")
    error = param.String(default="", doc="Why the last query failed, if it did")

    def __init__(self, store: DataStore | None = None, **params):
        super().__init__(store=store if store is not None else DataStore(), **params)
        self._sort = DEFAULT_SORT[self.kind]
        self._want = self.page  # the page asked for (go); a filter change asks for page 1
        self._filters = None  # the filters of the rows shown
        # One table per list, each configured once: changing a shown Tabulator's columns rebuilds it
        # in the browser, and a sort set meanwhile fails there ('setSort is not a function').
        self._tables = {kind: self._make_table(kind) for kind in COLUMNS}
        self._buttons = {move: pn.widgets.Button(label=label, width=96, color="primary", variant="outline")
                         for move, label in MOVES.items()}
        for move, button in self._buttons.items():
            button.on_click(lambda _, move=move: self.go(self._target(move)))
        # 'Rows 1–25 of 1,500 customers', with a spinner while a page loads. Its messages (none
        # without Cancel, Retry or Reset, which this table does not offer) are ignored. It says
        # whether the card is in sight: served, a change reaches the table when it is seen.
        self._status = SightedStatus(lambda _: None, cancellable=False, card_hops=3, width=300, margin=(4, 12),
                                     stylesheets=[".view-status { font-size: 1em; opacity: 0.9; }"])  # the pager's words
        self._behind = False  # a change came while the card was out of sight: asked when seen
        self._status.param.watch(self._on_seen, ["seen"])
        # Messages cover the table (no relayout, see ViewMessage); the body is at least as tall as the box.
        self._message = ViewMessage(cover=MESSAGE_HEIGHT, height=0, sizing_mode="stretch_width", margin=0)
        self._body = pn.Column(self._message, *self._tables.values(), sizing_mode="stretch_width", margin=0,
                               min_height=MESSAGE_HEIGHT)
        self.param.watch(self._on_kind, ["kind"])
        self.param.watch(self._on_page_size, ["page_size"])
        self.coordinator = Coordinator.of(self.store)
        self.coordinator.add(self)  # a client like the views: the filters' changes reach it with theirs

    def _make_table(self, kind: str) -> pn.widgets.Tabulator:
        columns = COLUMNS[kind]
        sort, descending = DEFAULT_SORT[kind]
        table = pn.widgets.Tabulator(
            pd.DataFrame(columns=list(columns)), disabled=True, show_index=False, pagination=None, selectable=False,
            # in the charts' text size the customers' columns fit a half-width card at 1280 px (they ran past
            # its right edge); a wider list scrolls sideways inside the card rather than being cut
            layout="fit_data_table", sizing_mode="stretch_width", visible=kind == self.kind, stylesheets=[TABLE_CSS],
            titles={c: title for c, (title, _) in columns.items()},
            formatters={c: fmt for c, (_, fmt) in columns.items()},
            sorters=[{"field": sort, "dir": "desc" if descending else "asc"}])
        table.param.watch(partial(self._on_sorters, kind), ["sorters"])
        return table

    @property
    def _table(self) -> pn.widgets.Tabulator:
        """The table of the list shown."""
        return self._tables[self.kind]

    # -- navigation -------------------------------------------------------------------------------
    def go(self, page: int) -> None:
        """Show page `page` (clamped to the pages there are) under the current filters and sort."""
        self._want = max(1, int(page))
        self.coordinator.update([self])

    def _target(self, move: str) -> int:
        last = pages(self.total, self.page_size)
        return {"first": 1, "prev": self.page - 1, "next": self.page + 1, "last": last}[move]

    def _on_kind(self, event) -> None:
        self._sort = DEFAULT_SORT[event.new]
        self._table.sorters = self._sorters()
        for kind, table in self._tables.items():
            table.visible = kind == event.new
        self.go(1)

    def _on_page_size(self, event) -> None:
        self.go((self.page - 1) * event.old // event.new + 1)  # the page holding the first row shown

    def _on_sorters(self, kind: str, event) -> None:
        """A click on a column header: sort the whole list in the database. Anything else
        (an unknown column from a forged message) puts the current sort back."""
        if kind != self.kind:
            return
        first = (event.new or [{}])[0]
        sort = (first.get("field"), first.get("dir") == "desc")
        if sort[0] not in COLUMNS[self.kind]:
            self._table.sorters = self._sorters()
        elif sort != self._sort:
            self._sort = sort
            self.go(1)

    def _sorters(self) -> list[dict]:
        return [{"field": self._sort[0], "dir": "desc" if self._sort[1] else "asc"}]

    # -- the coordinator's client ---------------------------------------------------------------------
    def request(self):
        self._behind = served() and not self._status.seen
        if self._behind:  # no query, no table drawn for a card no one sees
            return None
        filters = self.store.filters()
        if filters != self._filters:
            self._want = 1  # another selection: its first page
        request = (self.kind, self._want, self.page_size, *self._sort)
        return partial(self._load, *request), (filters, request)

    def _on_seen(self, event) -> None:
        if event.new and self._behind:
            self.coordinator.sighted(self)

    def receive(self, answer, key) -> None:
        self._filters = key[0]
        self._apply(*answer)

    def fail(self, message: str) -> None:  # only a bug in drawing: _load turns query errors into answers
        self._apply((self.kind, self.page, self.page_size, *self._sort), None, 0, message)

    def remark(self) -> None:
        """Nothing to highlight."""

    def waiting(self, on: bool) -> None:
        self._status.updating = on

    def stop(self, key) -> None:
        """Pages are short queries: not cancelled (the status line offers no Cancel)."""

    @property
    def failed(self) -> bool:
        return bool(self.error)

    @property
    def behind(self) -> bool:
        return self._behind

    def catch_up(self) -> None:
        """Nothing: a page is drawn when it arrives."""

    def _load(self, kind: str, page: int, page_size: int, sort: str, descending: bool):
        """(request, rows, total, error); a page past the end (the selection shrank) becomes the last."""
        try:
            rows, total = self.store.detail(kind, page, page_size, sort, descending)
            if page > pages(total, page_size):
                page = pages(total, page_size)
                rows, total = self.store.detail(kind, page, page_size, sort, descending)
            return (kind, page, page_size, sort, descending), rows, total, ""
        except WarehouseError as exc:
            return (kind, page, page_size, sort, descending), None, 0, str(exc)

    def _apply(self, request: tuple, rows: pd.DataFrame | None, total: int, error: str) -> None:
        kind, page, page_size, _, _ = request
        self.param.update(page=page, total=total, frame=rows, error=error)
        first, last = (page - 1) * page_size + 1, min(page * page_size, total)
        self._status.param.update(summary=f"Rows {first:,}–{last:,} of {total:,} {kind}" if total else "",
                                  updating=False)
        for move, button in self._buttons.items():
            button.disabled = bool(error) or (page <= 1 if move in ("first", "prev") else
                                              page >= pages(total, page_size))
        if error:
            self._message.failed(error, retrying=self.coordinator.retries)
        elif not total:
            self._message.say(f"No {kind} for this selection.", "Remove a filter chip or press Clear all.")
        else:
            self._message.clear()
            self._tables[kind].value = self._readable(rows)

    @staticmethod
    def _readable(rows: pd.DataFrame) -> pd.DataFrame:
        """The rows as the charts name them: cities in title case (the warehouse holds them in capitals)."""
        if "city" not in rows.columns:
            return rows
        return rows.assign(city=[value_label("city", c) for c in rows["city"]])

    def __panel__(self):
        b = self._buttons
        header = pn.Row(pn.pane.Markdown(f"#### {self.title}", margin=(0, 8)),
                        pn.widgets.TooltipIcon(value=self.help, margin=(12, 0)),
                        pn.widgets.RadioButtonGroup.from_param(self.param.kind, color="primary", variant="outline",
                                                               margin=(6, 12)),
                        sizing_mode="stretch_width")
        pager = pn.Row(b["first"], b["prev"], self._status, b["next"], b["last"],
                       pn.widgets.Select.from_param(self.param.page_size, label="", width=70, margin=(5, 12),
                                                    description="Rows per page"))
        return pn.Column(header, self._body, pager, css_classes=["view-card", "detail-card"], styles=CARD_STYLES,
                         sizing_mode="stretch_width", name=self.title, margin=(6, 6))
