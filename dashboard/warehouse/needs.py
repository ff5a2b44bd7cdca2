"""What a view draws, asked as such: a few sums by a few keys, not its whole gold table.

A transaction-grain view draws sums (transactions, fraud cases, spend) by two or three keys. The
gold table it is cut from also holds distinct-customer and distinct-merchant counts per finer
group: those make a filtered gold query costly (a distinct count per group over every chosen
transaction) and confine what a pre-aggregate may answer (distinct counts add only over customer
partitions, distinct merchants not at all). Sums add over anything. Asked as a `Need`, the same
numbers come, in this order of preference:

- from an exact gold answer that reads a small table (gold, a cube, a rollup), summed to the keys;
  a rollup may then be summed over any of its keys that split the transactions (several hours,
  several states), not only over customer partitions;
- from a summary table holding the keys and every filtered dimension (summary.py);
- from one pass over the chosen transactions, with sums only.

Each is the plain definition's rows summed to the keys (tests/warehouse/test_needs.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from .choice import SUMS, Choice, _f
from .filters import Filters
from .rollup import MERCHANT, SEASONAL, TIME

# A gold key named otherwise than the transaction column it groups by.
KEY_SOURCE = {"category": "merchant_category"}
CUSTOMER_KEYS = ("region", "customer_segment", "age_group")  # the merchant table's keys that are the customer's
FLOATS = ("total_spend", "total_volume")
# the transaction columns each sum reads
SUM_COLUMNS = {"transaction_count": (), "fraud_count": ("is_fraud",), "total_spend": ("amount",),
               "total_volume": ("amount",)}


@dataclass(frozen=True)
class Need:
    """Sums of a transaction-grain gold table's additive columns by some of its keys."""

    table: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]

    def __post_init__(self):
        if self.table not in (TIME, MERCHANT, SEASONAL):
            raise ValueError(f"only the transaction-grain tables answer a Need, not {self.table!r}")
        unknown = [s for s in self.sums if s not in SUMS]
        if unknown:
            raise ValueError(f"not additive (or unknown): {', '.join(unknown)}")


def typed(expr, name: str):
    """One type per column whichever way it was summed (DuckDB's SUM of integers is HUGEINT)."""
    return (_f(expr) if name in FLOATS else sa.cast(expr, sa.BigInteger)).label(name)


def summed(need: Need, rows: sa.Select) -> sa.Select:
    """`rows` (gold-shaped, or any rows holding the keys and sums) summed to the need's keys."""
    r = rows.subquery("rows")
    keys = [r.c[k] for k in need.keys]
    return sa.select(*keys, *(typed(sa.func.sum(r.c[s]), s) for s in need.sums)).group_by(*keys)


def scan(need: Need, filters: Filters, definitions: Choice) -> sa.Select:
    """One pass over the chosen transactions (through the definitions' sorted copies where they help),
    summing by the keys. The merchant table's rows are those of known customers (it groups by their
    attributes), as in its definition."""
    merchant = need.table == MERCHANT
    read = {KEY_SOURCE.get(k, k) for k in need.keys} | {c for s in need.sums for c in SUM_COLUMNS[s]}
    if merchant:
        read -= set(CUSTOMER_KEYS)  # from the customers, joined
    t = definitions.need_transactions(filters, read, customer_columns=merchant).subquery("t")
    keys = [t.c[KEY_SOURCE.get(k, k)].label(k) for k in need.keys]
    return sa.select(*keys, *(typed(SUMS[s](t), s) for s in need.sums)).group_by(*keys)
