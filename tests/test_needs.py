"""A view's Need (only the sums it draws) equals the plain definition's rows summed, by every path.

The reference is independent: `reference_gold` (pandas over silver) summed to the need's keys in
pandas. Every view that asks a Need also shows the same frame as from the whole gold table.
"""
from __future__ import annotations

import pandas as pd
import pytest

from dashboard.app import dashboard_views
from dashboard.data import DataStore
from dashboard.engines import fast_tables, forget, shared_engine
from dashboard.warehouse.fast import plan_need
from dashboard.warehouse.filters import Filters
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.needs import Need

from gold_reference import reference_gold
from test_fast import combinations  # noqa: F401 (fixture)
from test_gold import FILTER_CASES, combined_filters, filter_cases  # noqa: F401 (fixtures)

BROAD = {  # single broad filters no gold-shaped table answers (the gold path scans with distinct counts)
    "hours 9-17": Filters(transaction_hour=tuple(range(9, 18))),
    "two products": Filters(product=("Checking Account", "Credit Card")),
    "two products, named the other way": Filters(product=("Credit Card", "Checking Account"), region=("West",)),
    "three products": Filters(product=("Checking Account", "Credit Card", "Savings Account")),
    "credit band and income": Filters(credit_score_band=("Good",), income_bracket=("High",)),
    "month and age": Filters(month=(12,), age_group=("35-44",)),
    "channel, weekend": Filters(channel=("Mobile",), day_of_week=(0, 6)),
    "a cell and a product": Filters(day_of_week=(3,), transaction_hour=(13,), product=("Mortgage",)),
}


@pytest.fixture(scope="module")
def views(warehouse_url) -> list:
    asking = [v for _, items in dashboard_views(DataStore(warehouse_url)) for v in items if v.need is not None]
    assert {type(v).__name__ for v in asking} == {"TimeHeatmap", "HourlyChannelArea", "SeasonalLines",
                                                  "MerchantSunburst", "MerchantTreemap"}
    return asking


@pytest.fixture(scope="module")
def states(filter_cases, combined_filters, combinations) -> dict[str, Filters]:
    return {**filter_cases, "combined": combined_filters, **combinations, **BROAD, "none": Filters()}


def expected_sums(need: Need, reference: pd.DataFrame) -> pd.DataFrame:
    return reference.groupby(list(need.keys), dropna=False)[list(need.sums)].sum().reset_index()


def assert_sums_equal(need: Need, got: pd.DataFrame, expected: pd.DataFrame, what: str) -> None:
    keys = list(need.keys)
    got = got[[*keys, *need.sums]].sort_values(keys).reset_index(drop=True)
    expected = expected[[*keys, *need.sums]].sort_values(keys).reset_index(drop=True)
    assert len(got) == len(expected), what
    pd.testing.assert_frame_equal(got.astype({s: float for s in need.sums}), expected.astype({s: float for s in need.sums}),
                                  check_exact=False, rtol=1e-9, check_dtype=False, obj=what)


def _answer(url: str, need: Need, f: Filters, available: frozenset) -> pd.DataFrame:
    with shared_engine(url).connect() as conn:
        return pd.read_sql(plan_need(need, f, available), conn)


def test_every_need_equals_the_reference_summed_by_every_path(warehouse_url, views, states, silver):
    """Through the fast tables and without them, every state: filter cases, combinations, broad ones."""
    available = fast_tables(warehouse_url)
    for name, f in states.items():
        for view in views:
            wanted = f.without(*view.own)
            expected = expected_sums(view.need, reference_gold(silver, view.table, wanted))
            for tables in (available, frozenset()):
                got = _answer(warehouse_url, view.need, wanted, tables)
                assert_sums_equal(view.need, got, expected, f"{view.title}, {name}, {len(tables)} fast tables")


def test_views_show_the_same_frames_from_needs(warehouse_url, views, states):
    """What a view shows (its CSV) from its Need is what it shows from the plain gold definition."""
    store = DataStore(warehouse_url)
    with shared_engine(warehouse_url).connect() as conn:
        for name in ("credit_score_band", "product_pair", "month", "combined", *BROAD):
            f = states[name]
            for view in views:
                wanted = f.without(*view.own)
                shown = view.transform(store.fetch(view.table, view.own, wanted, view.need))
                plain = view.transform(pd.read_sql(gold_query(view.table, wanted), conn))
                pd.testing.assert_frame_equal(shown.reset_index(drop=True), plain.reset_index(drop=True),
                                              check_exact=False, rtol=1e-9, check_dtype=False,
                                              obj=f"{view.title} under {name}")


