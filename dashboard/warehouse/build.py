"""Build the warehouse: synthetic bank -> silver -> seven gold tables + fast-path tables, swapped in atomically.

Everything is written to `__staging` tables first and swapped in (swap.py) in two steps:
1. silver and gold, in one transaction that also drops the previous build's fast-path tables
   (they describe the old silver): from here the warehouse is readable, the dashboard answering
   from the plain definitions;
2. the fast-path tables, built from the new live silver, swapped in when done, unless another
   build has replaced silver since (the newer build wins and brings its own).
A build that fails or is cancelled before step 1 leaves the previous warehouse readable and
consistent; one that stops between the steps leaves a readable warehouse without fast tables
(`accelerate` adds them).
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
from .inspect import BUILD_HINT, contract_problems
from .schema import GOLD, GOLD_TABLES, SILVER, SILVER_TABLES, silver_metadata
from .swap import STAGING, built_at, swap

READABLE = "readable"  # the progress stage said once silver and gold are swapped in
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
    readable_seconds: float = 0.0  # from the start until silver and gold were swapped in
    fast_current: bool = True  # False: another build replaced silver first, so these fast tables were dropped

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
                    chunk_customers: int = 5_000, engine: sa.Engine | None = None) -> BuildReport:
    """Generate the bank described by `spec` and publish its silver and gold at `url`.

    `progress(READABLE)` is called once the warehouse is readable (before the fast tables).
    `engine`: a read-write engine on `url` to build through (kept open), for a process that reads
    the DuckDB file while it builds it (see dashboard/engines.py `writing`); else one of its own.
    """
    validate_spec(spec)
    url = database_url(url)
    progress = progress or Progress(quiet=True)
    own = engine is None
    engine = make_engine(url) if own else engine
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
        if own:
            engine.dispose()


def _timed_next(chunks):
    t0 = time.perf_counter()
    frame = next(chunks)
    return frame, time.perf_counter() - t0


def _build(engine: sa.Engine, url: str, spec: BankSpec, progress, chunk_customers: int) -> BuildReport:
    started = time.perf_counter()
    md, staging = silver_metadata(STAGING)
    with engine.begin() as conn:
        for schema in (SILVER, GOLD, FAST):
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
        stamp = built_at(conn, staging)

    t2 = time.perf_counter()
    definitions = GoldDefinitions(staging)
    _materialise(engine, GOLD, {name: gold_query(name, NO_FILTERS, definitions) for name in GOLD_TABLES},
                 progress, "gold tables")
    t_gold = time.perf_counter() - t2
    fast = fast_definitions(SILVER_TABLES)  # built from the live silver, once it is this build's
    swap(engine, [(SILVER, list(staging)), (GOLD, list(GOLD_TABLES))], drop=[(FAST, list(fast))])
    readable = time.perf_counter() - started
    progress(READABLE, None, "silver and gold are swapped in; the fast-path tables follow")
    _materialise(engine, FAST, fast, progress, "fast-path tables")
    current = swap(engine, [(FAST, list(fast))], silver_built_at=stamp)
    t_fast = time.perf_counter() - started - readable
    seconds = time.perf_counter() - started
    if not current:
        progress("fast-path tables", None, "dropped: a newer build replaced silver meanwhile")
    progress("done", None, f"{n_txn:,} transactions, {spec.customers:,} customers in {seconds:.1f}s -> {mask_url(url)}")
    return BuildReport(mask_url(url), spec.customers, n_txn, seconds, t_gen, t_load, t_gold, t_fast,
                       readable, current)


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
            stamp = None if problems else built_at(conn)
    except Exception as exc:
        raise WarehouseError(describe_connect_error(url, exc)) from None
    try:
        if problems:
            raise WarehouseError(f"{mask_url(url)}: {problems[0]}; {BUILD_HINT}")
        fast = _materialise(engine, FAST, fast_definitions(SILVER_TABLES), progress, "fast-path tables")
        if not swap(engine, [(FAST, fast)], silver_built_at=stamp):
            raise WarehouseError(f"{mask_url(url)}: a build replaced silver meanwhile; it brings its own fast-path tables")
    finally:
        engine.dispose()
    return time.perf_counter() - started
