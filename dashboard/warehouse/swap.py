"""Swapping a build's staging tables in: one transaction, and on PostgreSQL bounded lock waits.

Every table is written as `<name>__staging` first; `swap` then, in one transaction, drops each
live table and renames its staging copy into place. A build that fails or is cancelled before
that leaves the previous tables readable and consistent.

PostgreSQL: the swap needs an exclusive lock on every live table, so it waits for the queries
reading them, and new queries queue behind it. It takes all its locks up front and waits at most
SWAP_LOCK_TIMEOUT_MS for them: below the server's deadlock_timeout (1 s by default), so a
dashboard query is never the victim of a deadlock with the swap, and the dashboard stalls no
longer than that. A swap that gave way rolls back whole (DDL is transactional) and is tried again
until SWAP_PATIENCE_S has passed.
"""
from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa
from sqlalchemy.schema import DropTable

from ..config import WarehouseError, mask_url
from .inspect import TABLES
from .load import qualified
from .schema import SILVER_TABLES

STAGING = "__staging"
SWAP_LOCK_TIMEOUT_MS = 500
SWAP_PATIENCE_S = 300.0
_LOCK_CONFLICTS = ("55P03", "40P01")  # lock_not_available (lock_timeout), deadlock_detected

Tables = list[tuple[str, list[str]]]  # (schema, table names)


def _lock_conflict(exc: sa.exc.DBAPIError) -> bool:
    orig = exc.orig
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in _LOCK_CONFLICTS


def _table(schema: str, name: str) -> sa.Table:
    return sa.Table(name, sa.MetaData(schema=schema))


def _lock(conn: sa.Connection, tables: Tables) -> None:
    """PostgreSQL: every live and staging table of the swap, locked in one statement, bounded wait
    (the wait bound holds for the rest of the transaction too)."""
    conn.execute(sa.select(sa.func.set_config("lock_timeout", f"{int(SWAP_LOCK_TIMEOUT_MS)}ms", True)))
    wanted = {(schema, n) for schema, names in tables for name in names for n in (name, name + STAGING)}
    present = conn.execute(sa.select(TABLES.c.table_schema, TABLES.c.table_name)
                           .where(TABLES.c.table_schema.in_(sorted({s for s, _ in tables})))).all()
    locked = [_table(s, n) for s, n in sorted(set(map(tuple, present)) & wanted)]
    if locked:
        conn.exec_driver_sql(f"LOCK TABLE {', '.join(qualified(conn, t) for t in locked)} IN ACCESS EXCLUSIVE MODE")


def built_at(conn: sa.Connection, silver: dict[str, sa.Table] = SILVER_TABLES) -> dt.datetime:
    """When this silver (the live one, or a build's staging copy) was built: what tells one
    build's silver from the next one's."""
    return conn.execute(sa.select(silver["build_info"].c.built_at)).scalar_one()


def _drop(conn: sa.Connection, schema: str, name: str) -> None:
    conn.execute(DropTable(_table(schema, name), if_exists=True))


def _swap_once(conn: sa.Connection, replace: Tables, drop: Tables, silver_built_at: dt.datetime | None) -> bool:
    if conn.dialect.name == "postgresql":
        _lock(conn, replace + drop)
    if silver_built_at is not None and built_at(conn) != silver_built_at:  # a rebuild came in between: it wins
        for schema, names in replace:
            for name in names:
                _drop(conn, schema, name + STAGING)
        return False
    for schema, names in drop:
        for name in names:
            _drop(conn, schema, name)
    for schema, names in replace:
        for name in names:
            _drop(conn, schema, name)
            conn.exec_driver_sql(f"ALTER TABLE {qualified(conn, _table(schema, name + STAGING))} "
                                 f"RENAME TO {conn.dialect.identifier_preparer.quote(name)}")
    return True


def swap(engine: sa.Engine, replace: Tables, drop: Tables = (), silver_built_at: dt.datetime | None = None) -> bool:
    """In one transaction, replace each live table of `replace` by its staging copy and drop the
    tables of `drop` (tables that would be stale next to the new ones).

    `silver_built_at`: the tables were computed from the silver built then; if the live silver is
    another build's by the time the locks are held, nothing is swapped in, the staging copies are
    dropped and the result is False (the newer build's own tables follow it).
    """
    replace, drop = [(s, list(n)) for s, n in replace], [(s, list(n)) for s, n in drop]
    deadline = time.monotonic() + SWAP_PATIENCE_S
    while True:
        try:
            with engine.begin() as conn:
                return _swap_once(conn, replace, drop, silver_built_at)
        except sa.exc.DBAPIError as exc:
            if not _lock_conflict(exc):
                raise
            if time.monotonic() > deadline:
                raise WarehouseError(f"{mask_url(engine.url.render_as_string())}: queries kept the live tables locked "
                                     f"for {SWAP_PATIENCE_S:.0f} s; the new tables are built but not swapped in and "
                                     "the previous ones are unchanged (run the build again when the load is lower)") from None
            time.sleep(0.2)
