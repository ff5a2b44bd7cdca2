"""A copy of the test warehouse changed on purpose: a table emptied, a column retyped, a
warehouse's own vocabulary. Tests read it through a real store, like any warehouse."""
from __future__ import annotations

import shutil

import duckdb

from dashboard.config import duckdb_path
from dashboard.data import DataStore


def altered_copy(warehouse_url, tmp_path, *statements) -> DataStore:
    """A store on a copy of the test warehouse changed by `statements` (DuckDB SQL)."""
    copy = tmp_path / "altered.duckdb"
    shutil.copy(duckdb_path(warehouse_url), copy)
    with duckdb.connect(str(copy)) as conn:
        for statement in statements:
            conn.execute(statement)
    return DataStore(f"duckdb:///{copy}")
