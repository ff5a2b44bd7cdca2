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
neither overlap nor skip. Filter values reach SQL as bound parameters; the kind and sort column
are checked against fixed names and only select Core objects, never SQL text.
"""
from __future__ import annotations

import numbers

import sqlalchemy as sa

from .filters import NO_FILTERS, Filters
from .gold import GoldDefinitions, _f
from .schema import SILVER_TABLES

MAX_PAGE_SIZE = 1000
KEYS = {"customers": "customer_id", "transactions": "transaction_id"}


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

    def page(self, kind: str, f: Filters, by: str, descending: bool, limit: int, offset: int,
             total: int | None = None) -> sa.Select:
        """LIMIT/OFFSET of the list ordered by `by`, then the unique key.

        Transactions are cut to the page as (key, sort column) pairs before the full rows and
        merchant names are joined: carrying every chosen transaction's columns and merchant
        through the sort costs ten times the sort itself (DuckDB, 2 M rows), and sorting 100 M
        by merchant name that way ran past a minute (5 s cut narrow).

        A page nearer the end of a list of known length (`total`) is cut in the reverse order,
        counted from the end: OFFSET n sorts n rows to skip them, so the last page of 100 M
        transactions by merchant took 215 s, and now costs what the first does.
        """
        key = KEYS[kind]
        reverse = total is not None and total - offset - limit < offset
        if reverse:
            offset, limit = max(0, total - offset - limit), max(0, min(limit, total - offset))
        if kind == "transactions":
            chosen = self.chosen_transactions(f).subquery("chosen")
            if by == "merchant_name":
                pairs = sa.select(chosen.c[key], self.m.c.merchant_name).select_from(
                    chosen.outerjoin(self.m, self.m.c.merchant_id == chosen.c.merchant_id))
            else:
                pairs = sa.select(*dict.fromkeys((chosen.c[key], chosen.c[by])))
            cut = (pairs.order_by(*_order(pairs.selected_columns[by], chosen.c[key], descending, reverse))
                   .limit(limit).offset(offset).subquery("page"))
            rows = self._described(self.t).join(cut, cut.c[key] == self.t.c[key])
        else:
            listing = getattr(self, kind)(f).subquery("listing")
            cut = (sa.select(listing).order_by(*_order(listing.c[by], listing.c[key], descending, reverse))
                   .limit(limit).offset(offset).subquery("page"))
            rows = sa.select(cut)
        return rows.order_by(*_order(cut.c[by], cut.c[key], descending))


def _order(by, key, descending: bool, reverse: bool = False) -> list:
    """The column (NULLs last on every engine), then the unique key: a total order, the same for
    every page; `reverse` is that order backwards (NULLs first, the key descending)."""
    down = descending != reverse
    first = by.desc() if down else by.asc()
    first = first.nulls_first() if reverse else first.nulls_last()
    return [first] if by is key else [first, key.desc() if reverse else key.asc()]


DETAIL = DetailDefinitions()
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


def count_query(kind: str, filters: Filters) -> sa.Select:
    """SELECT the number of rows in the list under `filters`."""
    check(kind)
    return DETAIL.count(kind, filters)


def page_query(kind: str, filters: Filters, page: int, page_size: int, sort: str | None = None,
               descending: bool = False, total: int | None = None) -> sa.Select:
    """One page (1-based) of the list, ordered by `sort` (default: the unique key), ties by the unique
    key. Given the list's length `total`, a page past the middle is read from the end (cheaper)."""
    check(kind, page, page_size, sort, descending)
    return DETAIL.page(kind, filters, sort or KEYS[kind], descending, int(page_size), (int(page) - 1) * int(page_size),
                       None if total is None else int(total))
