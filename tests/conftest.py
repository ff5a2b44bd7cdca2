"""Shared fixtures: one small warehouse built for real into a DuckDB file per test session."""
from __future__ import annotations

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.warehouse.build import build_warehouse
from dashboard.warehouse.generate import BankSpec
from dashboard.warehouse.schema import SILVER_TABLES

SMALL = BankSpec(customers=1_500, months=4, seed=7)


@pytest.fixture(scope="session")
def warehouse_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("warehouse") / "small.duckdb"
    url = f"duckdb:///{path}"
    build_warehouse(url, SMALL)
    return url


@pytest.fixture(scope="session")
def hostile_url(tmp_path_factory) -> str:
    """A small warehouse whose city, product, category … names hold markup (tests/hostile_warehouse.py)."""
    from hostile_warehouse import build_hostile_warehouse
    url = f"duckdb:///{tmp_path_factory.mktemp('hostile') / 'hostile.duckdb'}"
    build_hostile_warehouse(url)
    return url


@pytest.fixture(scope="session")
def engine(warehouse_url):
    from dashboard.config import make_engine
    eng = make_engine(warehouse_url, read_only=True)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def silver(engine) -> dict[str, pd.DataFrame]:
    """Every silver table as a pandas frame: the input of the independent reference computations."""
    with engine.connect() as conn:
        return {name: pd.read_sql(sa.select(table), conn) for name, table in SILVER_TABLES.items()}


# -- PostgreSQL (tests/test_postgres.py): a throwaway server, the same small warehouse built into it --
@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL cluster (tests/postgres_server.py); skipped where PostgreSQL is not installed."""
    from postgres_server import PostgresServer, unavailable
    if reason := unavailable():
        pytest.skip(reason)
    with PostgresServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url(postgres_server) -> str:
    """The builder's URL of the SMALL warehouse built into PostgreSQL (the build's own code path)."""
    build_warehouse(postgres_server.builder_url, SMALL)
    postgres_server.grant_reader()
    return postgres_server.builder_url


@pytest.fixture(scope="session")
def postgres_reader_url(postgres_server, postgres_url) -> str:
    """The same warehouse through the `dashboard_reader` role (USAGE + SELECT only)."""
    return postgres_server.reader_url
