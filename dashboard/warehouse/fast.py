"""The fast path: tables that answer cross-filter queries exactly without scanning every transaction.

The gold tables answer the unfiltered dashboard. A click adds a filter, and the plain gold
definition then scans all transactions (seconds at 100 M rows). The `fast` schema holds what
lets most clicks skip that scan. Each table is built from the gold definitions themselves, so
there is no second copy of any metric:

- `customer_profile`: one row per customer with their attributes and 90-day metrics (the
  definitions' own `customer_profile`, unfiltered). The four customer-grain tables under
  customer filters (segment, region, state, city, age, income, credit band, product, in any
  combination) aggregate ~250 k customer rows instead of joining 100 M transactions.
- cross-filter cubes `<gold table>__by_<dimension>`: each transaction-grain gold table grouped
  by one more key, a customer dimension (`GoldDefinitions(by=...)`). A click on one segment,
  region, state … reads the matching slice. Distinct-customer counts stay exact: the cube is
  the definition with one more GROUP BY key, not a sum of other rows.
- for the drill-down lists (detail.py): `customer_list`, the unfiltered customer list (its
  full-period spend summed once, not per page), and `transactions_index__<column>`, the
  unfiltered transaction list's bucket index by each column (seek.py): any page of it is then
  one narrow window read; `transactions_by__amount`, (id, amount) sorted by amount, so that
  window reads a few blocks.

- `customer_cells`: per customer and heatmap cell (day, hour) they paid in, their 90-day metrics
  there; the customer-grain tables under one clicked cell read it, not the transactions.
- rollups `<gold table>__r_<keys>` (rollup.py): transaction-grain tables grouped by several more
  keys (region, state and segment together; a heatmap cell's day and hour), summed exactly over
  customer partitions.

`plan()` picks the cheapest exact source for a request (rollup.py says which answer which
filters); anything the fast tables cannot answer (say, a product on a transaction-grain table,
a transaction filter on a customer-grain one, or a warehouse built without `fast`) takes the
plain definition: slower, never different.
"""
from __future__ import annotations

import sqlalchemy as sa

from .detail import COLUMNS, CUSTOMER_LIST, KEYS, SORTED_COPIES, DetailDefinitions, index_name, sorted_copy_name
from .filters import DATE_DIMENSIONS, NO_FILTERS, TRANSACTION_DIMENSIONS, Filters
from .rollup import ROLLUPS, candidates, rollup_name, rollup_query
from .seek import bucket_query
from .gold import CUSTOMER_COLUMNS, GoldDefinitions, gold_query
from .schema import GOLD, GOLD_COLUMNS, SILVER_TABLES

FAST = "fast"
PROFILE = "customer_profile"
CELLS = "customer_cells"
CELL = ("day_of_week", "transaction_hour")  # a heatmap cell
CELL_METRICS = ("n_txn", "volume", "n_categories", "n_mobile", "n_weekend", "volatility")
CUSTOMER_GRAIN = ("analytics_customer_behavior_clusters", "analytics_product_cross_sell_patterns",
                  "analytics_credit_score_behavior_correlation", "analytics_geographic_clustering")
TRANSACTION_GRAIN = ("analytics_transaction_time_patterns", "analytics_merchant_spending_patterns",
                     "analytics_seasonal_patterns")
# Each cube costs one pass over the transactions at build time; these are the customer
# dimensions a click sets most (sunburst/radar segment, treemap region, map state).
CUBE_DIMENSIONS = ("customer_segment", "region", "state")


def cube_name(table: str, dimension: str) -> str:
    return f"{table}__by_{dimension}"


def fast_definitions(silver: dict[str, sa.Table]) -> dict[str, sa.Select]:
    """Every fast table's defining query over the given silver tables (name -> SELECT)."""
    plain = GoldDefinitions(silver)
    profile = plain.customer_profile(NO_FILTERS)
    tables = {PROFILE: sa.select(profile).order_by(profile.c.customer_segment, profile.c.region,
                                                   profile.c.state, profile.c.city)}
    for dimension in CUBE_DIMENSIONS:
        by = GoldDefinitions(silver, by=dimension)
        for table in TRANSACTION_GRAIN:
            query = gold_query(table, NO_FILTERS, by)
            tables[cube_name(table, dimension)] = query.order_by(query.selected_columns.by_value)
    for table, rollups in ROLLUPS.items():
        for dims in rollups:
            query = gold_query(table, NO_FILTERS, GoldDefinitions(silver, by=dims))
            tables[rollup_name(table, dims)] = query.order_by(*(query.selected_columns[f"by_{d}"] for d in dims))
    lists = DetailDefinitions(silver)
    tables[CUSTOMER_LIST] = lists.customers(NO_FILTERS).order_by("customer_id")
    for column in COLUMNS["transactions"]:
        tables[index_name(column)] = bucket_query(lists.pairs("transactions", NO_FILTERS, column)[0], column, KEYS["transactions"])
    for column in SORTED_COPIES:
        pairs, by, key = lists.pairs("transactions", NO_FILTERS, column)
        tables[sorted_copy_name(column)] = pairs.order_by(by, key)
    tables[CELLS] = _cells(plain, silver["transactions"])
    return tables


