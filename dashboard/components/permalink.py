"""The filters live in the page's URL: a copied link reopens the same filtered dashboard, and the
browser's back/forward buttons walk through the filter history.

`?customer_segment=Premium&customer_segment=Business&day_of_week=0&date_from=2025-12-01`: one
key per dimension, repeated for several values (values may hold commas), dates in ISO form;
then `set_by=day_of_week:Transaction time heatmap` for each filter a view's click set, so the
reopened page groups its chips (and resets each view) as the page it was copied from.
A link is input from anywhere: unknown keys, numbers that are not numbers, bad dates and values
the warehouse does not hold are dropped with a notice on the page, never passed on.
"""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlencode

import panel as pn
import param

from .base import view_titles
from .controls import UrlSync
from ..data import DATE_DIMENSIONS, FILTER_PARAMETERS, LIST_DIMENSIONS, DataStore, clip_text

KEPT = ("theme",)  # Panel's own `?theme=dark`: kept in the URL, not a filter
SET_BY = "set_by"  # `dimension:view title`, for a filter set by a click in that view
MAX_FIELDS = 20_000


def query_of(store: DataStore, kept: list[tuple[str, str]] = ()) -> str:
    """The URL query for the store's filters ('' when none), then the kept parameters."""
    pairs = [(d, v.isoformat() if isinstance(v, dt.date) else str(v)) for d, v in store.active()]
    pairs += [(SET_BY, f"{d}:{title}") for d, title in sorted(store.origin.items()) if getattr(store, d)]
    pairs += list(kept)
    return "?" + urlencode(pairs) if pairs else ""


def parse(args: dict[str, list[str]], store: DataStore) -> tuple[dict, dict[str, str], list[str]]:
    """Every filter dimension's values from URL arguments (absent ones cleared), which view set
    which dimension, and what was dropped, in words. Whether a value is in the data is the
    store's check, made on update."""
    values: dict = {d: [] for d in LIST_DIMENSIONS} | {d: None for d in DATE_DIMENSIONS}
    origins: dict[str, str] = {}
    problems = []
    for key, raw in args.items():
        if key in KEPT:
            continue
        if key == SET_BY:
            titles = view_titles()
            for text in raw:
                dimension, _, title = text.partition(":")
                if dimension in LIST_DIMENSIONS and title in titles:
                    origins[dimension] = title
                else:
                    problems.append(f"{SET_BY}={clip_text(text)!r} names no filter and view")
        elif key not in FILTER_PARAMETERS:
            problems.append(f"unknown parameter {clip_text(key)!r}")
        elif key in DATE_DIMENSIONS:
            try:
                values[key] = dt.date.fromisoformat(raw[-1])
            except ValueError:
                problems.append(f"{key}={clip_text(raw[-1])!r} is not a date (YYYY-MM-DD)")
        elif store.param[key].item_type is int:
            for text in raw:
                try:
                    values[key].append(int(text))
                except ValueError:
                    problems.append(f"{key}={clip_text(text)!r} is not a whole number")
        else:
            values[key].extend(raw)
    return values, origins, problems


def session_args() -> dict[str, list[str]]:
    """The served page's URL arguments as text ({} in a notebook)."""
    return {k: [v.decode("utf-8", "replace") for v in vs] for k, vs in (pn.state.session_args or {}).items()}


class Permalink(pn.viewable.Viewer):
    """Applies the page URL's filters to the store at session start (create it before the views,
    so they query once), then keeps the URL in step; back/forward restore that entry's filters."""

    store = param.ClassSelector(class_=DataStore)

    def __init__(self, store: DataStore, args: dict[str, list[str]] | None = None, **params):
        super().__init__(store=store, **params)
        args = session_args() if args is None else args
        self._kept = [(k, args[k][-1]) for k in KEPT if args.get(k)]
        values, origins, problems = parse(args, store)
        store.start_from(origins, **values)
        self._say(problems)
        self._sync = UrlSync(self.handle, query=self.query, width=0, height=0, margin=0)
        store.param.watch(self._changed, [*FILTER_PARAMETERS, "brushing"])

    @property
    def query(self) -> str:
        return query_of(self.store, self._kept)

    def _changed(self, *events) -> None:
        if not self.store.brushing:  # a brush's live steps are no history entries: its release is one
            self._sync.query = self.query

    def _say(self, problems: list[str]) -> None:
        if problems:
            more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
            self.store.tell("Ignored in the link: " + "; ".join(problems[:3]) + more)

    def keep_theme(self, dark: bool) -> None:
        """The theme switch changed the page's theme (and, itself, the address): later links keep it."""
        self._kept = [(k, v) for k, v in self._kept if k != "theme"] + ([("theme", "dark")] if dark else [])

    def handle(self, message) -> None:
        """The browser went back or forward to `{'query': '?…'}`: show that entry's filters."""
        if not (isinstance(message, dict) and isinstance(message.get("query"), str)):
            return
        try:
            args = parse_qs(message["query"].lstrip("?"), max_num_fields=MAX_FIELDS)
        except ValueError:
            self.store.tell(f"Ignored a link with more than {MAX_FIELDS:,} values.")
            return
        values, origins, problems = parse(args, self.store)
        self.store.restore(origins, **values)
        self._say(problems)

    def __panel__(self):
        return self._sync
