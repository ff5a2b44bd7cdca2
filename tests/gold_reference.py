"""An independent pandas implementation of the seven gold tables, written from docs/metrics.md.

It deliberately shares no logic with `dashboard/warehouse/gold.py`: it starts from the raw silver
frames, re-derives what the spec defines from first principles (calendar columns from the
transaction date and timestamp, weekend / high-value flags, the 90-day window from the as-of date,
each transaction's category and group from its merchant) and implements the filter semantics of
the "Filters" section with pandas masks. Only the Filters value object and the gold column order
(the contract in schema.py) are imported.

    reference_gold(silver, table_name, filters) -> DataFrame with GOLD_COLUMNS[table_name]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.warehouse.filters import Filters
from dashboard.warehouse.schema import GOLD_COLUMNS

WINDOW_DAYS = 90            # "the 90 days ending on and including the as-of date"
HIGH_VALUE_USD = 1_000.0    # "a transaction of at least $1,000"
SEASON_OF_MONTH = {12: "Winter", 1: "Winter", 2: "Winter", 3: "Spring", 4: "Spring", 5: "Spring",
                   6: "Summer", 7: "Summer", 8: "Summer", 9: "Autumn", 10: "Autumn", 11: "Autumn"}

CUSTOMER_ATTRIBUTE_FILTERS = ("customer_segment", "region", "state", "city", "age_group",
                              "income_bracket", "credit_score_band")
TRANSACTION_FILTERS = ("channel", "category_group", "merchant_category", "day_of_week",
                       "transaction_hour", "month")


# -- silver, prepared once -------------------------------------------------------------------------
class _Bank:
    """The silver frames with everything the spec derives, computed independently of silver's own
    derived columns."""

    def __init__(self, silver: dict[str, pd.DataFrame]):
        info = silver["build_info"].iloc[0]
        self.built_at = info["built_at"]
        self.as_of = pd.Timestamp(info["as_of_date"])
        self.window_start = self.as_of - pd.Timedelta(days=WINDOW_DAYS - 1)

        # customers are the population; the credit profile is one row per customer
        self.customers = silver["customers"].merge(silver["credit_profiles"], on="customer_id",
                                                   how="left", validate="1:1")

        acc = silver["accounts"]
        self.accounts = acc[["customer_id", "product_name", "product_category", "balance",
                             "account_age_months"]].copy()

        sc = silver["service_contacts"]
        contact_date = pd.to_datetime(sc["contact_date"])
        self.contacts = pd.DataFrame({
            "customer_id": sc["customer_id"].to_numpy(),
            "in_window": ((contact_date >= self.window_start) & (contact_date <= self.as_of)).to_numpy(),
            "satisfaction_score": sc["satisfaction_score"].astype(float).to_numpy(),
        })

        t = silver["transactions"]
        merchants = silver["merchants"].set_index("merchant_id")
        ts = pd.to_datetime(t["transaction_ts"])
        date = pd.to_datetime(t["transaction_date"])
        dow = (date.dt.day_of_week + 1) % 7                # pandas Monday=0 -> spec Sunday=0
        month = date.dt.month
        amount = t["amount"].astype(float)
        self.transactions = pd.DataFrame({
            "customer_id": t["customer_id"].to_numpy(),
            "merchant_id": t["merchant_id"].to_numpy(),
            "merchant_category": merchants["merchant_category"].reindex(t["merchant_id"]).to_numpy(),
            "category_group": merchants["category_group"].reindex(t["merchant_id"]).to_numpy(),
            "channel": t["channel"].to_numpy(),
            "amount": amount.to_numpy(),
            "date": date.to_numpy(),
            "transaction_hour": ts.dt.hour.astype("int64").to_numpy(),
            "day_of_week": dow.astype("int64").to_numpy(),
            "day_name": date.dt.day_name().to_numpy(),
            "month": month.astype("int64").to_numpy(),
            "month_name": date.dt.month_name().to_numpy(),
            "quarter": date.dt.quarter.astype("int64").to_numpy(),
            "year": date.dt.year.astype("int64").to_numpy(),
            "season": month.map(SEASON_OF_MONTH).to_numpy(),
            "is_weekend": dow.isin([0, 6]).to_numpy(),
            "is_mobile": (t["channel"] == "Mobile").to_numpy(),
            "is_high_value": (amount >= HIGH_VALUE_USD).to_numpy(),
            "is_fraud": t["is_fraud"].astype(bool).to_numpy(),
            "is_international": t["is_international"].astype(bool).to_numpy(),
            "is_recurring": t["is_recurring"].astype(bool).to_numpy(),
        })
        self.in_window = ((self.transactions["date"] >= self.window_start)
                          & (self.transactions["date"] <= self.as_of)).to_numpy()


_PREPARED: dict[int, tuple[dict, _Bank]] = {}


def _bank(silver: dict[str, pd.DataFrame]) -> _Bank:
    hit = _PREPARED.get(id(silver))
    if hit is None or hit[0] is not silver:
        hit = _PREPARED[id(silver)] = (silver, _Bank(silver))
    return hit[1]


# -- filters ---------------------------------------------------------------------------------------
def _has_transaction_filter(f: Filters) -> bool:
    return any(getattr(f, d) for d in TRANSACTION_FILTERS) or f.date_from is not None or f.date_to is not None


def _transaction_mask(bank: _Bank, f: Filters) -> np.ndarray:
    """Transactions chosen by the transaction filters alone (OR inside a dimension, AND across)."""
    t = bank.transactions
    mask = np.ones(len(t), dtype=bool)
    for dim in TRANSACTION_FILTERS:
        values = getattr(f, dim)
        if values:
            mask &= t[dim].isin(list(values)).to_numpy()
    if f.date_from is not None:
        mask &= (t["date"] >= pd.Timestamp(f.date_from)).to_numpy()
    if f.date_to is not None:
        mask &= (t["date"] <= pd.Timestamp(f.date_to)).to_numpy()
    return mask


def _attribute_chosen_ids(bank: _Bank, f: Filters) -> pd.Index:
    """Customers chosen by the customer filters (attributes, credit band, every listed product)."""
    c = bank.customers
    mask = pd.Series(True, index=c.index)
    for dim in CUSTOMER_ATTRIBUTE_FILTERS:
        values = getattr(f, dim)
        if values:
            mask &= c[dim].isin(list(values))
    acc = bank.accounts
    for product in f.product:  # holds every listed product
        mask &= c["customer_id"].isin(acc.loc[acc["product_name"] == product, "customer_id"])
    return pd.Index(c.loc[mask, "customer_id"])


def _chosen_customer_ids(bank: _Bank, f: Filters) -> pd.Index:
    """Customer-grain population: the customer filters, and under any transaction filter only
    customers with at least one chosen transaction in the full period."""
    ids = _attribute_chosen_ids(bank, f)
    if _has_transaction_filter(f):
        active = pd.unique(bank.transactions.loc[_transaction_mask(bank, f), "customer_id"])
        ids = ids[ids.isin(active)]
    return ids


def _chosen_transactions(bank: _Bank, f: Filters) -> pd.DataFrame:
    """Transaction-grain population: chosen transactions of the chosen customers (full period),
    with the customer attributes the views group by."""
    t = bank.transactions
    ids = _attribute_chosen_ids(bank, f)
    mask = _transaction_mask(bank, f) & t["customer_id"].isin(ids).to_numpy()
    attrs = bank.customers.set_index("customer_id")[["region", "customer_segment", "age_group"]]
    chosen = t.loc[mask]
    return chosen.join(attrs, on="customer_id")


def _customer_profile(bank: _Bank, f: Filters) -> pd.DataFrame:
    """One row per chosen customer with the per-customer building blocks of docs/metrics.md."""
    ids = _chosen_customer_ids(bank, f)
    c = bank.customers[bank.customers["customer_id"].isin(ids)].set_index("customer_id")

    t = bank.transactions
    mask = bank.in_window & _transaction_mask(bank, f) & t["customer_id"].isin(ids).to_numpy()
    g = t.loc[mask].groupby("customer_id")
    txn = pd.DataFrame({
        "n_txn": g.size(),
        "volume": g["amount"].sum(),
        "n_categories": g["merchant_category"].nunique(),
        "n_mobile": g["is_mobile"].sum(),
        "n_weekend": g["is_weekend"].sum(),
        "volatility": g["amount"].std(ddof=1),          # NaN below 2 transactions
    })
    acc = bank.accounts.groupby("customer_id").agg(n_accounts=("balance", "size"),
                                                   total_balance=("balance", "sum"))
    contacts = bank.contacts.groupby("customer_id").agg(n_contacts=("in_window", "sum"),
                                                         satisfaction=("satisfaction_score", "mean"))
    p = c.join(txn).join(acc).join(contacts)
    for col in ("n_txn", "n_categories", "n_mobile", "n_weekend", "n_accounts", "n_contacts"):
        p[col] = p[col].fillna(0).astype("int64")
    for col in ("volume", "total_balance"):
        p[col] = p[col].fillna(0.0).astype(float)
    p["engagement"] = 100 * (0.4 * np.minimum(p["n_txn"] / 60, 1) + 0.3 * p["n_categories"] / 10
                             + 0.3 * np.minimum(p["n_accounts"] / 4, 1))
    return p.reset_index()


# -- helpers ---------------------------------------------------------------------------------------
def _ratio(num: pd.Series, den: pd.Series, scale: float = 1.0) -> pd.Series:
    """num / den, NaN (NULL) when the denominator is 0."""
    num, den = num.astype(float), den.astype(float)
    return (num * scale / den).where(den != 0)


def _grouped(frame: pd.DataFrame, keys: list[str], **aggs) -> pd.DataFrame:
    if frame.empty:
        return pd.DataFrame(columns=keys + list(aggs))
    return frame.groupby(keys, sort=True, dropna=False).agg(**aggs).reset_index()


def _finish(bank: _Bank, table: str, out: pd.DataFrame) -> pd.DataFrame:
    out = out.copy()
    out["last_updated"] = bank.built_at
    return out[list(GOLD_COLUMNS[table])].reset_index(drop=True)


# -- the seven tables ------------------------------------------------------------------------------
def _behavior_clusters(bank: _Bank, f: Filters) -> pd.DataFrame:
    p = _customer_profile(bank, f)
    g = _grouped(p, ["customer_segment", "age_group", "income_bracket"],
                 customer_count=("customer_id", "size"),
                 avg_transactions_90d=("n_txn", "mean"),
                 sum_volume=("volume", "sum"), sum_txn=("n_txn", "sum"),
                 sum_mobile=("n_mobile", "sum"), sum_weekend=("n_weekend", "sum"),
                 avg_unique_categories=("n_categories", "mean"),
                 avg_accounts=("n_accounts", "mean"),
                 avg_total_balance=("total_balance", "mean"),
                 avg_service_contacts=("n_contacts", "mean"),
                 avg_satisfaction_score=("satisfaction", "mean"),
                 engagement_score=("engagement", "mean"))
    g["avg_transaction_size"] = _ratio(g["sum_volume"], g["sum_txn"])
    g["mobile_usage_pct"] = _ratio(g["sum_mobile"], g["sum_txn"], 100)
    g["weekend_activity_pct"] = _ratio(g["sum_weekend"], g["sum_txn"], 100)
    return g


def _time_patterns(bank: _Bank, f: Filters) -> pd.DataFrame:
    t = _chosen_transactions(bank, f)
    g = _grouped(t, ["day_name", "day_of_week", "transaction_hour", "channel", "merchant_category"],
                 transaction_count=("amount", "size"), avg_amount=("amount", "mean"),
                 unique_customers=("customer_id", "nunique"), fraud_count=("is_fraud", "sum"),
                 high_value_count=("is_high_value", "sum"),
                 international_count=("is_international", "sum"))
    n = g["transaction_count"]
    g["fraud_rate_pct"] = _ratio(g["fraud_count"], n, 100)
    g["high_value_pct"] = _ratio(g["high_value_count"], n, 100)
    g["international_pct"] = _ratio(g["international_count"], n, 100)
    return g


def _cross_sell(bank: _Bank, f: Filters) -> pd.DataFrame:
    ids = _chosen_customer_ids(bank, f)
    acc = bank.accounts[bank.accounts["customer_id"].isin(ids)]
    # one holding per (customer, product): balances summed, the oldest account's age
    holding = acc.groupby(["customer_id", "product_name"], as_index=False).agg(
        category=("product_category", "first"), balance=("balance", "sum"), age=("account_age_months", "max"))
    holders = holding.groupby("product_name").size()
    pairs = holding.merge(holding, on="customer_id", suffixes=("_1", "_2"))
    pairs = pairs[pairs["product_name_1"] < pairs["product_name_2"]].copy()
    pairs["combined_balance"] = pairs["balance_1"] + pairs["balance_2"]
    pairs["min_age"] = np.minimum(pairs["age_1"], pairs["age_2"]).astype(float)
    g = _grouped(pairs, ["product_name_1", "product_name_2"],
                 category_1=("category_1", "first"), category_2=("category_2", "first"),
                 customer_count=("customer_id", "size"),
                 avg_combined_balance=("combined_balance", "mean"),
                 avg_min_age_months=("min_age", "mean"))
    g = g.rename(columns={"product_name_1": "product_1", "product_name_2": "product_2"})
    n1 = g["product_1"].map(holders).astype(float)
    n2 = g["product_2"].map(holders).astype(float)
    g["cross_sell_score"] = g["customer_count"].astype(float) * len(ids) / (n1 * n2)
    return g


def _merchant_spending(bank: _Bank, f: Filters) -> pd.DataFrame:
    t = _chosen_transactions(bank, f)
    g = _grouped(t, ["category_group", "merchant_category", "region", "customer_segment", "age_group"],
                 transaction_count=("amount", "size"), unique_customers=("customer_id", "nunique"),
                 unique_merchants=("merchant_id", "nunique"), total_spend=("amount", "sum"),
                 avg_transaction_amount=("amount", "mean"), n_recurring=("is_recurring", "sum"))
    g = g.rename(columns={"merchant_category": "category"})
    g["transactions_per_customer"] = _ratio(g["transaction_count"], g["unique_customers"])
    g["recurring_pct"] = _ratio(g["n_recurring"], g["transaction_count"], 100)
    return g


def _credit_behavior(bank: _Bank, f: Filters) -> pd.DataFrame:
    p = _customer_profile(bank, f)
    g = _grouped(p, ["credit_score_band", "income_bracket", "customer_segment"],
                 customer_count=("customer_id", "size"),
                 avg_credit_score=("credit_score", "mean"),
                 avg_annual_income=("annual_income", "mean"),
                 avg_transactions=("n_txn", "mean"),
                 sum_volume=("volume", "sum"), sum_txn=("n_txn", "sum"),
                 avg_volatility=("volatility", "mean"),                      # NaN skipped: >= 2 txns
                 avg_credit_utilization_pct=("credit_utilization_pct", "mean"),  # NaN skipped: no card
                 avg_total_balance=("total_balance", "mean"),
                 avg_past_due_accounts=("past_due_accounts", "mean"),
                 avg_late_payments=("late_payments_12m", "mean"),
                 avg_missed_payments=("missed_payments_12m", "mean"),
                 avg_tenure_months=("tenure_months", "mean"))
    g["avg_transaction_size"] = _ratio(g["sum_volume"], g["sum_txn"])
    return g


def _geographic(bank: _Bank, f: Filters) -> pd.DataFrame:
    p = _customer_profile(bank, f)
    p["is_premium"] = p["customer_segment"] == "Premium"
    p["is_affluent"] = p["customer_segment"] == "Affluent"
    g = _grouped(p, ["state", "city"],
                 customer_count=("customer_id", "size"),
                 avg_credit_score=("credit_score", "mean"),
                 avg_annual_income=("annual_income", "mean"),
                 avg_clv=("clv", "mean"),
                 n_premium=("is_premium", "sum"), n_affluent=("is_affluent", "sum"),
                 total_transactions_90d=("n_txn", "sum"),
                 total_volume_90d=("volume", "sum"),
                 total_accounts=("n_accounts", "sum"),
                 total_balance=("total_balance", "sum"),
                 avg_churn_risk_pct=("churn_risk_pct", "mean"))
    g["premium_pct"] = _ratio(g["n_premium"], g["customer_count"], 100)
    g["affluent_pct"] = _ratio(g["n_affluent"], g["customer_count"], 100)
    g["avg_transaction_amount"] = _ratio(g["total_volume_90d"], g["total_transactions_90d"])
    g["avg_balance_per_account"] = _ratio(g["total_balance"], g["total_accounts"])
    return g


def _seasonal(bank: _Bank, f: Filters) -> pd.DataFrame:
    t = _chosen_transactions(bank, f)
    return _grouped(t, ["year", "month", "month_name", "quarter", "season", "day_of_week", "day_name",
                        "merchant_category"],
                    transaction_count=("amount", "size"), total_volume=("amount", "sum"),
                    avg_amount=("amount", "mean"), unique_customers=("customer_id", "nunique"))


_BUILDERS = {
    "analytics_customer_behavior_clusters": _behavior_clusters,
    "analytics_transaction_time_patterns": _time_patterns,
    "analytics_product_cross_sell_patterns": _cross_sell,
    "analytics_merchant_spending_patterns": _merchant_spending,
    "analytics_credit_score_behavior_correlation": _credit_behavior,
    "analytics_geographic_clustering": _geographic,
    "analytics_seasonal_patterns": _seasonal,
}
assert set(_BUILDERS) == set(GOLD_COLUMNS)


def reference_gold(silver: dict[str, pd.DataFrame], table_name: str, filters: Filters = Filters()) -> pd.DataFrame:
    """The gold table `table_name` under `filters`, computed with pandas from the silver frames.
    Columns are GOLD_COLUMNS[table_name] in order, `last_updated` = silver.build_info.built_at."""
    bank = _bank(silver)
    return _finish(bank, table_name, _BUILDERS[table_name](bank, filters))


def reference_transactions(silver: dict[str, pd.DataFrame], filters: Filters = Filters()) -> pd.DataFrame:
    """The chosen transactions of the chosen customers (for checking that test filters bite)."""
    return _chosen_transactions(_bank(silver), filters)


def reference_customers(silver: dict[str, pd.DataFrame], filters: Filters = Filters()) -> pd.Index:
    """The customer ids the customer-grain tables use under `filters`."""
    return _chosen_customer_ids(_bank(silver), filters)
