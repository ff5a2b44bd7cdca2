"""Does the synthetic bank look like a real retail bank?

The seed notebook's data was broken in ways no schema test notices: every transaction at
hour 0, 0.1 transactions per customer in 90 days, a mean satisfaction near 1. These tests pin
the shapes a real bank's data has, with bounds loose enough to survive a different seed but
tight enough that such breakage fails them. Measured values for the session build
(1,500 customers, 4 months, seed 7) are noted next to each bound.

Most tests use the `silver` fixture (the real small build, read back from the warehouse);
seasonal ones need a full year and generate a small bank directly.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.warehouse import reference as ref
from dashboard.warehouse.generate import Bank, BankSpec

NIGHT = range(0, 6)  # 00:00-05:59


# -- helpers / fixtures ------------------------------------------------------------------
@pytest.fixture(scope="module")
def tx(silver) -> pd.DataFrame:
    frame = silver["transactions"].copy()
    frame["transaction_date"] = pd.to_datetime(frame["transaction_date"])
    return frame


@pytest.fixture(scope="module")
def tx_people(tx, silver) -> pd.DataFrame:
    people = silver["customers"][["customer_id", "customer_segment", "age_group"]]
    return tx.merge(people, on="customer_id", how="left", validate="many_to_one")


@pytest.fixture(scope="module")
def year_tx() -> pd.DataFrame:
    """A full calendar year (2025) of a small bank, generated directly (< 1 s)."""
    bank = Bank(BankSpec(customers=800, months=12, seed=11))
    return pd.concat(list(bank.transaction_chunks()), ignore_index=True)


def share(mask: pd.Series) -> float:
    return float(mask.mean())


def rate(frame: pd.DataFrame, col: str = "is_fraud") -> float:
    return float(frame[col].mean())


# -- time of day -------------------------------------------------------------------------
def test_hour_matches_timestamp(tx):
    ts = pd.to_datetime(tx["transaction_ts"])
    assert (ts.dt.hour == tx["transaction_hour"]).all()
    assert (ts.dt.normalize() == tx["transaction_date"]).all()
    assert tx["transaction_hour"].between(0, 23).all()


def test_hour_of_day_shape(tx):
    hours = tx["transaction_hour"].value_counts(normalize=True).reindex(range(24), fill_value=0.0)
    night = hours.loc[0:5].sum()                      # measured ~2.9 %
    assert 0.003 < night < 0.10, f"night share {night:.2%}"
    assert hours.max() < 0.15, f"busiest hour holds {hours.max():.2%}"
    assert (hours > 0).sum() >= 20, "activity should spread over (almost) the whole day"
    early = hours.loc[2:5].mean()                     # 2-5 am average, ~0.64 %
    lunch = hours.loc[12:13].mean()                   # ~12x early
    evening = hours.loc[18:21].mean()                 # ~12x early
    assert lunch > 5 * early, (lunch, early)
    assert evening > 5 * early, (evening, early)
    # peaks are peaks: lunch and evening above the mid-afternoon lull
    assert lunch > 1.3 * hours.loc[15:16].mean()
    assert evening > 1.3 * hours.loc[15:16].mean()


def test_atm_and_branch_only_in_opening_hours(tx):
    atm = tx[tx["channel"] == "ATM"]
    branch = tx[tx["channel"] == "Branch"]
    assert len(atm) > 100 and len(branch) > 100
    assert atm["transaction_hour"].between(6, 23).all()
    assert branch["transaction_hour"].between(9, 17).all()
    assert not (branch["day_of_week"] == 0).any(), "branches are closed on Sunday"
    # ... while other channels are used at any hour
    assert (tx.loc[tx["channel"].isin(["Online", "Mobile"]), "transaction_hour"] < 6).any()


# -- week --------------------------------------------------------------------------------
def test_weekly_rhythm(tx):
    weekend = share(tx["is_weekend"])                 # measured ~29.4 %
    assert 0.25 < weekend < 0.40, f"weekend share {weekend:.2%}"
    pos = tx.loc[tx["channel"] == "POS", "day_name"].value_counts()
    assert pos["Saturday"] > 1.2 * pos["Tuesday"], pos.to_dict()   # ~1.47x
    # each day carries some business: no weekday empty or dominant
    days = tx["day_of_week"].value_counts(normalize=True)
    assert len(days) == 7 and days.min() > 0.08 and days.max() < 0.25, days.to_dict()


def test_calendar_columns_consistent(tx):
    date = tx["transaction_date"]
    dow = (date.dt.day_of_week + 1) % 7  # pandas Monday=0 -> Sunday=0
    assert (tx["day_of_week"] == dow).all()
    names = np.array(ref.DAY_NAMES, dtype=object)
    assert (tx["day_name"].astype(str).to_numpy() == names[tx["day_of_week"].to_numpy()]).all()
    assert (tx["day_name"].astype(str) == date.dt.day_name()).all()
    assert (tx["is_weekend"] == tx["day_of_week"].isin([0, 6])).all()
    assert (tx["month"] == date.dt.month).all()
    assert (tx["month_name"].astype(str) == date.dt.month_name()).all()
    assert (tx["quarter"] == date.dt.quarter).all()
    assert (tx["year"] == date.dt.year).all()
    assert (tx["season"].astype(str) == date.dt.month.map(ref.SEASONS)).all()


def test_window_covers_requested_months(tx, silver):
    info = silver["build_info"].iloc[0]
    assert tx["transaction_date"].max() == pd.Timestamp(info["as_of_date"])
    assert tx["transaction_date"].dt.to_period("M").nunique() == info["months"]
    daily = tx.groupby("transaction_date").size()
    assert len(daily) == (daily.index.max() - daily.index.min()).days + 1, "a day without transactions"


# -- seasons (one generated year) --------------------------------------------------------
def test_december_peak(year_tx):
    per_month = year_tx.groupby("month").size().reindex(range(1, 13), fill_value=0)
    assert (per_month > 0).all()
    ratio = per_month[12] / per_month.mean()          # measured ~1.37
    assert ratio > 1.15, f"December / mean month = {ratio:.3f}"
    assert per_month.idxmax() == 12


def test_summer_travel_peak(year_tx):
    is_travel = year_tx["merchant_category"].astype(str) == "Travel"
    summer = share(is_travel[year_tx["month"].isin([6, 7, 8])])   # ~7.3 %
    winter = share(is_travel[year_tx["month"].isin([1, 2, 3])])   # ~4.5 %
    assert summer > 1.25 * winter, (summer, winter)


# -- channels and people -----------------------------------------------------------------
def test_channel_mix_depends_on_age(tx_people):
    mix = pd.crosstab(tx_people["age_group"], tx_people["channel"], normalize="index")
    young, old = mix.loc["18-24"], mix.loc["65+"]
    assert young["Mobile"] > 2 * old["Mobile"], (young["Mobile"], old["Mobile"])   # ~45 % vs ~14 %
    assert old["Branch"] > 2 * young["Branch"], (old["Branch"], young["Branch"])
    assert young["Mobile"] > 0.25
    # every channel is actually used
    assert (tx_people["channel"].value_counts(normalize=True).reindex(ref.CHANNELS) > 0.003).all()


# -- risk --------------------------------------------------------------------------------
def test_fraud_rate_and_concentration(tx):
    overall = rate(tx)                                # measured ~0.09 %
    assert 0.0002 < overall < 0.01, f"fraud rate {overall:.4%}"
    by_channel = tx.groupby("channel")["is_fraud"].mean()
    assert by_channel["Online"] > by_channel["Branch"], by_channel.to_dict()
    night = tx["transaction_hour"].isin(NIGHT)
    night_rate, day_rate = rate(tx[night]), rate(tx[~night])   # ~0.29 % vs ~0.085 %
    assert night_rate > 1.5 * day_rate, (night_rate, day_rate)
    # fraud is not on the recurring autopay bills
    assert not tx.loc[tx["is_recurring"], "is_fraud"].any()


def test_international_share(tx):
    intl = share(tx["is_international"])              # measured ~2.7 %
    assert 0.005 < intl < 0.06, f"international share {intl:.2%}"
    by_cat = tx.groupby("merchant_category")["is_international"].mean()
    assert by_cat["Travel"] > by_cat["Grocery"]


# -- amounts -----------------------------------------------------------------------------
def test_amounts_positive_and_lognormal_per_category(tx_people):
    amount = tx_people["amount"]
    assert amount.notna().all() and (amount > 0).all()
    medians = tx_people.groupby("merchant_category")["amount"].median()
    assert medians["Travel"] > medians["Grocery"] > 0                  # ~520 vs ~72
    assert medians["Travel"] > 3 * medians["Grocery"]
    card = tx_people[~tx_people["is_recurring"]]
    for cat, frame in card.groupby("merchant_category"):
        if len(frame) < 500:
            continue
        # right-skewed: mean above median, log-amounts roughly symmetric
        assert frame["amount"].mean() > frame["amount"].median(), cat
        log = np.log(frame["amount"])
        assert abs(log.skew()) < 0.75, (cat, log.skew())
    by_segment = tx_people.groupby("customer_segment")["amount"].median()
    assert by_segment["Premium"] > 1.2 * by_segment["Mass Market"], by_segment.to_dict()  # ~113 vs ~60


def test_recurring_payments_recur_monthly(tx):
    rec = share(tx["is_recurring"])                   # measured ~7 %
    assert 0.03 < rec < 0.25, f"recurring share {rec:.2%}"
    bills = tx[tx["is_recurring"]].assign(ym=tx["transaction_date"].dt.to_period("M"))
    n_months = tx["transaction_date"].dt.to_period("M").nunique()
    pairs = bills.groupby(["customer_id", "merchant_id"])
    months_paid = pairs["ym"].nunique()
    assert len(months_paid) > 100
    assert (months_paid == n_months).mean() > 0.95, months_paid.value_counts().to_dict()
    # on a fixed day of the month (pairs with one bill a month)
    single = pairs.size() == months_paid
    day_spread = pairs["transaction_date"].agg(lambda d: d.dt.day.nunique())[single]
    assert (day_spread == 1).mean() > 0.95


def test_transactions_per_customer_90d(tx, silver):
    start = pd.Timestamp(silver["build_info"].iloc[0]["window_start_date"])
    window = tx[tx["transaction_date"] >= start]
    per_customer = window.groupby("customer_id").size()
    median = per_customer.median()                    # measured ~96
    assert 30 <= median <= 300, f"median transactions per active customer in 90 days: {median}"
    active = len(per_customer) / len(silver["customers"])
    assert 0.85 < active <= 1.0, f"active share {active:.2%}"


# -- balances, incomes, credit -----------------------------------------------------------
def test_balance_signs_by_product_category(silver):
    acc = silver["accounts"]
    cat = acc["product_category"].astype(str)
    assert set(cat) == {"DEPOSIT", "INVESTMENT", "CREDIT", "LOAN"}
    assert (acc.loc[cat.isin(["LOAN", "CREDIT"]), "balance"] <= 0).all()
    assert (acc.loc[cat.isin(["DEPOSIT", "INVESTMENT"]), "balance"] >= 0).all()
    for name, (category, sign) in ref.PRODUCTS.items():
        rows = acc[acc["product_name"] == name]
        assert (rows["product_category"] == category).all(), name
    per_customer = acc.groupby("customer_id").size()
    assert len(per_customer) == len(silver["customers"]), "every customer holds an account"
    assert 2 <= per_customer.mean() <= 6


def test_segment_income_ordering(silver):
    income = silver["customers"].groupby("customer_segment")["annual_income"].median()
    assert income["Premium"] > income["Affluent"] > income["Mass Market"], income.to_dict()
    assert income["Premium"] > 2.5 * income["Mass Market"]
    assert (silver["customers"]["annual_income"] > 0).all()


def test_credit_scores(silver):
    cp = silver["credit_profiles"].merge(silver["customers"][["customer_id", "annual_income"]],
                                         on="customer_id", validate="one_to_one")
    score = cp["credit_score"]
    assert score.between(300, 850).all()
    assert 650 < score.mean() < 750 and score.std() > 30          # ~702, ~67
    expected = pd.cut(score, [299, 579, 669, 739, 799, 850],
                      labels=["Poor", "Fair", "Good", "Very Good", "Excellent"]).astype(str)
    assert (cp["credit_score_band"].astype(str) == expected).all()
    assert cp["credit_score_band"].nunique() == 5
    rho_income = cp["credit_score"].corr(cp["annual_income"], method="spearman")      # ~+0.50
    rho_late = cp["credit_score"].corr(cp["late_payments_12m"], method="spearman")    # ~-0.41
    assert rho_income > 0.2, rho_income
    assert rho_late < -0.15, rho_late


def test_satisfaction_scores(silver):
    csat = silver["service_contacts"]["satisfaction_score"]
    assert len(csat) > 100
    assert csat.between(1, 5).all()
    assert 3.0 < csat.mean() < 4.6, csat.mean()      # measured ~3.98
    assert csat.nunique() >= 4


def test_geography(silver):
    cust = silver["customers"]
    state = cust["state"].astype(str)
    assert state.isin(ref.STATE_REGION).all(), sorted(set(state) - set(ref.STATE_REGION))
    assert (cust["region"].astype(str) == state.map(ref.STATE_REGION)).all()
    assert cust["region"].nunique() == len(ref.REGIONS)
    assert state.nunique() >= 20


# -- determinism -------------------------------------------------------------------------
def _snapshot(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, Bank]:
    bank = Bank(BankSpec(customers=300, months=3, seed=seed))
    return bank.customers, next(bank.transaction_chunks()), bank


def test_same_seed_same_bank():
    cust_a, tx_a, bank_a = _snapshot(5)
    cust_b, tx_b, bank_b = _snapshot(5)
    pd.testing.assert_frame_equal(cust_a, cust_b)
    pd.testing.assert_frame_equal(tx_a, tx_b)
    for name in ("accounts", "credit_profiles", "merchants", "service_contacts"):
        pd.testing.assert_frame_equal(getattr(bank_a, name), getattr(bank_b, name))


def test_different_seed_different_bank():
    cust_a, tx_a, _ = _snapshot(5)
    cust_c, tx_c, _ = _snapshot(6)
    assert not cust_a.equals(cust_c)
    assert not tx_a.equals(tx_c)
    assert not cust_a["annual_income"].equals(cust_c["annual_income"])
