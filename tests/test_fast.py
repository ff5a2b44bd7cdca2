"""The fast path answers exactly what the plain definitions answer, and is actually taken.

Every gold table under every filter dimension, read through `plan()` (profile, cubes), equals the
independent pandas reference; every view's shown frame is the same through either path; a
warehouse without the fast tables falls back to the plain definitions and `accelerate` adds them.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.config import make_engine
from dashboard.data import DataStore
from dashboard.engines import fast_tables, forget
from dashboard.warehouse.__main__ import main as cli
from dashboard.warehouse.detail import COLUMNS, index_name
from dashboard.warehouse.fast import CUBE_DIMENSIONS, CUSTOMER_GRAIN, FAST, TRANSACTION_GRAIN, cube_name, plan
from dashboard.warehouse.filters import Filters
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import GOLD_TABLES

from gold_reference import reference_gold
from test_gold import FILTER_CASES, assert_gold_equal, combined_filters, filter_cases  # noqa: F401 (fixtures)


@pytest.fixture(scope="module")
def conn(engine):
    with engine.connect() as c:
        yield c


@pytest.fixture(scope="module")
def available(warehouse_url) -> frozenset[str]:
    return fast_tables(warehouse_url)


def _sql(query) -> str:
    return str(query.compile())


def test_build_made_every_fast_table(available):
    expected = {"customer_profile", "customer_list"} | {cube_name(t, d) for t in TRANSACTION_GRAIN for d in CUBE_DIMENSIONS}
    expected |= {index_name(column) for column in COLUMNS["transactions"]}
    assert available == expected


@pytest.mark.parametrize("case", FILTER_CASES)
@pytest.mark.parametrize("table", GOLD_TABLES)
def test_fast_path_matches_reference(table, case, conn, silver, filter_cases, available):
    f = filter_cases[case]
    fast = pd.read_sql(plan(table, f, available), conn)
    assert_gold_equal(table, fast, reference_gold(silver, table, f), f"fast path, {case}: {f.active()}")


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_fast_path_matches_reference_combined(table, conn, silver, combined_filters, available):
    customers_only = combined_filters.without("channel", "transaction_hour")
    for f in (combined_filters, customers_only):
        assert_gold_equal(table, pd.read_sql(plan(table, f, available), conn), reference_gold(silver, table, f),
                          f"fast path: {f.active()}")


@pytest.mark.parametrize("dimension", CUBE_DIMENSIONS)
@pytest.mark.parametrize("table", TRANSACTION_GRAIN)
def test_every_cube_slice_equals_the_plain_definition(table, dimension, conn, silver):
    """Not one sample value: every value the dimension takes (states: the ten largest)."""
    column = silver["customers"][dimension]
    values = column.value_counts().index[:10] if dimension == "state" else column.unique()
    for value in values:
        f = Filters(**{dimension: (value,)})
        query = plan(table, f, fast_tables(str(conn.engine.url)))
        assert cube_name(table, dimension) in _sql(query)
        assert_gold_equal(table, pd.read_sql(query, conn), pd.read_sql(gold_query(table, f), conn), f"{dimension}={value}")


def test_plan_takes_the_fast_tables_where_it_can(available):
    one_segment, two_dims = Filters(customer_segment=("Premium",)), Filters(customer_segment=("Premium",), state=("CA",))
    cell = Filters(day_of_week=(6,), transaction_hour=(14,))
    for table in TRANSACTION_GRAIN:
        assert f"{FAST}.{cube_name(table, 'customer_segment')}" in _sql(plan(table, one_segment, available))
        assert "fast.customer_profile" in _sql(plan(table, two_dims, available))  # chosen customers from the profile
        assert "silver.transactions" in _sql(plan(table, two_dims, available))
    for table in CUSTOMER_GRAIN:
        sql = _sql(plan(table, two_dims, available))
        assert "fast.customer_profile" in sql and "silver.transactions" not in sql, table
        assert "silver.transactions" in _sql(plan(table, cell, available))  # per-customer metrics of the cell
    assert "gold.analytics_seasonal_patterns" in _sql(plan("analytics_seasonal_patterns", Filters(), available))
    assert "fast." not in _sql(plan("analytics_seasonal_patterns", one_segment, frozenset()))


def test_views_show_the_same_frames_either_way(warehouse_url, filter_cases, conn, monkeypatch):
    """For every view and every filter dimension, the frame it shows (its CSV) is the same whether
    its data came through the fast path or the plain definition."""
    from dashboard.app import dashboard_views
    store = DataStore(warehouse_url)
    views = [v for _, items in dashboard_views(store) for v in items]
    assert len(views) == 13
    for case in FILTER_CASES:
        f = filter_cases[case]
        for view in views:
            wanted = f.without(*view.own)
            fast = view.transform(pd.read_sql(plan(view.table, wanted, fast_tables(warehouse_url)), conn))
            plain = view.transform(pd.read_sql(gold_query(view.table, wanted), conn))
            pd.testing.assert_frame_equal(fast.reset_index(drop=True), plain.reset_index(drop=True),
                                          check_exact=False, rtol=1e-9, obj=f"{view.title} under {case}")


def test_a_warehouse_without_fast_tables_still_answers_and_accelerate_adds_them(warehouse_url, tmp_path, silver):
    path = tmp_path / "copy.duckdb"
    shutil.copy(warehouse_url.removeprefix("duckdb:///"), path)
    url = f"duckdb:///{path}"
    engine = make_engine(url)
    with engine.begin() as c:
        c.execute(sa.text("DROP SCHEMA fast CASCADE"))
    engine.dispose()
    f = Filters(customer_segment=("Premium",))
    store = DataStore(url)
    store.param.update(customer_segment=["Premium"])
    assert fast_tables(url) == frozenset()
    table = "analytics_merchant_spending_patterns"
    assert_gold_equal(table, store.fetch(table), reference_gold(silver, table, f), "without fast tables")

    forget(url)  # DuckDB: one process cannot hold a file read-only and read-write at once
    assert cli(["accelerate", "--url", url, "--quiet"]) == 0
    assert cube_name(table, "customer_segment") in fast_tables(url, max_age=0)
    with make_engine(url, read_only=True).connect() as c:
        assert_gold_equal(table, pd.read_sql(plan(table, f, fast_tables(url, max_age=0)), c),
                          reference_gold(silver, table, f), "after accelerate")


def test_accelerate_on_a_warehouse_without_silver_says_what_to_do(tmp_path, capsys):
    url = f"duckdb:///{tmp_path / 'empty.duckdb'}"
    assert cli(["accelerate", "--url", url]) == 2
    err = capsys.readouterr().err
    assert "missing table silver." in err and "python -m dashboard.warehouse build" in err
