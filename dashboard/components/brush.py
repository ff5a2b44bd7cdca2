"""Brushes: a rectangle, an interval or a lasso over a view sets the store dimensions of the marks it
covers, live while it moves.

Every brushable view (Bokeh's box select: bokeh_view.py; Plotly's box and lasso: plotly_view.py, whose
moving selection the browser sends through plotly_select.py) turns its brush into a selection (store
dimension -> values) and hands it here with whether the drag is over. One place, so every view
brushes alike:
- the selection goes through `View.apply_selection` (not toggled): a brush replaces what the view
  selected before, by click or brush, and a brush that covers no mark clears the view's selection
  (the store cannot hold "nothing": an empty list is no filter);
- the live steps of a drag are applied one at a time: while the coordinator is still gathering or
  waiting for the answers of the previous step, only the newest step waits, and is applied once it
  is done (`Coordinator.busy`, polled every POLL_MS). The rate is the server's own; the release is
  always applied at once (a newer change overtakes older answers: tickets);
- the drag is one change for undo and the address bar: the store's `brushing` flag is up during the
  live steps (`DataStore._record` and `Permalink` skip them) and dropped on release;
- a brushed dimension reads as one chip (`brushed`): a run of consecutive values as a range
  ("Hour: 09:00–17:00"), others as a count and a list ("3 states: TX, OK, LA"). Whether a
  dimension was brushed is derived, not stored: its values came from a view (`store.origin`, which
  links keep as `set_by`) whose brush sets that dimension, and there are several of them.
"""
from __future__ import annotations

import time
import weakref

import numpy as np
import panel as pn
from panel.io.state import set_curdoc

from ..data import LABELS, DataStore, value_label
from ..warehouse import reference as ref
from .base import View
from .coordinator import served

POLL_MS = 40  # how often a waiting live step asks whether the previous one is drawn
RELEASE_AFTER_S = 5.0  # a drag with no step for this long is taken as released (its release never came)
MAX_LISTED = 5  # values a list chip names before "+ n more"
ORDERS = {"day_of_week": list(range(7)), "transaction_hour": list(range(24)), "month": list(range(1, 13)),
          "credit_score_band": list(ref.CREDIT_BAND_LABELS), "income_bracket": list(ref.INCOME_BRACKET_LABELS),
          "age_group": list(ref.AGE_GROUP_LABELS)}
NOUNS = {"state": "states", "city": "cities", "product": "products, all held", "credit_score_band": "credit bands",
         "income_bracket": "income brackets", "age_group": "age groups", "day_of_week": "days",
         "transaction_hour": "hours", "month": "months", "customer_segment": "segments", "channel": "channels",
         "merchant_category": "categories", "category_group": "category groups", "region": "regions"}


def covered(centres, low: float, high: float, half: float = 0.5) -> list:
    """The marks whose cell [centre - half, centre + half) meets the interval [low, high] (in order)."""
    centres = np.asarray(list(centres), dtype=float)
    low, high = sorted((float(low), float(high)))
    return [c for c in centres[(centres + half > low) & (centres - half <= high)].tolist()]


def brush_dimensions() -> dict[str, tuple[str, ...]]:
    """{view title: the dimensions its brush sets} for every brushable view class."""
    found, classes = {}, View.__subclasses__()
    while classes:
        cls = classes.pop()
        if cls.title and cls.brushes:
            found[cls.title] = tuple(cls.brushes)
        classes += cls.__subclasses__()
    return found


def phrase(dimension: str, values: list) -> str:
    """Several values of one dimension in words: a run of consecutive values in the dimension's order
    as a range ('Hour: 09:00–17:00'), anything else counted and listed ('3 states: TX, OK, LA')."""
    order = ORDERS.get(dimension)
    if order is not None and all(v in order for v in values):
        values = sorted(values, key=order.index)
        at = [order.index(v) for v in values]
        if len(values) > 1 and at == list(range(at[0], at[-1] + 1)):
            return f"{LABELS[dimension]}: {value_label(dimension, values[0])}–{value_label(dimension, values[-1])}"
    names = [value_label(dimension, v) for v in values]
    more = f" + {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else ""
    return f"{len(names)} {NOUNS.get(dimension, 'values')}: {', '.join(names[:MAX_LISTED])}{more}"


def brushed(store: DataStore) -> dict[str, str]:
    """{dimension: its words} for each dimension a brush set (several values from a brushing view)."""
    brushes = brush_dimensions()
    return {d: phrase(d, list(getattr(store, d))) for d, title in store.origin.items()
            if d in brushes.get(title, ()) and len(getattr(store, d)) > 1}


_MOVED: "weakref.WeakKeyDictionary[DataStore, float]" = weakref.WeakKeyDictionary()  # last live step, per store


class Brush:
    """One view's brush: applies its steps (see the module's docstring)."""

    def __init__(self, view: View):
        self.view = view
        self._newest: dict | None = None  # a live step waiting for the previous one to be drawn
        self._polling = False

    def step(self, selection: dict | None, final: bool) -> None:
        """The brush covers the marks of `selection` (None: no mark); `final` when it is released."""
        wanted = {d: [] for d in self.view.brushes} | (selection or {})
        if final:
            self._newest = None
            self._apply(wanted, live=False)
        elif not served() or not (self._polling or self.view.coordinator.busy):
            self._apply(wanted, live=True)
        else:
            self._newest = wanted
            if not self._polling:
                self._wait()

    def _wait(self) -> None:
        self._polling = True
        doc = pn.state.curdoc

        def poll() -> None:
            with set_curdoc(doc):
                if self._newest is None:
                    self._polling = False
                elif self.view.coordinator.busy:
                    doc.add_timeout_callback(poll, POLL_MS)
                else:
                    wanted, self._newest, self._polling = self._newest, None, False
                    self._apply(wanted, live=True)

        doc.add_timeout_callback(poll, POLL_MS)

    def _apply(self, wanted: dict, live: bool) -> None:
        store = self.view.store
        if live:
            store.brushing = True
            _MOVED[store] = time.monotonic()
            if served():
                self._watch()
        self.view.apply_selection(wanted, toggle=False)
        if not live:
            store.brushing = False  # one undo step and one link for the whole drag

    def _watch(self) -> None:
        """A release that never comes (the page closed or lost the pointer mid-drag) must not leave the
        store `brushing`: every later change would stay out of undo and the link. RELEASE_AFTER_S after
        the session's last live step, its state counts as released."""
        doc, store = pn.state.curdoc, self.view.store

        def check() -> None:
            if store.brushing and time.monotonic() - _MOVED.get(store, 0.0) >= RELEASE_AFTER_S:
                with set_curdoc(doc):
                    store.brushing = False

        doc.add_timeout_callback(check, int(RELEASE_AFTER_S * 1000) + POLL_MS)
