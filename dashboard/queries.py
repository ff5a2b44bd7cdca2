"""Running the store's queries: a process-wide cache, one query per question, timeouts, cancelling.

Gold-table answers go through the fast path (`warehouse/fast.py`) and drill-down pages through a
list's index where that is cheaper (`warehouse/seek.py`); both are cached process-wide (an LRU
in memory) and in the shared cache (`shared_cache.py`), keyed by (warehouse URL, build stamp, what was
asked, the active filters), so fifty colleagues clicking the same segment pay for one query, even
when they click at the same moment. A query running longer than `query_timeout()` is cancelled in
the database. Split from data.py (the store: filter state, history, what a view asks).

The views of one change first say what they will ask (`expect`), then ask. Customer-grain tables
asked under the same filters, with a transaction filter, are then one statement over one shared
customer profile (`warehouse/together.py`): the per-customer pass they all need is made once.
"""
from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict

import pandas as pd
import panel as pn
import sqlalchemy as sa

from .config import WarehouseError
from .engines import connect, fast_tables
from .shared_cache import cached
from .warehouse.detail import count_query
from .warehouse.fast import CUSTOMER_GRAIN, plan, plan_need, plan_together, shares_profile
from .warehouse.filters import Filters
from .warehouse.needs import Need
from .warehouse.pages import read_index, read_page
from .warehouse.schema import SILVER_TABLES
from .warehouse.together import split
from .watchdog import WATCHDOG

ENV_QUERY_TIMEOUT = "DASHBOARD_QUERY_TIMEOUT_S"
DEFAULT_QUERY_TIMEOUT_S = 60.0

