"""The warehouse on a real PostgreSQL server (tests/postgres_server.py starts a throwaway one).

The SMALL spec is built into PostgreSQL through the build's own code path (COPY loader, staging,
swap) and must give the very tables the DuckDB build gives; the dashboard reads it through a
role that may only SELECT, over a session that is read-only anyway; bad URLs fail in one line
with the password masked; a rebuild swaps in atomically while the dashboard reads; and all 13
views show the same frames as against DuckDB.
"""
from __future__ import annotations

import contextlib
import threading
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.config import make_engine
from dashboard.data import DataStore
from dashboard.engines import forget, shared_engine
from dashboard.warehouse.__main__ import main as cli
from dashboard.warehouse import swap as swap_module
from dashboard.warehouse.build import READABLE, STAGING, build_warehouse
from dashboard.warehouse.fast import FAST
from dashboard.warehouse.filters import DATE_DIMENSIONS, Filters
from dashboard.warehouse.generate import BankSpec
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import GOLD, GOLD_TABLES, SILVER, SILVER_TABLES

from gold_reference import reference_gold
from postgres_server import free_port
from test_cli import assert_one_line_error, run_cli
from test_gold import FILTER_CASES, assert_gold_equal, combined_filters, filter_cases  # noqa: F401 (fixtures)

pytestmark = pytest.mark.postgres

STAMPS = {"last_updated", "built_at"}  # when each warehouse was built: differs between the two builds


# -- helpers -------------------------------------------------------------------------------------
def _tables(url: str, schemas=(SILVER, GOLD, FAST)) -> dict[str, pd.DataFrame]:
    """Every table of these schemas ("schema.name" -> frame), read through the dashboard's read-only engine."""
    engine = make_engine(url, read_only=True)
    tables = sa.Table("tables", sa.MetaData(schema="information_schema"),
                      sa.Column("table_schema", sa.String), sa.Column("table_name", sa.String))
    try:
        with engine.connect() as conn:
            names = conn.execute(sa.select(tables.c.table_schema, tables.c.table_name)
                                 .where(tables.c.table_schema.in_(schemas))).all()
            return {f"{schema}.{name}": pd.read_sql(
                        sa.select(SILVER_TABLES[name]) if schema == SILVER else
                        sa.select(sa.text("*")).select_from(sa.Table(name, sa.MetaData(schema=schema))), conn)
                    for schema, name in names}
    finally:
        engine.dispose()


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    columns = [c for c in frame.columns if c not in STAMPS]
    exact = [c for c in columns if not pd.api.types.is_float_dtype(frame[c])]
    floats = [c for c in columns if c not in exact]
    return frame[columns].sort_values(exact + floats, kind="stable").reset_index(drop=True)


