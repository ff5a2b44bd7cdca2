"""Summary tables: the transactions' sums by many keys at once, for the views' Needs (needs.py).

A view's Need is sums by two or three keys. Sums add over any split of the transactions, so a
table holding the transactions' count, fraud count and amount per combination of many keys
answers a Need under any filter on those keys, several values each, by a WHERE and a GROUP BY
over rows far fewer than the transactions (the number of combinations bounds it, not the bank's
size). Each table below pairs the Needs' keys with the dimensions filters set most together:

- every transaction dimension a filter sets, with the customer's region and segment;
- the heatmap's and the channel chart's keys, or the seasonal and merchant views' keys, with the
  customer's class: age group, income bracket, credit band, region and segment (any of them, any
  combination: they are one value per customer);
- the same two key sets (the hours' with the category group) with the product held, region and
  segment: one row per product a customer holds, so a product filter must name one product
  (several mean "holds all of them"); and with two products held (an affinity-matrix cell): one
  row per pair a customer holds, the filter must name exactly those two.

`known` says whether the transaction's customer is in the customer table: the merchant table
groups by customer attributes and keeps only those, the time and seasonal tables keep them all.
What no summary holds (a city, a date range, a month with an age group …) is one pass over the
transactions (needs.scan).
"""
from __future__ import annotations

import sqlalchemy as sa

from .choice import SUMS, CUSTOMER_COLUMNS
from .filters import Filters
from .gold import GoldDefinitions
from .needs import KEY_SOURCE, Need, typed
from .profiles import FAST
from .rollup import MERCHANT
from .schema import declared

CLASS = ("age_group", "income_bracket", "credit_score_band", "region", "customer_segment")
HOURS = ("day_of_week", "transaction_hour", "channel")
MONTHS = ("month", "category_group", "merchant_category")
# name -> keys, smallest table first (the first that answers a Need is read)
SUMMARIES = {
    "summary_product_months": (*MONTHS, "product", "region", "customer_segment"),
    "summary_class_months": (*CLASS, *MONTHS),
    "summary_product_hours": (*HOURS, "category_group", "product", "region", "customer_segment"),
    "summary_pair_months": (*MONTHS, "product_1", "product_2", "region", "customer_segment"),
    "summary_pair_hours": (*HOURS, "product_1", "product_2"),
    "summary_transactions": (*HOURS, *MONTHS, "region", "customer_segment"),
    "summary_class_hours": (*CLASS, *HOURS),
}
MEASURES = {"transaction_count": "transaction_count", "fraud_count": "fraud_count",
            "total_spend": "amount", "total_volume": "amount"}  # a Need's sum -> the column holding it


def summary_definitions(silver: dict[str, sa.Table]) -> dict[str, sa.Select]:
    t, c, cp = silver["transactions"], silver["customers"], silver["credit_profiles"]
    plain = GoldDefinitions(silver)
    held = plain.holdings().subquery("held")  # the cross-sell's own parts: a row per product held, per two
    pairs = plain.pairs(held)
    tables = {}
    for name, keys in SUMMARIES.items():
        source = t.outerjoin(c, c.c.customer_id == t.c.customer_id)
        if "credit_score_band" in keys:
            source = source.outerjoin(cp, cp.c.customer_id == c.c.customer_id)
        if "product" in keys:  # one row per product held
            source = source.join(held, held.c.customer_id == t.c.customer_id)
        if "product_1" in keys:  # one row per two products held
            source = source.join(pairs, pairs.c.customer_id == t.c.customer_id)
        columns = [held.c.product_name.label(k) if k == "product" else pairs.c[k] if k.startswith("product_") else
                   cp.c[k] if k == "credit_score_band" else c.c[k] if k in CUSTOMER_COLUMNS else t.c[k] for k in keys]
        known = c.c.customer_id.is_not(None).label("known")
        tables[name] = (sa.select(*columns, known, SUMS["transaction_count"](t).label("transaction_count"),
                                  SUMS["fraud_count"](t).label("fraud_count"), SUMS["total_spend"](t).label("amount"))
                        .select_from(source).group_by(*columns, known).order_by(*columns))
    return tables


def summary_rows(filters: Filters, available: frozenset[str], wanted: frozenset[str] = frozenset()):
    """The first summary present holding the `wanted` keys and every filtered dimension, and the
    conditions choosing its rows of the filtered transactions; None if no summary holds them."""
    active = filters.active()
    products = sorted(set(active.get("product", ())))
    for name, keys in SUMMARIES.items():
        pair = "product_1" in keys
        if name not in available or not wanted <= set(keys) or any(d not in keys for d in active if d != "product"):
            continue
        if len(products) != (2 if pair else 1 if "product" in keys else 0):
            continue  # otherwise every transaction is there once per product (pair) its customer holds
        s = declared(FAST, name, (*keys, "known", "amount", "transaction_count", "fraud_count"))
        where = [s.c[d].in_(values) for d, values in active.items() if d != "product"]
        if pair:  # stored in the database's order of names, which need not be Python's
            a, b = products
            where.append(sa.or_(sa.and_(s.c.product_1 == a, s.c.product_2 == b), sa.and_(s.c.product_1 == b, s.c.product_2 == a)))
        elif products:
            where.append(s.c.product == products[0])
        return s, where
    return None


def summary_query(need: Need, filters: Filters, available: frozenset[str]) -> sa.Select | None:
    """The need from the first summary present holding its keys and every filtered dimension, or None."""
    found = summary_rows(filters, available, frozenset(KEY_SOURCE.get(k, k) for k in need.keys))
    if found is None:
        return None
    s, where = found
    if need.table == MERCHANT:
        where = [*where, s.c.known]
    group = [s.c[KEY_SOURCE.get(k, k)].label(k) for k in need.keys]
    return (sa.select(*group, *(typed(sa.func.sum(s.c[MEASURES[m]]), m) for m in need.sums))
            .where(*where).group_by(*group))
