"""The filter controls: a sidebar widget per dimension and the bar of removable chips.

Both are views of the store's parameters, so a click in any chart shows up in the widgets
and the chips at once, and a widget change re-filters every chart (linked both ways).
"""
from __future__ import annotations

import datetime as dt
import html

import panel as pn
import param

from .brush import brushed
from .controls import ChipBar
from .coordinator import Coordinator
from ..data import DATE_DIMENSIONS, FILTER_PARAMETERS, LABELS, LIST_DIMENSIONS, DataStore, value_label

CUSTOMER_GROUP = ("customer_segment", "region", "state", "city", "age_group", "income_bracket",
                  "credit_score_band", "product")
EMPTY_TEXT = ("No filters: click any chart (a segment, a heatmap cell, a product, a state …) "
              "or use the sidebar to filter every view.")
SIDEBAR = "Sidebar"  # the group of filters no view's click set (widgets, a shared link)
TRANSACTION_GROUP = ("channel", "category_group", "merchant_category", "day_of_week", "transaction_hour", "month")


DATE_CSS = ".bk-input[readonly] { background-color: transparent; cursor: pointer; }"  # as the other fields


def data_span(store: DataStore) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day of the transactions, from the build's record (None where it does not say)."""
    info = store.build_info()
    last, months = info.get("as_of_date"), info.get("months")
    if not isinstance(last, dt.date) or not months:
        return None, last if isinstance(last, dt.date) else None
    index = last.year * 12 + last.month - int(months)  # the first month's, counted from year 0
    return dt.date(index // 12, index % 12 + 1, 1), last


class FilterSidebar(pn.viewable.Viewer):
    """A multi-choice per dimension (and a date range), two-way linked to the store."""

    store = param.ClassSelector(class_=DataStore)

    def __init__(self, store: DataStore, **params):
        super().__init__(store=store, **params)
        self.widgets = {d: self._widget(d) for d in LIST_DIMENSIONS}
        # The calendars open within the data (it ended in 2025, the calendar opened in 2026), and the
        # labels say what an empty field means (the fields were blank boxes, with no placeholder to set)
        first, last = data_span(store)
        for dimension, words, empty in (("date_from", "Transactions from", first), ("date_to", "to", last)):
            self.widgets[dimension] = pn.widgets.DatePicker.from_param(
                getattr(store.param, dimension), start=first, end=last, sizing_mode="stretch_width",
                label=f"{words} (empty: {empty:%d %b %Y})" if empty else words, stylesheets=[DATE_CSS])

    def _widget(self, dimension: str):
        # Bokeh's MultiChoice renders option labels as HTML (Choices.js allowHTML): escape them,
        # so a city or product name holding markup shows as text and runs nothing.
        options = {html.escape(value_label(dimension, v)): v for v in self.store.options(dimension)}
        return pn.widgets.MultiChoice.from_param(
            getattr(self.store.param, dimension), options=options, label=LABELS[dimension],
            placeholder="all", sizing_mode="stretch_width", solid=False)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("**Customers**", margin=(0, 5)),
            *(self.widgets[d] for d in CUSTOMER_GROUP),
            pn.pane.Markdown("**Transactions**", margin=(10, 5, 0, 5)),
            *(self.widgets[d] for d in TRANSACTION_GROUP + DATE_DIMENSIONS),
            sizing_mode="stretch_width")


class FilterChips(pn.viewable.Viewer):
    """The active filters as removable chips grouped by the view that set them, 'Undo', 'Clear all'."""

    store = param.ClassSelector(class_=DataStore)

    def __init__(self, store: DataStore, **params):
        super().__init__(store=store, **params)
        self._bar = ChipBar(self.handle, empty_text=EMPTY_TEXT, sizing_mode="stretch_width", margin=(4, 4))
        store.param.watch(self._update, [*FILTER_PARAMETERS, "can_undo"])
        Coordinator.of(store).on_busy(lambda busy: setattr(self._bar, "updating", busy))
        self._update()

    @property
    def chips(self) -> list[dict]:
        return [chip for group in self._bar.groups for chip in group["chips"]]

    def _chip(self, dimension: str, value) -> dict:
        text = value.isoformat() if isinstance(value, dt.date) else value_label(dimension, value)
        return {"label": f"{LABELS[dimension]}: {text}", "dimension": dimension,
                "value": value.isoformat() if isinstance(value, dt.date) else value, "title": "Click to remove."}

    def _update(self, *events) -> None:
        groups: dict[str, list[dict]] = {}
        ranges = brushed(self.store)  # a brushed dimension: one chip for all its values
        for dimension, value in self.store.active():
            group = groups.setdefault(self.store.origin.get(dimension, SIDEBAR), [])
            if dimension not in ranges:
                group.append(self._chip(dimension, value))
            elif not any(chip["dimension"] == dimension for chip in group):
                group.append({"label": ranges[dimension], "dimension": dimension, "value": None,
                              "title": "Click to remove this brush's filter."})
        self._bar.param.update(groups=[{"title": title, "chips": chips} for title, chips in groups.items()],
                               can_undo=self.store.can_undo)

    def handle(self, message) -> None:
        """A chip's, 'Undo's or 'Clear all's click, as the browser sent it. Anything else is ignored:
        the message comes from the page, so it is matched against the active chips, never trusted."""
        if not isinstance(message, dict):
            return
        if message.get("clear") is True:
            self.store.clear()
            return
        if message.get("undo") is True:
            self.store.undo()
            return
        remove = message.get("remove")
        for chip in self.chips:
            if isinstance(remove, dict) and remove.get("dimension") == chip["dimension"] \
                    and remove.get("value") == chip["value"]:
                # a date, or a brush's chip (value None): the whole dimension
                self.store.remove(chip["dimension"], None if chip["dimension"] in DATE_DIMENSIONS else chip["value"])
                return

    def __panel__(self):
        return self._bar