def assert_same_rows(name: str, expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    """Same columns, dtypes and rows in any order; floats to rel 1e-9 (NaN == NaN); build stamps skipped."""
    assert list(actual.columns) == list(expected.columns), name
    assert len(actual) == len(expected), (name, len(actual), len(expected))
    dtypes = {c: (str(expected[c].dtype), str(actual[c].dtype)) for c in expected.columns
              if str(expected[c].dtype) != str(actual[c].dtype)}
    assert not dtypes, f"{name}: dtypes differ (DuckDB, PostgreSQL): {dtypes}"
    e, a = _sorted(expected), _sorted(actual)
    for col in e.columns:
        if pd.api.types.is_float_dtype(e[col]):
            bad = ~np.isclose(a[col].to_numpy(float), e[col].to_numpy(float), rtol=1e-9, atol=1e-9, equal_nan=True)
        else:
            bad = ~((a[col] == e[col]) | (a[col].isna() & e[col].isna())).to_numpy()
        assert not bad.any(), f"{name}.{col}: {int(bad.sum())} rows differ, e.g.\n" \
                              f"{pd.DataFrame({'duckdb': e[col][bad], 'postgres': a[col][bad]}).head()}"


@contextlib.contextmanager
def _connect(url: str):
    """A connection of a fresh read-only engine, disposed of afterwards."""
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _store(url: str, filters: Filters) -> DataStore:
    store = DataStore(url)
    active = filters.active()
    store.param.update(**{d: v if d in DATE_DIMENSIONS else list(v) for d, v in active.items()})
    assert store.filters() == filters, (store.filters(), filters)  # nothing dropped as unknown
    return store


# -- the build ----------------------------------------------------------------------------------
def test_postgres_build_gives_the_duckdb_tables(warehouse_url, postgres_url, silver):
    """Same seed, same spec: every silver, gold and fast table equals the DuckDB build's."""
    duck = {**_tables(warehouse_url, (GOLD, FAST)), **{f"{SILVER}.{name}": frame for name, frame in silver.items()}}
    pg = _tables(postgres_url)
    assert sorted(pg) == sorted(duck)
    assert {f"{GOLD}.{t}" for t in GOLD_TABLES} | {f"{SILVER}.{t}" for t in SILVER_TABLES} <= set(pg)
    assert any(name.startswith(f"{FAST}.") for name in pg)
    for name in sorted(duck):
        assert_same_rows(name, duck[name], pg[name])
    built_at = pg[f"{SILVER}.build_info"]["built_at"].item()
    assert built_at.tzinfo is not None
    for table in GOLD_TABLES:
        assert (pg[f"{GOLD}.{table}"]["last_updated"] == built_at).all(), table


def test_no_staging_tables_are_left_behind(postgres_url):
    with _connect(postgres_url) as conn:
        names = conn.execute(sa.text("SELECT table_name FROM information_schema.tables "
                                     "WHERE table_schema IN ('silver', 'gold', 'fast')")).scalars().all()
    assert names and not [n for n in names if n.endswith(STAGING)]


# -- the data contract, read as the dashboard reads it -------------------------------------------
@pytest.fixture(scope="module")
def pg_silver(silver, postgres_url) -> dict[str, pd.DataFrame]:
    """The reference's input: the DuckDB build's silver (the same rows, see the first test) with
    the PostgreSQL build's own build_info (its build time stamps every gold row)."""
    with _connect(postgres_url) as conn:
        return {**silver, "build_info": pd.read_sql(sa.select(SILVER_TABLES["build_info"]), conn)}


@pytest.mark.parametrize("case", ("none", *FILTER_CASES, "combined"))
def test_gold_through_the_reader_role_matches_reference(case, postgres_reader_url, pg_silver, filter_cases,
                                                        combined_filters):
    """Every gold table under each filter case, fetched by `DataStore.fetch` (fast path included)
    as `dashboard_reader`, equals the independent pandas reference."""
    f = {"none": Filters(), "combined": combined_filters}.get(case) or filter_cases[case]
    store = _store(postgres_reader_url, f)
    for table in GOLD_TABLES:
        assert_gold_equal(table, store.fetch(table), reference_gold(pg_silver, table, f), f"postgres, {case}: {f.active()}")


# -- read-only ----------------------------------------------------------------------------------
WRITES = ("INSERT INTO silver.build_info (seed) VALUES (1)",
          "CREATE TABLE gold.intruder (x integer)",
          "CREATE TABLE public.intruder (x integer)",
          "DROP TABLE gold.analytics_geographic_clustering",
          "UPDATE silver.customers SET clv = 0")


def _refused(engine: sa.Engine, statement: str) -> str:
    """The SQLSTATE with which the server refused `statement` (fails the test if it was accepted)."""
    with engine.connect() as conn:
        try:
            conn.exec_driver_sql(statement)
        except sa.exc.DBAPIError as exc:
            conn.rollback()
            return exc.orig.sqlstate
        conn.rollback()
    pytest.fail(f"{statement!r} was accepted")


def test_reader_role_can_only_select(postgres_reader_url, capsys):
    assert cli(["info", "--url", postgres_reader_url]) == 0
    out = capsys.readouterr().out
    assert "customers: 1500" in out and "dashboard_reader:***@" in out
    engine = sa.create_engine(postgres_reader_url)  # not the dashboard's engine: the role alone
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM gold.analytics_geographic_clustering")).scalar_one() > 0
        for statement in WRITES:
            assert _refused(engine, statement) == "42501", statement  # insufficient privilege / must be owner
    finally:
        engine.dispose()


def test_dashboard_engine_is_read_only_even_for_the_builder(postgres_url, postgres_reader_url):
    engines = [make_engine(postgres_url, read_only=True), shared_engine(postgres_url),
               make_engine(postgres_reader_url, read_only=True)]
    for engine in engines:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar_one() == "on"
            assert conn.execute(sa.text("SELECT count(*) FROM silver.customers")).scalar_one() == 1_500
        for statement in WRITES:  # refused for the read-only session before any privilege is looked at
            assert _refused(engine, statement) == "25006", statement  # read_only_sql_transaction
    for engine in (engines[0], engines[2]):
        engine.dispose()
    forget(postgres_url)
    writer = make_engine(postgres_url)  # the build's engine may write
    try:
        with writer.begin() as conn:
            conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (x integer)")
            assert conn.exec_driver_sql("SHOW default_transaction_read_only").scalar_one() == "off"
    finally:
        writer.dispose()


# -- errors: one line, password masked ------------------------------------------------------------
SECRET = "Wr0ng-s3cret-pw"


@pytest.fixture(scope="module")
def bad_urls(postgres_server) -> dict[str, str]:
    builder, port = postgres_server.builder_url, postgres_server.port
    password = postgres_server.passwords["builder"]
    return {
        "wrong password": builder.replace(f":{password}@", f":{SECRET}@"),
        "unreachable port": builder.replace(f":{port}/", f":{free_port()}/").replace(f":{password}@", f":{SECRET}@"),
        "missing database": builder.rsplit("/", 1)[0] + "/no_such_db",  # the right password (checked first)
    }


NEEDLES = {"wrong password": "password authentication failed", "unreachable port": "Connection refused",
           "missing database": 'database "no_such_db" does not exist'}


@pytest.mark.parametrize("case", NEEDLES)
def test_cli_errors_are_one_line_with_the_password_masked(case, bad_urls, postgres_server):
    url = bad_urls[case]
    commands = [("info",)] + [("build", "--customers", "100", "--months", "3", "--quiet")] * (case == "wrong password")
    for command in commands:
        line = assert_one_line_error(run_cli(*command, "--url", url), "cannot connect", NEEDLES[case])
        assert SECRET not in line and postgres_server.passwords["builder"] not in line, line
        assert "builder:***@127.0.0.1" in line, line


@pytest.mark.parametrize("case", NEEDLES)
def test_datastore_check_errors_are_one_line_with_the_password_masked(case, bad_urls, postgres_server):
    problems = DataStore(bad_urls[case]).check()
    assert len(problems) == 1 and "\n" not in problems[0], problems
    assert SECRET not in problems[0] and postgres_server.passwords["builder"] not in problems[0], problems
    assert "builder:***@127.0.0.1" in problems[0], problems
    forget(bad_urls[case])


def test_datastore_check_says_the_database_is_missing(bad_urls):
    problems = DataStore(bad_urls["missing database"]).check()
    forget(bad_urls["missing database"])
    assert 'database "no_such_db" does not exist' in problems[0], problems


def test_the_contract_holds_on_postgres_and_a_wrong_type_is_named(postgres_reader_url, postgres_url):
    """PostgreSQL spells its types its own way (`double precision`, `character varying`): none is
    flagged; a text column where numbers are read is (altered inside a transaction rolled back)."""
    from dashboard.warehouse.inspect import contract_problems
    assert DataStore(postgres_reader_url).check() == []
    engine = sa.create_engine(postgres_url)
    try:
        with engine.connect() as conn, conn.begin() as transaction:
            conn.execute(sa.text("ALTER TABLE gold.analytics_geographic_clustering ALTER avg_clv TYPE text"))
            assert contract_problems(conn) == ["table gold.analytics_geographic_clustering has column(s) of the "
                                               "wrong type: avg_clv is text (expected number)"]
            transaction.rollback()
    finally:
        engine.dispose()


# -- atomic rebuild while the dashboard reads ---------------------------------------------------------
# One statement, so one snapshot: the build stamp and totals from silver and gold together; and the
# fast tables (there between the two swaps of a build only if they describe the live silver).
PROBE = sa.text("SELECT (SELECT seed FROM silver.build_info), (SELECT customers FROM silver.build_info), "
                "(SELECT count(*) FROM silver.customers), "
                "(SELECT sum(customer_count) FROM gold.analytics_customer_behavior_clusters)")
FAST_PROBE = sa.text("SELECT (SELECT customers FROM silver.build_info), (SELECT count(*) FROM fast.customer_profile)")
NO_FAST = "no fast tables"
OLD, NEW = BankSpec(customers=300, months=3, seed=1), BankSpec(customers=400, months=3, seed=2)


def _state(spec: BankSpec) -> tuple:
    return (spec.seed, spec.customers, spec.customers, spec.customers)


def _fast_state(spec: BankSpec) -> tuple:
    return (spec.customers, spec.customers)


def _staging_tables(url: str) -> list[str]:
    with _connect(url) as conn:
        return conn.execute(sa.text("SELECT table_name FROM information_schema.tables WHERE table_name LIKE :p"),
                            {"p": f"%{STAGING}"}).scalars().all()


def test_rebuild_is_atomic_while_the_dashboard_reads(postgres_server, monkeypatch):
    builder_url, reader_url = postgres_server.create_database("atomic")
    build_warehouse(builder_url, OLD)
    postgres_server.grant_reader(database="atomic")
    reader = make_engine(reader_url, read_only=True)

    def probe(conn=None) -> tuple:
        if conn is not None:
            return tuple(conn.execute(PROBE).one())
        with reader.connect() as c:
            return tuple(c.execute(PROBE).one())

    def fast_probe():
        try:
            with reader.connect() as c:
                return tuple(c.execute(FAST_PROBE).one())
        except sa.exc.ProgrammingError as exc:
            if getattr(exc.orig, "sqlstate", None) != "42P01":  # undefined_table: between the swaps
                raise
            return NO_FAST

    assert probe() == _state(OLD) and fast_probe() == _fast_state(OLD)

    # 1. A build failing half-way leaves the previous warehouse readable (and its leftovers are no obstacle).
    def explode_in_gold(stage, done=None, detail=""):
        if stage == "gold tables" and done and done > 0.5:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        build_warehouse(builder_url, NEW, progress=explode_in_gold)
    assert probe() == _state(OLD)
    assert _staging_tables(builder_url)

    # 2. A rebuild while readers read: a reader thread probes all along, and the test holds a
    # reader transaction open across the first swap, then reads between the two swaps.
    monkeypatch.setattr(swap_module, "SWAP_LOCK_TIMEOUT_MS", 200)
    staged, go, readable, fast_go = threading.Event(), threading.Event(), threading.Event(), threading.Event()
    seen, fast_seen, errors, stop = [], [], [], threading.Event()

    def pause_at_the_swaps(stage, done=None, detail=""):
        if stage == "gold tables" and done == 1.0:
            staged.set()
            assert go.wait(120)
        elif stage == READABLE:
            readable.set()
            assert fast_go.wait(120)

    def hammer():
        while not stop.is_set():
            try:
                seen.append(probe())
                fast_seen.append(fast_probe())
            except Exception as exc:  # noqa: BLE001 - any failure of a reader is the finding
                errors.append(exc)
            time.sleep(0.005)

    outcome = {}

    def rebuild():
        try:
            outcome["report"] = build_warehouse(builder_url, NEW, progress=pause_at_the_swaps)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = exc

    threads = [threading.Thread(target=hammer, daemon=True), threading.Thread(target=rebuild, daemon=True)]
    for t in threads:
        t.start()
    try:
        assert staged.wait(180), "the rebuild never reached the swap"
        # Silver and gold are built as staging copies, and still nobody sees them.
        assert len(_staging_tables(builder_url)) >= len(SILVER_TABLES) + len(GOLD_TABLES)
        assert probe() == _state(OLD) and fast_probe() == _fast_state(OLD)
        with reader.connect() as conn, conn.begin():
            assert probe(conn) == _state(OLD)  # this transaction now holds its tables
            go.set()
            time.sleep(1.5)
            assert not readable.is_set(), "the swap did not wait for an open reader transaction"
            assert probe(conn) == _state(OLD)  # still the old warehouse, consistently
        assert readable.wait(120), outcome
        # Readable before the fast tables: the old ones went with the old gold, the new are not there yet;
        # the dashboard answers from the plain definitions meanwhile, and says nothing is wrong.
        assert probe() == _state(NEW) and fast_probe() == NO_FAST
        f = Filters(customer_segment=("Premium",))
        with reader.connect() as conn:
            for table in ("analytics_merchant_spending_patterns", "analytics_customer_behavior_clusters"):
                assert_gold_equal(table, _store(reader_url, f).fetch(table), pd.read_sql(gold_query(table, f), conn),
                                  "between the swaps")
        fast_go.set()
        threads[1].join(120)
        assert not threads[1].is_alive() and "error" not in outcome, outcome
        assert outcome["report"].fast_current
        assert probe() == _state(NEW) and fast_probe() == _fast_state(NEW)
        time.sleep(0.2)
    finally:
        go.set()
        fast_go.set()
        stop.set()
        for t in threads:
            t.join(120)
        reader.dispose()
    assert not errors, f"{len(errors)} reader queries failed during the rebuild, e.g. {errors[0]!r}"
    assert set(seen) <= {_state(OLD), _state(NEW)}, set(seen)  # never a mix of the two
    assert seen[0] == _state(OLD) and seen[-1] == _state(NEW), (seen[0], seen[-1])
    assert all(s == _state(NEW) for s in seen[seen.index(_state(NEW)):]), "the old warehouse came back"
    assert set(fast_seen) <= {_fast_state(OLD), NO_FAST, _fast_state(NEW)}, set(fast_seen)  # never stale fast tables
    assert not _staging_tables(builder_url)
    # The reader role keeps its access to the rebuilt tables (the builder's default privileges).
    store = DataStore(reader_url)
    assert store.fetch("analytics_customer_behavior_clusters")["customer_count"].sum() == NEW.customers
    assert store.build_info()["seed"] == NEW.seed

    # 3. `accelerate` rebuilds the fast tables alone, through the same swap; the reader keeps reading them.
    assert cli(["accelerate", "--url", builder_url, "--quiet"]) == 0
    assert probe() == _state(NEW) and not _staging_tables(builder_url)
    assert fast_probe() == _fast_state(NEW)
    reader.dispose()
    forget(reader_url)


# -- the views ----------------------------------------------------------------------------------
# No filter (gold), a cube slice, a customer filter (profile) and customer + transaction filters (plain).
VIEW_CASES = ("none", "customer_segment", "product_pair", "combined")


def test_every_view_shows_the_same_frame_as_on_duckdb(warehouse_url, postgres_reader_url, filter_cases,
                                                      combined_filters):
    from dashboard.app import dashboard_views

    stores = DataStore(warehouse_url), DataStore(postgres_reader_url)
    duck, pg = ([v for _, items in dashboard_views(store) for v in items] for store in stores)
    assert len(pg) == len(duck) == 13
    for case in VIEW_CASES:
        f = {"none": Filters(), "combined": combined_filters}.get(case) or filter_cases[case]
        for store in stores:  # every view re-queries (synchronously: no server session here)
            store.clear()
            store.param.update(**{k: v if k in DATE_DIMENSIONS else list(v) for k, v in f.active().items()})
        for d, p in zip(duck, pg):
            assert type(d) is type(p)
            assert not p.error and not d.error, (p.title, p.error, d.error)
            assert p.frame is not None and (case != "none" or len(p.frame) > 0), p.title
            pd.testing.assert_frame_equal(p.frame.reset_index(drop=True), d.frame.reset_index(drop=True),
                                          check_exact=False, rtol=1e-9, obj=f"{p.title} under {case}")
