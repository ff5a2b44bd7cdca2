"""Table layouts: the conformed silver tables and the seed's gold contract.

Silver is typed SQLAlchemy Core metadata so the same definitions create tables on DuckDB,
PostgreSQL or any other engine. Gold is a contract of names and column order taken from the
seed notebook; its tables are created by `CREATE TABLE AS` from the gold definitions.
"""
from __future__ import annotations

import functools

import sqlalchemy as sa

SILVER = "silver"
GOLD = "gold"


@functools.lru_cache(maxsize=1024)
def declared(schema: str, name: str, columns: tuple) -> sa.Table:
    """A table to read, declared once per (schema, name, columns): each column a name or a (name, type).

    One object for every statement that reads it, not a new one per statement: SQLAlchemy keys its
    cache of compiled statements by the identity of the tables in them, so a table declared anew
    each time made every statement new to it."""
    return sa.Table(name, sa.MetaData(schema=schema),
                    *(sa.Column(c) if isinstance(c, str) else sa.Column(*c) for c in columns))


def silver_metadata(suffix: str = "") -> tuple[sa.MetaData, dict[str, sa.Table]]:
    """The silver tables, optionally under a staging suffix (`customers__staging`)."""
    md = sa.MetaData(schema=SILVER)
    C = sa.Column
    txt, i64, i32, f64 = sa.String, sa.BigInteger, sa.Integer, sa.Float(53)
    tables = {
        "customers": sa.Table(
            "customers" + suffix, md,
            C("customer_id", i64, nullable=False), C("customer_segment", txt), C("age", i32),
            C("age_group", txt), C("annual_income", f64), C("income_bracket", txt),
            C("state", txt), C("city", txt), C("region", txt), C("tenure_months", i32),
            C("clv", f64), C("churn_risk_pct", f64),
        ),
        "credit_profiles": sa.Table(
            "credit_profiles" + suffix, md,
            C("customer_id", i64, nullable=False), C("credit_score", i32),
            C("credit_score_band", txt), C("credit_limit", f64), C("credit_utilization_pct", f64),
            C("past_due_accounts", i32), C("late_payments_12m", i32), C("missed_payments_12m", i32),
        ),
        "accounts": sa.Table(
            "accounts" + suffix, md,
            C("account_id", i64, nullable=False), C("customer_id", i64, nullable=False),
            C("product_name", txt), C("product_category", txt), C("balance", f64),
            C("opened_date", sa.Date), C("account_age_months", i32),
        ),
        "merchants": sa.Table(
            "merchants" + suffix, md,
            C("merchant_id", i64, nullable=False), C("merchant_name", txt),
            C("merchant_category", txt), C("category_group", txt),
        ),
        "transactions": sa.Table(
            "transactions" + suffix, md,
            C("transaction_id", i64, nullable=False), C("customer_id", i64, nullable=False),
            C("merchant_id", i64), C("merchant_category", txt), C("category_group", txt),
            C("channel", txt), C("amount", f64), C("transaction_ts", sa.DateTime),
            C("transaction_date", sa.Date), C("transaction_hour", i32), C("day_of_week", i32),
            C("day_name", txt), C("month", i32), C("month_name", txt), C("quarter", i32),
            C("year", i32), C("season", txt), C("is_weekend", sa.Boolean),
            C("is_recurring", sa.Boolean), C("is_international", sa.Boolean),
            C("is_fraud", sa.Boolean), C("is_high_value", sa.Boolean),
        ),
        "service_contacts": sa.Table(
            "service_contacts" + suffix, md,
            C("contact_id", i64, nullable=False), C("customer_id", i64, nullable=False),
            C("contact_date", sa.Date), C("contact_channel", txt), C("reason", txt),
            C("satisfaction_score", i32),
        ),
        "build_info": sa.Table(
            "build_info" + suffix, md,
            C("as_of_date", sa.Date), C("window_start_date", sa.Date),
            C("built_at", sa.DateTime(timezone=True)), C("seed", i64), C("customers", i64),
            C("months", i32), C("transactions", i64), C("generator", txt),
        ),
    }
    return md, tables


SILVER_TABLES = silver_metadata()[1]

GOLD_COLUMNS: dict[str, tuple[str, ...]] = {
    "analytics_customer_behavior_clusters": (
        "customer_segment", "age_group", "income_bracket", "customer_count",
        "avg_transactions_90d", "avg_transaction_size", "avg_unique_categories", "avg_accounts",
        "avg_total_balance", "mobile_usage_pct", "weekend_activity_pct", "avg_service_contacts",
        "avg_satisfaction_score", "engagement_score", "last_updated"),
    "analytics_transaction_time_patterns": (
        "day_name", "day_of_week", "transaction_hour", "channel", "merchant_category",
        "transaction_count", "avg_amount", "unique_customers", "fraud_count", "fraud_rate_pct",
        "high_value_count", "high_value_pct", "international_count", "international_pct",
        "last_updated"),
    "analytics_product_cross_sell_patterns": (
        "product_1", "category_1", "product_2", "category_2", "customer_count",
        "avg_combined_balance", "avg_min_age_months", "cross_sell_score", "last_updated"),
    "analytics_merchant_spending_patterns": (
        "category_group", "category", "region", "customer_segment", "age_group",
        "transaction_count", "unique_customers", "unique_merchants", "total_spend",
        "avg_transaction_amount", "transactions_per_customer", "recurring_pct", "last_updated"),
    "analytics_credit_score_behavior_correlation": (
        "credit_score_band", "income_bracket", "customer_segment", "customer_count",
        "avg_credit_score", "avg_annual_income", "avg_transactions", "avg_transaction_size",
        "avg_volatility", "avg_credit_utilization_pct", "avg_total_balance",
        "avg_past_due_accounts", "avg_late_payments", "avg_missed_payments", "avg_tenure_months",
        "last_updated"),
    "analytics_geographic_clustering": (
        "state", "city", "customer_count", "avg_credit_score", "avg_annual_income", "avg_clv",
        "premium_pct", "affluent_pct", "total_transactions_90d", "total_volume_90d",
        "avg_transaction_amount", "total_accounts", "total_balance", "avg_balance_per_account",
        "avg_churn_risk_pct", "last_updated"),
    "analytics_seasonal_patterns": (
        "month", "month_name", "quarter", "day_of_week", "day_name", "merchant_category",
        "transaction_count", "total_volume", "avg_amount", "unique_customers", "year", "season",
        "last_updated"),
}
GOLD_TABLES = tuple(GOLD_COLUMNS)