def _cells(plain: GoldDefinitions, t: sa.Table) -> sa.Select:
    """Every (customer, day, hour) with a transaction in the whole period, with the customer's 90-day
    transaction metrics in that cell (the definition's own, grouped by the cell too; NULL if none)."""
    m = plain.transaction_profile(NO_FILTERS, CELL)
    present = sa.select(t.c.customer_id, *(t.c[d] for d in CELL)).distinct().subquery("present")
    keys = [present.c[d] for d in CELL] + [present.c.customer_id]
    on = sa.and_(*(m.c[d] == present.c[d] for d in CELL), m.c.customer_id == present.c.customer_id)
    return (sa.select(*keys, *(m.c[n] for n in CELL_METRICS)).select_from(present.outerjoin(m, on)).order_by(*keys))


class FastDefinitions(GoldDefinitions):
    """The gold definitions reading customers from the materialised profile.

    Without transaction filters the profile restricted by the customer filters *is*
    `customer_profile(filters)`, so it replaces the join of customers, credit profiles, 90 days
    of transactions, accounts and contacts. With transaction filters the per-customer metrics
    depend on which transactions count, so the profile is computed as in the plain definition.
    """

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES):
        super().__init__(silver)
        layout = GoldDefinitions(silver).customer_profile(NO_FILTERS).c
        self.profile = self.c = sa.Table(PROFILE, sa.MetaData(schema=FAST), *(sa.Column(c.name, c.type) for c in layout))

    def _attribute_conditions(self, f: Filters) -> list:
        return [self.profile.c[d].in_(getattr(f, d)) for d in (*CUSTOMER_COLUMNS, "credit_score_band") if getattr(f, d)]

    def customer_profile(self, f: Filters) -> sa.Subquery:
        if f.has_transaction_filter:
            return super().customer_profile(f)
        return sa.select(self.profile).where(*self._customer_conditions(f)).subquery("customer_profile")


class CellDefinitions(FastDefinitions):
    """With `fast.customer_cells` too: a heatmap cell (one day and one hour, no other transaction
    filter) reads the customers' metrics in that cell from it, instead of their transactions. A
    customer is chosen when the cell holds any of theirs (a row), their metrics are its 90-day ones."""

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES):
        super().__init__(silver)
        self.cells = sa.Table(CELLS, sa.MetaData(schema=FAST), *(sa.Column(c) for c in ("customer_id", *CELL, *CELL_METRICS)))

    def _cell(self, f: Filters) -> sa.Select | None:
        """The rows of the one cell `f` selects, if that is all its transaction filter is."""
        active = {d: v for d, v in f.active().items() if d in TRANSACTION_DIMENSIONS + DATE_DIMENSIONS}
        if set(active) != set(CELL) or any(len(v) != 1 for v in active.values()):
            return None
        return sa.select(self.cells).where(*(self.cells.c[d] == active[d][0] for d in CELL))

    def _customer_conditions(self, f: Filters) -> list:
        cell = self._cell(f)
        if cell is None:
            return super()._customer_conditions(f)
        base = super()._customer_conditions(f.without(*CELL))
        return base + [self.c.c.customer_id.in_(sa.select(cell.subquery().c.customer_id))]

    def customer_profile(self, f: Filters) -> sa.Subquery:
        cell = self._cell(f)
        if cell is None:
            return super().customer_profile(f)
        x, p = cell.subquery("txn"), self.profile
        m = self.transaction_columns(x, p.c.n_accounts)
        return (sa.select(*(m[c.name].label(c.name) if c.name in m else c for c in p.c))
                .select_from(p.join(x, x.c.customer_id == p.c.customer_id))
                .where(*super()._customer_conditions(f.without(*CELL))).subquery("customer_profile"))


FAST_DEFINITIONS = FastDefinitions()
CELL_DEFINITIONS = CellDefinitions()


def plan(table: str, filters: Filters, available: frozenset[str]) -> sa.Select:
    """The cheapest exact query for `table` under `filters`, given the fast tables present: gold or a
    cube filtered on its keys (rollup.py), else the customers from the profile, else the definition."""
    if not filters.active():
        gold = sa.Table(table, sa.MetaData(schema=GOLD))
        return sa.select(*(sa.column(c) for c in GOLD_COLUMNS[table])).select_from(gold)
    cubes = {d: cube_name(table, d) for d in CUBE_DIMENSIONS} if table in TRANSACTION_GRAIN else {}
    query = rollup_query(table, filters, candidates(table, cubes, available))
    if query is not None:
        return query
    if PROFILE in available:
        return gold_query(table, filters, CELL_DEFINITIONS if CELLS in available else FAST_DEFINITIONS)
    return gold_query(table, filters)
