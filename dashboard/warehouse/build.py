"""Build the warehouse: synthetic bank -> silver -> seven gold tables + fast-path tables, swapped in atomically.

Everything is written to `__staging` tables first; the last step, in one transaction, drops
the live tables and renames the staging ones into place. A build that fails or is cancelled
half-way therefore leaves the previous silver and gold readable and consistent.
"""
from __future__ import annotations

import datetime as dt
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.schema import CreateSchema, CreateTableAs, DropTable

from ..config import WarehouseError, database_url, describe_connect_error, duckdb_path, make_engine, mask_url
from .fast import FAST, fast_definitions
from .filters import NO_FILTERS
from .generate import GENERATOR_VERSION, Bank, BankSpec
from .gold import GoldDefinitions, gold_query
from .load import load_frame, qualified
from .inspect import BUILD_HINT, TABLES, contract_problems
from .schema import GOLD, GOLD_TABLES, SILVER, SILVER_TABLES, silver_metadata

STAGING = "__staging"
MAX_CUSTOMERS = 5_000_000
MAX_MONTHS = 120


class Progress:
    """A one-line progress display on stderr (rewritten in place on a terminal)."""

    def __init__(self, stream=sys.stderr, quiet: bool = False):
        self.stream, self.quiet = stream, quiet
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: float | None = None, detail: str = "") -> None:
        if self.quiet:
            return
        pct = f" {100 * done:5.1f}%" if done is not None else ""
        line = f"[{time.perf_counter() - self.started:6.1f}s] {stage}{pct} {detail}".rstrip()
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if done in (None, 1.0) else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