def query_timeout() -> float:
    """Seconds a dashboard query may run before it is cancelled ($DASHBOARD_QUERY_TIMEOUT_S, default 60)."""
    try:
        return max(0.1, float(os.environ.get(ENV_QUERY_TIMEOUT, DEFAULT_QUERY_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_QUERY_TIMEOUT_S


def _cancel(conn: sa.Connection) -> None:
    """Stop the statement running on this connection (DuckDB: interrupt; psycopg and most drivers: cancel)."""
    driver = conn.connection.driver_connection
    stop = getattr(driver, "interrupt", None) or getattr(driver, "cancel", None)
    if stop is not None:
        stop()


@functools.lru_cache(maxsize=2048)  # not pn.cache: the arguments hash as they are, not deeply on every ask
def _run_query(url: str, stamp: str, table: str, key: tuple, need: Need | None = None) -> pd.DataFrame:
    """`stamp` (when the warehouse was built) keeps a rebuilt warehouse from serving stale results;
    `need`: only these sums of the table (needs.py), else the whole table."""
    running = (url, stamp, table, key, need)
    return cached(lambda: _answer(url, table, Filters(**dict(key)), running, need), "query", *running)


def _answer(url: str, table: str, filters: Filters, running: tuple, need: Need | None) -> pd.DataFrame:
    """Through the fast tables present (fast or plain, the answer is the same). A query that failed
    after some of them vanished (a rebuild drops them until it has its own) is planned again."""
    def answer(available):
        if need is None and shares_profile(table, filters):
            return _together(url, filters, running, available)
        return _read(url, plan(table, filters, available) if need is None else plan_need(need, filters, available), running)

    available = fast_tables(url)
    try:
        return answer(available)
    except (sa.exc.DBAPIError, pd.errors.DatabaseError):  # pandas wraps the driver's error
        if (now := fast_tables(url, max_age=0)) >= available:
            raise
        return answer(now)


_TOGETHER: OrderedDict[tuple, dict] = OrderedDict()  # (url, stamp, key, fast tables) -> frames by table, newest last
_TOGETHER_KEPT = 16  # enough for the states of a few changes
_EXPECTED: OrderedDict[tuple, set] = OrderedDict()  # (url, stamp, key) -> the customer-grain tables views said they will ask
_TOGETHER_LOCK = threading.Lock()


def expect(url: str, stamp: str, table: str, key: tuple, need: Need | None = None) -> None:
    """A view will ask `table` under `key` in a moment (a change's views all say so before any asks):
    the customer-grain tables asked under one key are then read in one statement, and no table that
    no view asks under that key is read with them."""
    if need is None and table in CUSTOMER_GRAIN:
        with _TOGETHER_LOCK:
            _EXPECTED.setdefault((url, stamp, key), set()).add(table)
            _EXPECTED.move_to_end((url, stamp, key))
            while len(_EXPECTED) > 4 * _TOGETHER_KEPT:
                _EXPECTED.popitem(last=False)


def _together(url: str, filters: Filters, running: tuple, available: frozenset) -> pd.DataFrame:
    """A customer-grain table, read in one statement (warehouse/together.py) with the others expected
    under the same filters, by the first of them to ask; the others take their frame from it."""
    table, name = running[2], (url, running[1], running[3], available)
    with _IN_FLIGHT_LOCK:
        lock = _IN_FLIGHT.setdefault(("together", *name), threading.Lock())
    with lock:
        with _TOGETHER_LOCK:
            frames = _TOGETHER.get(name, {})
            asked = _EXPECTED.pop(name[:3], set()) | {table} if table not in frames else set()
        if asked:
            tables = tuple(t for t in CUSTOMER_GRAIN if t in asked and t not in frames)
            if len(tables) == 1:  # asked alone: its own query (its answer is cached by the caller)
                return _read(url, plan(table, filters, available), running)
            query, columns = plan_together(tables, filters, available)
            frames = {**frames, **split(_read(url, query, running), tables, columns)}
        with _TOGETHER_LOCK:
            _TOGETHER[name] = frames
            _TOGETHER.move_to_end(name)
            while len(_TOGETHER) > _TOGETHER_KEPT:
                _TOGETHER.popitem(last=False)
        return frames[table]


@pn.cache(max_items=512, policy="LRU")
def _run_detail(url: str, stamp: str, kind: str, key: tuple, page: tuple | None) -> pd.DataFrame:
    """A drill-down list's length (one cell) when `page` is None, else that (page, size, sort, descending,
    the list's length), the cheapest exact way (warehouse/pages.py)."""
    filters, available = Filters(**dict(key)), fast_tables(url)
    if page is None:
        return cached(lambda: _read(url, count_query(kind, filters, available)), "detail", url, stamp, kind, key, page)
    sort, descending = page[2:4]
    index_of = lambda f: _run_index(url, stamp, tuple(sorted(f.active().items())), sort, descending, available)  # noqa: E731
    return cached(lambda: read_page(lambda q: _read(url, q), kind, filters, *page, available, index_of),
                  "detail", url, stamp, kind, key, page)


@pn.cache(max_items=64, policy="LRU")
def _run_index(url: str, stamp: str, key: tuple, sort: str, descending: bool, available: frozenset) -> pd.DataFrame:
    """The transaction list's bucket index under these filters, by this sort (shared by all its pages)."""
    filters = Filters(**dict(key))
    return cached(lambda: read_index(lambda q: _read(url, q), filters, sort, descending, available),
                  "index", url, stamp, key, sort, descending)


def clear_answers() -> None:
    """Forget this process's answers (a benchmark's cold start; a test's fresh warehouse)."""
    _run_query.cache_clear()
    with _TOGETHER_LOCK:
        _TOGETHER.clear()
        _EXPECTED.clear()


_RUNNING: dict[tuple, sa.Connection] = {}  # gold queries in the database now, by (url, stamp, table, key, need)
_CANCELLED: set[tuple] = set()
_RUNNING_LOCK = threading.Lock()


def _read(url: str, query: sa.Select, running: tuple | None = None) -> pd.DataFrame:
    """Run a query. One still running after `query_timeout()` seconds is cancelled in the database (a
    runaway query must not hold a connection and a core for everyone); failures are not cached.
    `running` names it for `cancel_query` while it runs.
    """
    timeout = query_timeout()
    with connect(url) as conn:
        alarm = WATCHDOG.arm(timeout, lambda: _cancel(conn))
        if running is not None:
            with _RUNNING_LOCK:
                _RUNNING[running] = conn
        try:
            return pd.read_sql_query(query, conn)  # not read_sql: it first asks whether the query names a table
        except Exception:
            if not WATCHDOG.disarm(alarm):  # the alarm fired: it was us who stopped the query
                raise WarehouseError(f"the query took longer than {timeout:g} s and was cancelled; narrow the "
                                     f"filters, or raise {ENV_QUERY_TIMEOUT}") from None
            with _RUNNING_LOCK:
                cancelled = running in _CANCELLED
                _CANCELLED.discard(running)
            if cancelled:
                raise WarehouseError("the query was cancelled by a user") from None
            raise
        finally:
            WATCHDOG.disarm(alarm)
            if running is not None:
                with _RUNNING_LOCK:
                    _RUNNING.pop(running, None)


def cancel_query(url: str, stamp: str, table: str, key: tuple, need: Need | None = None) -> bool:
    """Stop this gold query in the database if it is running; True if it was."""
    name = (url, stamp, table, key, need)
    with _RUNNING_LOCK:
        conn = _RUNNING.get(name)
        if conn is None:
            return False
        _CANCELLED.add(name)
    _cancel(conn)
    return True


_IN_FLIGHT: dict[tuple, threading.Lock] = {}
_IN_FLIGHT_LOCK = threading.Lock()


def _query_once(url: str, stamp: str, table: str, key: tuple, need: Need | None = None) -> pd.DataFrame:
    """`_run_query`, but concurrent callers asking the same thing wait for one query, not run N."""
    with _IN_FLIGHT_LOCK:
        if len(_IN_FLIGHT) > 4096:  # forget idle locks; a held one is still referenced by its holder
            for k in [k for k, lock in _IN_FLIGHT.items() if not lock.locked()]:
                del _IN_FLIGHT[k]
        lock = _IN_FLIGHT.setdefault((url, stamp, table, key, need), threading.Lock())
    with lock:
        return _run_query(url, stamp, table, key, need)


@pn.cache(max_items=64)
def _distinct_values(url: str, stamp: str, table: str, column: str) -> list:
    t = SILVER_TABLES[table]
    with connect(url) as conn:
        return [v for (v,) in conn.execute(sa.select(t.c[column]).distinct().order_by(t.c[column])) if v is not None]


def _read_build_info(url: str) -> dict:
    with connect(url) as conn:
        return dict(conn.execute(sa.select(SILVER_TABLES["build_info"])).mappings().one())
