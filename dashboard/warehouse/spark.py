"""Gold on Apache Spark: the same SQLAlchemy definitions as every other engine, transpiled.

A bank with tens of millions of customers keeps silver in a lake and builds gold where it
computes everything else. Nothing here redefines a metric: each gold table is `gold_query(table)`
from gold.py, compiled by SQLAlchemy's PostgreSQL dialect and rewritten as Spark SQL by sqlglot.
Why transpile rather than compile: SQLAlchemy has no Spark dialect of its own, and the
third-party ones (PyHive, databricks-sqlalchemy) need a Thrift or Databricks server, not a
`local[2]` session; PostgreSQL's SQL is the dialect these definitions are already tested on for
real, and sqlglot's PostgreSQL -> Spark rewrite is one of its most used paths.

The gold build has no user input, so the definitions' own constants are inlined (literal binds);
the dashboard's filtered queries never go through here.

    python -m dashboard.warehouse export --url URL --to silver/       # silver as Parquet, any engine
    python -m dashboard.warehouse build --engine spark --silver silver/ --gold gold/
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from ..config import WarehouseError, make_engine
from .gold import gold_query
from .schema import GOLD_TABLES, SILVER_TABLES

SPARK_MASTER = os.environ.get("DASHBOARD_SPARK_MASTER", "local[2]")


def spark_sql(query: sa.Select) -> str:
    """One gold definition as Spark SQL."""
    import sqlglot

    text = str(query.compile(dialect=postgresql.psycopg.dialect(), compile_kwargs={"literal_binds": True}))
    tree = sqlglot.parse_one(text, read="postgres").transform(_spark_types)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _spark_types(node):
    """PostgreSQL's FLOAT(53) and bare NUMERIC (SQLAlchemy's cast for a true division) as DOUBLE:
    Spark's DOUBLE takes no precision, and its bare DECIMAL is DECIMAL(10,0), which would round."""
    from sqlglot import exp

    kinds = (exp.DataType.Type.DOUBLE, exp.DataType.Type.FLOAT, exp.DataType.Type.DECIMAL)
    if isinstance(node, exp.DataType) and node.this in kinds and (node.this != exp.DataType.Type.DECIMAL
                                                                   or not node.expressions):
        return exp.DataType.build("DOUBLE")
    return node


def export_silver(url: str | None, directory: Path, progress=None) -> dict[str, int]:
    """Write every silver table of the warehouse at `url` to `directory/<table>.parquet`; rows per table."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    directory.mkdir(parents=True, exist_ok=True)
    engine, rows = make_engine(url, read_only=True), {}
    try:
        with engine.connect() as conn:
            for name, table in SILVER_TABLES.items():
                if progress:
                    progress(f"export silver.{name}")
                result = conn.execution_options(stream_results=True).execute(sa.select(table))
                columns = list(result.keys())
                writer, rows[name] = None, 0
                for chunk in result.partitions(500_000):
                    batch = pa.Table.from_pylist([dict(zip(columns, r)) for r in chunk])
                    if writer is None:
                        writer = pq.ParquetWriter(directory / f"{name}.parquet", batch.schema)
                    writer.write_table(batch.cast(writer.schema))
                    rows[name] += len(chunk)
                if writer is None:
                    raise WarehouseError(f"silver.{name} is empty: nothing to build gold from")
                writer.close()
    finally:
        engine.dispose()
    return rows


def build_gold_on_spark(silver: Path, gold: Path, master: str = SPARK_MASTER, progress=None) -> dict[str, float]:
    """Build the seven gold tables with Spark from silver Parquet files; each is written as Parquet
    to `gold/<table>` (replaced whole: a new directory is moved into place when it is complete).
    Returns the seconds each table took."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError("--engine spark needs pyspark (pip install pyspark) and Java 17+") from None
    missing = [name for name in SILVER_TABLES if not (silver / f"{name}.parquet").exists()]
    if missing:
        raise WarehouseError(f"no silver Parquet for {', '.join(missing)} in {silver} "
                             "(write them with: python -m dashboard.warehouse export --url URL --to DIR)")
    scratch = Path(tempfile.mkdtemp(prefix="spark-gold-"))
    spark = (SparkSession.builder.master(master).appName("banking-gold")
             .config("spark.sql.session.timeZone", "UTC")  # the warehouse's timestamps are UTC
             .config("spark.sql.warehouse.dir", str(scratch / "warehouse"))
             .config("spark.ui.enabled", "false")
             .config("spark.sql.shuffle.partitions", "8")
             .getOrCreate())
    seconds = {}
    try:
        spark.sql("CREATE DATABASE IF NOT EXISTS silver")
        for name in SILVER_TABLES:
            spark.catalog.createTable(f"silver.{name}", path=str((silver / f"{name}.parquet").resolve()),
                                      source="parquet")  # an external table: the files stay where they are
        gold.mkdir(parents=True, exist_ok=True)
        for table in GOLD_TABLES:
            if progress:
                progress(f"gold.{table} on Spark")
            started = time.perf_counter()
            staged = gold / f".{table}.staging"
            spark.sql(spark_sql(gold_query(table))).write.mode("overwrite").parquet(str(staged))
            if (gold / table).exists():
                shutil.rmtree(gold / table)
            staged.rename(gold / table)
            seconds[table] = round(time.perf_counter() - started, 2)
    finally:
        spark.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return seconds