@dataclass
class BuildReport:
    url: str
    customers: int
    transactions: int
    seconds: float
    generate_seconds: float
    load_seconds: float
    gold_seconds: float
    fast_seconds: float = 0.0

    @property
    def transactions_per_second(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0


def validate_spec(spec: BankSpec) -> None:
    if not 100 <= spec.customers <= MAX_CUSTOMERS:
        raise WarehouseError(f"--customers must be between 100 and {MAX_CUSTOMERS:,} (got {spec.customers:,})")
    if not 3 <= spec.months <= MAX_MONTHS:
        raise WarehouseError(f"--months must be between 3 and {MAX_MONTHS} so the 90-day window fits (got {spec.months})")
    if spec.seed < 0:
        raise WarehouseError(f"--seed must be a non-negative integer (got {spec.seed})")


def build_warehouse(url: str | None = None, spec: BankSpec = BankSpec(), progress=None,
                    chunk_customers: int = 5_000) -> BuildReport:
    """Generate the bank described by `spec` and publish its silver and gold at `url`."""
    validate_spec(spec)
    url = database_url(url)
    progress = progress or Progress(quiet=True)
    engine = make_engine(url)
    path = duckdb_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with engine.connect():
            pass
    except Exception as exc:
        raise WarehouseError(describe_connect_error(url, exc)) from None
    try:
        return _build(engine, url, spec, progress, chunk_customers)
    finally:
        engine.dispose()


def _timed_next(chunks):
    t0 = time.perf_counter()
    frame = next(chunks)
    return frame, time.perf_counter() - t0


def _build(engine: sa.Engine, url: str, spec: BankSpec, progress, chunk_customers: int) -> BuildReport:
    started = time.perf_counter()
    md, staging = silver_metadata(STAGING)
    with engine.begin() as conn:
        for schema in (SILVER, GOLD):
            conn.execute(CreateSchema(schema, if_not_exists=True))
        md.drop_all(conn, checkfirst=True)  # leftovers of an interrupted build
        md.create_all(conn)

    progress("generating customers, accounts, credit profiles, contacts")
    bank = Bank(spec)
    with engine.begin() as conn:
        for name in ("customers", "credit_profiles", "accounts", "merchants", "service_contacts"):
            load_frame(conn, staging[name], getattr(bank, name))
    n_chunks = -(-spec.customers // chunk_customers)
    n_txn, t_gen, t_load = 0, 0.0, 0.0
    chunks = bank.transaction_chunks(chunk_customers)
    # Generate the next chunk in a worker thread while DuckDB/COPY loads the current one
    # (numpy and the database drivers release the GIL, so the two overlap on 2 cores).
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(_timed_next, chunks)
        for i in range(n_chunks):
            frame, seconds = pending.result()
            if i + 1 < n_chunks:
                pending = pool.submit(_timed_next, chunks)
            t1 = time.perf_counter()
            with engine.begin() as conn:
                load_frame(conn, staging["transactions"], frame)
            t_gen, t_load = t_gen + seconds, t_load + time.perf_counter() - t1
            n_txn += len(frame)
            rate = n_txn / (time.perf_counter() - started)
            progress("transactions", (i + 1) / n_chunks, f"{n_txn:,} rows, {rate:,.0f} rows/s")

    with engine.begin() as conn:
        _analyze(conn, staging.values())
        conn.execute(staging["build_info"].insert().values(
            as_of_date=spec.as_of, window_start_date=spec.window_start,
            built_at=dt.datetime.now(dt.timezone.utc), seed=spec.seed,
            customers=spec.customers, months=spec.months, transactions=n_txn, generator=GENERATOR_VERSION))

    t2 = time.perf_counter()
    definitions = GoldDefinitions(staging)
    _materialise(engine, GOLD, {name: gold_query(name, NO_FILTERS, definitions) for name in GOLD_TABLES},
                 progress, "gold tables")
    t_gold = time.perf_counter() - t2
    fast = _materialise(engine, FAST, fast_definitions(staging), progress, "fast-path tables")
    t_fast = time.perf_counter() - t2 - t_gold
    _swap(engine, ((SILVER, list(staging)), (GOLD, list(GOLD_TABLES)), (FAST, fast)))
    seconds = time.perf_counter() - started
    progress("done", None, f"{n_txn:,} transactions, {spec.customers:,} customers in {seconds:.1f}s -> {mask_url(url)}")
    return BuildReport(mask_url(url), spec.customers, n_txn, seconds, t_gen, t_load, t_gold, t_fast)


def _analyze(conn: sa.Connection, tables) -> None:
    """PostgreSQL: gather planner statistics now. Fresh tables have none until autovacuum comes
    round, and the planner then picks nested loops over the transactions (seconds, not ms)."""
    if conn.dialect.name == "postgresql":
        for table in tables:
            conn.exec_driver_sql(f"ANALYZE {qualified(conn, table)}")


def _materialise(engine: sa.Engine, schema: str, queries: dict[str, sa.Select], progress, stage: str) -> list[str]:
    """CREATE TABLE <name>__staging AS <query> for each query; returns the names."""
    md = sa.MetaData(schema=schema)
    with engine.begin() as conn:
        conn.execute(CreateSchema(schema, if_not_exists=True))
    for i, (name, query) in enumerate(queries.items()):
        with engine.begin() as conn:
            conn.execute(DropTable(sa.Table(name + STAGING, md), if_exists=True))
            conn.execute(CreateTableAs(query, name + STAGING, schema=schema))
            _analyze(conn, [sa.Table(name + STAGING, md)])
        progress(stage, (i + 1) / len(queries), name)
    return list(queries)


# PostgreSQL: the swap needs an exclusive lock on every live table, so it waits for the queries
# reading them, and new queries queue behind it. It takes all its locks up front and waits at
# most SWAP_LOCK_TIMEOUT_MS for them: below the server's deadlock_timeout (1 s by default), so a
# dashboard query is never the victim of a deadlock with the swap, and the dashboard stalls no
# longer than that. A swap that gave way rolls back whole (DDL is transactional) and is tried
# again until SWAP_PATIENCE_S has passed.
SWAP_LOCK_TIMEOUT_MS = 500
SWAP_PATIENCE_S = 300.0
_LOCK_CONFLICTS = ("55P03", "40P01")  # lock_not_available (lock_timeout), deadlock_detected


def _lock_conflict(exc: sa.exc.DBAPIError) -> bool:
    orig = exc.orig
    return (getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)) in _LOCK_CONFLICTS


def _lock_for_swap(conn: sa.Connection, tables: list[tuple[str, list[str]]]) -> None:
    """PostgreSQL: every live and staging table of the swap, locked in one statement, bounded wait."""
    conn.execute(sa.select(sa.func.set_config("lock_timeout", f"{int(SWAP_LOCK_TIMEOUT_MS)}ms", True)))
    wanted = {(schema, n) for schema, names in tables for name in names for n in (name, name + STAGING)}
    present = conn.execute(sa.select(TABLES.c.table_schema, TABLES.c.table_name)
                           .where(TABLES.c.table_schema.in_(sorted({s for s, _ in tables})))).all()
    locked = [sa.Table(n, sa.MetaData(schema=s)) for s, n in sorted(set(map(tuple, present)) & wanted)]
    if locked:
        conn.exec_driver_sql(f"LOCK TABLE {', '.join(qualified(conn, t) for t in locked)} IN ACCESS EXCLUSIVE MODE")


def _swap(engine: sa.Engine, tables) -> None:
    """In one transaction, replace each (schema, names) live table by its staging copy."""
    tables = [(schema, list(names)) for schema, names in tables]
    deadline = time.monotonic() + SWAP_PATIENCE_S
    while True:
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    _lock_for_swap(conn, tables)
                for schema, names in tables:
                    for name in names:
                        conn.execute(DropTable(sa.Table(name, sa.MetaData(schema=schema)), if_exists=True))
                        conn.exec_driver_sql(f"ALTER TABLE {qualified(conn, sa.Table(name + STAGING, sa.MetaData(schema=schema)))} "
                                             f"RENAME TO {conn.dialect.identifier_preparer.quote(name)}")
            return
        except sa.exc.DBAPIError as exc:
            if not _lock_conflict(exc):
                raise
            if time.monotonic() > deadline:
                raise WarehouseError(f"{mask_url(engine.url.render_as_string())}: queries kept the live tables locked "
                                     f"for {SWAP_PATIENCE_S:.0f} s; the new warehouse is built but not swapped in and "
                                     "the previous one is unchanged (run the build again when the load is lower)") from None
            time.sleep(0.2)


def accelerate_warehouse(url: str | None = None, progress=None) -> float:
    """(Re)build only the fast-path tables from the live silver tables: for a warehouse built
    elsewhere or by an older version. Returns the seconds it took."""
    url = database_url(url)
    progress = progress or Progress(quiet=True)
    started = time.perf_counter()
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            problems = contract_problems(conn)
    except Exception as exc:
        raise WarehouseError(describe_connect_error(url, exc)) from None
    try:
        if problems:
            raise WarehouseError(f"{mask_url(url)}: {problems[0]}; {BUILD_HINT}")
        _swap(engine, [(FAST, _materialise(engine, FAST, fast_definitions(SILVER_TABLES), progress, "fast-path tables"))])
    finally:
        engine.dispose()
    return time.perf_counter() - started
