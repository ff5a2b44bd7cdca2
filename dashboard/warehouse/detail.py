"""Drill to detail: the customers or the transactions behind a selection, one page at a time.

Both lists take the gold definitions' own filter semantics (gold.py), so they hold exactly the
population the charts aggregate:

- `customers`: the chosen customers (customer filters; under a transaction filter only those
  with at least one chosen transaction), one row each, with `transaction_count` and
  `total_spend` (to the cent) over their chosen transactions in the full period (0 if none).
  The full period, not the 90-day window, so the two lists agree: the customers' counts add up
  to the transaction list's length.
- `transactions`: the chosen transactions of the chosen customers (what transaction-grain views count).

A page is LIMIT/OFFSET under ORDER BY (one of the list's columns, then its unique id), so pages
neither overlap nor skip, cut from the nearest row of known position (seek.py: keyset paging;
pages.py). Filter values reach SQL as bound parameters; the kind and sort column are checked
against fixed names and only select Core objects, never SQL text.
"""
from __future__ import annotations

import numbers

import pandas as pd
import sqlalchemy as sa

from .filters import NO_FILTERS, Filters
from .choice import CUSTOMER_COLUMNS, _f
from .gold import GoldDefinitions
from .schema import SILVER_TABLES, declared
from .summary import summary_rows
from .seek import INDEX_COLUMNS, Window, bucket_query, condition, named_bucket_query, order, ordered_index, window

MAX_PAGE_SIZE = 1000
KEYS = {"customers": "customer_id", "transactions": "transaction_id"}
CUSTOMER_LIST = "customer_list"
# a page further than this many rows from either end of a filtered list is read through its index
NEAR_ENDS = 5_000
SORTED_COPIES = ("amount",)  # the one sort column neither clustered with the rows nor a few values (seek.py)


class DetailDefinitions(GoldDefinitions):
    """The two lists over one set of silver tables, and one sorted page of either."""

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES):
        super().__init__(silver)
        self.m = silver["merchants"]

    def customers(self, f: Filters) -> sa.Select:
        t = self.chosen_transactions(f).subquery("chosen")
        spend = (sa.select(t.c.customer_id, sa.func.count().label("n"), sa.func.sum(t.c.amount).label("spend"))
                 .group_by(t.c.customer_id).subquery("spend"))
        # to the cent: a parallel float sum differs in its last bits from run to run, which could
        # swap two equal spends between the queries of two pages
        cents = _f(sa.cast(sa.func.coalesce(spend.c.spend, 0), sa.Numeric(18, 2)))
        c = self.c.c
        return (sa.select(c.customer_id, c.customer_segment, c.age_group, c.income_bracket, c.city, c.state, c.region,
                          self.cp.c.credit_score_band, sa.func.coalesce(spend.c.n, 0).label("transaction_count"),
                          cents.label("total_spend"))
                .select_from(self.c.outerjoin(self.cp, self.cp.c.customer_id == c.customer_id)
                             .outerjoin(spend, spend.c.customer_id == c.customer_id))
                .where(*self._customer_conditions(f)))

    def transactions(self, f: Filters) -> sa.Select:
        return self._described(self.chosen_transactions(f).subquery("chosen"))

    def _described(self, t) -> sa.Select:
        """The list's columns for the transactions of `t`, with their merchant's name."""
        return (sa.select(t.c.transaction_ts, t.c.transaction_id, t.c.customer_id, self.m.c.merchant_name,
                          t.c.merchant_category, t.c.category_group, t.c.channel, t.c.amount, t.c.is_recurring,
                          t.c.is_international, t.c.is_fraud, t.c.is_high_value)
                .select_from(t.outerjoin(self.m, self.m.c.merchant_id == t.c.merchant_id)))

    def count(self, kind: str, f: Filters) -> sa.Select:
        """The list's length, without the joins that only add columns."""
        if kind == "customers":
            return sa.select(sa.func.count()).select_from(self.c).where(*self._customer_conditions(f))
        return sa.select(sa.func.count()).select_from(self.chosen_transactions(f).subquery("chosen"))

    def pairs(self, kind: str, f: Filters, by: str) -> tuple[sa.Select, sa.ColumnElement, sa.ColumnElement]:
        """The list narrowed to what orders it: (SELECT, its sort column, its key). Transactions are
        cut as (key, sort column) pairs before the full rows and merchant names are joined: carrying
        every chosen transaction's columns through the sort costs ten times the sort (DuckDB, 2 M rows)."""
        key = KEYS[kind]
        if kind == "customers":
            listing = self.customers(f).subquery("listing")
            return sa.select(listing), listing.c[by], listing.c[key]
        chosen = self.chosen_transactions(f).subquery("chosen")
        if by == "merchant_name":
            pairs = sa.select(chosen.c[key], self.m.c.merchant_name).select_from(
                chosen.outerjoin(self.m, self.m.c.merchant_id == chosen.c.merchant_id))
        else:
            pairs = sa.select(*dict.fromkeys((chosen.c[key], chosen.c[by])))
        return pairs, pairs.selected_columns[by], chosen.c[key]

    def page(self, kind: str, f: Filters, by: str, descending: bool, limit: int, offset: int,
             total: int | None = None, index: pd.DataFrame | None = None, within: Window | None = None) -> sa.Select:
        """Rows [offset, offset + limit) of the list ordered by `by`, then the unique key.

        Given the list's index (seek.py, in this order), only the buckets holding the page are read.
        Without one, the rows before the page are skipped with OFFSET, which sorts them, so a page
        nearer the end of a list of known length (`total`) is cut backwards from the end; `within`
        then narrows what is sorted to a window of the unfiltered list (pages.py: its first or last
        buckets, where the page and every row between it and that end lie).
        """
        key = KEYS[kind]
        pairs, column, unique = self.pairs(kind, f, by)
        where = window(index, offset, limit) if index is not None else None
        reverse = where is None and total is not None and total - offset - limit < offset
        if reverse:
            offset, limit = max(0, total - offset - limit), max(0, min(limit, total - offset))
        if where is not None:
            pairs, offset = pairs.where(condition(column, unique, by, descending, where)), where.skip
        elif index is not None:  # past the end
            limit = 0
        if within is not None:
            pairs = pairs.where(condition(column, unique, by, descending, within))
        cut = pairs.order_by(*order(column, unique, descending, reverse)).limit(limit).offset(offset).subquery("page")
        rows = self._described(self.t).join(cut, cut.c[key] == self.t.c[key]) if kind == "transactions" else sa.select(cut)
        return rows.order_by(*order(cut.c[by], cut.c[key], descending))

    def index(self, f: Filters, by: str, descending: bool, plain: bool = False, nulls: bool = True) -> sa.Select:
        """The transaction list's bucket index in its order (seek.py); by merchant name from the
        merchants' groups unless `plain` (seek.named_bucket_query says when that is needed);
        `nulls=False`: the list holds no NULL of `by`."""
        if by == "merchant_name" and not plain:
            named = named_bucket_query(self.chosen_transactions(f).subquery("chosen"), self.m, KEYS["transactions"], nulls)
            return ordered_index(named.subquery("buckets"), descending)
        pairs, _, _ = self.pairs("transactions", f, by)
        return ordered_index(bucket_query(pairs, by, KEYS["transactions"], nulls).subquery("buckets"), descending)


