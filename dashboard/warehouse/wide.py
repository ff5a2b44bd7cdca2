"""Sorted copies of the transactions, so that the scans no table answers read a few blocks, not all.

Some states stay scans of the transactions: a product (or age, income, credit band, city) on the
transaction-grain tables, several days or hours, or a cell together with a category, on the
customer-grain ones. The transactions are stored in time order, so such a scan reads every block.
Two copies, each holding the same rows as `silver.transactions` (so every answer is the
definition's own, only read from blocks ordered otherwise), let the engine skip blocks by the
min/max it keeps per block (DuckDB's zone maps; PostgreSQL reads them whole, still correct):

- `transactions_wide`: every transaction of a known customer with that customer's attributes
  (region, state, segment, city, age group, income bracket), sorted by region, state and segment.
  The transaction-grain tables under a region, state, city or segment filter (with others: a
  product, an age group …) filter its own columns (no join to the customers) and read those blocks
  only; products and credit bands still choose customers through the profile. Under other customer
  filters alone nothing is skipped and the copy scans slower than silver (measured: age group on the
  time table at 100 M, 7.7-11 s vs 6.5-7.5 s), so those read silver. Only states with a customer
  filter read it: those already leave out transactions without a customer, as the copy does.
- `transactions_by_cell`: the columns the customer-grain metrics need, sorted by day, hour and date:
  a customer's metrics under a day or hour filter (with a category, a channel …) read that cell's
  blocks, and of those the last 90 days' for the metrics.
"""
from __future__ import annotations

import copy

import sqlalchemy as sa

from .filters import DATE_DIMENSIONS, TRANSACTION_DIMENSIONS, Filters
from .choice import CUSTOMER_COLUMNS
from .profiles import FAST, SummaryDefinitions
from .schema import SILVER_TABLES

WIDE, BY_CELL = "transactions_wide", "transactions_by_cell"
WIDE_ORDER = ("region", "state", "customer_segment")
PRUNED = (*WIDE_ORDER, "city")  # filters that skip blocks of the wide copy (cities lie within states)
CELL_ORDER = ("day_of_week", "transaction_hour")
UNUSED = ("transaction_id", "transaction_ts")  # unique per row, read by no gold table: most of a copy's size
# what the customer-grain metrics read of a transaction (FastDefinitions.chosen_metrics) and filter on
CELL_COLUMNS = ("customer_id", "transaction_date", "amount", "channel", "category_group", "merchant_category",
                "day_of_week", "transaction_hour", "month", "is_weekend")


def copy_definitions(silver: dict[str, sa.Table]) -> dict[str, sa.Select]:
    t, c = silver["transactions"], silver["customers"]
    wide = (sa.select(*_wide_columns(t, c)).select_from(t.join(c, c.c.customer_id == t.c.customer_id))
            .order_by(*(c.c[d] for d in WIDE_ORDER), *(t.c[d] for d in CELL_ORDER)))
    by_cell = sa.select(*(t.c[n] for n in CELL_COLUMNS)).order_by(*(t.c[d] for d in CELL_ORDER), t.c.transaction_date)
    return {WIDE: wide, BY_CELL: by_cell}


def _wide_columns(t: sa.Table, c: sa.Table) -> list[sa.Column]:
    return [x for x in t.c if x.name not in UNUSED] + [c.c[d] for d in CUSTOMER_COLUMNS]


def _copy(name: str, columns) -> sa.Table:
    return sa.Table(name, sa.MetaData(schema=FAST), *(sa.Column(c.name, c.type) for c in columns))


class CopyDefinitions(SummaryDefinitions):
    """The definitions reading the sorted copies present in `available` where they help."""

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES, available: frozenset[str] = frozenset()):
        super().__init__(silver, available)
        t, c = silver["transactions"], silver["customers"]
        self.wide = _copy(WIDE, _wide_columns(t, c)) if WIDE in available else None
        self.by_cell = _copy(BY_CELL, [t.c[n] for n in CELL_COLUMNS]) if BY_CELL in available else None

    def chosen_transactions(self, f: Filters, customer_columns: bool = False) -> sa.Select:
        customer_part = f.without(*TRANSACTION_DIMENSIONS, *DATE_DIMENSIONS)
        if self.wide is None or not any(getattr(f, d) for d in PRUNED) or self.by:
            return super().chosen_transactions(f, customer_columns)
        w = self.wide
        conds = self._transaction_conditions(w, f) + [w.c[d].in_(getattr(f, d)) for d in CUSTOMER_COLUMNS if getattr(f, d)]
        rest = customer_part.without(*CUSTOMER_COLUMNS)
        if rest.active():  # products, credit bands: the customers holding them
            conds.append(w.c.customer_id.in_(sa.select(self.c.c.customer_id).where(*self._customer_conditions(rest))))
        return sa.select(w).where(*conds)

    def need_transactions(self, f: Filters, columns: set[str], customer_columns: bool = False) -> sa.Select:
        """Under a day or hour filter and no region, state, city or segment (the wide copy's order), from the
        cell-sorted copy when it holds every column read and filtered: that cell's blocks only."""
        filtered = {"transaction_date" if d in DATE_DIMENSIONS else d for d in f.active() if d in TRANSACTION_DIMENSIONS + DATE_DIMENSIONS}
        if (self.by_cell is None or self.by or not (f.day_of_week or f.transaction_hour) or any(getattr(f, d) for d in PRUNED)
                or not columns | filtered <= set(CELL_COLUMNS)):
            return self.chosen_transactions(f, customer_columns)
        cells = copy.copy(self)  # no region, state, city or segment: the plain choice, from the copy
        cells.t = self.by_cell
        return cells.chosen_transactions(f, customer_columns)

    def transactions_for(self, f: Filters) -> sa.Table:
        return self.by_cell if self.by_cell is not None and (f.day_of_week or f.transaction_hour) else self.t
