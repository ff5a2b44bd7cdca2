"""The four customer-grain tables of a state from one statement: each equals the independent reference
and, dtypes included, its own query's frame; the store asks the database once for the four."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import queries
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


def _together(url: str, f: Filters, available: frozenset) -> dict[str, pd.DataFrame]:
    query, columns = plan_together(f, available)
    with shared_engine(url).connect() as conn:
        return split(pd.read_sql(query, conn), CUSTOMER_GRAIN, columns)


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


def test_the_store_asks_once_for_the_four_tables(warehouse_url):
    statements = []
    engine = shared_engine(warehouse_url)
    listen = lambda conn, cursor, sql, *rest: statements.append(sql)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listen)
    store = DataStore(warehouse_url, channel=["Mobile"], customer_segment=["Premium"])
    try:
        queries.clear_answers()
        frames = {table: store.fetch(table) for table in CUSTOMER_GRAIN}
        assert len([s for s in statements if "UNION ALL" in s]) == 1, statements
        assert len(statements) == 1 + sum("build_info" in s and "UNION" not in s for s in statements), statements
        store.param.update(customer_segment=[])  # another state: one more statement for the four
        statements.clear()
        assert {len(store.fetch(table)) > 0 for table in CUSTOMER_GRAIN} == {True}
        assert len([s for s in statements if "UNION ALL" in s]) == 1
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    with engine.connect() as conn:
        f = Filters(channel=("Mobile",), customer_segment=("Premium",))
        for table, frame in frames.items():
            alone = pd.read_sql(plan(table, f, fast_tables(warehouse_url)), conn)
            pd.testing.assert_frame_equal(_sorted(frame), _sorted(alone), check_exact=False, rtol=1e-9, obj=table)


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
