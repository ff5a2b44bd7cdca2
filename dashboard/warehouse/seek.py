"""Keyset paging of the transaction list: an exact bucket index, then a narrow window.

OFFSET n sorts the n rows it skips: a page in the middle of 100 M transactions sorted by merchant
took minutes. Instead, a list (filters, sort column) gets an *index*: its rows grouped into
buckets that are consecutive in the list's order (sort column NULLs last, then the key), with
each bucket's exact row count and the first and last sort value and key it holds. Any page is
then a window: the buckets holding its rows, read with a WHERE condition the engine can push
into its scan (a value range, an id range: blocks outside are skipped), sorted, and cut with
an OFFSET no larger than a bucket. Exact by construction: the counts are counted, not estimated,
and the window holds precisely the rows of its buckets.

How a column is bucketed (`BUCKETS`):
- "value": one bucket per value (merchant name: ~20 k transactions each at 100 M);
- "value+id": per value and range of `ID_BUCKET` transaction ids (a channel or a flag, whose
  values hold millions of rows: within a value the list is in key order);
- "range": per step of a monotone function of the value (an hour of `transaction_ts`, a dime of
  `amount`, 64 customer ids), the window being the range of values its buckets hold;
- the key itself: per range of `ID_BUCKET` ids.
NULLs (last in both directions) are bucketed by id in every case.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import sqlalchemy as sa

ID_BUCKET = 65_536  # ids per bucket: a bucket holds at most this many rows of one value
VALUE, VALUE_ID, RANGE, KEY = "value", "value+id", "range", "key"
BUCKETS = {
    "transaction_id": (KEY, None), "merchant_name": (VALUE, None), "customer_id": (RANGE, lambda c: c - c % 64),
    "transaction_ts": (RANGE, lambda c: sa.func.date_trunc("hour", c)),
    "amount": (RANGE, lambda c: sa.func.floor(c * 10)),
}  # every other column: VALUE_ID
INDEX_COLUMNS = ("g", "id_part", "first_value", "last_value", "first_key", "last_key", "n")


def plain(value):
    """A value read back by pandas as the Python value a driver binds (NaN/NaT -> None = NULL)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def order(by, key, descending: bool, reverse: bool = False) -> list:
    """The column (NULLs last on every engine), then the unique key: a total order, the same for
    every page; `reverse` is that order backwards (NULLs first, the key descending)."""
    down = descending != reverse
    first = by.desc() if down else by.asc()
    first = first.nulls_first() if reverse else first.nulls_last()
    return [first] if by is key else [first, key.desc() if reverse else key.asc()]


def _id_part(value, ids, nulls: bool):
    """A NULL value's rows bucketed by id; none where the list is known to hold no NULLs (checking every
    row costs a third of an index by time or amount)."""
    return sa.case((value.is_(None), ids)) if nulls else sa.cast(sa.null(), sa.BigInteger)


def bucket_query(pairs: sa.Select, by: str, key: str, nulls: bool = True) -> sa.Select:
    """The index of a list given as (key, sort column) pairs: one row per bucket, `INDEX_COLUMNS`, unordered.
    `nulls=False`: the list holds no NULL of the sort column (see `_id_part`)."""
    p = pairs.subquery("pairs")
    c, k = p.c[by], p.c[key]
    kind, step = BUCKETS.get(by, (VALUE_ID, None))
    ids = k - k % ID_BUCKET  # integer arithmetic on every engine (ids are positive)
    g = ids if kind == KEY else step(c) if kind == RANGE else c
    id_part = ids if kind == VALUE_ID else _id_part(c, ids, nulls)
    grouped = kind in (VALUE, VALUE_ID)  # the value is a group key (and PostgreSQL has no MIN(boolean))
    # a range's window is a range of values (`condition`): its keys are read only for NULLs' buckets
    keys = kind != RANGE or nulls
    first_key, last_key = (sa.func.min(k), sa.func.max(k)) if keys else (sa.cast(sa.null(), sa.BigInteger),) * 2
    return (sa.select(g.label("g"), id_part.label("id_part"), (c if grouped else sa.func.min(c)).label("first_value"),
                      (c if grouped else sa.func.max(c)).label("last_value"), first_key.label("first_key"),
                      last_key.label("last_key"), sa.func.count().label("n"))
            .group_by(*((g, id_part) if kind == VALUE_ID or nulls else (g,))))


