"""The reactive data store: one per browser session (or notebook), holding the cross-filter state.

Components read gold-shaped frames from it and write selections into its parameters; they
never talk to each other or to SQL. The queries run in queries.py (fast path, process-wide
cache, one query per question, timeouts). The store imports no widgets.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

import pandas as pd
import param

from .config import WarehouseError, database_url, describe_connect_error, duckdb_path, mask_url
from .engines import connect
from .queries import _distinct_values, _query_once, _read_build_info, _run_detail, cancel_query, expect
from .shared_cache import problems as cache_problems
from .warehouse import reference as ref
from .warehouse.filters import (CUSTOMER_DIMENSIONS, DATE_DIMENSIONS, TRANSACTION_DIMENSIONS, Filters)
from .warehouse.detail import KEYS, check as check_detail
from .warehouse.inspect import BUILD_HINT, contract_problems
from .warehouse.needs import Need

LIST_DIMENSIONS = CUSTOMER_DIMENSIONS + TRANSACTION_DIMENSIONS
FILTER_PARAMETERS = LIST_DIMENSIONS + DATE_DIMENSIONS

LABELS = {
    "customer_segment": "Segment", "region": "Region", "state": "State", "city": "City",
    "age_group": "Age group", "income_bracket": "Income", "credit_score_band": "Credit band",
    "product": "Product held", "channel": "Channel", "category_group": "Category group",
    "merchant_category": "Merchant category", "day_of_week": "Day of week",
    "transaction_hour": "Hour", "month": "Month", "date_from": "From", "date_to": "To",
}

UNDO_DEPTH = 100


def value_label(dimension: str, value) -> str:
    """How a filter value reads to a person (0 -> Sunday, 13 -> 13:00, 12 -> December)."""
    if dimension == "day_of_week":
        return ref.DAY_NAMES[int(value)]
    if dimension == "transaction_hour":
        return f"{int(value):02d}:00"
    if dimension == "month":
        return ref.MONTH_NAMES[int(value) - 1]
    if dimension == "city":
        return str(value).title()
    return str(value)


def _hashable(value) -> bool:
    try:
        hash(value)
        return True
    except TypeError:
        return False


def clip_text(value, limit: int = 40):
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "…"


class DataStore(param.Parameterized):
    """Cross-filter state (one list per dimension; empty = no filter) and the queries behind it."""

    customer_segment = param.List(default=[], item_type=str, doc="Customer segments (OR)")
    region = param.List(default=[], item_type=str)
    state = param.List(default=[], item_type=str)
    city = param.List(default=[], item_type=str)
    age_group = param.List(default=[], item_type=str)
    income_bracket = param.List(default=[], item_type=str)
    credit_score_band = param.List(default=[], item_type=str)
    product = param.List(default=[], item_type=str, doc="Customers holding every listed product")
    channel = param.List(default=[], item_type=str)
    category_group = param.List(default=[], item_type=str)
    merchant_category = param.List(default=[], item_type=str)
    day_of_week = param.List(default=[], item_type=int, doc="0 = Sunday")
    transaction_hour = param.List(default=[], item_type=int)
    month = param.List(default=[], item_type=int)
    date_from = param.CalendarDate(default=None, allow_None=True)
    date_to = param.CalendarDate(default=None, allow_None=True)
    notice = param.String(default="", doc="The last filter values dropped as unknown, in words (for the page)")
    can_undo = param.Boolean(default=False, doc="Whether undo() has a filter change to take back")
    brushing = param.Boolean(default=False, doc="A brush is being dragged: its steps filter the views at once, "
                             "but only the state it is released in is one undo step (and one link)")

    def __init__(self, url: str | None = None, **params):
        super().__init__(**params)
        self.url = database_url(url)
        self._build_info: dict | None = None  # read once per session (see build_info)
        self.origin: dict[str, str] = {}  # dimension -> title of the view whose click set it
        # Registered before any view's watcher, so it runs first: a value the data does not hold
        # never reaches a query.
        self.param.watch(self._drop_unknown, list(LIST_DIMENSIONS))
        self._undo: list[tuple] = []  # the states before each change, newest last
        self._now = self._snapshot()
        self.param.watch(self._record, list(FILTER_PARAMETERS))
        self.param.watch(self._record, ["brushing"])  # a released brush: its final state, once

    # -- reading ----------------------------------------------------------------------------
    def filters(self, ignore: Iterable[str] = ()) -> Filters:
        """The active filters as plain data, minus the dimensions a view draws itself."""
        ignore = set(ignore)
        values = {d: tuple(getattr(self, d)) for d in LIST_DIMENSIONS if d not in ignore}
        values.update({d: getattr(self, d) for d in DATE_DIMENSIONS if d not in ignore})
        return Filters(**values)

    def _key(self, ignore: Iterable[str] = (), filters: Filters | None = None) -> tuple:
        """The active filters (or a snapshot of them) as a hashable cache key (what `fetch`,
        `cancel` and `detail` look up)."""
        return tuple(sorted((self.filters(ignore) if filters is None else filters).active().items()))

    def fetch(self, table: str, ignore: Iterable[str] = (), filters: Filters | None = None,
              need: Need | None = None) -> pd.DataFrame:
        """A gold table under the active filters (a private copy: cached frames are shared), or only
        the sums a view draws of it (`need`, warehouse/needs.py: the same numbers, cheaper).

        `filters`, a snapshot taken with `filters(ignore)` when a change asked, is what a worker
        thread must use: the store may have moved on by the time the thread runs, and the answer
        must be the one for the change it will be drawn for."""
        key = self._key(ignore, filters)
        try:
            return _query_once(self.url, self._stamp(), table, key, need).copy()
        except WarehouseError:
            raise
        except Exception as exc:
            raise WarehouseError(self._explain(exc)) from exc

    def expect(self, table: str, ignore: Iterable[str] = (), filters: Filters | None = None,
               need: Need | None = None) -> None:
        """Say that `fetch(table, ignore, filters, need)` follows in a moment: what a change's views say they
        will ask is read in as few statements as the warehouse allows (queries.expect). Only a hint: a
        warehouse that cannot be reached now says so when asked."""
        try:
            expect(self.url, self._stamp(), table, self._key(ignore, filters), need)
        except Exception:  # noqa: BLE001 (the fetch that follows reports it)
            pass

    def cancel(self, table: str, ignore: Iterable[str] = (), filters: Filters | None = None,
               need: Need | None = None) -> bool:
        """Stop the database query `fetch(table, ignore, filters, need)` is waiting for, if it is still
        running (whoever else waits for the same answer gets the error and asks again)."""
        key = self._key(ignore, filters)
        return cancel_query(self.url, self._stamp(), table, key, need)

    def options(self, dimension: str) -> list:
        """The values a dimension can take, for the sidebar widgets."""
        fixed = {"day_of_week": list(range(7)), "transaction_hour": list(range(24)), "month": list(range(1, 13))}
        if dimension in fixed:
            return fixed[dimension]
        table, column = {
            "product": ("accounts", "product_name"), "credit_score_band": ("credit_profiles", "credit_score_band"),
            "channel": ("transactions", "channel"), "category_group": ("merchants", "category_group"),
            "merchant_category": ("merchants", "merchant_category"),
        }.get(dimension, ("customers", dimension))
        values = _distinct_values(self.url, self._stamp(), table, column)
        order = {"customer_segment": ref.SEGMENTS, "age_group": ref.AGE_GROUP_LABELS,
                 "income_bracket": ref.INCOME_BRACKET_LABELS, "credit_score_band": ref.CREDIT_BAND_LABELS,
                 "channel": ref.CHANNELS}.get(dimension)
        if order:
            values = sorted(values, key=lambda v: order.index(v) if v in order else len(order))
        return values

    def build_info(self) -> dict:
        """When and how the warehouse was built (as-of date, built_at …), read once per session."""
        if self._build_info is None:
            self._build_info = _read_build_info(self.url)
        return dict(self._build_info)

    def _stamp(self) -> str:
        return str(self.build_info()["built_at"])

    def check(self) -> list[str]:
        """Contract problems of the warehouse (missing tables/columns), for a clear start-up message."""
        problems = cache_problems()  # a malformed $DASHBOARD_CACHE_URL: said at start, like a bad database URL
        if problems:
            return problems
        path = duckdb_path(self.url)
        if path is not None and not path.exists():
            return [f"there is no warehouse file at {path}; {BUILD_HINT}"]
        try:
            with connect(self.url) as conn:
                return [f"{problem}; {BUILD_HINT}" for problem in contract_problems(conn)]
        except WarehouseError as exc:  # a malformed URL or unknown driver
            return [str(exc)]
        except Exception as exc:
            return [self._explain(exc)]

    def _explain(self, exc: BaseException) -> str:
        path = duckdb_path(self.url)
        if path is not None and not path.exists():
            return f"there is no warehouse file at {path}; {BUILD_HINT}"
        text = str(getattr(exc, "orig", None) or exc)
        missing_database = text.lstrip().startswith("connection") or 'database "' in text
        if ("does not exist" in text and not missing_database) or "Catalog Error" in text:
            return f"the warehouse at {mask_url(self.url)} lacks a table the dashboard needs; {BUILD_HINT}"
        return describe_connect_error(self.url, exc)

    # -- writing ----------------------------------------------------------------------------
    def _drop_unknown(self, *events) -> None:
        """Keep only values the warehouse holds (a widget, a URL or a forged message can send
        anything: quotes, markup, 10,000 values); say what was dropped in `notice`."""
        kept, dropped = {}, []
        for event in events:
            known = set(self.options(event.name))
            values = list(event.new or [])
            good = list(dict.fromkeys(v for v in values if _hashable(v) and v in known))
            bad = [v for v in values if not (_hashable(v) and v in known)]
            if good != values:
                kept[event.name] = good
            if bad:
                more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
                dropped.append(f"{LABELS[event.name]}: {', '.join(repr(clip_text(v)) for v in bad[:3])}{more}")
        if kept:
            self.param.update(**kept)
        if dropped:
            self.tell("Ignored filter values not in the data: " + "; ".join(dropped))

    def tell(self, text: str) -> None:
        """Say something about the filters on the page (`notice`), even the same thing twice in a row."""
        with param.discard_events(self):
            self.notice = text
        self.param.trigger("notice")

    # -- history ------------------------------------------------------------------------------
    def _snapshot(self) -> tuple:
        state = tuple((d, list(getattr(self, d))) for d in LIST_DIMENSIONS)
        state += tuple((d, getattr(self, d)) for d in DATE_DIMENSIONS)
        return state, tuple(sorted(self.origin.items()))

    def _record(self, *events) -> None:
        """Keep the state before each filter change. It compares whole states, so a change whose
        unknown values were dropped (a nested update) is recorded once, as what it became. A brush's
        live steps are not: the state before the drag is kept until it is released."""
        if self.brushing:
            return
        now = self._snapshot()
        if now[0] != self._now[0]:
            self._undo = (self._undo + [self._now])[-UNDO_DEPTH:]
            self._now = now
            self.can_undo = True

    def undo(self) -> None:
        """Take back the last filter change (a click, a chip, 'Clear all', a widget), views' origins too."""
        if not self._undo:
            return
        self._now = (state, origin) = self._undo.pop()
        self.can_undo = bool(self._undo)
        self.restore(dict(origin), **dict(state))

    def restore(self, origins: dict[str, str], **values) -> None:
        """Show filters kept elsewhere (undo, a link, back/forward) with which view set each."""
        self.origin.clear()
        self.origin.update(origins)
        self.param.update(**values)

    def start_from(self, origins: dict[str, str] | None = None, **values) -> None:
        """The filters a session opens with (a shared link's): checked like any change, not undoable."""
        self.restore(origins or {}, **values)
        self._undo.clear()
        self._now = self._snapshot()
        self.can_undo = False

    def active(self) -> list[tuple[str, object]]:
        """Every active (dimension, value) pair, in dimension order: one chip each."""
        pairs = [(d, v) for d in LIST_DIMENSIONS for v in getattr(self, d)]
        pairs += [(d, getattr(self, d)) for d in DATE_DIMENSIONS if getattr(self, d) is not None]
        return pairs

    def select(self, origin: str = "", toggle: bool = False, **selection) -> None:
        """Set dimensions from a click in one batch, so every view re-queries once.

        `toggle=True` clears the dimensions instead when they already hold exactly the
        clicked values (clicking a selected mark again deselects it).
        """
        wanted = {d: v if d in DATE_DIMENSIONS else list(v) if isinstance(v, (list, tuple, set)) else [v]
                  for d, v in selection.items()}
        if toggle and wanted and all(getattr(self, d) == v for d, v in wanted.items()):
            wanted = {d: None if d in DATE_DIMENSIONS else [] for d in wanted}
        for dim, values in wanted.items():
            if values and origin:
                self.origin[dim] = origin
            elif not values:
                self.origin.pop(dim, None)
        self.param.update(**wanted)

    def remove(self, dimension: str, value=None) -> None:
        """Drop one value of a dimension (or the whole dimension)."""
        if dimension in DATE_DIMENSIONS or value is None:
            self.param.update(**{dimension: None if dimension in DATE_DIMENSIONS else []})
        else:
            self.param.update(**{dimension: [v for v in getattr(self, dimension) if v != value]})

    def clear(self) -> None:
        self.param.update(**{d: [] for d in LIST_DIMENSIONS}, **{d: None for d in DATE_DIMENSIONS})
        self.origin.clear()

    def describe(self, phrases: dict[str, str] | None = None) -> str:
        """The active filters in words, e.g. 'Segment: Premium · Day of week: Sunday'; `phrases` gives some
        dimensions' words whole (a brush's range, components/brush.py)."""
        phrases = phrases or {}
        groups: dict[str, list[str]] = {}
        for dim, value in self.active():
            if dim in phrases:
                groups[dim] = [phrases[dim]]
                continue
            groups.setdefault(LABELS[dim], []).append(
                value.isoformat() if isinstance(value, dt.date) else value_label(dim, value))
        words = (v[0] if k in phrases else f"{k}: {', '.join(v)}" for k, v in groups.items())  # phrases by dimension
        return " · ".join(words) or "no filters"

    # -- drill to detail --------------------------------------------------------------------
    def detail(self, kind: str, page: int = 1, page_size: int = 25, sort: str | None = None,
               descending: bool = False) -> tuple[pd.DataFrame, int]:
        """One page (1-based) of the customers or transactions behind every active filter, and how
        many there are (see warehouse/detail.py). A page past the end is empty; a bad argument is a
        ValueError before any query. Counts and pages are cached like `fetch`, keyed by the filters."""
        check_detail(kind, page, page_size, sort, descending)
        key = self._key()
        try:
            total = int(_run_detail(self.url, self._stamp(), kind, key, None).iat[0, 0])
            page = (int(page), int(page_size), sort or KEYS[kind], descending, total)
            rows = _run_detail(self.url, self._stamp(), kind, key, page)
        except WarehouseError:
            raise
        except Exception as exc:
            raise WarehouseError(self._explain(exc)) from exc
        return rows.copy(), total
