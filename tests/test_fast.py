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
from dashboard.engines import fast_tables, forget, shared_engine
from dashboard.warehouse.__main__ import main as cli
from dashboard.warehouse.detail import COLUMNS, index_name
from dashboard.warehouse.fast import CUBE_DIMENSIONS, CUSTOMER_GRAIN, FAST, TRANSACTION_GRAIN, cube_name, plan
from dashboard.warehouse.filters import Filters
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.rollup import KEY_COLUMNS, MERCHANT, ROLLUPS, TIME, rollup_name
from dashboard.warehouse.schema import GOLD_TABLES, SILVER_TABLES
from dashboard.warehouse.summary import SUMMARIES

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
    expected = {"customer_profile", "customer_list", "customer_cells", "customer_hours", "customer_days",
                "customer_channels", "customer_by_month", "customer_category_groups", "customer_categories",
                "customer_category_cells", "customer_mix", "customer_months"}
    expected |= {cube_name(t, d) for t in TRANSACTION_GRAIN for d in CUBE_DIMENSIONS}
    expected |= {index_name(column) for column in COLUMNS["transactions"]} | {"transactions_by__amount"}
    expected |= {rollup_name(t, dims) for t, rollups in ROLLUPS.items() for dims in rollups}
    expected |= {"transactions_wide", "transactions_by_cell", "customer_holdings", "customer_pairs", *SUMMARIES}
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
        sql = _sql(query)  # the cube's slice, or gold's rows where the dimension is one of its own keys
        assert cube_name(table, dimension) in sql if dimension not in KEY_COLUMNS[table] else f"gold.{table}" in sql
        assert_gold_equal(table, pd.read_sql(query, conn), pd.read_sql(gold_query(table, f), conn), f"{dimension}={value}")


def test_plan_takes_the_fast_tables_where_it_can(available):
    one_segment, two_dims = Filters(customer_segment=("Premium",)), Filters(customer_segment=("Premium",), state=("CA",))
    cell = Filters(day_of_week=(6,), transaction_hour=(14,))
    for table in TRANSACTION_GRAIN:
        one = _sql(plan(table, one_segment, available))
        assert f"{FAST}.{cube_name(table, 'customer_segment')}" in one or table == MERCHANT and "gold." in one
        sql = _sql(plan(table, two_dims, available))  # a rollup summed over states and segments, or a cube's keys
        assert "silver." not in sql and ("__r_reg_st_seg" in sql or f"{cube_name(table, 'state')}" in sql), table
        with_product = _sql(plan(table, Filters(customer_segment=("Premium",), product=("Mortgage",)), available))
        if table == TIME:  # summed over the segment's regions, for holders of the one product
            assert "__r_prod_reg_seg" in with_product and "transactions" not in with_product
        else:  # no rollup holds products: the wide copy, customers holding it from the profile
            assert "fast.customer_profile" in with_product and "fast.transactions_wide" in with_product
        two = _sql(plan(table, Filters(customer_segment=("Premium",), product=("Mortgage", "Credit Card")), available))
        assert "fast.transactions_wide" in two and "silver.transactions" not in two  # "holds both": not one product
    cross_sell = _sql(plan("analytics_product_cross_sell_patterns", cell, available))
    assert "fast.customer_pairs" in cross_sell and "fast.customer_holdings" in cross_sell and "silver.accounts" not in cross_sell
    for table in CUSTOMER_GRAIN:
        sql = _sql(plan(table, two_dims, available))
        assert "fast.customer_profile" in sql and "silver.transactions" not in sql, table
        sql = _sql(plan(table, cell, available))  # per-customer metrics of the cell, from the cell table
        assert "fast.customer_cells" in sql and "silver.transactions" not in sql, table
        rectangle = _sql(plan(table, Filters(day_of_week=(1, 2, 3), transaction_hour=(14, 15)), available))  # a brush
        assert "fast.customer_category_cells" in rectangle and "silver.transactions" not in rectangle \
            and "fast.transactions_" not in rectangle
        for hours, table_read in ((Filters(transaction_hour=tuple(range(9, 18))), "fast.customer_hours"),
                                  (Filters(day_of_week=(0, 6), region=("West",)), "fast.customer_days"),
                                  (Filters(channel=("Mobile",), customer_segment=("Premium",)), "fast.customer_channels"),
                                  (Filters(month=(12,)), "fast.customer_by_month"),
                                  (Filters(category_group=("Lifestyle",), age_group=("35-44",)),
                                   "fast.customer_category_groups"),
                                  (Filters(merchant_category=("Grocery",)), "fast.customer_categories"),
                                  (Filters(channel=("Mobile", "ATM")), "fast.customer_mix")):
            sql = _sql(plan(table, hours, available))  # an hours brush, the weekend: a fifth of the cells' rows
            assert table_read in sql and "fast.customer_cells" not in sql and "silver.transactions" not in sql, table
        months = _sql(plan(table, Filters(month=(11, 12), merchant_category=("Grocery",), region=("West",)), available))
        assert "fast.customer_months" in months and "silver.transactions" not in months  # a seasonal brush
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


