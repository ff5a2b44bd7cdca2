"""The four customer-grain tables of one state in one statement, sharing one customer profile.

Under a transaction filter (a channel, a month, some hours) each customer-grain table aggregates
`customer_profile(f)`, which chooses the customers and sums their metrics of the chosen transactions:
one pass over ~240 k customers' per-customer rows at 100 M (0.5-2 s), the same for all four tables.
Asked one by one, the database makes that pass four times; here the profile is one CTE (materialised
by DuckDB and PostgreSQL, as it is read more than once) and the four tables are branches of one
UNION ALL over it. Each branch keeps its own columns (prefixed, NULL in the other branches) and a
`part` number; `split` cuts the answer back into the four frames each table's own query returns,
dtypes included, so no view can tell how its table was read.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from .filters import Filters
from .gold import GoldDefinitions, gold_query

PART = "part"


def _label(i: int, name: str) -> str:
    return f"t{i}__{name}"


def together_query(tables: tuple[str, ...], filters: Filters, definitions: GoldDefinitions) -> tuple[sa.CompoundSelect, list]:
    """`tables` under `filters` as one UNION ALL reading one shared profile (see the module), and each
    table's own columns (what `split` needs)."""
    shared = definitions.sharing(filters)
    queries = [gold_query(table, filters, shared) for table in tables]
    layout = [(i, c) for i, q in enumerate(queries) for c in q.selected_columns]
    branches = []
    for i, query in enumerate(queries):
        own = query.subquery(f"part_{i}")
        branches.append(sa.select(sa.literal(i).label(PART), *(
            own.c[c.name].label(_label(j, c.name)) if j == i else _null(c).label(_label(j, c.name)) for j, c in layout)))
    return sa.union_all(*branches), [q.selected_columns for q in queries]


def _null(column) -> sa.ColumnElement:
    """A typed NULL (an untyped one leaves some engines guessing the union's column type)."""
    return sa.null() if isinstance(column.type, sa.types.NullType) else sa.cast(sa.null(), column.type)


def split(frame: pd.DataFrame, tables: tuple[str, ...], columns: list) -> dict[str, pd.DataFrame]:
    """The answer of `together_query` as each table's own frame: its rows, its columns, and the dtypes
    reading its own query gives (integers padded with NULLs came back as floats; an empty answer
    has object columns)."""
    out = {}
    for i, (table, own) in enumerate(zip(tables, columns)):
        rows = frame[frame[PART] == i]
        names = [c.name for c in own]
        if rows.empty:
            out[table] = pd.DataFrame(columns=names)
            continue
        part = rows[[_label(i, n) for n in names]].set_axis(names, axis=1).reset_index(drop=True)
        for c in own:
            if isinstance(c.type, sa.Integer) and part[c.name].notna().all():
                part[c.name] = part[c.name].astype("int64")
        out[table] = part
    return out
