"""The filter controls: a sidebar widget per dimension and the bar of removable chips.

Both are views of the store's parameters, so a click in any chart shows up in the widgets
and the chips at once, and a widget change re-filters every chart (linked both ways).
"""
from __future__ import annotations

import datetime as dt

import panel as pn
import param

from ..data import DATE_DIMENSIONS, FILTER_PARAMETERS, LABELS, LIST_DIMENSIONS, DataStore, value_label

CUSTOMER_GROUP = ("customer_segment", "region", "state", "city", "age_group", "income_bracket",
                  "credit_score_band", "product")
TRANSACTION_GROUP = ("channel", "category_group", "merchant_category", "day_of_week", "transaction_hour", "month")


class FilterSidebar(pn.viewable.Viewer):
    """A multi-choice per dimension (and a date range), two-way linked to the store."""

    store = param.ClassSelector(class_=DataStore)

    def __init__(self, store: DataStore, **params):
        super().__init__(store=store, **params)
        self.widgets = {d: self._widget(d) for d in LIST_DIMENSIONS}
        self.widgets["date_from"] = pn.widgets.DatePicker.from_param(
            store.param.date_from, label="Transactions from", sizing_mode="stretch_width")
        self.widgets["date_to"] = pn.widgets.DatePicker.from_param(
            store.param.date_to, label="Transactions to", sizing_mode="stretch_width")

    def _widget(self, dimension: str):
        options = {value_label(dimension, v): v for v in self.store.options(dimension)}
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
    """One removable chip per active filter value, and 'Clear all'."""

    store = param.ClassSelector(class_=DataStore)

    def __init__(self, store: DataStore, **params):
        super().__init__(store=store, **params)
        self._row = pn.FlexBox(sizing_mode="stretch_width", align_items="center")
        self._clear = pn.widgets.Button(label="Clear all", color="danger", variant="outline",
                                        height=32, margin=(4, 4))
        self._clear.on_click(lambda _: self.store.clear())
        store.param.watch(self._update, list(FILTER_PARAMETERS))
        self._update()

    @property
    def chips(self) -> list[pn.widgets.Button]:
        return [c for c in self._row.objects if isinstance(c, pn.widgets.Button) and c is not self._clear]

    def _chip(self, dimension: str, value) -> pn.widgets.Button:
        text = value.isoformat() if isinstance(value, dt.date) else value_label(dimension, value)
        origin = self.store.origin.get(dimension)
        chip = pn.widgets.Button(label=f"{LABELS[dimension]}: {text}  ✕", color="primary",
                                 variant="outline", height=32, margin=(4, 4), css_classes=["filter-chip"],
                                 description=f"Set by {origin}. Click to remove." if origin else "Click to remove.")
        chip.on_click(lambda _, d=dimension, v=value: self.store.remove(d, v))
        return chip

    def _update(self, *events) -> None:
        active = self.store.active()
        if not active:
            self._row.objects = [pn.pane.Markdown(
                "No filters: click any chart (a segment, a heatmap cell, a product, a state …) "
                "or use the sidebar to filter every view.", margin=(4, 8))]
            return
        self._row.objects = [pn.pane.Markdown("**Filters:**", margin=(4, 8))] + \
            [self._chip(d, v) for d, v in active] + [self._clear]

    def __panel__(self):
        return self._row

