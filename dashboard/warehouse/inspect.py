"""What a warehouse holds, and whether it meets the contract the dashboard reads."""
from __future__ import annotations

import sqlalchemy as sa

from ..config import WarehouseError, database_url, describe_connect_error, make_engine, mask_url
from .gold import TABLE_METHODS, gold_query
from .schema import GOLD, GOLD_COLUMNS, SILVER, SILVER_TABLES

BUILD_HINT = "build it with: python -m dashboard.warehouse build"


# The information_schema views every engine we support exposes alike (DuckDB, PostgreSQL, Trino).
TABLES = sa.Table("tables", sa.MetaData(schema="information_schema"),
                  sa.Column("table_schema", sa.String), sa.Column("table_name", sa.String))
_COLUMNS = sa.Table("columns", sa.MetaData(schema="information_schema"),
                    sa.Column("table_schema", sa.String), sa.Column("table_name", sa.String),
                    sa.Column("column_name", sa.String), sa.Column("data_type", sa.String))


def _family(column_type: sa.types.TypeEngine | str) -> str:
    """text, number, time or boolean: what a view can do with a column, whatever the engine calls
    its type (DuckDB `HUGEINT`, PostgreSQL `double precision`, Trino `timestamp(3) with time zone`)."""
    if not isinstance(column_type, str):
        for kind, family in ((sa.Boolean, "boolean"), (sa.String, "text"), (sa.Date, "time"),
                             (sa.DateTime, "time"), (sa.Numeric, "number"), (sa.Float, "number"),
                             (sa.Integer, "number")):
            if isinstance(column_type, kind):
                return family
        return "other"
    name = column_type.lower()
    if name.startswith(("timestamp", "date", "time")):
        return "time"
    if name.startswith("bool"):
        return "boolean"
    if "char" in name or name in ("text", "string"):
        return "text"
    if any(word in name for word in ("int", "double", "float", "real", "decimal", "numeric")):
        return "number"
    return "other"


def _contract() -> list[tuple[str, str, dict[str, str]]]:
    """(schema, table, {column: family}) for every table the dashboard reads; gold's types come from
    the gold definitions themselves, so the contract cannot drift from what the build writes."""
    wanted = [(SILVER, t.name, {c.name: _family(c.type) for c in t.columns}) for t in SILVER_TABLES.values()]
    for name, cols in GOLD_COLUMNS.items():
        types = {c.name: _family(c.type) for c in gold_query(name).selected_columns} if name in TABLE_METHODS else {}
        wanted.append((GOLD, name, {c: types.get(c, "other") for c in cols}))
    return wanted


def contract_problems(conn: sa.Connection) -> list[str]:
    """Every missing table or column of silver and gold, every column of the wrong kind of type
    (text where numbers are read …), and every empty gold table, in words (empty when all is well).

    Reads information_schema, which DuckDB, PostgreSQL and Trino all expose alike.
    """
    rows = conn.execute(sa.select(_COLUMNS.c.table_schema, _COLUMNS.c.table_name, _COLUMNS.c.column_name,
                                  _COLUMNS.c.data_type).where(_COLUMNS.c.table_schema.in_([SILVER, GOLD]))).all()
    present: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        present.setdefault((schema, table), {})[column] = data_type
    problems = []
    for schema, table, cols in _contract():
        have = present.get((schema, table))
        if have is None:
            problems.append(f"missing table {schema}.{table}")
        elif lacking := [c for c in cols if c not in have]:
            problems.append(f"table {schema}.{table} lacks column(s) {', '.join(lacking)}")
        elif wrong := [f"{c} is {have[c]} (expected {family})" for c, family in cols.items()
                       if family != "other" and _family(have[c]) != family]:
            problems.append(f"table {schema}.{table} has column(s) of the wrong type: {'; '.join(wrong)}")
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