class FastDetail(DetailDefinitions):
    """The lists reading the materialised customer list (fast.py) when no transaction filter changes
    the customers' counts and spend, and the unfiltered transaction indexes and sorted copies."""

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES):
        super().__init__(silver)
        self.plain = DetailDefinitions(silver)
        layout = self.plain.customers(NO_FILTERS).selected_columns
        self.c = self.listing = sa.Table(CUSTOMER_LIST, sa.MetaData(schema="fast"), *(sa.Column(c.name, c.type) for c in layout))

    def _attribute_conditions(self, f: Filters) -> list:
        return [self.c.c[d].in_(getattr(f, d)) for d in (*CUSTOMER_COLUMNS, "credit_score_band") if getattr(f, d)]

    def customers(self, f: Filters) -> sa.Select:
        if f.has_transaction_filter:
            return self.plain.customers(f)
        return sa.select(self.listing).where(*self._customer_conditions(f))

    def pairs(self, kind: str, f: Filters, by: str) -> tuple[sa.Select, sa.ColumnElement, sa.ColumnElement]:
        """The whole transaction list by amount from its sorted copy: an amount window then reads a few
        blocks, where the transactions (in time order) have amounts of every size in every block."""
        if kind != "transactions" or f.active() or by not in SORTED_COPIES:
            return super().pairs(kind, f, by)
        key = KEYS[kind]
        copy = declared("fast", sorted_copy_name(by), ((key, sa.BigInteger), (by, self.t.c[by].type)))
        return sa.select(copy.c[key], copy.c[by]), copy.c[by], copy.c[key]

    def count(self, kind: str, f: Filters) -> sa.Select:
        """The transactions of the chosen customers, when no transaction filter chooses among them,
        are their counts in the customer list summed (one segment at 100 M: a 45 M-row scan otherwise)."""
        if kind == "customers" or not f.active() or f.has_transaction_filter:
            return super().count(kind, f)
        n = sa.func.coalesce(sa.func.sum(self.listing.c.transaction_count), 0)
        return sa.select(sa.cast(n, sa.BigInteger)).where(*self._customer_conditions(f))

    def index(self, f: Filters, by: str, descending: bool, plain: bool = False, nulls: bool = True) -> sa.Select:
        if f.active():
            return super().index(f, by, descending, plain, nulls)
        return ordered_index(prebuilt_index(by), descending)


