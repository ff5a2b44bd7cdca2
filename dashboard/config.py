"""Where the warehouse is and how to connect to it, with credentials kept out of messages."""
from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

ENV_URL = "DASHBOARD_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_DATA_DIR = "DASHBOARD_DATA_DIR"


def default_duckdb_path() -> Path:
    """The embedded warehouse file: $DASHBOARD_DATA_DIR/warehouse.duckdb, else <repo>/data/."""
    return Path(os.environ.get(ENV_DATA_DIR) or PROJECT_ROOT / "data") / "warehouse.duckdb"


class WarehouseError(RuntimeError):
    """A problem the user can fix, said in one line (no traceback needed)."""


def database_url(url: str | None = None) -> str:
    """The explicit URL, else $DASHBOARD_DATABASE_URL, else the embedded DuckDB file."""
    return url or os.environ.get(ENV_URL) or f"duckdb:///{default_duckdb_path()}"


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***, safe for logs and error messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def warehouse_name(url: str) -> str:
    """A short name for the warehouse (its file, or database and host), for the header and the export:
    the URL itself, with a local path or a user name, is shown only on demand (masked)."""
    try:
        parsed = make_url(url)
    except Exception:
        return "unknown warehouse"
    backend = parsed.get_backend_name()
    if backend in ("duckdb", "sqlite"):
        return Path(parsed.database).name if parsed.database not in (None, "", ":memory:") else f"in-memory {backend}"
    where = f" on {parsed.host}" if parsed.host else ""
    return f"{parsed.database or backend}{where} ({backend})"


def duckdb_path(url: str) -> Path | None:
    """The file behind a duckdb:/// URL (None for other engines or in-memory DuckDB)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "duckdb" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


LIBPQ_DRIVERS = ("psycopg", "psycopg2", "psycopg_async")
CONNECT_TIMEOUT_S = 10


def _postgres_session_read_only(dbapi_conn, _record) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_conn.commit()  # a SET inside a transaction that is later rolled back would be undone


def _duckdb_quiet(dbapi_conn, _) -> None:
    """No progress bar on stdout. In Jupyter DuckDB starts with it off and refuses any change
    (even to off) without ipywidgets, so it is switched off only where it is on."""
    if dbapi_conn.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0]:
        dbapi_conn.execute("SET enable_progress_bar = false")


def make_engine(url: str | None = None, read_only: bool = False) -> sa.Engine:
    """An engine for the warehouse; a malformed URL or unknown driver becomes a WarehouseError.

    `read_only=True` (the dashboard's engine) opens DuckDB files read-only and makes every
    PostgreSQL session read-only (`default_transaction_read_only`), whatever the role may do.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise WarehouseError(f"not a valid SQLAlchemy database URL: {mask_url(url)!r} "
                             "(expected e.g. duckdb:///path/file.duckdb or postgresql+psycopg://user@host/db)") from None
    kwargs: dict = {}
    if parsed.get_backend_name() == "duckdb":
        config = {"threads": int(os.environ.get("DASHBOARD_DUCKDB_THREADS", os.cpu_count() or 2))}
        if os.environ.get("DASHBOARD_DUCKDB_MEMORY_LIMIT"):
            config["memory_limit"] = os.environ["DASHBOARD_DUCKDB_MEMORY_LIMIT"]
        kwargs["connect_args"] = {"read_only": read_only, "config": config}
    else:
        kwargs["pool_pre_ping"] = True
    libpq = parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in LIBPQ_DRIVERS
    if libpq:  # a bounded wait for an unreachable server; the dashboard's sessions read-only
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
        if read_only:
            connect_args["options"] = " ".join(filter(None, [parsed.query.get("options"),
                                                             "-c default_transaction_read_only=on"]))
        kwargs["connect_args"] = connect_args
    if read_only and parsed.drivername in ("duckdb", "duckdb+duckdb_engine"):
        from . import duckdb_reads  # here, not at import: a PostgreSQL dashboard need not load DuckDB

        duckdb_reads.register()
        parsed = parsed.set(drivername=duckdb_reads.DRIVER)
    try:
        engine = sa.create_engine(parsed, **kwargs)
        if parsed.get_backend_name() == "duckdb":  # DuckDB prints a progress bar to stdout otherwise
            sa.event.listen(engine, "connect", _duckdb_quiet)
        elif read_only and parsed.get_backend_name() == "postgresql" and not libpq:  # pg8000 & co: same setting
            sa.event.listen(engine, "connect", _postgres_session_read_only)
        return engine
    except Exception as exc:  # unknown dialect, missing driver
        raise WarehouseError(f"cannot use database URL {mask_url(url)}: {type(exc).__name__}: "
                             f"{str(exc).splitlines()[0]}") from None


def describe_connect_error(url: str, exc: BaseException) -> str:
    """One line telling why a connection failed, with the password masked."""
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    parsed_password = make_url(url).password if "://" in url else None
    if parsed_password:
        reason = reason.replace(str(parsed_password), "***")
    if "lock" in reason.lower():
        reason += " (another process, such as a running dashboard or build, holds the file)"
    return f"cannot connect to {mask_url(url)}: {reason}"
