"""The store: filter state as data, click batching and toggling, chips, and the shared cache."""
from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

from dashboard import data, queries
from dashboard.config import WarehouseError
from dashboard.data import DataStore
from dashboard.engines import forget
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold
from warehouse_copy import altered_copy

TIME = "analytics_transaction_time_patterns"


def test_filters_mirror_the_parameters_and_ignore_a_views_own_dimensions(warehouse_url):
    store = DataStore(warehouse_url)
    store.select(customer_segment=["Premium", "Business"], day_of_week=[0], date_from=dt.date(2025, 10, 1))
    f = store.filters()
    assert f == Filters(customer_segment=("Premium", "Business"), day_of_week=(0,), date_from=dt.date(2025, 10, 1))
    assert store.filters(ignore=("day_of_week", "date_from")) == Filters(customer_segment=("Premium", "Business"))


def test_fetch_equals_the_independent_reference_under_filters(warehouse_url, silver):
    store = DataStore(warehouse_url)
    store.select(state=["NY", "CA"], channel=["Mobile"])
    got = store.fetch(TIME).sort_values(["day_of_week", "transaction_hour", "channel", "merchant_category"])
    want = reference_gold(silver, TIME, Filters(state=("NY", "CA"), channel=("Mobile",))).sort_values(
        ["day_of_week", "transaction_hour", "channel", "merchant_category"])
    assert got["transaction_count"].tolist() == want["transaction_count"].tolist()
    assert set(got["channel"]) == {"Mobile"}


def test_fetch_returns_a_private_copy_of_the_shared_cached_frame(warehouse_url):
    a, b = DataStore(warehouse_url), DataStore(warehouse_url)
    first = a.fetch(TIME)
    first["transaction_count"] = -1
    assert (b.fetch(TIME)["transaction_count"] > 0).all()


def test_the_same_filters_in_two_sessions_run_one_query(warehouse_url, monkeypatch):
    calls = []
    real = queries.plan
    monkeypatch.setattr(queries, "plan", lambda *a, **k: calls.append(a) or real(*a, **k))
    s1, s2 = DataStore(warehouse_url), DataStore(warehouse_url)
    s1.select(region=["West"], transaction_hour=[23])
    s2.select(transaction_hour=[23], region=["West"])
    s1.fetch(TIME)
    s2.fetch(TIME)
    assert len(calls) == 1


def test_sessions_asking_at_the_same_moment_wait_for_one_query(warehouse_url, monkeypatch):
    calls, release = [], threading.Event()
    real = queries.plan

    def slow_plan(*a, **k):
        calls.append(a)
        release.wait(5)  # hold the first query until every session has asked
        return real(*a, **k)

    monkeypatch.setattr(queries, "plan", slow_plan)
    stores = [DataStore(warehouse_url) for _ in range(6)]
    for s in stores:
        s.select(region=["Midwest"], channel=["ATM"])
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(s.fetch, TIME) for s in stores]
        time.sleep(0.5)
        release.set()
        frames = [f.result() for f in futures]
    assert len(calls) == 1
    assert all(f.equals(frames[0]) for f in frames) and len(frames[0]) > 0


def test_select_batches_toggles_and_remembers_the_origin(warehouse_url):
    store = DataStore(warehouse_url)
    events = []
    store.param.watch(lambda *e: events.append(e), ["day_of_week", "transaction_hour"])
    store.select(origin="heatmap", toggle=True, day_of_week=[6], transaction_hour=[12])
    assert len(events) == 1  # one batch, so every view re-queries once
    assert store.day_of_week == [6] and store.origin == {"day_of_week": "heatmap", "transaction_hour": "heatmap"}
    store.select(origin="heatmap", toggle=True, day_of_week=[6], transaction_hour=[13])  # another cell: switch
    assert store.transaction_hour == [13]
    store.select(origin="heatmap", toggle=True, day_of_week=[6], transaction_hour=[13])  # same cell: clear
    assert store.day_of_week == [] and store.transaction_hour == [] and store.origin == {}


