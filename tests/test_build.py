"""The build's two swaps: the warehouse is readable (and answers exactly) once silver and gold are
in, before the fast-path tables; those follow, and a rebuild in between keeps stale ones out."""
from __future__ import annotations

import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import engines, queries
from dashboard.config import make_engine
from dashboard.data import DataStore
from dashboard.warehouse.build import READABLE, build_warehouse
from dashboard.warehouse.fast import FAST, PROFILE, plan
from dashboard.warehouse.filters import DATE_DIMENSIONS, Filters
from dashboard.warehouse.generate import BankSpec
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import GOLD_TABLES

from test_gold import assert_gold_equal

OLD, NEW = BankSpec(customers=300, months=3, seed=1), BankSpec(customers=400, months=3, seed=2)
# No filter (gold), one segment (a cube), customer filters (the profile), a transaction filter (plain).
CASES = (Filters(), Filters(customer_segment=("Premium",)), Filters(region=("West", "South"), age_group=("35-44",)),
         Filters(channel=("Mobile",), customer_segment=("Business",)))


def _store(url: str, f: Filters) -> DataStore:
    store = DataStore(url)
    store.param.update(**{d: v if d in DATE_DIMENSIONS else list(v) for d, v in f.active().items()})
    return store


def assert_answers_are_the_plain_definitions(url: str, context: str) -> None:
    """Every gold table under every case, read as the dashboard reads it, equals its plain definition."""
    with engines.connect(url) as conn:
        for f in CASES:
            store = _store(url, f)
            for table in GOLD_TABLES:
                assert_gold_equal(table, store.fetch(table), pd.read_sql(gold_query(table, f), conn),
                                  f"{context}: {f.active()}")


def _fast_in_file(url: str) -> frozenset[str]:
    with engines.connect(url) as conn:
        return frozenset(conn.execute(sa.text("SELECT table_name FROM information_schema.tables "
                                              "WHERE table_schema = :s"), {"s": FAST}).scalars())


def test_readable_before_the_fast_tables_and_exact_with_and_without_them(tmp_path):
    url = f"duckdb:///{tmp_path}/two_swaps.duckdb"
    seen = {}

    def at_readable(stage, done=None, detail=""):
        if stage == READABLE:
            seen["fast tables"] = engines.fast_tables(url, max_age=0)
            assert_answers_are_the_plain_definitions(url, "readable, no fast tables yet")

    with engines.writing(url) as engine:  # the dashboard reads through the build's engine (DuckDB)
        report = build_warehouse(url, OLD, progress=at_readable, engine=engine)
    assert seen["fast tables"] == frozenset()
    assert report.fast_current and 0 < report.readable_seconds < report.seconds
    available = engines.fast_tables(url, max_age=0)  # read-only again: the build's engine is handed back
    assert PROFILE in available
    queries.clear_answers()  # the answers above were cached without the fast tables
    assert_answers_are_the_plain_definitions(url, "with the fast tables")
    assert f"{FAST}." in str(plan(GOLD_TABLES[0], CASES[2], available).compile())
    engines.forget(url)


def test_fast_tables_that_vanished_are_planned_around(tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path}/vanished.duckdb"
    build_warehouse(url, OLD)
    stale = engines.fast_tables(url, max_age=0)
    assert PROFILE in stale
    engines.forget(url)  # DuckDB: the file is opened read-write below, so not read-only too
    engine = make_engine(url)  # a rebuild's first swap drops them; the list read above still names them
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA fast CASCADE"))
    engine.dispose()
    real = engines.fast_tables
    monkeypatch.setattr(queries, "fast_tables", lambda u, max_age=2.0: stale if max_age else real(u, max_age=0))
    assert_answers_are_the_plain_definitions(url, "fast tables dropped after they were listed")
    assert real(url, max_age=0) == frozenset()
    engines.forget(url)


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def rebuild_url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/rebuild.duckdb"
    return request.getfixturevalue("postgres_server").create_database("rebuild_in_fast_phase")[0]


def test_a_rebuild_during_the_fast_phase_keeps_stale_fast_tables_out(rebuild_url):
    """Build A has its fast tables staged when build B swaps in its silver and gold: A's fast tables
    describe the old silver, so A must not swap them in; B's own follow."""
    url = rebuild_url
    staged, a_finished, b_readable = threading.Event(), threading.Event(), threading.Event()
    outcome = {}

    def pause_before_fast_swap(stage, done=None, detail=""):
        if stage == "fast-path tables" and done == 1.0:
            staged.set()
            assert b_readable.wait(120)

    def build_a():
        try:
            outcome["a"] = build_warehouse(url, OLD, progress=pause_before_fast_swap)
        finally:
            a_finished.set()

    def b_progress(stage, done=None, detail=""):
        if stage == READABLE:
            b_readable.set()
            assert a_finished.wait(120)  # A decides on its fast tables now, before B builds its own
            outcome["between"] = _fast_in_file(url)

    with engines.writing(url):  # DuckDB: both builds and this test's reads share one read-write instance
        thread = threading.Thread(target=build_a, daemon=True)
        thread.start()
        assert staged.wait(120)
        outcome["b"] = build_warehouse(url, NEW, progress=b_progress)
        thread.join(120)
        assert outcome["between"] == frozenset(), "A's stale fast tables were swapped in against B's silver"
        with engines.connect(url) as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {FAST}.{PROFILE}")).scalar_one() == NEW.customers
    assert not outcome["a"].fast_current and outcome["b"].fast_current
    assert_answers_are_the_plain_definitions(url, "after the rebuild")
    assert DataStore(url).build_info()["seed"] == NEW.seed
    engines.forget(url)


@pytest.fixture(autouse=True)
def _fresh_cache():
    queries.clear_answers()
    yield
    queries.clear_answers()
