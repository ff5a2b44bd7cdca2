"""The build command: one-line errors for bad input, and rebuilds that replace gold atomically."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.config import make_engine
from dashboard.warehouse.build import build_warehouse
from dashboard.warehouse.generate import BankSpec
from dashboard.warehouse.schema import GOLD_TABLES


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard.warehouse", *args],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


@pytest.mark.parametrize("args, needle", [
    (["--customers", "-5"], "--customers must be between 100"),
    (["--customers", "1000000000"], "--customers must be between 100"),
    (["--months", "0"], "--months must be between 3"),
    (["--seed", "-1"], "--seed must be"),
])
def test_absurd_sizes_are_refused(tmp_path, args, needle):
    result = run_cli("build", "--url", f"duckdb:///{tmp_path}/w.duckdb", *args)
    assert_one_line_error(result, needle)
    assert not (tmp_path / "w.duckdb").exists()


def test_malformed_url_is_one_clear_line():
    assert_one_line_error(run_cli("build", "--url", "not a url"), "not a valid SQLAlchemy database URL")


def test_unknown_driver_is_one_clear_line():
    assert_one_line_error(run_cli("build", "--url", "nosuchdb://host/db"), "cannot use database URL")


def test_unreachable_database_masks_the_password():
    line = assert_one_line_error(
        run_cli("build", "--url", "postgresql+psycopg://bank:s3cr3tpw@127.0.0.1:1/warehouse"), "cannot connect")
    assert "s3cr3tpw" not in line and "***" in line


def test_info_on_an_empty_database_names_the_missing_table_and_the_fix(tmp_path):
    path = tmp_path / "empty.duckdb"
    eng = sa.create_engine(f"duckdb:///{path}")
    with eng.begin() as conn:
        conn.execute(sa.text("select 1"))
    eng.dispose()
    line = assert_one_line_error(run_cli("info", "--url", f"duckdb:///{path}"), "missing table")
    assert "python -m dashboard.warehouse build" in line


def test_build_and_info_from_the_command_line(tmp_path):
    url = f"duckdb:///{tmp_path}/cli.duckdb"
    built = run_cli("build", "--customers", "300", "--months", "3", "--seed", "3", "--url", url)
    assert built.returncode == 0, built.stderr
    assert "transactions/s" in built.stdout and "readable after" in built.stdout
    stages = [line.split("] ", 1)[1].split()[0] for line in built.stderr.splitlines() if "] " in line]
    assert stages.index("readable") > max(i for i, stage in enumerate(stages) if stage == "gold")
    assert stages.index("readable") < stages.index("fast-path")  # readable before the fast tables
    info = run_cli("info", "--url", url)
    assert info.returncode == 0 and "customers: 300" in info.stdout


def _snapshot(url: str) -> dict[str, pd.DataFrame]:
    eng = make_engine(url, read_only=True)
    try:
        with eng.connect() as conn:
            frames = {name: pd.read_sql(sa.text(f"SELECT * FROM gold.{name}"), conn) for name in GOLD_TABLES}
            frames["build_info"] = pd.read_sql(sa.text("SELECT * FROM silver.build_info"), conn)
            return frames
    finally:
        eng.dispose()


def test_a_build_failing_half_way_leaves_the_previous_warehouse_readable(tmp_path):
    url = f"duckdb:///{tmp_path}/atomic.duckdb"
    build_warehouse(url, BankSpec(customers=300, months=3, seed=1))
    before = _snapshot(url)

    def explode_in_gold(stage, done=None, detail=""):
        if stage == "gold tables" and done and done > 0.5:
            raise RuntimeError("disk full (simulated)")

    with pytest.raises(RuntimeError, match="simulated"):
        build_warehouse(url, BankSpec(customers=400, months=3, seed=2), progress=explode_in_gold)
    after = _snapshot(url)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)

    build_warehouse(url, BankSpec(customers=400, months=3, seed=2))  # staging leftovers are no obstacle
    rebuilt = _snapshot(url)
    assert rebuilt["build_info"]["seed"].item() == 2 and rebuilt["build_info"]["customers"].item() == 400
    assert rebuilt["analytics_customer_behavior_clusters"]["customer_count"].sum() == 400
