"""The dashboard's engines: one per warehouse URL for the whole process, read-only.

Except while this process builds the warehouse itself (the first start, `writing`): a DuckDB file
takes one writer, and a process holding it read-write cannot open it read-only as well, so for
that time every reader of the URL goes through the build's own read-write engine.
"""
from __future__ import annotations

import contextlib
import threading
import time
from typing import Iterator

import sqlalchemy as sa

from .config import make_engine
from .warehouse.fast import FAST
from .warehouse.inspect import TABLES

_ENGINES: dict[str, sa.Engine] = {}  # url -> the read-only engine
_WRITERS: dict[str, sa.Engine] = {}  # url -> the engine of a build running in this process
_LOCK = threading.Lock()
# A reader may still hold a connection of the build's engine when the build ends; the read-only
# engine cannot open the file until it is back (a query of the dashboard takes well under this).
HANDOVER_WAIT_S = 10.0


def shared_engine(url: str) -> sa.Engine:
    """The engine every session of this process reads `url` through (all share its pool)."""
    with _LOCK:
        if url in _WRITERS:
            return _WRITERS[url]
        if url not in _ENGINES:
            _ENGINES[url] = make_engine(url, read_only=True)
        return _ENGINES[url]


def connect(url: str) -> sa.Connection:
    return shared_engine(url).connect()


def forget(url: str) -> None:
    """Close the read-only engine of `url`: DuckDB lets this process open the file read-write only
    once it is closed (the next reader opens it again)."""
    with _LOCK:
        engine = _ENGINES.pop(url, None)
    if engine is not None:
        engine.dispose()


@contextlib.contextmanager
def writing(url: str) -> Iterator[sa.Engine]:
    """A read-write engine on `url` for a build in this process; readers use it until the block ends,
    then the read-only engine again."""
    engine = make_engine(url)
    with _LOCK:
        _WRITERS[url] = engine
    forget(url)
    try:
        yield engine
    finally:
        with _LOCK:  # no reader takes the build's engine from here on
            del _WRITERS[url]
            deadline = time.monotonic() + HANDOVER_WAIT_S
            while engine.pool.checkedout() and time.monotonic() < deadline:
                time.sleep(0.05)
            engine.dispose()


_FAST: dict[str, tuple[float, frozenset[str]]] = {}  # url -> (when read, the fast tables then)
_FAST_LOCK = threading.Lock()


def fast_tables(url: str, max_age: float = 2.0) -> frozenset[str]:
    """The fast-path tables `url` has, read again when the last reading is older than `max_age`
    seconds: a build swaps them in (and a rebuild drops them) while the dashboard serves, so they
    are found within that time without asking the database on every query."""
    with _FAST_LOCK:
        read_at, names = _FAST.get(url, (-float("inf"), frozenset()))
        if time.monotonic() - read_at > max_age:
            with connect(url) as conn:
                names = frozenset(conn.execute(sa.select(TABLES.c.table_name)
                                               .where(TABLES.c.table_schema == FAST)).scalars())
            _FAST[url] = (time.monotonic(), names)
        return names
