"""Every query the dashboard issues compiles for Trino's and PostgreSQL's SQLAlchemy dialects, and
what it compiles to parses as that engine's SQL (sqlglot, a parser that shares no code with
SQLAlchemy). The statements are not written for the test: they are recorded from a DataStore used
as a session uses it, on a real warehouse, so a query added to the store later is covered too."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
import sqlglot
from sqlalchemy.dialects import postgresql
from trino.sqlalchemy.dialect import TrinoDialect

from dashboard.data import FILTER_PARAMETERS, DataStore
from dashboard.warehouse.detail import COLUMNS as DETAIL_COLUMNS
from dashboard.warehouse.fast import CUBE_DIMENSIONS, FAST, PROFILE, cube_name, plan
from dashboard.warehouse.filters import NO_FILTERS, Filters
from dashboard.warehouse.gold import TABLE_METHODS, gold_query

DIALECTS = {"trino": TrinoDialect(), "postgres": postgresql.psycopg.dialect()}


def _record(statements: list):
    def before_execute(conn, clause, multiparams, params, execution_options):
        if isinstance(clause, sa.sql.ClauseElement) and not isinstance(clause, sa.TextClause):
            statements.append(clause)  # text() is a dialect's own introspection or a per-engine SET
    return before_execute


def _use_like_a_session(store: DataStore) -> None:
    """Every view's table with nothing filtered, then under each filter dimension alone, then
    under all of them at once (two values each); options, freshness and both detail lists on every sort."""
    for table in TABLE_METHODS:
        store.fetch(table)
    chosen = {}
    for dimension in FILTER_PARAMETERS:
        if dimension in ("date_from", "date_to"):
            continue
        chosen[dimension] = store.options(dimension)[:2]
        store.param.update(**{dimension: chosen[dimension][:1]})
        for table in TABLE_METHODS:
            store.fetch(table)
        store.param.update(**{dimension: []})
    store.param.update(**chosen, date_from=store.date_from, date_to=store.date_to)
    for table in TABLE_METHODS:
        store.fetch(table)
    for kind, columns in DETAIL_COLUMNS.items():
        for sort in (None, *columns):
            store.detail(kind, page=2, page_size=10, sort=sort, descending=True)
    store.check()


@pytest.fixture(scope="module")
def issued(warehouse_url) -> list:
    statements: list = []
    listener = _record(statements)
    sa.event.listen(sa.engine.Engine, "before_execute", listener)
    try:
        _use_like_a_session(DataStore(warehouse_url))
    finally:
        sa.event.remove(sa.engine.Engine, "before_execute", listener)
    return statements


def _planned() -> list:
    """The query plans the store can choose (plain definitions, fast profile, cubes) for every table
    and every kind of filter, whether or not this warehouse has the fast tables."""
    every = Filters(customer_segment=("Premium",), region=("West",), state=("CA",), city=("Austin",),
                    age_group=("26-35",), income_bracket=("High",), credit_score_band=("Good",),
                    product=("Checking", "Savings"), channel=("ATM",), category_group=("Retail",),
                    merchant_category=("Grocery",), day_of_week=(0, 6), transaction_hour=(9,), month=(1,))
    out = []
    for table in TABLE_METHODS:
        out.append(gold_query(table, NO_FILTERS))
        out.append(gold_query(table, every))
        for available in (frozenset(), frozenset({PROFILE, *(cube_name(table, d) for d in CUBE_DIMENSIONS)})):
            out.append(plan(table, every, available))
            for dimension in CUBE_DIMENSIONS:
                out.append(plan(table, Filters(**{dimension: getattr(every, dimension)}), available))
    return out


def _compiled(statement, dialect) -> str:
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def test_the_store_issues_the_gold_the_fast_and_the_detail_queries(issued):
    sql = [_compiled(s, DIALECTS["postgres"]) for s in issued]
    assert len(issued) > 100
    assert any(re.search(rf"\b{FAST}\.", q) for q in sql)  # the fast path was taken
    assert any("LIMIT" in q and "OFFSET" in q for q in sql)  # detail pages
    assert any("GROUP BY" in q for q in sql)


def _problem(text: str, name: str) -> str | None:
    """Why `text` is not `name`'s SQL: it does not parse, calls a function sqlglot knows in no
    dialect (an engine-specific one such as DuckDB's epoch_ms), or uses what `name` lacks."""
    try:
        tree = sqlglot.parse_one(text, read=name, error_level=sqlglot.ErrorLevel.RAISE)
        tree.sql(dialect=name, unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.SqlglotError as exc:
        return f"{type(exc).__name__}: {exc}"
    unknown = sorted({f.name for f in tree.find_all(sqlglot.exp.Anonymous)})
    return f"unknown functions {unknown}" if unknown else None


@pytest.mark.parametrize("name", DIALECTS)
def test_every_issued_query_compiles_and_parses_for(issued, name):
    problems = []
    for statement in [*issued, *_planned()]:
        text = _compiled(statement, DIALECTS[name])
        if (problem := _problem(text, name)) is not None:
            problems.append(f"{problem}\n{text[:400]}")
    assert problems == []


def test_the_check_fails_on_duckdb_only_sql():
    assert _problem("SELECT epoch_ms(t.a) FROM t", "trino") == "unknown functions ['epoch_ms']"
    assert _problem("SELECT * FROM t QUALIFY row_number() OVER () = 1", "trino").startswith("ParseError")
    assert _problem("SELECT a FROM t WHERE b IN (", "postgres").startswith("ParseError")
    assert _problem("SELECT count(*) FILTER (WHERE a > 1) FROM t OFFSET 5 LIMIT 10", "trino") is None
