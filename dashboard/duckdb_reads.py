"""The DuckDB dialect the dashboard reads through (its read-only engines; a build writes through
duckdb_engine's own).

Two things duckdb_engine does on every statement that a read-only file does not need:
- it compiles every statement anew: its dialect says `supports_statement_cache = False` (which only
  silences SQLAlchemy's warning; its compiler is PostgreSQL's, which caches), so each of a change's
  statements was compiled from scratch even when a statement of that shape had been compiled before;
- it opens a transaction (BEGIN) before each statement and rolls it back when the connection goes
  back to the pool: two calls into DuckDB per query, each one a turn at the GIL while a change's
  other queries run. On a read-only database every statement runs in a snapshot of its own without
  them, and none of the dashboard's reads spans two statements.
"""
from __future__ import annotations

import sqlalchemy as sa
from duckdb_engine import Dialect as DuckDBDialect

DRIVER = "duckdb+dashboard_reads"


class ReadDialect(DuckDBDialect):
    supports_statement_cache = True

    def do_begin(self, dbapi_connection) -> None:
        pass

    def do_rollback(self, dbapi_connection) -> None:
        pass

    def do_commit(self, dbapi_connection) -> None:
        pass


def register() -> None:
    """Make `DRIVER` URLs use `ReadDialect` (idempotent)."""
    sa.dialects.registry.register(DRIVER.replace("+", "."), __name__, "ReadDialect")
