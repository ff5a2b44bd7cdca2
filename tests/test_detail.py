"""Drill to detail: every page of the customers and transactions lists, put together, is exactly the
selection computed independently with pandas (tests/gold_reference.py) from the silver tables;
pages neither overlap nor skip, sorting orders the whole list, and bad arguments never reach SQL."""
from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard import queries
from dashboard.config import WarehouseError
from dashboard.data import DataStore
from dashboard.engines import forget, shared_engine
from dashboard.warehouse import detail
from dashboard.warehouse.detail import MAX_PAGE_SIZE
from dashboard.warehouse.filters import DATE_DIMENSIONS, Filters
from gold_reference import reference_customers, reference_transactions
from warehouse_copy import altered_copy

CUSTOMER_COLUMNS = ["customer_id", "customer_segment", "age_group", "income_bracket", "city", "state", "region",
                    "credit_score_band", "transaction_count", "total_spend"]
TRANSACTION_COLUMNS = ["transaction_ts", "transaction_id", "customer_id", "merchant_name", "merchant_category",
                       "category_group", "channel", "amount", "is_recurring", "is_international", "is_fraud",
                       "is_high_value"]
KEY = {"customers": "customer_id", "transactions": "transaction_id"}
# Odd sizes: the last page is a partial one. 20,011 rows is past MAX_PAGE_SIZE, a guard for the
# browser that `large_pages` lifts so that 200,000 transactions take a few pages, not hundreds.
PAGE_SIZE = {"customers": 97, "transactions": 20_011}


# -- the independent expectation ---------------------------------------------------------------------
def expected(silver, kind: str, f: Filters) -> pd.DataFrame:
    """The list from the silver frames and the reference's filter semantics, in key order."""
    chosen = reference_transactions(silver, f)  # chosen transactions of the chosen customers, indexed by silver row
    if kind == "customers":
        per = chosen.groupby("customer_id")["amount"].agg(transaction_count="size", total_spend="sum").round(2)
        c = silver["customers"].merge(silver["credit_profiles"][["customer_id", "credit_score_band"]],
                                      on="customer_id", how="left")
        c = c[c["customer_id"].isin(reference_customers(silver, f))].join(per, on="customer_id")
        out = c.fillna({"transaction_count": 0, "total_spend": 0.0}).astype({"transaction_count": "int64"})
        return out[CUSTOMER_COLUMNS].sort_values("customer_id").reset_index(drop=True)
    t = silver["transactions"].iloc[chosen.index]
    assert (t["customer_id"].to_numpy() == chosen["customer_id"].to_numpy()).all()  # the index is silver's row
    assert (t["merchant_category"].to_numpy() == chosen["merchant_category"].to_numpy()).all()
    t = t.merge(silver["merchants"][["merchant_id", "merchant_name"]], on="merchant_id", how="left")
    return t[TRANSACTION_COLUMNS].sort_values("transaction_id").reset_index(drop=True)


def assert_same_rows(got: pd.DataFrame, want: pd.DataFrame, kind: str, what: str) -> None:
    """Same columns and rows (in key order); floats to rel 1e-9, everything else exactly."""
    assert list(got.columns) == list(want.columns), what
    got = got.sort_values(KEY[kind]).reset_index(drop=True)
    assert len(got) == len(want), (what, len(got), len(want))
    for col in want.columns:
        if pd.api.types.is_float_dtype(want[col]):
            same = np.isclose(got[col].to_numpy(float), want[col].to_numpy(float), rtol=1e-9, atol=1e-9)
        else:
            same = ((got[col] == want[col]) | (got[col].isna() & want[col].isna())).to_numpy()
        assert same.all(), f"{what}.{col}: {int((~same).sum())} rows differ"


def walk(store: DataStore, kind: str, page_size: int, sort: str | None = None, descending: bool = False):
    """Every page in turn, checking each one's length and the total; all rows in page order."""
    pages, total, page = [], None, 1
    while True:
        rows, n = store.detail(kind, page, page_size, sort, descending)
        assert total in (None, n), "the total changed between pages"
        total = n
        assert len(rows) == min(page_size, max(0, total - (page - 1) * page_size)), (kind, page)
        if rows.empty:
            break
        pages.append(rows)
        page += 1
    out = pd.concat(pages, ignore_index=True) if pages else rows
    assert len(out) == total and out[KEY[kind]].is_unique, "pages overlap or skip"
    return out, total


def make_store(url: str, f: Filters) -> DataStore:
    store = DataStore(url)
    store.param.update(**{d: v if d in DATE_DIMENSIONS else list(v) for d, v in f.active().items()})
    assert store.filters() == f, "a case value is not in the data"
    return store


@pytest.fixture
def large_pages(monkeypatch):
    monkeypatch.setattr(detail, "MAX_PAGE_SIZE", 50_000)


def _most_common(series: pd.Series):
    return series.value_counts().sort_index().idxmax()


