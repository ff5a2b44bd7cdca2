"""Data contract: every gold table (materialised, and as `gold_query` under each filter) equals an
independent pandas computation from silver (tests/gold_reference.py, written from docs/metrics.md)."""
from __future__ import annotations

import datetime as dt
from dataclasses import fields

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from dashboard.warehouse.filters import Filters
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import GOLD, GOLD_COLUMNS, GOLD_TABLES

from gold_reference import reference_customers, reference_gold, reference_transactions

REL = 1e-9
ABS = 1e-9  # only matters for a signed mean that cancels to ~0

# The group keys of each table (docs/metrics.md); the other text / int columns are attributes of
# the group and compared exactly.
KEYS = {
    "analytics_customer_behavior_clusters": ("customer_segment", "age_group", "income_bracket"),
    "analytics_transaction_time_patterns": ("day_of_week", "transaction_hour", "channel", "merchant_category"),
    "analytics_product_cross_sell_patterns": ("product_1", "product_2"),
    "analytics_merchant_spending_patterns": ("category_group", "category", "region", "customer_segment", "age_group"),
    "analytics_credit_score_behavior_correlation": ("credit_score_band", "income_bracket", "customer_segment"),
    "analytics_geographic_clustering": ("state", "city"),
    "analytics_seasonal_patterns": ("year", "month", "day_of_week", "merchant_category"),
}
COUNTS = {"customer_count", "transaction_count", "unique_customers", "fraud_count", "high_value_count",
          "international_count", "unique_merchants", "total_transactions_90d", "total_accounts"}
assert set(KEYS) == set(GOLD_TABLES)


