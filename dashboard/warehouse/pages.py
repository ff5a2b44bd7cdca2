"""How one page of a drill-down list is read: the cheapest of three exact ways.

- Far from both ends: through the list's bucket index (seek.py), read once per list and sort.
- Near an end of a filtered transaction list, where the unfiltered list has a prebuilt index
  (fast.py): the page and every row between it and that end lie in the unfiltered list's first (or
  last) buckets, if those hold enough of the filter's rows. So only the rows of a window of those
  buckets are sorted, sized by the filter's share of the list with room to spare, and the answer is
  taken if it holds as many rows as the page must (the list's length is known exactly); else a
  wider window, then the plain query: a sort of a few thousand rows instead of a top-N over every
  filtered row (tens of millions at 100 M transactions). Where the filters choose
  values of the sort column itself (a channel, sorted by channel), the window is taken among those
  values' buckets only: the filtered rows lie there.
- Otherwise: the plain query, cut from the nearer end (detail.py).
"""
from __future__ import annotations

import math
from typing import Callable

import pandas as pd
import sqlalchemy as sa

from .detail import index_name, index_query, null_buckets_query, page_query, wants_index
from .filters import DATE_DIMENSIONS, NO_FILTERS, Filters
from .seek import BUCKETS, VALUE, VALUE_ID, unnamed, window

Read = Callable[[sa.Select], pd.DataFrame]
SPARES = (4, 64)  # the windows tried: this many times the rows the filter's share says hold the page
# filters that pick rows by where they fall in this sort's order: its first buckets hold few of them
ALONG = {"transaction_ts": ("transaction_hour", "day_of_week", "month", *DATE_DIMENSIONS)}


def read_index(read: Read, filters: Filters, sort: str, descending: bool, available: frozenset[str]) -> pd.DataFrame:
    """The transaction list's index by `sort`: without bucketing NULLs where the unfiltered list's
    prebuilt index says there are none; by merchant name, the plain way where merchant ids without a
    name make the grouped way inexact (seek.named_bucket_query)."""
    nulls = not (filters.active() and index_name(sort) in available) or bool(read(null_buckets_query(sort)).iat[0, 0])
    index = read(index_query(filters, sort, descending, available, nulls=nulls))
    if sort == "merchant_name" and unnamed(index):
        index = read(index_query(filters, sort, descending, available, plain=True))
    return index


def read_page(read: Read, kind: str, filters: Filters, page: int, page_size: int, sort: str, descending: bool,
              total: int, available: frozenset[str], index_of: Callable[[Filters], pd.DataFrame]) -> pd.DataFrame:
    """Page `page` (1-based) of a list of `total` rows; `index_of(filters)` gives (and may keep) a
    list's index (`read_index`), asked for only when a page is read through it."""
    if wants_index(kind, filters, page, page_size, sort, total, available):
        return read(page_query(kind, filters, page, page_size, sort, descending, total, index_of(filters), available))
    offset = (page - 1) * page_size
    if _near_end_of_a_part(kind, filters, sort, available) and 0 <= offset < total:
        whole = index_of(NO_FILTERS)
        if sort in filters.active():  # values of the sort column: their buckets, still in the list's order
            whole = whole[whole["first_value"].isin(getattr(filters, sort))]
        everything = int(whole["n"].sum())
        from_end = total - offset - page_size < offset
        rows_to_end = total - offset if from_end else offset + page_size  # the page and the rows between it and its end
        expected = min(page_size, total - offset)
        for spare in SPARES if everything else ():
            span = math.ceil(rows_to_end * everything / total * spare)
            if span >= everything:
                break
            within = window(whole, everything - span if from_end else 0, span)
            rows = read(page_query(kind, filters, page, page_size, sort, descending, total, None, available, within))
            if len(rows) == expected:
                return rows
    return read(page_query(kind, filters, page, page_size, sort, descending, total, None, available))


def _near_end_of_a_part(kind: str, filters: Filters, sort: str, available: frozenset[str]) -> bool:
    """A filtered transaction list whose unfiltered list has a prebuilt index by `sort`, the filters not
    choosing by where rows fall in that order (hours of the time), unless by the values of its buckets."""
    active = filters.active()
    by_value = sort not in active or BUCKETS.get(sort, (VALUE_ID,))[0] in (VALUE, VALUE_ID)
    return (kind == "transactions" and bool(active) and index_name(sort) in available and by_value
            and not any(d in active for d in ALONG.get(sort, ())))