def test_needs_read_small_tables_and_count_nothing_distinct(warehouse_url, views):
    available = fast_tables(warehouse_url)
    sql = {(type(v).__name__, name): str(plan_need(v.need, f.without(*v.own), available).compile())
           for v in views for name, f in BROAD.items()}
    assert not [k for k, s in sql.items() if "DISTINCT" in s.upper()], "a Need never counts distinct values"
    # several hours: the merchant table's (day, hour) rollup and the seasonal (hour, region, state,
    # segment) one, summed over the hours: no pass over the transactions
    for name in ("MerchantSunburst", "MerchantTreemap", "SeasonalLines"):
        assert "silver.transactions" not in sql[(name, "hours 9-17")] and "__r_" in sql[(name, "hours 9-17")]
    assert "gold.analytics_transaction_time_patterns" in sql[("HourlyChannelArea", "channel, weekend")]
    # customer classes (any age, income, credit band, region, segment): the class summaries
    assert all("fast.summary_class_" in sql[(type(v).__name__, "credit band and income")] for v in views)
    # a channel on the seasonal and merchant views: the summary of every transaction dimension
    for name in ("MerchantSunburst", "MerchantTreemap", "SeasonalLines"):
        assert "fast.summary_transactions" in sql[(name, "channel, weekend")]
    # a month with an age group: no summary holds both for the heatmap, one pass over the transactions
    assert "silver.transactions" in sql[("TimeHeatmap", "month and age")]
    assert "fast.summary_class_months" in sql[("SeasonalLines", "month and age")]  # the month is its own
    # two products ("holds both", an affinity-matrix cell): the pair summaries; three: one pass
    assert all("fast.summary_pair_" in s for k, s in sql.items() if k[1] == "two products"), sql
    for name in ("MerchantSunburst", "MerchantTreemap", "SeasonalLines"):  # with a region: the months' pairs
        assert "fast.summary_pair_months" in sql[(name, "two products, named the other way")]
    assert all("summary_p" not in s and "silver.transactions" in s for k, s in sql.items() if k[1] == "three products")
    # a cell with a product on the merchant and seasonal views: no summary holds both; the cell's blocks of
    # the cell-sorted copy (with a segment, the wide copy's segment blocks instead)
    for name in ("MerchantSunburst", "MerchantTreemap", "SeasonalLines"):
        assert "fast.transactions_by_cell" in sql[(name, "a cell and a product")], sql[(name, "a cell and a product")]
    with_segment = Filters(day_of_week=(3,), transaction_hour=(13,), product=("Mortgage",), customer_segment=("Premium",))
    assert "fast.transactions_wide" in str(plan_need(views[-1].need, with_segment.without(*views[-1].own), available).compile())
    one = {type(v).__name__: str(plan_need(v.need, Filters(product=("Mortgage",)), available).compile()) for v in views}
    assert all("fast.summary_product_" in s or "__r_prod" in s for s in one.values()), one
    with_group = Filters(category_group=("Lifestyle",), product=("Mortgage",))  # a sunburst ring, a product
    assert all("fast.summary_product_" in str(plan_need(v.need, with_group.without(*v.own), available).compile())
               for v in views)


def test_a_need_of_a_customer_grain_table_or_of_a_distinct_count_is_refused():
    with pytest.raises(ValueError, match="transaction-grain"):
        Need("analytics_geographic_clustering", ("state",), ("customer_count",))
    with pytest.raises(ValueError, match="unique_customers"):
        Need("analytics_seasonal_patterns", ("month",), ("unique_customers",))


@pytest.mark.postgres
def test_postgres_needs_equal_the_reference(postgres_reader_url, views, states, silver):
    import sqlalchemy as sa
    from dashboard.warehouse.schema import SILVER_TABLES
    available = fast_tables(postgres_reader_url)
    assert available, "the PostgreSQL build made its fast tables"
    try:
        with shared_engine(postgres_reader_url).connect() as c:
            pg_silver = {**silver, "build_info": pd.read_sql(sa.select(SILVER_TABLES["build_info"]), c)}
        for name, f in states.items():
            for view in views:
                wanted = f.without(*view.own)
                expected = expected_sums(view.need, reference_gold(pg_silver, view.table, wanted))
                assert_sums_equal(view.need, _answer(postgres_reader_url, view.need, wanted, available), expected,
                                  f"postgres, {view.title}, {name}")
    finally:
        forget(postgres_reader_url)


def test_transactions_of_a_customer_not_on_file_count_where_the_definitions_count_them(warehouse_url, tmp_path):
    """The time and seasonal definitions keep every chosen transaction, the merchant one those of known
    customers (it groups by their attributes): the summaries say which are which. (Compared with the
    plain definition itself: the pandas reference leaves such transactions out everywhere.)"""
    import sqlalchemy as sa
    from dashboard.warehouse.__main__ import main as cli
    from dashboard.warehouse.schema import SILVER_TABLES
    from warehouse_copy import altered_copy

    store = altered_copy(warehouse_url, tmp_path, "DELETE FROM silver.customers WHERE customer_id = "
                         "(SELECT min(customer_id) FROM silver.transactions WHERE channel = 'Mobile' AND month = 12)")
    assert cli(["accelerate", "--url", store.url, "--quiet"]) == 0
    try:
        views = [v for _, items in dashboard_views(store) for v in items if v.need is not None]
        with shared_engine(store.url).connect() as conn:
            transactions, customers = (pd.read_sql(sa.select(SILVER_TABLES[n].c.customer_id), conn)
                                       for n in ("transactions", "customers"))
            assert (~transactions["customer_id"].isin(customers["customer_id"])).sum() > 0
            for f in (Filters(channel=("Mobile",), month=(12,)), Filters(credit_score_band=("Good",))):
                for view in views:
                    wanted = f.without(*view.own)
                    assert "fast.summary_" in str(plan_need(view.need, wanted, fast_tables(store.url, max_age=0)).compile())
                    expected = expected_sums(view.need, pd.read_sql(gold_query(view.table, wanted), conn))
                    assert_sums_equal(view.need, store.fetch(view.table, view.own, wanted, view.need), expected,
                                      f"{view.title}, {f.active()}")
    finally:
        forget(store.url)