# -- comparison --------------------------------------------------------------------------------
def _normalise(frame: pd.DataFrame, keys: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.copy()
    for k in keys:
        if pd.api.types.is_numeric_dtype(frame[k]) and not frame.empty:
            frame[k] = frame[k].astype("int64")
        else:
            frame[k] = frame[k].astype(object)
    return frame.sort_values(list(keys), kind="stable").reset_index(drop=True)


def _show(rows: pd.DataFrame, limit: int = 5) -> str:
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        return rows.head(limit).to_string(index=False)


def assert_gold_equal(table: str, actual: pd.DataFrame, expected: pd.DataFrame, context: str = "") -> None:
    """Gold `actual` equals reference `expected`: same columns, same group keys, exact counts and
    attributes, floats to rel 1e-9 (NaN == NaN). The message names the table, the columns and a few
    mismatching rows."""
    where = f"{table}{f' [{context}]' if context else ''}"
    assert tuple(actual.columns) == GOLD_COLUMNS[table], f"{where}: columns {list(actual.columns)}"
    keys = KEYS[table]
    a, e = _normalise(actual, keys), _normalise(expected, keys)
    dup = a[a.duplicated(list(keys), keep=False)]
    assert dup.empty, f"{where}: duplicate group keys in gold:\n{_show(dup[list(keys)])}"

    a_keys, e_keys = set(map(tuple, a[list(keys)].to_numpy())), set(map(tuple, e[list(keys)].to_numpy()))
    problems = []
    if a_keys != e_keys:
        extra, missing = sorted(a_keys - e_keys, key=str), sorted(e_keys - a_keys, key=str)
        problems.append(f"group keys differ: {len(a_keys)} in gold, {len(e_keys)} in reference; "
                        f"only in gold ({len(extra)}): {extra[:5]}; only in reference ({len(missing)}): {missing[:5]}")
    m = a.merge(e, on=list(keys), how="inner", suffixes=("", "__ref"))
    for col in GOLD_COLUMNS[table]:
        if col in keys:
            continue
        got, want = m[col], m[col + "__ref"]
        if m.empty:
            continue
        if col in COUNTS or pd.api.types.is_integer_dtype(want) or pd.api.types.is_bool_dtype(want):
            bad = got.astype("int64").to_numpy() != want.astype("int64").to_numpy()
        elif pd.api.types.is_float_dtype(want):
            g, w = got.astype(float).to_numpy(), want.astype(float).to_numpy()
            bad = ~np.isclose(g, w, rtol=REL, atol=ABS, equal_nan=True)
        else:  # text, last_updated
            bad = ~((got == want) | (got.isna() & want.isna())).to_numpy()
        if bad.any():
            rows = m.loc[bad, list(keys) + [col, col + "__ref"]].rename(
                columns={col: f"{col} (gold)", col + "__ref": f"{col} (reference)"})
            problems.append(f"column {col!r}: {int(bad.sum())} of {len(m)} rows differ, e.g.\n{_show(rows)}")
    assert not problems, f"{where}: gold != reference\n" + "\n".join(problems)


# -- fixtures ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def conn(engine):
    with engine.connect() as c:
        yield c


@pytest.fixture(scope="module")
def materialised(conn) -> dict[str, pd.DataFrame]:
    return {name: pd.read_sql(sa.text(f"SELECT * FROM {GOLD}.{name}"), conn) for name in GOLD_TABLES}


def _most_common(series: pd.Series):
    return series.value_counts().sort_index(kind="stable").sort_values(ascending=False, kind="stable").index[0]


@pytest.fixture(scope="module")
def filter_cases(silver) -> dict[str, Filters]:
    """One Filters value per dimension, with values picked from the data."""
    c, cp, acc, t = silver["customers"], silver["credit_profiles"], silver["accounts"], silver["transactions"]
    first = lambda s: sorted(s.dropna().unique())[0]  # noqa: E731
    held = acc[["customer_id", "product_name"]].drop_duplicates()
    counts = held["product_name"].value_counts()
    pair = held.merge(held, on="customer_id")
    pair = pair[pair["product_name_x"] < pair["product_name_y"]]
    top_pair = pair.groupby(["product_name_x", "product_name_y"]).size().sort_values(ascending=False).index[0]
    as_of = pd.Timestamp(silver["build_info"]["as_of_date"].iloc[0]).date()
    return {
        "customer_segment": Filters(customer_segment=(first(c["customer_segment"]),)),
        "region": Filters(region=(first(c["region"]),)),
        "state": Filters(state=(_most_common(c["state"]),)),
        "city": Filters(city=(_most_common(c["city"]),)),
        "age_group": Filters(age_group=(first(c["age_group"]),)),
        "income_bracket": Filters(income_bracket=(first(c["income_bracket"]),)),
        "credit_score_band": Filters(credit_score_band=(first(cp["credit_score_band"]),)),
        # a mid-popularity product (not one nearly everyone holds)
        "product": Filters(product=(counts.index[len(counts) // 2],)),
        "product_pair": Filters(product=tuple(top_pair)),
        "channel": Filters(channel=("Mobile",)),
        "category_group": Filters(category_group=(first(t["category_group"]),)),
        "merchant_category": Filters(merchant_category=(first(t["merchant_category"]),)),
        "day_of_week": Filters(day_of_week=(0,)),   # Sunday
        "transaction_hour": Filters(transaction_hour=(12,)),
        # the latest month lies inside the 90-day window; the earliest one before it
        "month": Filters(month=(int(t["month"].max()),)),
        "month_before_window": Filters(month=(int(t["month"].min()),)),
        "date_range": Filters(date_from=as_of - dt.timedelta(days=45), date_to=as_of - dt.timedelta(days=20)),
    }


FILTER_CASES = ("customer_segment", "region", "state", "city", "age_group", "income_bracket",
                "credit_score_band", "product", "product_pair", "channel", "category_group",
                "merchant_category", "day_of_week", "transaction_hour", "month", "month_before_window",
                "date_range")


def _gold_under(conn, table: str, filters: Filters) -> pd.DataFrame:
    return pd.read_sql(gold_query(table, filters), conn)


# -- materialised gold -------------------------------------------------------------------------
@pytest.mark.parametrize("table", GOLD_TABLES)
def test_materialised_gold_matches_reference(table, materialised, silver):
    gold = materialised[table]
    assert len(gold) > 0, f"{table} is empty"
    assert_gold_equal(table, gold, reference_gold(silver, table, Filters()), "materialised")


def test_last_updated_is_build_time(materialised, silver):
    built_at = silver["build_info"]["built_at"].iloc[0]
    assert built_at.tzinfo is not None
    for table, gold in materialised.items():
        assert gold["last_updated"].nunique() == 1, table
        assert gold["last_updated"].iloc[0] == built_at, (table, gold["last_updated"].iloc[0], built_at)


# -- filtered gold -----------------------------------------------------------------------------
def test_every_filter_dimension_is_covered(filter_cases):
    covered = {name for case in filter_cases.values() for name in case.active()}
    assert covered == {f.name for f in fields(Filters)}


@pytest.mark.parametrize("case", FILTER_CASES)
def test_filter_case_restricts_something(case, filter_cases, silver):
    """Each case's values come from the data and select a non-empty proper subset."""
    f = filter_cases[case]
    all_txn, all_cust = reference_transactions(silver), reference_customers(silver)
    txn, cust = reference_transactions(silver, f), reference_customers(silver, f)
    assert 0 < len(txn) < len(all_txn), (case, len(txn), len(all_txn))
    assert 0 < len(cust) <= len(all_cust), (case, len(cust))


@pytest.mark.parametrize("case", FILTER_CASES)
@pytest.mark.parametrize("table", GOLD_TABLES)
def test_filtered_gold_matches_reference(table, case, conn, silver, filter_cases):
    f = filter_cases[case]
    assert_gold_equal(table, _gold_under(conn, table, f), reference_gold(silver, table, f), f"{case}: {f.active()}")


@pytest.fixture(scope="module")
def combined_filters(silver) -> Filters:
    """Customer AND transaction filters together, two values in one dimension (OR)."""
    c = silver["customers"]
    segments = tuple(sorted(c["customer_segment"].unique())[:2])
    return Filters(customer_segment=segments, region=(_most_common(c["region"]),),
                   channel=("Mobile", "Online"), transaction_hour=tuple(range(8, 20)))


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_combined_filters_match_reference(table, conn, silver, combined_filters):
    f = combined_filters
    expected = reference_gold(silver, table, f)
    assert len(expected) > 0
    assert_gold_equal(table, _gold_under(conn, table, f), expected, f"combined: {f.active()}")


@pytest.mark.parametrize("table", GOLD_TABLES)
def test_filter_matching_nothing_gives_no_rows(table, conn, silver):
    f = Filters(state=("ZZ",))
    gold = _gold_under(conn, table, f)
    assert len(gold) == 0 and tuple(gold.columns) == GOLD_COLUMNS[table]
    assert len(reference_gold(silver, table, f)) == 0


def test_credit_utilization_is_card_balance_owed_over_limit(silver):
    """avg_credit_utilization_pct averages silver's per-customer utilisation; check that field against
    its definition (card balance owed / card limit x 100, NULL without a card). Stored to 2 decimals
    from unrounded balances, hence the 0.01 tolerance."""
    acc, cp = silver["accounts"], silver["credit_profiles"].set_index("customer_id")
    owed = -acc[acc["product_category"] == "CREDIT"].groupby("customer_id")["balance"].sum()
    has_card = cp.index.isin(owed.index)
    assert cp.loc[~has_card, "credit_utilization_pct"].isna().all()
    expected = 100 * owed / cp.loc[owed.index, "credit_limit"]
    got = cp.loc[owed.index, "credit_utilization_pct"]
    assert np.allclose(got, expected, rtol=0, atol=0.011), (got - expected).abs().max()
