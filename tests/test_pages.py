"""How a drill-down page is read (dashboard/warehouse/pages.py): near either end of a filtered
transaction list, inside a window of the unfiltered list's prebuilt index; a window too small is
noticed and the page read another way; the index by merchant name from the merchants' groups;
the filtered transaction list's length from the customer list. Each is the plain query's answer,
on DuckDB and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.engines import fast_tables, forget, shared_engine
from dashboard.warehouse import pages, seek
from dashboard.warehouse.detail import COLUMNS, count_query, index_query, page_query
from dashboard.warehouse.filters import Filters

SORTS = COLUMNS["transactions"]
FILTERS = {"a segment": Filters(customer_segment=("Mass Market",)),
           "a channel and a region": Filters(channel=("Mobile",), region=("West",)),
           "a product": Filters(product=("Credit Card",)),
           "working hours of a segment": Filters(transaction_hour=tuple(range(9, 18)), customer_segment=("Premium",))}


def _pages(url: str, f: Filters, sort: str, descending: bool) -> list[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(which page, read by `read_page`, read by the plain query) for pages near both ends, and
    whether `read_page` took a window for each."""
    engine, available = shared_engine(url), fast_tables(url)
    read = lambda query: pd.read_sql(query, engine)  # noqa: E731
    total = int(read(count_query("transactions", f)).iat[0, 0])
    last = (total + 24) // 25
    out = []
    for page in (1, 2, 40, last - 3, last):
        got = pages.read_page(read, "transactions", f, page, 25, sort, descending, total, available,
                              lambda g: pages.read_index(read, g, sort, descending, available))
        out.append((f"page {page} of {last}", got, read(page_query("transactions", f, page, 25, sort, descending))))
    return out


@pytest.fixture
def windows(monkeypatch):
    """The windows `read_page` sorted, and how many rows each gave."""
    seen, plain = [], pages.page_query

    def spy(*args, **kwargs):
        query = plain(*args, **kwargs)
        seen.append(args[-1] if len(args) > 9 else kwargs.get("within"))
        return query

    monkeypatch.setattr(pages, "page_query", spy)
    return seen


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("case", FILTERS)
def test_near_pages_of_a_filtered_list_are_the_plain_pages(case, sort, warehouse_url, windows):
    descending = (SORTS.index(sort) + list(FILTERS).index(case)) % 2 == 1  # each sort both ways over the cases
    for what, got, want in _pages(warehouse_url, FILTERS[case], sort, descending):
        pd.testing.assert_frame_equal(got, want, obj=f"{case}, by {sort}, {what}")
    # a window, among the chosen values' buckets where the filter chooses values of the sort column (a
    # channel), unless the filter chooses by where rows fall in the sort's order (hours of the time)
    along = sort == "transaction_ts" and bool(FILTERS[case].transaction_hour)
    assert any(w is not None for w in windows) != along


def test_a_window_too_small_is_widened_then_left(warehouse_url, windows, monkeypatch):
    """Windows holding too few of the filter's rows (here a hundredth, then a tenth of enough) are
    noticed by the rows they give, and the page is read the plain way: still the same page."""
    monkeypatch.setattr(pages, "SPARES", (0.01, 0.1))
    for what, got, want in _pages(warehouse_url, FILTERS["a segment"], "merchant_name", True):
        pd.testing.assert_frame_equal(got, want, obj=what)
    assert None in windows and len(windows) > 5  # some page: two windows, then the plain query


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("case", FILTERS)
def test_the_index_by_merchant_name_from_the_merchants_is_the_plain_index(case, descending, warehouse_url):
    engine, f = shared_engine(warehouse_url), FILTERS[case]
    grouped = pd.read_sql(index_query(f, "merchant_name", descending), engine)
    assert "per_merchant" in str(index_query(f, "merchant_name", descending).compile())
    pd.testing.assert_frame_equal(grouped, pd.read_sql(index_query(f, "merchant_name", descending, plain=True), engine))