def sorted_copy_name(column: str) -> str:
    """The fast table holding (key, column) of every transaction, sorted by the column."""
    return f"transactions_by__{column}"


def index_name(column: str) -> str:
    """The fast table holding the unfiltered transaction list's index by `column`."""
    return f"transactions_index__{column}"


def prebuilt_index(column: str) -> sa.Table:
    """That table, to read (`INDEX_COLUMNS`)."""
    return declared("fast", index_name(column), INDEX_COLUMNS)


DETAIL = DetailDefinitions()
FAST_DETAIL = FastDetail()
COLUMNS = {kind: tuple(c.name for c in getattr(DETAIL, kind)(NO_FILTERS).selected_columns) for kind in KEYS}


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


def check(kind, page=1, page_size=25, sort=None, descending=False) -> None:
    """Raise ValueError unless the request names a list, one of its columns and a real page:
    these arguments can come from a browser message, so they are checked before any query."""
    if not (isinstance(kind, str) and kind in KEYS):
        raise ValueError(f"unknown detail list {_shown(kind)}; choose one of: {', '.join(KEYS)}")
    if sort is not None and not (isinstance(sort, str) and sort in COLUMNS[kind]):
        raise ValueError(f"cannot sort the {kind} by {_shown(sort)}; choose one of: {', '.join(COLUMNS[kind])}")
    for name, value, top in (("page", page, None), ("page_size", page_size, MAX_PAGE_SIZE)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1 or (top and value > top):
            raise ValueError(f"{name} must be a whole number from 1{f' to {top}' if top else ''}, got {_shown(value)}")
    if not isinstance(descending, bool):
        raise ValueError(f"descending must be True or False, got {_shown(descending)}")


def _definitions(available: frozenset[str]) -> DetailDefinitions:
    return FAST_DETAIL if CUSTOMER_LIST in available else DETAIL


def count_query(kind: str, filters: Filters, available: frozenset[str] = frozenset()) -> sa.Select:
    """SELECT the number of rows in the list under `filters`."""
    check(kind)
    if kind == "transactions" and filters.has_transaction_filter and (found := summary_rows(filters, available)):
        s, where = found  # the filtered transactions counted by combination of keys (a channel at 100 M: 0.3 s otherwise)
        return sa.select(sa.cast(sa.func.coalesce(sa.func.sum(s.c.transaction_count), 0), sa.BigInteger)).where(*where)
    return _definitions(available).count(kind, filters)


def index_query(filters: Filters, sort: str, descending: bool, available: frozenset[str] = frozenset(),
                plain: bool = False, nulls: bool = True) -> sa.Select:
    """The transaction list's bucket index by `sort` (seek.py): the fast table's when unfiltered."""
    check("transactions", sort=sort, descending=descending)
    prebuilt = not filters.active() and index_name(sort) in available
    return (FAST_DETAIL if prebuilt else DETAIL).index(filters, sort, descending, plain, nulls)


def null_buckets_query(sort: str) -> sa.Select:
    """How many buckets of NULLs the unfiltered list's prebuilt index by `sort` holds: none, and no
    filtered list holds a NULL of `sort` either."""
    check("transactions", sort=sort)
    prebuilt = prebuilt_index(sort)
    return sa.select(sa.func.count()).select_from(prebuilt).where(prebuilt.c.first_value.is_(None))


def wants_index(kind: str, filters: Filters, page: int, page_size: int, sort: str, total: int,
                available: frozenset[str]) -> bool:
    """Whether a page is best read through the list's index: always when a prebuilt one exists
    (an index window beats even the first page's top-N at 100 M), else when OFFSET from either
    end would skip more than NEAR_ENDS rows (an index costs one aggregate pass over the list)."""
    if kind != "transactions":
        return False  # the customer list: at most one row per customer, and OFFSET over it is cheap
    offset = (page - 1) * page_size
    return not filters.active() and index_name(sort) in available or min(offset, total - offset - page_size) > NEAR_ENDS


def page_query(kind: str, filters: Filters, page: int, page_size: int, sort: str | None = None,
               descending: bool = False, total: int | None = None, index: pd.DataFrame | None = None,
               available: frozenset[str] = frozenset(), within: Window | None = None) -> sa.Select:
    """One page (1-based) of the list, ordered by `sort` (default: the unique key), ties by the unique
    key: through the list's `index` if given, else from the nearer end (given its length `total`),
    among the rows of `within` only if given (see `DetailDefinitions.page`)."""
    check(kind, page, page_size, sort, descending)
    return _definitions(available).page(kind, filters, sort or KEYS[kind], descending, int(page_size),
                                        (int(page) - 1) * int(page_size), None if total is None else int(total), index,
                                        within)
