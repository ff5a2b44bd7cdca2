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

- `customer_cells` (and `customer_hours`, `_days`, `_channels`, `_by_month`, `_category_groups`,
  `_categories`), `customer_mix` and `customer_months`: per customer and heatmap cell (day, hour; an
  hour, a day, a channel, a month, a category group, a category), per customer, channel, category group and
  category, and per customer, month and category, their
  90-day metrics there (`customer_category_cells`: the hours of each of their 90 days' categories); the
  customer-grain tables under any days and hours, any channel and category filter, or any month
  and category filter, sum them (profiles.py) instead of reading the transactions.
  `customer_holdings` and `customer_pairs`: the cross-sell's parts per
  customer (products held; every two of them), summed for the chosen customers.
- rollups `<gold table>__r_<keys>` (rollup.py): transaction-grain tables grouped by several more
  keys (region, state and segment together; a heatmap cell's day and hour), summed exactly over
  customer partitions.
- summaries `summary_*` (summary.py): the transactions' sums by many keys, for the views that draw
  sums only (their Needs, needs.py; `plan_need`).

`plan()` picks the cheapest exact source for a request (rollup.py says which answer which
filters); anything the fast tables cannot answer (say, a product on a transaction-grain table,
or a warehouse built without `fast`) takes the plain definition, or for the customer-grain
tables the profile with per-customer metrics from one pass over the transactions: slower, never
different.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa

from .detail import COLUMNS, CUSTOMER_LIST, KEYS, SORTED_COPIES, DetailDefinitions, index_name, sorted_copy_name
from .filters import NO_FILTERS, Filters
from .profiles import (CATEGORY_CELLS, CELL, CELLS, FAST, HOLDINGS, MIX, MIX_KEYS, MONTH_KEYS, MONTHS, PAIRS, PROFILE, SINGLES,  # noqa: F401 (FAST: build.py reads it here)
                       category_cells, holding_definitions, per_customer)
from .rollup import ROLLUPS, candidates, rollup_name, rollup_query
from .seek import bucket_query
from .gold import LIVE, GoldDefinitions, gold_query
from .needs import Need, scan, summed
from .schema import GOLD, GOLD_COLUMNS
from .summary import summary_definitions, summary_query
from .together import together_query
from .wide import BY_CELL, WIDE, CopyDefinitions, copy_definitions

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
    tables[CELLS] = per_customer(plain, CELL)
    tables.update({name: per_customer(plain, (key,)) for name, key in SINGLES.items()})
    tables[CATEGORY_CELLS] = category_cells(plain)
    tables[MIX] = per_customer(plain, MIX_KEYS)
    tables[MONTHS] = per_customer(plain, MONTH_KEYS)
    tables.update(holding_definitions(plain))
    tables.update(copy_definitions(silver))
    tables.update(summary_definitions(silver))
    return tables


COPIES = frozenset({PROFILE, CELLS, *SINGLES, CATEGORY_CELLS, MIX, MONTHS, HOLDINGS, PAIRS, WIDE, BY_CELL})  # what the definitions read


@functools.lru_cache(maxsize=8)
def _definitions(available: frozenset[str]) -> CopyDefinitions:
    return CopyDefinitions(available=available)


def plan_need(need: Need, filters: Filters, available: frozenset[str]) -> sa.Select:
    """The cheapest exact query for a view's sums (needs.py): a small gold-shaped answer summed, a
    summary table, else one pass over the chosen transactions without distinct counts."""
    table = need.table
    if not filters.active():
        return summed(need, plan(table, filters, available))
    cubes = {d: cube_name(table, d) for d in CUBE_DIMENSIONS}
    query = rollup_query(table, filters, candidates(table, cubes, available), additive=True)
    if query is not None:
        return summed(need, query)
    query = summary_query(need, filters, available)
    if query is not None:
        return query
    definitions = _definitions(available & COPIES) if PROFILE in available else LIVE
    return scan(need, filters, definitions)


def shares_profile(table: str, filters: Filters) -> bool:
    """Whether `plan_together` answers `table` under `filters`: a customer-grain table under a transaction
    filter (no table of theirs answers one: each aggregates a customer profile computed for the state)."""
    return table in CUSTOMER_GRAIN and filters.has_transaction_filter


def plan_together(tables: tuple[str, ...], filters: Filters, available: frozenset[str]) -> tuple[sa.CompoundSelect, list]:
    """Customer-grain `tables` under `filters` in one statement (together.py), through the fast tables
    present, and their columns."""
    definitions = _definitions(available & COPIES) if PROFILE in available else LIVE
    return together_query(tables, filters, definitions)


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
        return gold_query(table, filters, _definitions(available & COPIES))
    return gold_query(table, filters)
