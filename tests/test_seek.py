"""Keyset paging (dashboard/warehouse/seek.py): a page read through the list's bucket index is
exactly the page the plain OFFSET query gives, for every sort column of the transaction list, both
directions, ties and NULLs included, filtered (index built on demand) or not (prebuilt), on DuckDB
and PostgreSQL; and the store reads far pages through the index, never through a long OFFSET."""
from __future__ import annotations

import random
import re

import pandas as pd
import pytest

from dashboard import data, queries
from dashboard.engines import fast_tables, forget, shared_engine
from dashboard.warehouse import detail, seek
from dashboard.warehouse.detail import COLUMNS, count_query, index_name, index_query, page_query
from dashboard.warehouse.fast import fast_definitions
from dashboard.warehouse.schema import SILVER_TABLES
from dashboard.warehouse.filters import Filters
from warehouse_copy import altered_copy

SORTS = COLUMNS["transactions"]
FILTERED = Filters(channel=("Mobile",))


@pytest.fixture(scope="module")
def nulls_url(warehouse_url, tmp_path_factory):
    """The test warehouse with a fifth of the merchants unknown: their transactions' names are NULL
    (the unfiltered list's index by merchant name rebuilt, as a build would)."""
    name = index_name("merchant_name")
    index = fast_definitions(SILVER_TABLES)[name].compile(shared_engine(warehouse_url), compile_kwargs={"literal_binds": True})
    return altered_copy(warehouse_url, tmp_path_factory.mktemp("seek"), "DELETE FROM silver.merchants WHERE merchant_id % 5 = 0",
                        f"CREATE OR REPLACE TABLE fast.{name} AS {index}").url


@pytest.fixture
def small_buckets(monkeypatch):
    """Buckets of 512 ids, so that a value's rows fall into many buckets in a small warehouse."""
    monkeypatch.setattr(seek, "ID_BUCKET", 512)


def _offsets(index: pd.DataFrame, total: int, size: int, seed: int) -> list[int]:
    """Pages worth checking: both ends, pages straddling bucket edges (NULLs' first included), random ones."""
    edges = index["n"].cumsum().tolist()
    rng = random.Random(seed)
    picked = {0, size, max(0, total - size), max(0, total - 1)}
    picked |= {max(0, e - size // 2) for e in rng.sample(edges, min(6, len(edges)))}
    nulls = index["first_value"].isna()
    if nulls.any():
        picked.add(max(0, int(index["n"][~nulls].sum()) - 3))
    picked |= {rng.randrange(total) for _ in range(3)}
    return sorted(picked)


def _check_pages(engine, f: Filters, sort: str, descending: bool, available=frozenset(), size: int = 7,
                 nulls: bool = True) -> int:
    total = int(pd.read_sql(count_query("transactions", f), engine).iat[0, 0])
    index = pd.read_sql(index_query(f, sort, descending, available, nulls=nulls), engine)
    assert int(index["n"].sum()) == total, (sort, descending)
    for offset in _offsets(index, total, size, hash((sort, descending)) % 1000):
        page = offset // size + 1
        want = pd.read_sql(page_query("transactions", f, page, size, sort, descending), engine)
        got = pd.read_sql(page_query("transactions", f, page, size, sort, descending, total, index, available), engine)
        pd.testing.assert_frame_equal(got, want, obj=f"{sort} {'desc' if descending else 'asc'}, page {page}")
    past = (total // size) + 2
    assert pd.read_sql(page_query("transactions", f, past, size, sort, descending, total, index, available), engine).empty
    return len(index)


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", SORTS)
def test_index_pages_are_the_offset_pages(sort, descending, nulls_url, small_buckets):
    engine = shared_engine(nulls_url)
    buckets = _check_pages(engine, FILTERED, sort, descending)
    assert buckets > 1


@pytest.mark.parametrize("sort", SORTS)
def test_an_index_told_there_are_no_nulls_gives_the_same_pages(sort, warehouse_url, small_buckets):
    """The test warehouse holds no NULL of a sort column: its filtered lists' indexes skip bucketing
    NULLs, and bucketed by ranges of values, the keys' bounds (pages.read_index)."""
    for descending in (False, True):
        assert _check_pages(shared_engine(warehouse_url), FILTERED, sort, descending, nulls=False) > 1


@pytest.mark.parametrize("sort", SORTS)
def test_the_prebuilt_index_of_the_whole_list_gives_the_same_pages(sort, warehouse_url):
    available = fast_tables(warehouse_url)
    assert index_name(sort) in available
    query = index_query(Filters(), sort, True, available)
    assert f"fast.{index_name(sort)}" in str(query.compile())
    for descending in (False, True):
        _check_pages(shared_engine(warehouse_url), Filters(), sort, descending, available, size=997)
    page = str(page_query("transactions", Filters(), 2, 25, sort, False, None, None, available).compile())
    assert ("fast.transactions_by__amount" in page) == (sort == "amount")  # the sorted copy, where there is one


def test_the_store_reads_far_pages_through_the_index(nulls_url, monkeypatch, small_buckets):
    """A filtered list: the first page straight (top-N), a far one through an index built once
    and shared by the next pages; no query skips more than a bucket's rows."""
    monkeypatch.setattr(detail, "NEAR_ENDS", 100)
    store = data.DataStore(nulls_url, channel=["Mobile"])
    sent, read = [], queries._read
    monkeypatch.setattr(queries, "_read", lambda url, query, *a: sent.append(query) or read(url, query, *a))
    engine = shared_engine(nulls_url)
    total = store.detail("transactions", 1, 25, "merchant_name", True)[1]
    for page in (total // 50, total // 50 + 1, total // 50 - 1, total // 25):
        rows, _ = store.detail("transactions", page, 25, "merchant_name", True)
        want = pd.read_sql(page_query("transactions", FILTERED, page, 25, "merchant_name", True), engine)
        pd.testing.assert_frame_equal(rows, want, obj=f"page {page}")
    indexes = [q for q in sent if " AS id_part" in str(q.compile())]
    # built once, for every page after it: by merchants, then the plain way (a fifth of them unknown)
    assert len(indexes) == 2 and all(" AS id_part" not in str(q.compile()) for q in sent[sent.index(indexes[1]) + 1:])
    for query in sent:
        sql = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
        assert all(int(n) <= seek.ID_BUCKET for n in re.findall(r"OFFSET (\d+)", sql)), sql


def test_bad_sort_of_an_index_is_rejected():
    with pytest.raises(ValueError, match="cannot sort the transactions by 'x; DROP'"):
        index_query(Filters(), "x; DROP", False)


@pytest.mark.postgres
@pytest.mark.parametrize("sort", ["merchant_name", "amount", "channel", "transaction_ts", "is_fraud", "customer_id"])
def test_postgres_index_pages_are_the_offset_pages(sort, postgres_reader_url, monkeypatch):
    monkeypatch.setattr(seek, "ID_BUCKET", 512)
    engine = shared_engine(postgres_reader_url)
    try:
        for descending in (False, True):
            _check_pages(engine, FILTERED, sort, descending)
            _check_pages(engine, Filters(), sort, descending, fast_tables(postgres_reader_url), size=997)
    finally:
        forget(postgres_reader_url)