def named_bucket_query(chosen, merchants: sa.Table, key: str, nulls: bool = True) -> sa.Select:
    """The index by merchant name of the transactions `chosen` (a subquery with the key and `merchant_id`):
    grouped by merchant id (a number) first, then named, 40 k groups, rather than every transaction
    joined to its merchant's name and grouped by that string (a third of the time). A NULL
    merchant id is bucketed by id as in `bucket_query`; a merchant id without a name (unknown, or a
    NULL name) would not be: `unnamed` tells that such an index must be read the plain way."""
    k = chosen.c[key]
    id_part = _id_part(chosen.c.merchant_id, k - k % ID_BUCKET, nulls)
    per = (sa.select(chosen.c.merchant_id, id_part.label("id_part"), sa.func.min(k).label("first_key"),
                     sa.func.max(k).label("last_key"), sa.func.count().label("n"))
           .group_by(*((chosen.c.merchant_id, id_part) if nulls else (chosen.c.merchant_id,))).subquery("per_merchant"))
    name = merchants.c.merchant_name
    return (sa.select(name.label("g"), per.c.id_part, name.label("first_value"), name.label("last_value"),
                      sa.func.min(per.c.first_key).label("first_key"), sa.func.max(per.c.last_key).label("last_key"),
                      sa.cast(sa.func.sum(per.c.n), sa.BigInteger).label("n"))
            .select_from(per.outerjoin(merchants, merchants.c.merchant_id == per.c.merchant_id))
            .group_by(name, per.c.id_part))


def unnamed(index: pd.DataFrame) -> bool:
    """Whether a `named_bucket_query` index must be read the plain way: its NULL names are not all
    bucketed by id. Those of merchant ids without a name form one bucket of every such row: exact
    when it is the only NULL bucket (a window of it is all the NULLs), and kept if it holds no more
    rows than a bucket may."""
    nulls = index[index["first_value"].isna()]
    return bool(nulls["id_part"].isna().any() and (len(nulls) > 1 or int(nulls["n"].sum()) > ID_BUCKET))


def ordered_index(buckets, descending: bool) -> sa.Select:
    """The buckets (a subquery or table of `INDEX_COLUMNS`) in the list's order."""
    g = buckets.c.g.desc() if descending else buckets.c.g.asc()
    return sa.select(*(buckets.c[name] for name in INDEX_COLUMNS)).order_by(g.nulls_last(), buckets.c.id_part.asc())


@dataclass(frozen=True)
class Window:
    """Rows [offset, offset + limit) of a list: the rows of buckets `first`..`last` (index rows as
    dicts; `last_value` None = the window runs into the NULLs), sorted, from the `skip`-th on."""
    first: dict
    last: dict
    first_null: dict | None  # the window's first bucket of NULLs, if it reaches them
    skip: int


def window(index: pd.DataFrame, offset: int, limit: int) -> Window | None:
    """The buckets holding the page, from the list's index in its order (None past the end)."""
    counts = index["n"].to_numpy(dtype=np.int64)
    ends = np.cumsum(counts)
    if not len(counts) or offset >= ends[-1]:
        return None
    i = int(np.searchsorted(ends, offset, side="right"))
    j = min(int(np.searchsorted(ends, offset + limit - 1, side="right")), len(counts) - 1)
    rows = [{name: plain(v) for name, v in row.items()} for row in index.iloc[i:j + 1].to_dict("records")]
    nulls = [row for row in rows if row["first_value"] is None]
    return Window(rows[0], rows[-1], nulls[0] if nulls else None, offset - int(ends[i] - counts[i]))


def condition(column, key, by: str, descending: bool, w: Window):
    """WHERE the rows of the window's buckets are, as ranges of the column and the key (bound
    parameters): conditions an engine pushes into its scan, so it skips the blocks outside."""
    def bound(value, like):
        return sa.literal(value, like.type)

    nulls = None
    if w.first_null is not None:
        nulls = sa.and_(column.is_(None), key >= bound(w.first_null["first_key"], key),
                        key <= bound(w.last["last_key"], key))
        if w.first_null is w.first:
            return nulls
    first, last = w.first, (None if w.first_null is not None else w.last)  # None: to the last value
    kind, _ = BUCKETS.get(by, (VALUE_ID, None))
    down = (lambda a, b: a <= b) if descending else (lambda a, b: a >= b)  # "comes at or after" in list order
    up = (lambda a, b: a >= b) if descending else (lambda a, b: a <= b)  # "comes at or before"
    if kind in (RANGE, KEY):
        conds = [down(column, bound(first["last_value" if descending else "first_value"], column))]
        if last is not None:
            conds.append(up(column, bound(last["first_value" if descending else "last_value"], column)))
    elif last is not None and first["first_value"] == last["first_value"]:
        conds = [column == bound(first["first_value"], column), key >= bound(first["first_key"], key),
                 key <= bound(last["last_key"], key)]
    else:  # from a key on within the first value, every value between, up to a key within the last
        v1 = bound(first["first_value"], column)
        conds = [down(column, v1), sa.or_(column != v1, key >= bound(first["first_key"], key))]
        if last is not None:
            v2 = bound(last["first_value"], column)
            conds += [up(column, v2), sa.or_(column != v2, key <= bound(last["last_key"], key))]
    return sa.and_(*conds) if nulls is None else sa.or_(sa.and_(*conds), nulls)