@pytest.fixture(scope="module")
def cases(silver) -> dict[str, Filters]:
    c, t, acc = silver["customers"], silver["transactions"], silver["accounts"]
    segments = sorted(c["customer_segment"].unique())
    held = acc[["customer_id", "product_name"]].drop_duplicates()
    pairs = held.merge(held, on="customer_id")
    pairs = pairs[pairs["product_name_x"] < pairs["product_name_y"]]
    top_pair = pairs.groupby(["product_name_x", "product_name_y"]).size().idxmax()
    return {
        "none": Filters(),
        "one customer filter": Filters(customer_segment=(segments[0],)),
        "several customer dimensions": Filters(customer_segment=tuple(segments[:2]),
                                               region=(_most_common(c["region"]),),
                                               age_group=(_most_common(c["age_group"]),)),
        "a transaction filter": Filters(merchant_category=(sorted(t["merchant_category"].unique())[0],)),
        "holds every listed product": Filters(product=tuple(top_pair)),
        "customer and transaction": Filters(customer_segment=(segments[0],), state=(_most_common(c["state"]),),
                                            channel=("Mobile", "Online"), transaction_hour=tuple(range(8, 20)),
                                            date_from=dt.date(2025, 10, 1)),
        "empty": Filters(state=("AK",), city=("ATLANTA",)),
    }


CASES = ("none", "one customer filter", "several customer dimensions", "a transaction filter",
         "holds every listed product", "customer and transaction", "empty")


# -- the lists are the selection ---------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_all_pages_together_are_the_filtered_silver_rows(case, warehouse_url, silver, cases, large_pages):
    f = cases[case]
    store = make_store(warehouse_url, f)
    totals = {}
    for kind in KEY:
        want = expected(silver, kind, f)
        got, totals[kind] = walk(store, kind, PAGE_SIZE[kind])
        assert totals[kind] == len(want), (case, kind)
        assert_same_rows(got, want, kind, f"{case}/{kind}")
        assert got[KEY[kind]].is_monotonic_increasing  # no sort: in key order
    assert (totals["customers"] == 0) == (case == "empty")
    if f.has_transaction_filter or case == "empty":  # else customers without a transaction are listed too
        assert (expected(silver, "customers", f)["transaction_count"] > 0).all()


def test_the_customers_transaction_counts_add_up_to_the_transaction_list(warehouse_url, cases, large_pages):
    for case in CASES:
        store = make_store(warehouse_url, cases[case])
        customers, _ = walk(store, "customers", MAX_PAGE_SIZE)
        assert customers["transaction_count"].sum() == store.detail("transactions", 1, 1)[1], case


def _in_order(want: pd.DataFrame, kind: str, sort: str, descending: bool) -> list:
    """The keys in the order the list promises: the column (NULLs last), ties by the key ascending."""
    ordered = want.sort_values(KEY[kind], kind="stable").sort_values(
        sort, ascending=not descending, na_position="last", kind="stable")
    return ordered[KEY[kind]].tolist()


@pytest.mark.parametrize("descending", [False, True])
def test_sorting_orders_the_whole_list_across_pages(descending, warehouse_url, silver, cases):
    for kind, case in (("customers", "one customer filter"), ("transactions", "customer and transaction")):
        f = cases[case]
        store, want = make_store(warehouse_url, f), expected(silver, kind, f)
        page_size = len(want) // 3 + 1  # three pages, the last one partial
        assert 100 < page_size <= MAX_PAGE_SIZE
        for sort in want.columns:
            got, _ = walk(store, kind, page_size, sort, descending)
            assert got[KEY[kind]].tolist() == _in_order(want, kind, sort, descending), (kind, sort, descending)


def test_pages_follow_the_filters_of_the_moment(warehouse_url, silver, cases):
    store = DataStore(warehouse_url)
    before, total = store.detail("customers", 2, 10)
    store.param.update(customer_segment=list(cases["one customer filter"].customer_segment))
    after, narrowed = store.detail("customers", 2, 10)
    assert narrowed == len(expected(silver, "customers", cases["one customer filter"])) < total
    assert set(after["customer_segment"]) == set(cases["one customer filter"].customer_segment)
    assert not after.equals(before)
    after["customer_id"] = -1  # a private copy: the cached page is shared
    assert (store.detail("customers", 2, 10)[0]["customer_id"] > 0).all()


def test_a_page_past_the_end_is_empty(warehouse_url):
    rows, total = DataStore(warehouse_url).detail("customers", 10_000, 100)
    assert rows.empty and list(rows.columns) == CUSTOMER_COLUMNS and total == 1500


