"""The seven gold tables, each defined once as a SQLAlchemy Core query over silver.

`gold_query(name, filters)` is the single definition: materialising gold is that query with
no filters, and the dashboard runs the same query with the active filters pushed down as
bound parameters (`IN` lists are expanding bind parameters; no value is ever put in SQL
text). Only portable constructs are used (CASE, COUNT DISTINCT, LEAST, STDDEV_SAMP, scalar
subqueries), so the same definition compiles for DuckDB, PostgreSQL and other dialects.
Every metric is defined in docs/metrics.md.
"""
from __future__ import annotations

import copy

import sqlalchemy as sa

from .choice import SUMS, Choice, _avg, _count_if, _f, _int_sum, _ratio
from .filters import NO_FILTERS, Filters
from .schema import GOLD_COLUMNS


class GoldDefinitions(Choice):
    """The seven definitions bound to one set of silver tables (the live ones, or a build's staging
    copies); see Choice for `by`."""

    _shared: tuple[Filters, sa.CTE] | None = None  # set by `sharing`

    def sharing(self, f: Filters) -> GoldDefinitions:
        """A copy of these definitions whose customer profile under `f` is one named CTE, so that the four
        customer-grain tables in one statement (together.py) choose the customers and sum their metrics once."""
        other = copy.copy(self)
        other._shared = (f, self.customer_profile(f).element.cte("shared_profile"))
        return other

    def _shared_for(self, f: Filters) -> sa.CTE | None:
        return self._shared[1] if self._shared is not None and self._shared[0] == f else None

    def profile_of(self, f: Filters) -> sa.FromClause:
        """What the customer-grain tables aggregate: `customer_profile(f)`, or the CTE `sharing` named for it."""
        shared = self._shared_for(f)
        return self.customer_profile(f) if shared is None else shared

    def chosen_customers(self, f: Filters) -> sa.Select:
        """The ids of the customers `f` chooses (the rows of `profile_of(f)`)."""
        shared = self._shared_for(f)
        if shared is None:
            return sa.select(self.c.c.customer_id).where(*self._customer_conditions(f))
        return sa.select(shared.c.customer_id)

    # -- the seven definitions -------------------------------------------------------------------
    def behavior_clusters(self, f: Filters) -> sa.Select:
        p = self.profile_of(f)
        keys = (p.c.customer_segment, p.c.age_group, p.c.income_bracket)
        return sa.select(
            *keys, sa.func.count().label("customer_count"),
            _avg(p.c.n_txn).label("avg_transactions_90d"),
            _ratio(sa.func.sum(p.c.volume), sa.func.sum(p.c.n_txn)).label("avg_transaction_size"),
            _avg(p.c.n_categories).label("avg_unique_categories"),
            _avg(p.c.n_accounts).label("avg_accounts"),
            _avg(p.c.total_balance).label("avg_total_balance"),
            _ratio(sa.func.sum(p.c.n_mobile), sa.func.sum(p.c.n_txn), 100.0).label("mobile_usage_pct"),
            _ratio(sa.func.sum(p.c.n_weekend), sa.func.sum(p.c.n_txn), 100.0).label("weekend_activity_pct"),
            _avg(p.c.n_contacts).label("avg_service_contacts"),
            _avg(p.c.satisfaction).label("avg_satisfaction_score"),
            _avg(p.c.engagement).label("engagement_score"), self._last_updated(),
        ).group_by(*keys)

    def _transaction_metrics(self, t) -> list:
        return [sa.func.count().label("transaction_count"), _avg(t.c.amount).label("avg_amount"),
                sa.func.count(sa.distinct(t.c.customer_id)).label("unique_customers")]

    def transaction_time_patterns(self, f: Filters) -> sa.Select:
        t = self.chosen_transactions(f).subquery("t")
        keys = (t.c.day_name, t.c.day_of_week, t.c.transaction_hour, t.c.channel, t.c.merchant_category)
        n = sa.func.count()
        return self._aggregate(t, [
            *keys, *self._transaction_metrics(t),
            SUMS["fraud_count"](t).label("fraud_count"), _ratio(_count_if(t.c.is_fraud), n, 100.0).label("fraud_rate_pct"),
            _count_if(t.c.is_high_value).label("high_value_count"),
            _ratio(_count_if(t.c.is_high_value), n, 100.0).label("high_value_pct"),
            _count_if(t.c.is_international).label("international_count"),
            _ratio(_count_if(t.c.is_international), n, 100.0).label("international_pct"), self._last_updated(),
        ], keys)

    def product_cross_sell(self, f: Filters) -> sa.Select:
        # Named once (a CTE): the holdings, the pairs and the total all read who is chosen, which under a
        # transaction filter is a pass over per-customer metrics the database would otherwise make three times.
        who = self.chosen_customers(f).cte("chosen")
        chosen = sa.select(who.c.customer_id)
        holding = self.holdings(chosen).cte("holding")
        pairs = self.pairs(holding, chosen)
        holders = (sa.select(holding.c.product_name, sa.func.count().label("n"))
                   .group_by(holding.c.product_name).subquery("holders"))
        n1, n2 = holders.alias("n1"), holders.alias("n2")
        total = sa.select(sa.func.count()).select_from(who).scalar_subquery()
        keys = (pairs.c.product_1, pairs.c.category_1, pairs.c.product_2, pairs.c.category_2, n1.c.n, n2.c.n)
        count = sa.func.count()
        return (sa.select(
            *keys[:4], count.label("customer_count"), _avg(pairs.c.combined_balance).label("avg_combined_balance"),
            _avg(pairs.c.min_age).label("avg_min_age_months"),
            (_f(count) * _f(total) / (_f(n1.c.n) * _f(n2.c.n))).label("cross_sell_score"), self._last_updated())
            .select_from(pairs.join(n1, n1.c.product_name == pairs.c.product_1)
                         .join(n2, n2.c.product_name == pairs.c.product_2))
            .group_by(*keys))

    def holdings(self, chosen: sa.Select | None = None) -> sa.Select:
        """Per customer (of `chosen`, or every one) and product held: its category, balance and oldest account's age."""
        a = self.a
        held = (sa.select(a.c.customer_id, a.c.product_name, sa.func.min(a.c.product_category).label("category"),
                          sa.func.sum(a.c.balance).label("balance"), sa.func.max(a.c.account_age_months).label("age"))
                .group_by(a.c.customer_id, a.c.product_name))
        return held if chosen is None else held.where(a.c.customer_id.in_(chosen))

    def pairs(self, holding, chosen: sa.Select | None = None) -> sa.Subquery:
        """Per customer, every two products they hold (the first before the second by name), with the
        two holdings' combined balance and the younger one's age (`holding` holds the chosen customers)."""
        h1, h2 = holding.alias("h1"), holding.alias("h2")
        return (sa.select(h1.c.customer_id, h1.c.product_name.label("product_1"), h1.c.category.label("category_1"),
                          h2.c.product_name.label("product_2"), h2.c.category.label("category_2"),
                          (h1.c.balance + h2.c.balance).label("combined_balance"),
                          sa.func.least(h1.c.age, h2.c.age).label("min_age"))
                .select_from(h1.join(h2, (h1.c.customer_id == h2.c.customer_id) & (h1.c.product_name < h2.c.product_name)))
                .subquery("pairs"))

    def merchant_spending(self, f: Filters) -> sa.Select:
        t = self.chosen_transactions(f, customer_columns=True).subquery("t")
        keys = (t.c.category_group, t.c.merchant_category, t.c.region, t.c.customer_segment, t.c.age_group)
        n, customers = sa.func.count(), sa.func.count(sa.distinct(t.c.customer_id))
        return self._aggregate(t, [
            t.c.category_group, t.c.merchant_category.label("category"), t.c.region, t.c.customer_segment,
            t.c.age_group, n.label("transaction_count"), customers.label("unique_customers"),
            sa.func.count(sa.distinct(t.c.merchant_id)).label("unique_merchants"),
            SUMS["total_spend"](t).label("total_spend"), _avg(t.c.amount).label("avg_transaction_amount"),
            _ratio(n, customers).label("transactions_per_customer"),
            _ratio(_count_if(t.c.is_recurring), n, 100.0).label("recurring_pct"), self._last_updated(),
        ], keys)

    def credit_behavior(self, f: Filters) -> sa.Select:
        p = self.profile_of(f)
        keys = (p.c.credit_score_band, p.c.income_bracket, p.c.customer_segment)
        return sa.select(
            *keys, sa.func.count().label("customer_count"), _avg(p.c.credit_score).label("avg_credit_score"),
            _avg(p.c.annual_income).label("avg_annual_income"), _avg(p.c.n_txn).label("avg_transactions"),
            _ratio(sa.func.sum(p.c.volume), sa.func.sum(p.c.n_txn)).label("avg_transaction_size"),
            _avg(p.c.volatility).label("avg_volatility"),
            _avg(p.c.credit_utilization_pct).label("avg_credit_utilization_pct"),
            _avg(p.c.total_balance).label("avg_total_balance"),
            _avg(p.c.past_due_accounts).label("avg_past_due_accounts"),
            _avg(p.c.late_payments_12m).label("avg_late_payments"),
            _avg(p.c.missed_payments_12m).label("avg_missed_payments"),
            _avg(p.c.tenure_months).label("avg_tenure_months"), self._last_updated(),
        ).group_by(*keys)

    def geographic_clustering(self, f: Filters) -> sa.Select:
        p = self.profile_of(f)
        n = sa.func.count()
        return sa.select(
            p.c.state, p.c.city, n.label("customer_count"), _avg(p.c.credit_score).label("avg_credit_score"),
            _avg(p.c.annual_income).label("avg_annual_income"), _avg(p.c.clv).label("avg_clv"),
            _ratio(_count_if(p.c.customer_segment == "Premium"), n, 100.0).label("premium_pct"),
            _ratio(_count_if(p.c.customer_segment == "Affluent"), n, 100.0).label("affluent_pct"),
            _int_sum(p.c.n_txn).label("total_transactions_90d"), _f(sa.func.sum(p.c.volume)).label("total_volume_90d"),
            _ratio(sa.func.sum(p.c.volume), sa.func.sum(p.c.n_txn)).label("avg_transaction_amount"),
            _int_sum(p.c.n_accounts).label("total_accounts"), _f(sa.func.sum(p.c.total_balance)).label("total_balance"),
            _ratio(sa.func.sum(p.c.total_balance), sa.func.sum(p.c.n_accounts)).label("avg_balance_per_account"),
            _avg(p.c.churn_risk_pct).label("avg_churn_risk_pct"), self._last_updated(),
        ).group_by(p.c.state, p.c.city)

    def seasonal_patterns(self, f: Filters) -> sa.Select:
        t = self.chosen_transactions(f).subquery("t")
        keys = (t.c.month, t.c.month_name, t.c.quarter, t.c.day_of_week, t.c.day_name, t.c.merchant_category,
                t.c.year, t.c.season)
        return self._aggregate(t, [
            t.c.month, t.c.month_name, t.c.quarter, t.c.day_of_week, t.c.day_name, t.c.merchant_category,
            sa.func.count().label("transaction_count"), SUMS["total_volume"](t).label("total_volume"),
            _avg(t.c.amount).label("avg_amount"), sa.func.count(sa.distinct(t.c.customer_id)).label("unique_customers"),
            t.c.year, t.c.season, self._last_updated(),
        ], keys)


TABLE_METHODS = {
    "analytics_customer_behavior_clusters": "behavior_clusters",
    "analytics_transaction_time_patterns": "transaction_time_patterns",
    "analytics_product_cross_sell_patterns": "product_cross_sell",
    "analytics_merchant_spending_patterns": "merchant_spending",
    "analytics_credit_score_behavior_correlation": "credit_behavior",
    "analytics_geographic_clustering": "geographic_clustering",
    "analytics_seasonal_patterns": "seasonal_patterns",
}
LIVE = GoldDefinitions()


def gold_query(table: str, filters: Filters = NO_FILTERS, definitions: GoldDefinitions = LIVE) -> sa.Select:
    """The definition of one gold table under the given filters (no filters = the gold table)."""
    try:
        method = TABLE_METHODS[table]
    except KeyError:
        raise KeyError(f"unknown gold table {table!r}; known: {', '.join(TABLE_METHODS)}") from None
    query = getattr(definitions, method)(filters)
    expected = definitions.by_columns + GOLD_COLUMNS[table]
    assert tuple(c.name for c in query.selected_columns) == expected, table
    return query