def test_active_remove_clear_and_describe(warehouse_url):
    store = DataStore(warehouse_url)
    store.select(customer_segment=["Premium", "Affluent"], month=[12], date_to=dt.date(2025, 12, 24))
    assert store.active() == [("customer_segment", "Premium"), ("customer_segment", "Affluent"),
                              ("month", 12), ("date_to", dt.date(2025, 12, 24))]
    assert store.describe() == "Segment: Premium, Affluent · Month: December · To: 2025-12-24"
    store.remove("customer_segment", "Premium")
    store.remove("date_to")
    assert store.active() == [("customer_segment", "Affluent"), ("month", 12)]
    store.clear()
    assert store.active() == [] and store.describe() == "no filters"


def test_options_come_from_the_data_in_a_meaningful_order(warehouse_url, silver):
    store = DataStore(warehouse_url)
    assert store.options("customer_segment") == ["Premium", "Affluent", "Mass Market", "Business"]
    assert store.options("credit_score_band") == ["Poor", "Fair", "Good", "Very Good", "Excellent"]
    assert store.options("state") == sorted(silver["customers"]["state"].unique())
    assert store.options("day_of_week") == list(range(7))


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    store = DataStore(f"duckdb:///{tmp_path}/nothing-here.duckdb")
    assert store.check() == [f"there is no warehouse file at {tmp_path}/nothing-here.duckdb; "
                             "build it with: python -m dashboard.warehouse build"]
    with pytest.raises(WarehouseError, match="there is no warehouse file at .*; build it with"):
        store.fetch(TIME)
    empty = tmp_path / "empty.duckdb"
    import duckdb
    duckdb.connect(str(empty)).close()
    store = DataStore(f"duckdb:///{empty}")
    assert store.check()[0] == "missing table silver.customers; build it with: python -m dashboard.warehouse build"
    with pytest.raises(WarehouseError, match="lacks a table the dashboard needs; build it with"):
        store.fetch(TIME)


def test_build_info_reports_freshness(warehouse_url):
    info = DataStore(warehouse_url).build_info()
    assert info["as_of_date"] == dt.date(2025, 12, 31) and info["customers"] == 1500
    assert isinstance(info["built_at"], (dt.datetime, pd.Timestamp))


def test_a_rebuilt_warehouse_is_not_answered_from_the_old_cache(tmp_path):
    from dashboard.warehouse.build import build_warehouse
    from dashboard.warehouse.generate import BankSpec
    url = f"duckdb:///{tmp_path}/rebuilt.duckdb"
    table = "analytics_customer_behavior_clusters"
    build_warehouse(url, BankSpec(customers=300, months=3, seed=1))
    assert DataStore(url).fetch(table)["customer_count"].sum() == 300
    forget(url)  # DuckDB: a process may not read and write one file at once
    build_warehouse(url, BankSpec(customers=400, months=3, seed=2))
    assert DataStore(url).fetch(table)["customer_count"].sum() == 400


HOSTILE = ["' OR 1=1 --", "Premium'; DROP TABLE gold.analytics_geographic_distribution; --", "<script>alert(1)</script>",
           "Prémium ☃", "x" * 100_000, ""]


