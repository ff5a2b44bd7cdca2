"""Gold built by Apache Spark (local[2]) from silver Parquet equals the DuckDB build's gold, row for row.

The silver is the small test warehouse's, exported to Parquet; Spark runs the same definitions
(warehouse/spark.py transpiles them). Skipped where pyspark or Java is missing; CI has both.
"""
from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.config import WarehouseError
from dashboard.warehouse.__main__ import main
from dashboard.warehouse.schema import GOLD, GOLD_COLUMNS, GOLD_TABLES, SILVER_TABLES
from dashboard.warehouse.spark import build_gold_on_spark, spark_sql
from dashboard.warehouse.gold import gold_query

pytestmark = pytest.mark.spark
pyspark = pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs Java 17+ (apt-get install openjdk-17-jre-headless)", allow_module_level=True)


@pytest.fixture(scope="module")
def spark_gold(warehouse_url, tmp_path_factory):
    root = tmp_path_factory.mktemp("spark")
    assert main(["export", "--url", warehouse_url, "--to", str(root / "silver"), "--quiet"]) == 0
    assert main(["build", "--engine", "spark", "--silver", str(root / "silver"), "--gold", str(root / "gold"),
                 "--quiet"]) == 0
    return root


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    keys = [c for c in frame.columns if not pd.api.types.is_float_dtype(frame[c])
            and not pd.api.types.is_datetime64_any_dtype(frame[c])]
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_spark_gold_equals_duckdb_gold(spark_gold, engine, table):
    spark = pd.read_parquet(spark_gold / "gold" / table)
    with engine.connect() as conn:
        duck = pd.read_sql(sa.select(sa.table(table, *(sa.column(c) for c in GOLD_COLUMNS[table]), schema=GOLD)), conn)
    assert list(spark.columns) == list(GOLD_COLUMNS[table])
    assert len(spark) == len(duck) > 0
    spark, duck = _sorted(spark), _sorted(duck)
    for column in GOLD_COLUMNS[table]:
        a, b = spark[column], duck[column]
        if pd.api.types.is_float_dtype(b) or pd.api.types.is_float_dtype(a):
            np.testing.assert_allclose(a.astype(float), b.astype(float), rtol=1e-9, atol=1e-9, err_msg=column)
        elif pd.api.types.is_datetime64_any_dtype(b):
            assert (pd.to_datetime(a, utc=True) == pd.to_datetime(b, utc=True)).all(), column
        else:
            assert a.astype(str).tolist() == b.astype(str).tolist(), column


def test_export_writes_every_silver_table_with_its_rows(spark_gold, engine):
    with engine.connect() as conn:
        for name, table in SILVER_TABLES.items():
            rows = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()
            assert len(pd.read_parquet(spark_gold / "silver" / f"{name}.parquet")) == rows, name


def test_the_spark_sql_is_spark_s_and_a_missing_silver_is_named(tmp_path):
    sql = spark_sql(gold_query("analytics_customer_behavior_clusters"))
    assert "silver.customers" in sql and "::" not in sql
    with pytest.raises(WarehouseError, match="no silver Parquet for customers.*export"):
        build_gold_on_spark(tmp_path, tmp_path / "gold")