@pytest.fixture(scope="module")
def combinations(silver) -> dict[str, Filters]:
    """Two- and three-dimension states, several values in one dimension, heatmap cells, and
    transaction filters with customer filters: what the rollups answer (and some they must not)."""
    c = silver["customers"]
    states = c["state"].value_counts().index
    region = c.loc[c["state"] == states[0], "region"].iloc[0]
    segments = tuple(sorted(c["customer_segment"].unique()))
    return {
        "segment and state": Filters(customer_segment=segments[:1], state=(states[0],)),
        "region, state, two segments": Filters(region=(region,), state=tuple(states[:3]), customer_segment=segments[1:3]),
        "two states": Filters(state=tuple(states[1:3])),
        "region and segment": Filters(region=(region,), customer_segment=segments[:1]),
        "a cell": Filters(day_of_week=(6,), transaction_hour=(14,)),
        "a cell and a segment": Filters(day_of_week=(2,), transaction_hour=(9,), customer_segment=segments[:1]),
        "a cell, state and segment": Filters(day_of_week=(5,), transaction_hour=(18,), state=(states[0],),
                                             customer_segment=segments[2:3]),
        "a cell and a region": Filters(day_of_week=(1,), transaction_hour=(12,), region=(region,)),
        "two days, one hour": Filters(day_of_week=(0, 6), transaction_hour=(11,)),
        "working hours of a segment": Filters(transaction_hour=tuple(range(9, 18)), customer_segment=segments[:1]),
        "the weekend in a region": Filters(day_of_week=(0, 6), region=(region,)),
        "a brushed rectangle in a state": Filters(day_of_week=(1, 2, 3), transaction_hour=(14, 15, 16), state=(states[0],)),
        "channel and two segments": Filters(channel=("Mobile", "ATM"), customer_segment=segments[:2]),
        "month, category, state": Filters(month=(9,), merchant_category=("Grocery",), state=(states[1],)),
        "two months, a category group": Filters(month=(11, 12), category_group=("Lifestyle",)),
        "a category, state and segment": Filters(merchant_category=("Healthcare",), state=(states[0],),
                                                 customer_segment=segments[:1]),
        "two channels and two categories": Filters(channel=("Mobile", "ATM"), merchant_category=("Grocery", "Travel")),
        "a category group and a product": Filters(category_group=("Lifestyle",), product=("Mortgage",)),
        "a channel, a category, age": Filters(channel=("POS",), merchant_category=("Restaurant",), age_group=("35-44",)),
        "a cell and a category": Filters(day_of_week=(0,), transaction_hour=(11,), merchant_category=("Grocery",),
                                         customer_segment=segments[:1]),
        "age and income": Filters(age_group=("35-44",), income_bracket=("High",), customer_segment=segments[:1]),
        "segment and product": Filters(customer_segment=segments[:1], product=("Mortgage",)),
        "a product, a region, two segments": Filters(product=("Credit Card",), region=(region,), customer_segment=segments[1:3]),
        "two products and a region": Filters(product=("Checking Account", "Savings Account"), region=(region,)),
        "a product and a state": Filters(product=("Checking Account",), state=(states[0],)),
    }


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_rollups_answer_combinations_exactly(table, conn, silver, combinations, available):
    """Every table under every combination equals the independent reference, whichever source
    plan() takes; and the rollups are what answers the combinations they cover."""
    taken, copies = {}, {}  # answered from summaries (no scan); read from a sorted copy of the transactions
    for name, f in combinations.items():
        query, expected = plan(table, f, available), reference_gold(silver, table, f)
        assert len(expected) > 0, name  # every combination selects something: a comparison of empty frames proves nothing
        assert_gold_equal(table, pd.read_sql(query, conn), expected, f"{name}: {f.active()}")
        taken[name] = "silver.transactions" not in _sql(query) and "fast.transactions_" not in _sql(query)
        copies[name] = "fast.transactions_wide" in _sql(query) or "fast.transactions_by_cell" in _sql(query)
    covered = {"analytics_transaction_time_patterns": ["segment and state", "region, state, two segments",
                                                       "two states", "a cell and a region", "two days, one hour",
                                                       "channel and two segments"],
               "analytics_seasonal_patterns": ["segment and state", "region, state, two segments", "a cell",
                                               "a cell, state and segment", "a cell and a region"],
               MERCHANT: ["segment and state", "a cell", "a cell and a segment"],
               "analytics_customer_behavior_clusters": ["age and income"]}.get(table, [])
    assert all(taken[name] for name in covered), {name: taken[name] for name in covered}
    if table == TIME:  # one product, summed over regions and segments: its rollup; two products or a state: the copy
        assert taken["segment and product"] and taken["a product, a region, two segments"], taken
        assert copies["two products and a region"] and copies["a product and a state"], copies
    elif table in TRANSACTION_GRAIN:  # no rollup holds products: the wide copy
        assert copies["segment and product"], copies
    if table in CUSTOMER_GRAIN:  # a cell and a category: the cell-sorted copy; several days: the cells
        assert copies["a cell and a category"] and taken["two days, one hour"], (copies, taken)
    if table in CUSTOMER_GRAIN:  # one cell, or channels and categories, with or without customer filters
        mixed = ("a category, state and segment", "two channels and two categories", "a category group and a product",
                 "a channel, a category, age", "month, category, state", "two months, a category group")
        assert all(taken[name] for name in combinations if name.startswith("a cell") and "category" not in name), taken
        assert all(taken[name] for name in mixed), taken


@pytest.mark.postgres
@pytest.mark.parametrize("table", GOLD_TABLES)
def test_postgres_rollups_answer_combinations_exactly(table, postgres_reader_url, silver, combinations):
    available = fast_tables(postgres_reader_url)
    assert rollup_name("analytics_seasonal_patterns", ROLLUPS["analytics_seasonal_patterns"][1]) in available
    try:
        with shared_engine(postgres_reader_url).connect() as c:
            pg_silver = {**silver, "build_info": pd.read_sql(sa.select(SILVER_TABLES["build_info"]), c)}  # its build time
            for name, f in combinations.items():
                assert_gold_equal(table, pd.read_sql(plan(table, f, available), c), reference_gold(pg_silver, table, f),
                                  f"postgres, {name}: {f.active()}")
    finally:
        forget(postgres_reader_url)