# -- arguments from a browser message are checked before any query ------------------------------------
HOSTILE = ["customers; DROP TABLE silver.customers; --", "' OR 1=1 --", "<script>alert(1)</script>", "Customers",
           "", "x" * 100_000, None, 1, ["customers"]]


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_hostile_kind_is_rejected(bad, warehouse_url, monkeypatch):
    monkeypatch.setattr(queries, "_read", lambda *a: pytest.fail("a query ran"))
    with pytest.raises(ValueError, match=r"unknown detail list .*; choose one of: customers, transactions") as err:
        DataStore(warehouse_url).detail(bad, 1, 25)
    assert len(str(err.value)) < 200


@pytest.mark.parametrize("bad", ["total_spend; DROP TABLE silver.customers --", "customer_id DESC", "1",
                                 "(SELECT 1)", "amount", "CUSTOMER_ID", "", 3, ("city",)])
def test_a_hostile_sort_is_rejected(bad, warehouse_url, monkeypatch):
    monkeypatch.setattr(queries, "_read", lambda *a: pytest.fail("a query ran"))
    with pytest.raises(ValueError, match=r"cannot sort the customers by .*; choose one of: customer_id, "):
        DataStore(warehouse_url).detail("customers", 1, 25, sort=bad)


@pytest.mark.parametrize("page, page_size, descending", [
    (0, 25, False), (-1, 25, False), (1.5, 25, False), ("2", 25, False), (True, 25, False), (None, 25, False),
    (1, 0, False), (1, MAX_PAGE_SIZE + 1, False), (1, "25; DROP TABLE x", False), (1, 25, "yes")])
def test_bad_pages_are_rejected(page, page_size, descending, warehouse_url, monkeypatch):
    monkeypatch.setattr(queries, "_read", lambda *a: pytest.fail("a query ran"))
    with pytest.raises(ValueError, match=r"must be (a whole number from 1|True or False)"):
        DataStore(warehouse_url).detail("transactions", page, page_size, descending=descending)


# -- the store's machinery: timeout, errors -----------------------------------------------------------
def test_a_slow_detail_query_is_cancelled_with_a_clear_message(warehouse_url, monkeypatch):
    slow = sa.select(sa.text("sum(hash(a.range + b.range)) AS s")).select_from(
        sa.text("range(1000000000) a, range(1000) b"))  # hours of work
    monkeypatch.setattr(queries, "count_query", lambda *a: slow)
    monkeypatch.setenv(queries.ENV_QUERY_TIMEOUT, "0.5")
    store = DataStore(warehouse_url, date_from=dt.date(2001, 2, 4))  # filters no other test caches
    started = time.perf_counter()
    with pytest.raises(WarehouseError, match=r"longer than 0.5 s and was cancelled"):
        store.detail("transactions", 1, 25)
    assert time.perf_counter() - started < 15


def test_a_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(WarehouseError, match="there is no warehouse file at .*; build it with"):
        DataStore(f"duckdb:///{tmp_path}/nothing.duckdb").detail("customers", 1, 25)


# -- PostgreSQL ----------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_pages_are_the_same_selection(postgres_reader_url, silver, cases):
    f = cases["customer and transaction"]
    store = make_store(postgres_reader_url, f)
    try:
        for kind in KEY:
            got, total = walk(store, kind, 100, "total_spend" if kind == "customers" else "amount", descending=True)
            want = expected(silver, kind, f)
            assert_same_rows(got, want, kind, f"postgres/{kind}")
            sort = "total_spend" if kind == "customers" else "amount"
            assert got[KEY[kind]].tolist() == _in_order(want, kind, sort, True)
    finally:
        forget(postgres_reader_url)


def test_a_page_near_the_end_is_read_from_the_end_with_the_same_rows(warehouse_url, tmp_path):
    """OFFSET sorts the rows it skips: the last pages are read backwards from the end, and hold
    exactly the rows the forward query gives, NULLs (last) included: here customers without a
    credit profile and transactions whose merchant is unknown."""
    store = altered_copy(warehouse_url, tmp_path, "DELETE FROM silver.credit_profiles WHERE customer_id % 7 = 0",
                         "DELETE FROM silver.merchants WHERE merchant_id % 5 = 0")
    f, engine = Filters(channel=("Mobile",)), shared_engine(store.url)
    for kind, sort in (("transactions", "merchant_name"), ("customers", "credit_score_band")):
        total = int(pd.read_sql(detail.count_query(kind, f), engine).iat[0, 0])
        last = (total + 24) // 25
        for descending, page in ((True, last), (False, last), (True, last - 1)):
            backwards = detail.page_query(kind, f, page, 25, sort, descending, total)
            assert f"OFFSET {(page - 1) * 25}" not in str(backwards.compile(compile_kwargs={"literal_binds": True}))
            forwards = pd.read_sql(detail.page_query(kind, f, page, 25, sort, descending), engine)
            pd.testing.assert_frame_equal(pd.read_sql(backwards, engine), forwards,
                                          obj=f"{kind} by {sort}, page {page} of {last}")
            assert forwards[sort].isna().all() and len(forwards) == (total - 25 * (last - 1) if page == last else 25)