def test_values_not_in_the_data_never_reach_a_query_and_are_reported(warehouse_url, monkeypatch):
    store = DataStore(warehouse_url)
    asked = []
    real = data._query_once
    monkeypatch.setattr(data, "_query_once", lambda url, stamp, table, key, *need: asked.append(key) or
                        real(url, stamp, table, key, *need))
    notices = []
    store.param.watch(lambda e: notices.append(e.new), ["notice"])
    store.select(customer_segment=["Premium", *HOSTILE])
    assert store.customer_segment == ["Premium"]
    assert notices and "Segment" in notices[-1] and "OR 1=1" in notices[-1] and "and 3 more" in notices[-1]
    assert len(notices[-1]) < 400  # a 100,000-character value is clipped in the message
    store.param.update(state=[f"S{i}" for i in range(10_000)] + ["CA"])  # as a widget would set it
    assert store.state == ["CA"] and "and 9997 more" in notices[-1]
    clean = DataStore(warehouse_url)
    clean.select(customer_segment=["Premium"], state=["CA"])
    assert store.fetch(TIME).equals(clean.fetch(TIME))  # what is left filters as if typed cleanly
    for key in asked:
        for _, values in key:
            assert not any(v in HOSTILE for v in (values if isinstance(values, tuple) else (values,)))
    n = len(notices)
    store.select(customer_segment=["Premium", "' OR 1=1 --"])  # the same notice again is still said
    assert len(notices) == n + 1
    store.select(day_of_week=[7, 0], transaction_hour=[24, -1, 3])
    assert store.day_of_week == [0] and store.transaction_hour == [3]


def test_only_unknown_values_make_a_notice(warehouse_url):
    store = DataStore(warehouse_url)
    store.select(customer_segment=["Premium", "Premium", "Business"], channel=["ATM"])
    assert store.notice == "" and store.customer_segment == ["Premium", "Business"]


def test_a_query_running_past_the_timeout_is_cancelled_with_a_clear_message(warehouse_url, monkeypatch):
    import sqlalchemy as sa
    slow = sa.select(sa.text("sum(hash(a.range + b.range)) AS s")).select_from(
        sa.text("range(1000000000) a, range(1000) b"))  # 10^12 hashes: hours of work
    monkeypatch.setattr(queries, "plan", lambda *args: slow)
    monkeypatch.setenv(queries.ENV_QUERY_TIMEOUT, "0.5")
    store = DataStore(warehouse_url, date_from=dt.date(2001, 2, 3))  # filters no other test caches
    started = time.perf_counter()
    with pytest.raises(WarehouseError, match=r"longer than 0.5 s and was cancelled.*DASHBOARD_QUERY_TIMEOUT_S"):
        store.fetch(TIME)
    assert time.perf_counter() - started < 15
    monkeypatch.undo()
    assert not DataStore(warehouse_url).fetch(TIME).empty  # the engine's connections still work


def test_an_empty_gold_table_is_named_with_the_build_command(warehouse_url, tmp_path):
    store = altered_copy(warehouse_url, tmp_path, "DELETE FROM gold.analytics_seasonal_patterns")
    assert store.check() == [
        "table gold.analytics_seasonal_patterns is empty; build it with: python -m dashboard.warehouse build"]
    assert DataStore(warehouse_url).check() == []


def test_columns_of_the_wrong_type_are_named(warehouse_url, tmp_path):
    """Text where numbers are read (a CSV loaded untyped, say) would break views with odd errors."""
    store = altered_copy(
        warehouse_url, tmp_path,
        "ALTER TABLE gold.analytics_geographic_clustering ALTER avg_clv TYPE VARCHAR",
        "ALTER TABLE gold.analytics_geographic_clustering ALTER city TYPE INTEGER USING length(city)",
        "ALTER TABLE silver.transactions ALTER transaction_ts TYPE VARCHAR",
        # other engines' spellings of the right kinds are fine
        "ALTER TABLE gold.analytics_seasonal_patterns ALTER transaction_count TYPE DECIMAL(18, 0)",
        "ALTER TABLE gold.analytics_seasonal_patterns ALTER last_updated TYPE TIMESTAMP")
    assert store.check() == [
        "table silver.transactions has column(s) of the wrong type: transaction_ts is VARCHAR (expected time); "
        "build it with: python -m dashboard.warehouse build",
        "table gold.analytics_geographic_clustering has column(s) of the wrong type: city is INTEGER (expected "
        "text); avg_clv is VARCHAR (expected number); build it with: python -m dashboard.warehouse build"]
