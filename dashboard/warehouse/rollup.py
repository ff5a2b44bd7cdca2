"""Rollups: a gold table or a cube answers any filter on its own keys, and sums over customer partitions.

Two facts make many more cross-filter states exact without a scan of the transactions:

- A filter on a table's own group key keeps or drops whole groups: the rows of the definition
  under `day_of_week = 6` are the gold rows whose `day_of_week` is 6, every metric included
  (distinct counts too: each kept group holds the same transactions). So gold and every cube
  answer filters on their keys (and a cube's extra keys) with a WHERE.
- Every customer has exactly one region, state and segment: the customers of different
  (region, state, segment) cells are disjoint, so a distinct-customer count over several cells
  is the sum of the cells' counts. Counts and sums add; averages and percentages are recomputed
  from them (as sum / count). A cube grouped by those customer keys therefore answers any
  combination of segment, region and state filters, several values each, by summing.

Transaction keys (a heatmap cell's day and hour) do not partition customers (one customer pays on
many days), nor do products (one customer holds several: a rollup by product counts a customer
once under each product held), and merchants are not partitioned by anything a filter sets: a
cube's transaction or product key must be filtered to one value, and a table with distinct
merchants is never summed. (A product filter of two products, "holds both", is not one value.) Under those
rules every answer is the definition's own rows, or sums of them.
"""
from __future__ import annotations

import sqlalchemy as sa

from .filters import Filters
from .choice import _f, _int_sum, _ratio
from .schema import GOLD, GOLD_COLUMNS, declared

TIME, MERCHANT, SEASONAL = ("analytics_transaction_time_patterns", "analytics_merchant_spending_patterns",
                            "analytics_seasonal_patterns")
CUSTOMER_PARTS = ("region", "state", "customer_segment")  # one value per customer: cells are disjoint
SHORT = {"region": "reg", "state": "st", "customer_segment": "seg", "day_of_week": "dow", "transaction_hour": "hr",
         "product": "prod"}
# the rollups built (besides fast.py's one-key cubes), per table, smallest first
ROLLUPS = {
    TIME: [("region", "state", "customer_segment"), ("product", "region", "customer_segment")],
    SEASONAL: [("region", "state", "customer_segment"), ("transaction_hour", "region", "state", "customer_segment")],
    MERCHANT: [("day_of_week", "transaction_hour")],  # by state too cost 15 min to build at 100 M (distinct merchants)
}
# filter dimension -> the table's own key column holding it
KEY_COLUMNS = {
    TIME: {d: d for d in ("day_of_week", "transaction_hour", "channel", "merchant_category")},
    SEASONAL: {d: d for d in ("month", "day_of_week", "merchant_category")},
    MERCHANT: {"category_group": "category_group", "merchant_category": "category", "region": "region",
               "customer_segment": "customer_segment", "age_group": "age_group"},
    "analytics_customer_behavior_clusters": {d: d for d in ("customer_segment", "age_group", "income_bracket")},
    "analytics_credit_score_behavior_correlation": {d: d for d in ("credit_score_band", "income_bracket",
                                                                   "customer_segment")},
    "analytics_geographic_clustering": {"state": "state", "city": "city"},
}
SUMMABLE = (TIME, SEASONAL)  # tables whose only distinct count is of customers


def rollup_name(table: str, dims: tuple[str, ...]) -> str:
    """Short enough for PostgreSQL's 63-character names with the build's `__staging` suffix."""
    return f"{table}__r_{'_'.join(SHORT[d] for d in dims)}"


def _combined(table: str, r) -> list:
    """The table's columns from the summed rows of `r` (sums, and averages recomputed from them)."""
    n = sa.func.sum(r.c.transaction_count)
    if table == SEASONAL:
        metrics = {"transaction_count": _int_sum(r.c.transaction_count), "total_volume": _f(sa.func.sum(r.c.total_volume)),
                   "avg_amount": _ratio(sa.func.sum(r.c.total_volume), n)}
    else:
        metrics = {"transaction_count": _int_sum(r.c.transaction_count),
                   "avg_amount": _ratio(sa.func.sum(r.c.avg_amount * r.c.transaction_count), n)}
        for flag in ("fraud", "high_value", "international"):
            metrics[f"{flag}_count"] = _int_sum(r.c[f"{flag}_count"])
            pct = "fraud_rate_pct" if flag == "fraud" else f"{flag}_pct"
            metrics[pct] = _ratio(sa.func.sum(r.c[f"{flag}_count"]), n, 100.0)
    metrics["unique_customers"] = _int_sum(r.c.unique_customers)
    metrics["last_updated"] = sa.func.max(r.c.last_updated)
    return [metrics[c].label(c) if c in metrics else r.c[c] for c in GOLD_COLUMNS[table]]


def _source(table: str, name: str | None, by: dict[str, str]) -> sa.Table:
    """The gold table (`name` None) or a fast cube with its extra key columns `by` (dimension -> column)."""
    columns = (*by.values(), *GOLD_COLUMNS[table])
    return declared(GOLD, table, columns) if name is None else declared("fast", name, columns)


def candidates(table: str, cubes: dict[str, str], available: frozenset[str]) -> list[tuple[str | None, dict[str, str]]]:
    """The sources present for `table`, smallest first: gold, the one-key cubes (`cubes`: dimension ->
    name), the rollups; each with its extra key columns."""
    found = [(None, {})] + [(name, {d: "by_value"}) for d, name in cubes.items() if name in available]
    found += [(rollup_name(table, dims), {d: f"by_{d}" for d in dims}) for dims in ROLLUPS.get(table, ())
              if rollup_name(table, dims) in available]
    return found


def rollup_query(table: str, filters: Filters, sources: list[tuple[str | None, dict[str, str]]],
                 additive: bool = False) -> sa.Select | None:
    """The first source answering `filters` exactly (see the module's rules), or None. `additive`:
    only the sums will be read (needs.py), so any key but a product may be summed over; the rows
    kept are returned as they are, for the caller to sum."""
    active, keys = filters.active(), KEY_COLUMNS.get(table, {})
    for name, by in sources:
        if any(d not in keys and d not in by for d in active):
            continue
        summed = [d for d in by if len(active.get(d, ())) != 1]
        if "product" in summed or (summed and not additive and (
                table not in SUMMABLE or any(d not in CUSTOMER_PARTS for d in summed))):
            continue  # a customer's transactions are in a product rollup once per product held
        src = _source(table, name, by)
        where = [src.c[by[d] if d in by else keys[d]].in_(values) for d, values in active.items()]
        if not summed or additive:
            return sa.select(*(src.c[c] for c in GOLD_COLUMNS[table])).where(*where)
        r = sa.select(src).where(*where).subquery("cells")
        group = [r.c[c] for c in GOLD_COLUMNS[table] if c in _group_keys(table)]
        return sa.select(*_combined(table, r)).group_by(*group)
    return None


def _group_keys(table: str) -> tuple[str, ...]:
    return {TIME: ("day_name", "day_of_week", "transaction_hour", "channel", "merchant_category"),
            SEASONAL: ("month", "month_name", "quarter", "day_of_week", "day_name", "merchant_category", "year",
                       "season")}[table]