@pytest.mark.parametrize("sort", SORTS)
def test_a_list_without_nulls_is_indexed_without_bucketing_them(sort, warehouse_url):
    """The test warehouse holds no NULL of any sort column (its prebuilt indexes say so): a filtered
    list's index then groups by the buckets' values alone, and is the same index; bucketed by ranges
    of values, without the keys' bounds (a window of such buckets is a range of values)."""
    engine, available, f = shared_engine(warehouse_url), fast_tables(warehouse_url), FILTERS["a segment"]
    sent = []
    got = pages.read_index(lambda q: sent.append(str(q.compile())) or pd.read_sql(q, engine), f, sort, True, available)
    want = pd.read_sql(index_query(f, sort, True, plain=True), engine)
    keys = ["first_key", "last_key"]
    if seek.BUCKETS.get(sort, (seek.VALUE_ID,))[0] == seek.RANGE:
        assert got[keys].isna().all().all() and want[keys].notna().all().all(), sort
        got, want = got.drop(columns=keys), want.drop(columns=keys)
    pd.testing.assert_frame_equal(got, want, obj=sort)
    assert "CASE WHEN" not in sent[-1], sent[-1]


COUNTED = {**FILTERS, "two regions and an age group": Filters(region=("West", "South"), age_group=("26-35",)),
           "a credit band": Filters(credit_score_band=("Excellent",)), "nobody": Filters(state=("AK",), city=("ATLANTA",)),
           "a month": Filters(month=(3,)), "none": Filters(), "a channel": Filters(channel=("Mobile", "Online")),
           "a product in a category": Filters(product=("Credit Card",), merchant_category=("Restaurants",)),
           "two products at some hours": Filters(product=("Credit Card", "Mortgage"), transaction_hour=(9, 10, 11)),
           "a credit band in a month": Filters(credit_score_band=("Good",), month=(2,)),
           "a city's channel": Filters(city=("ATLANTA",), channel=("Mobile",)),
           "a channel from a date": Filters(channel=("Mobile",), date_from=dt.date(2024, 3, 1))}
# read from the summaries (counts by combination of transaction and customer keys): every case of
# transaction filters but those on a dimension no summary holds (a city, a date range)
SUMMARISED = {"a channel and a region", "working hours of a segment", "a month", "a channel", "a product in a category",
              "two products at some hours", "a credit band in a month"}


def _check_counts(url: str) -> None:
    engine, available = shared_engine(url), fast_tables(url)
    for case, f in COUNTED.items():
        fast, plain = count_query("transactions", f, available), count_query("transactions", f)
        source = str(fast.compile())
        customers_only = bool(f.active()) and not f.has_transaction_filter
        assert ("sum(fast.customer_list.transaction_count)" in source) == customers_only, case
        assert ("fast.summary_" in source) == (case in SUMMARISED), case
        assert pd.read_sql(fast, engine).iat[0, 0] == pd.read_sql(plain, engine).iat[0, 0], case


def test_a_filtered_transaction_list_is_counted_from_the_customer_list_or_a_summary(warehouse_url):
    _check_counts(warehouse_url)


@pytest.mark.postgres
def test_postgres_near_pages_counts_and_merchant_index(postgres_reader_url):
    engine, segment, channel = shared_engine(postgres_reader_url), FILTERS["a segment"], FILTERS["a channel and a region"]
    try:
        _check_counts(postgres_reader_url)
        for f, sort, descending in ((segment, "merchant_name", True), (segment, "amount", False), (channel, "channel", True)):
            for what, got, want in _pages(postgres_reader_url, f, sort, descending):
                pd.testing.assert_frame_equal(got, want, obj=f"postgres {f.active()}, by {sort}, {what}")
        for f in (segment, channel):
            by_name = (index_query(f, "merchant_name", False), index_query(f, "merchant_name", False, plain=True))
            pd.testing.assert_frame_equal(*(pd.read_sql(q, engine) for q in by_name))
    finally:
        forget(postgres_reader_url)
