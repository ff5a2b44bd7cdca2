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
  one narrow window read.

`plan()` picks the cheapest exact source for a request; anything the fast tables cannot answer
(several dimensions on a transaction-grain table, a transaction filter on a customer-grain
one, or a warehouse built without `fast`) takes the plain definition: slower, never different.
"""
from __future__ import annotations

import sqlalchemy as sa

from .detail import COLUMNS, CUSTOMER_LIST, KEYS, DetailDefinitions, index_name
from .filters import NO_FILTERS, Filters
from .seek import bucket_query
from .gold import CUSTOMER_COLUMNS, GoldDefinitions, gold_query
from .schema import GOLD, GOLD_COLUMNS, SILVER_TABLES

FAST = "fast"
PROFILE = "customer_profile"
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
    lists = DetailDefinitions(silver)
    tables[CUSTOMER_LIST] = lists.customers(NO_FILTERS).order_by("customer_id")
    for column in COLUMNS["transactions"]:
        tables[index_name(column)] = bucket_query(lists.pairs("transactions", NO_FILTERS, column)[0], column, KEYS["transactions"])
    return tables


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


FAST_DEFINITIONS = FastDefinitions()


def plan(table: str, filters: Filters, available: frozenset[str]) -> sa.Select:
    """The cheapest exact query for `table` under `filters`, given the fast tables present."""
    active = filters.active()
    if not active:
        gold = sa.Table(table, sa.MetaData(schema=GOLD))
        return sa.select(*(sa.column(c) for c in GOLD_COLUMNS[table])).select_from(gold)
    if table in TRANSACTION_GRAIN and len(active) == 1:
        ((dimension, values),) = active.items()
        name = cube_name(table, dimension)
        if dimension in CUBE_DIMENSIONS and len(values) == 1 and name in available:
            cube = sa.Table(name, sa.MetaData(schema=FAST), sa.Column("by_value"),
                            *(sa.Column(c) for c in GOLD_COLUMNS[table]))
            return sa.select(*(cube.c[c] for c in GOLD_COLUMNS[table])).where(cube.c.by_value == values[0])
    if PROFILE in available:
        return gold_query(table, filters, FAST_DEFINITIONS)
    return gold_query(table, filters)
