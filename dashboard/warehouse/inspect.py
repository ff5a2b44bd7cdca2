"""What a warehouse holds, and whether it meets the contract the dashboard reads."""
from __future__ import annotations

import sqlalchemy as sa

from ..config import WarehouseError, database_url, describe_connect_error, make_engine, mask_url
from .schema import GOLD, GOLD_COLUMNS, SILVER, SILVER_TABLES

BUILD_HINT = "build it with: python -m dashboard.warehouse build"


# The information_schema views every engine we support exposes alike (DuckDB, PostgreSQL, Trino).
TABLES = sa.Table("tables", sa.MetaData(schema="information_schema"),
                  sa.Column("table_schema", sa.String), sa.Column("table_name", sa.String))
_COLUMNS = sa.Table("columns", sa.MetaData(schema="information_schema"),
                    sa.Column("table_schema", sa.String), sa.Column("table_name", sa.String),
                    sa.Column("column_name", sa.String))


def contract_problems(conn: sa.Connection) -> list[str]:
    """Every missing table or column of silver and gold, and every empty gold table, in words
    (an empty list when all is there).

    Reads information_schema, which DuckDB, PostgreSQL and Trino all expose alike.
    """
    rows = conn.execute(sa.select(_COLUMNS.c.table_schema, _COLUMNS.c.table_name, _COLUMNS.c.column_name)
                        .where(_COLUMNS.c.table_schema.in_([SILVER, GOLD]))).all()
    present: dict[tuple[str, str], set[str]] = {}
    for schema, table, column in rows:
        present.setdefault((schema, table), set()).add(column)
    wanted = [(SILVER, t.name, tuple(c.name for c in t.columns)) for t in SILVER_TABLES.values()]
    wanted += [(GOLD, name, cols) for name, cols in GOLD_COLUMNS.items()]
    problems = []
    for schema, table, cols in wanted:
        have = present.get((schema, table))
        if have is None:
            problems.append(f"missing table {schema}.{table}")
        elif lacking := [c for c in cols if c not in have]:
            problems.append(f"table {schema}.{table} lacks column(s) {', '.join(lacking)}")
        elif schema == GOLD and _is_empty(conn, schema, table):  # every view would say "no data"
            problems.append(f"table {schema}.{table} is empty")
    return problems


def _is_empty(conn: sa.Connection, schema: str, table: str) -> bool:
    t = sa.Table(table, sa.MetaData(schema=schema))
    return conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first() is None


def warehouse_info(url: str | None = None) -> dict[str, object]:
    url = database_url(url)
    engine = make_engine(url, read_only=True)
    try:
        with engine.connect() as conn:
            problems = contract_problems(conn)
            if problems:
                raise WarehouseError(f"{mask_url(url)}: {problems[0]} ({len(problems)} problem(s)); {BUILD_HINT}")
            info = dict(conn.execute(sa.select(SILVER_TABLES["build_info"])).mappings().one())
            info["url"] = mask_url(url)
            for name in GOLD_COLUMNS:
                table = sa.Table(name, sa.MetaData(schema=GOLD))
                info[f"{GOLD}.{name}"] = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            return info
    except WarehouseError:
        raise
    except Exception as exc:
        raise WarehouseError(describe_connect_error(url, exc)) from None
    finally:
        engine.dispose()
