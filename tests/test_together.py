"""The four customer-grain tables of a state from one statement: each equals the independent reference
and, dtypes included, its own query's frame; the store asks the database once for the four."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import queries
from dashboard.app import dashboard_views
from dashboard.data import DataStore
from dashboard.engines import fast_tables, forget, shared_engine
from dashboard.warehouse.fast import CUSTOMER_GRAIN, plan, plan_together, shares_profile
from dashboard.warehouse.filters import Filters
from dashboard.warehouse.schema import SILVER_TABLES
from dashboard.warehouse.together import split

from gold_reference import reference_gold
from test_fast import combinations  # noqa: F401 (fixture)
from test_gold import FILTER_CASES, assert_gold_equal, filter_cases  # noqa: F401 (fixtures)

NOBODY = Filters(channel=("Mobile",), state=("No Such State",))  # a transaction filter choosing no customer


@pytest.fixture(scope="module")
def states(filter_cases, combinations) -> dict[str, Filters]:
    chosen = {**filter_cases, **combinations, "nobody": NOBODY}
    return {name: f for name, f in chosen.items() if f.has_transaction_filter}


def _together(url: str, f: Filters, available: frozenset, tables: tuple[str, ...] = CUSTOMER_GRAIN) -> dict[str, pd.DataFrame]:
    query, columns = plan_together(tables, f, available)
    with shared_engine(url).connect() as conn:
        return split(pd.read_sql(query, conn), tables, columns)


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])]
    return frame.sort_values(keys).reset_index(drop=True) if len(frame) else frame


def test_only_customer_grain_tables_under_a_transaction_filter_are_read_together():
    assert shares_profile(CUSTOMER_GRAIN[0], Filters(channel=("Mobile",)))
    assert not shares_profile(CUSTOMER_GRAIN[0], Filters(customer_segment=("Premium",)))  # the profile, filtered
    assert not shares_profile("analytics_seasonal_patterns", Filters(channel=("Mobile",)))


def test_each_table_equals_the_reference_and_its_own_query(warehouse_url, states, silver):
    """Through the fast tables and without them: the rows of the reference, and the very frame (values,
    dtypes, an empty answer's columns) of the table's own query."""
    for available in (fast_tables(warehouse_url), frozenset()):
        with shared_engine(warehouse_url).connect() as conn:
            for name, f in states.items():
                together = _together(warehouse_url, f, available)
                for table in CUSTOMER_GRAIN:
                    what = f"{table}, {name}, {len(available)} fast tables"
                    assert_gold_equal(table, together[table], reference_gold(silver, table, f), what)
                    alone = pd.read_sql(plan(table, f, available), conn)
                    pd.testing.assert_frame_equal(_sorted(together[table]), _sorted(alone), check_exact=False,
                                                  rtol=1e-9, obj=what)
    assert all(frame.empty for frame in _together(warehouse_url, NOBODY, fast_tables(warehouse_url)).values())


@pytest.fixture
def statements(warehouse_url):
    """The SQL statements run on the warehouse while the test runs."""
    seen, engine = [], shared_engine(warehouse_url)
    listen = lambda conn, cursor, sql, *rest: seen.append(sql)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    queries.clear_answers()
    yield seen
    sa.event.remove(engine, "before_cursor_execute", listen)


def _reads(statements: list[str]) -> list[str]:
    """The statements reading data: not the session's build-info read, nor the store's look for fast tables."""
    return [s for s in statements if "build_info.as_of_date" not in s and "information_schema" not in s]


def test_the_views_of_a_change_ask_once_for_the_tables_they_share(warehouse_url, statements):
    """A change: every view's request first (each says what it will ask), then the answers. Under a channel
    and a segment the two cluster views (they draw every segment) ask without the segment: that table
    alone, its own query; the three other customer-grain tables are one statement, and each view shows
    what it shows from its table's own query."""
    store = DataStore(warehouse_url)
    views = [v for _, items in dashboard_views(store) for v in items]
    statements.clear()
    store.param.update(channel=["Mobile"], customer_segment=["Premium"])
    per_customer = [s for s in statements if "customer_channels" in s]  # the channel's per-customer metrics
    assert len(per_customer) == 2 and [s.count(") AS part_") for s in per_customer if "UNION ALL" in s] == [3], per_customer
    f = Filters(channel=("Mobile",), customer_segment=("Premium",))
    with shared_engine(warehouse_url).connect() as conn:
        for v in views:
            if v.table in CUSTOMER_GRAIN:
                alone = v.transform(pd.read_sql(plan(v.table, f.without(*v.own), fast_tables(warehouse_url)), conn))
                pd.testing.assert_frame_equal(v.frame.reset_index(drop=True), alone.reset_index(drop=True),
                                              check_exact=False, rtol=1e-9, obj=v.title)


def test_tables_no_view_said_it_would_ask_are_not_read(warehouse_url, statements, filter_cases):
    store = DataStore(warehouse_url, month=list(filter_cases["month"].month))
    for table in CUSTOMER_GRAIN[:2]:
        store.expect(table)
    assert all(len(store.fetch(table)) for table in CUSTOMER_GRAIN)
    reads = _reads(statements)
    assert [s.count(") AS part_") for s in reads] == [2, 0, 0], reads  # the two expected together, then one each
    statements.clear()
    assert all(len(store.fetch(table)) for table in CUSTOMER_GRAIN)  # asked again: the answers kept
    assert _reads(statements) == []


@pytest.mark.postgres
def test_postgres_tables_read_together_equal_the_reference(postgres_reader_url, silver, states):
    available = fast_tables(postgres_reader_url)
    try:
        with shared_engine(postgres_reader_url).connect() as c:
            pg_silver = {**silver, "build_info": pd.read_sql(sa.select(SILVER_TABLES["build_info"]), c)}
        for name, f in states.items():
            for table, frame in _together(postgres_reader_url, f, available).items():
                assert_gold_equal(table, frame, reference_gold(pg_silver, table, f), f"postgres, {table}, {name}")
    finally:
        forget(postgres_reader_url)
