"""The seven gold tables, each defined once as a SQLAlchemy Core query over silver.

`gold_query(name, filters)` is the single definition: materialising gold is that query with
no filters, and the dashboard runs the same query with the active filters pushed down as
bound parameters (`IN` lists are expanding bind parameters; no value is ever put in SQL
text). Only portable constructs are used (CASE, COUNT DISTINCT, LEAST, STDDEV_SAMP, scalar
subqueries), so the same definition compiles for DuckDB, PostgreSQL and other dialects.
Every metric is defined in docs/metrics.md.
"""
from __future__ import annotations

import sqlalchemy as sa

from .filters import DATE_DIMENSIONS, NO_FILTERS, TRANSACTION_DIMENSIONS, Filters
from .schema import GOLD_COLUMNS, SILVER_TABLES

F = sa.Float(53)
# The customer-filter dimensions that are columns of silver.customers (credit band lives in credit_profiles).
CUSTOMER_COLUMNS = ("customer_segment", "region", "state", "city", "age_group", "income_bracket")


def _f(x):
    return sa.cast(x, F)


def _avg(x):
    return _f(sa.func.avg(_f(x)))


def _ratio(num, den, scale: float = 1.0):
    """num / den as a float, NULL when den is 0 (no integer division on any engine)."""
    return _f(num) * scale / sa.func.nullif(_f(den), 0)


def _int_sum(x):
    """SUM of an integer column as BIGINT (PostgreSQL's SUM(bigint) is NUMERIC, DuckDB's HUGEINT)."""
    return sa.cast(sa.func.sum(x), sa.BigInteger)


def _count_if(cond):
    return sa.func.sum(sa.case((cond, 1), else_=0))


class GoldDefinitions:
    """The definitions bound to one set of silver tables (the live ones, or a build's staging copies).

    `by` names a customer dimension to add as a leading `by_value` key to the transaction-grain
    tables: that is how the fast path's cross-filter cubes are defined (see fast.py) without a
    second copy of any metric. A tuple of dimensions (customer columns, transaction columns or
    `product`, a row per product held) adds one leading key `by_<dimension>` each: the rollups of
    rollup.py.
    """

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES, by: str | tuple[str, ...] | None = None):
        self.c, self.cp, self.a = silver["customers"], silver["credit_profiles"], silver["accounts"]
        self.t, self.sc, self.info = silver["transactions"], silver["service_contacts"], silver["build_info"]
        self.by = by

    @property
    def by_columns(self) -> tuple[str, ...]:
        """The leading key columns `by` adds."""
        if isinstance(self.by, tuple):
            return tuple(f"by_{d}" for d in self.by)
        return ("by_value",) if self.by else ()

    def _window_start(self):
        return sa.select(self.info.c.window_start_date).scalar_subquery()

    def _last_updated(self):
        return sa.select(self.info.c.built_at).scalar_subquery().label("last_updated")

    # -- filters ------------------------------------------------------------------------------
    def _transaction_conditions(self, t, f: Filters) -> list:
        conds = [t.c[d].in_(getattr(f, d)) for d in TRANSACTION_DIMENSIONS if getattr(f, d)]
        if f.date_from is not None:
            conds.append(t.c.transaction_date >= f.date_from)
        if f.date_to is not None:
            conds.append(t.c.transaction_date <= f.date_to)
        return conds

    def _attribute_conditions(self, f: Filters) -> list:
        """Conditions on the customer table's rows for the customer-attribute filters."""
        conds = [self.c.c[d].in_(getattr(f, d)) for d in CUSTOMER_COLUMNS if getattr(f, d)]
        if f.credit_score_band:
            conds.append(self.c.c.customer_id.in_(
                sa.select(self.cp.c.customer_id).where(self.cp.c.credit_score_band.in_(f.credit_score_band))))
        return conds

    def _customer_conditions(self, f: Filters) -> list:
        """Conditions on the customer table choosing the customers (attributes, products, transactions)."""
        conds = self._attribute_conditions(f)
        for product in f.product:
            conds.append(self.c.c.customer_id.in_(sa.select(self.a.c.customer_id).where(self.a.c.product_name == product)))
        if f.has_transaction_filter:
            conds.append(self.c.c.customer_id.in_(sa.select(self.t.c.customer_id).where(*self._transaction_conditions(self.t, f))))
        return conds

    def chosen_transactions(self, f: Filters, customer_columns: bool = False) -> sa.Select:
        """The chosen transactions of the chosen customers (plus region/segment/age group if asked).

        Customer filters become one `customer_id IN (chosen customers)` condition, so views that
        group by transaction columns only never join the customer table.
        """
        conds = self._transaction_conditions(self.t, f)
        customer_conds = self._customer_conditions(f.without(*TRANSACTION_DIMENSIONS, *DATE_DIMENSIONS))
        if customer_conds:
            conds.append(self.t.c.customer_id.in_(sa.select(self.c.c.customer_id).where(*customer_conds)))
        columns, source = [self.t], self.t
        if customer_columns:
            columns += [self.c.c.region, self.c.c.customer_segment, self.c.c.age_group]
            source = source.join(self.c, self.c.c.customer_id == self.t.c.customer_id)
        if isinstance(self.by, tuple):
            owner = self.c.alias("by_customer")
            held = self._holdings("by_product") if "product" in self.by else None  # one row per product held
            columns += [held.c.by_product if d == "product" else
                        (owner.c[d] if d in CUSTOMER_COLUMNS else self.t.c[d]).label(f"by_{d}") for d in self.by]
            source = source.join(owner, owner.c.customer_id == self.t.c.customer_id)
            if held is not None:
                source = source.join(held, held.c.customer_id == self.t.c.customer_id)
        elif self.by:
            by = self._by_source()
            columns.append(by.c.by_value)
            source = source.join(by, by.c.customer_id == self.t.c.customer_id)
        return sa.select(*columns).select_from(source).where(*conds)

    def _by_source(self) -> sa.Subquery:
        """(customer_id, by_value) pairs: one per customer, or one per product held for `product`."""
        if self.by == "product":
            return self._holdings("by_value")
        table = self.cp if self.by == "credit_score_band" else self.c
        return sa.select(table.c.customer_id, table.c[self.by].label("by_value")).subquery("cube_key")

    def _holdings(self, label: str) -> sa.Subquery:
        """(customer_id, product) for every product a customer holds, once each."""
        return sa.select(self.a.c.customer_id, self.a.c.product_name.label(label)).distinct().subquery("cube_key")

    def _aggregate(self, t, columns: list, keys) -> sa.Select:
        """SELECT columns ... GROUP BY keys, led by the cube key `by_value` when `by` is set."""
        by = [t.c[name] for name in self.by_columns]
        return sa.select(*by, *columns).group_by(*by, *keys)

    def transaction_profile(self, f: Filters, keys: tuple[str, ...] = ()) -> sa.Subquery:
        """Per customer (and transaction `keys`) the 90-day metrics of their chosen transactions."""
        t = self.t.alias("t90")
        return self.recent_metrics(t, self._transaction_conditions(t, f), keys).subquery("txn")

    def recent_metrics(self, t, conditions: list, keys: tuple[str, ...] = ()) -> sa.Select:
        """Per customer (and `keys`) the 90-day metrics of the transactions of `t` meeting `conditions`."""
        extra = [t.c[k] for k in keys]
        return (sa.select(t.c.customer_id, *extra, sa.func.count().label("n_txn"), sa.func.sum(t.c.amount).label("volume"),
                          sa.func.count(sa.distinct(t.c.merchant_category)).label("n_categories"),
                          _count_if(t.c.channel == "Mobile").label("n_mobile"),
                          _count_if(t.c.is_weekend).label("n_weekend"),
                          sa.func.stddev_samp(t.c.amount).label("volatility"))
                .where(t.c.transaction_date >= self._window_start(), *conditions)
                .group_by(t.c.customer_id, *extra))

    @staticmethod
    def transaction_columns(txn, n_acc) -> dict[str, sa.ColumnElement]:
        """The profile's columns from a customer's transaction metrics (`txn`, NULL for none) and
        number of accounts: zeros for no transactions, and the engagement score."""
        n_txn, n_cat = sa.func.coalesce(txn.c.n_txn, 0), sa.func.coalesce(txn.c.n_categories, 0)
        engagement = 100 * (0.4 * sa.func.least(_f(n_txn) / 60.0, 1.0) + 0.3 * _f(n_cat) / 10.0
                            + 0.3 * sa.func.least(_f(n_acc) / 4.0, 1.0))
        return {"n_txn": n_txn, "volume": sa.func.coalesce(txn.c.volume, 0.0), "n_categories": n_cat,
                "n_mobile": sa.func.coalesce(txn.c.n_mobile, 0), "n_weekend": sa.func.coalesce(txn.c.n_weekend, 0),
                "volatility": txn.c.volatility, "engagement": engagement}

    def customer_profile(self, f: Filters) -> sa.Subquery:
        """One row per chosen customer with the attributes and 90-day metrics customer-grain views use."""
        txn = self.transaction_profile(f)
        acc = (sa.select(self.a.c.customer_id, sa.func.count().label("n_accounts"),
                         sa.func.sum(self.a.c.balance).label("total_balance"))
               .group_by(self.a.c.customer_id).subquery("acc"))
        svc = (sa.select(self.sc.c.customer_id, _count_if(self.sc.c.contact_date >= self._window_start()).label("n_contacts"),
                         _avg(self.sc.c.satisfaction_score).label("satisfaction"))
               .group_by(self.sc.c.customer_id).subquery("svc"))
        n_acc = sa.func.coalesce(acc.c.n_accounts, 0)
        m = {name: expr.label(name) for name, expr in self.transaction_columns(txn, n_acc).items()}
        return (sa.select(
            self.c.c.customer_id, self.c.c.customer_segment, self.c.c.region, self.c.c.age_group, self.c.c.income_bracket, self.c.c.state,
            self.c.c.city, self.c.c.annual_income, self.c.c.tenure_months, self.c.c.clv, self.c.c.churn_risk_pct,
            self.cp.c.credit_score, self.cp.c.credit_score_band, self.cp.c.credit_utilization_pct, self.cp.c.past_due_accounts,
            self.cp.c.late_payments_12m, self.cp.c.missed_payments_12m,
            m["n_txn"], m["volume"], m["n_categories"], m["n_mobile"], m["n_weekend"], m["volatility"],
            n_acc.label("n_accounts"), sa.func.coalesce(acc.c.total_balance, 0.0).label("total_balance"),
            sa.func.coalesce(svc.c.n_contacts, 0).label("n_contacts"), svc.c.satisfaction, m["engagement"])
            .select_from(self.c.outerjoin(self.cp, self.cp.c.customer_id == self.c.c.customer_id)
                         .outerjoin(txn, txn.c.customer_id == self.c.c.customer_id)
                         .outerjoin(acc, acc.c.customer_id == self.c.c.customer_id)
                         .outerjoin(svc, svc.c.customer_id == self.c.c.customer_id))
            .where(*self._customer_conditions(f)).subquery("customer_profile"))

    # -- the seven definitions -------------------------------------------------------------------
    def behavior_clusters(self, f: Filters) -> sa.Select:
        p = self.customer_profile(f)
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
            _count_if(t.c.is_fraud).label("fraud_count"), _ratio(_count_if(t.c.is_fraud), n, 100.0).label("fraud_rate_pct"),
            _count_if(t.c.is_high_value).label("high_value_count"),
            _ratio(_count_if(t.c.is_high_value), n, 100.0).label("high_value_pct"),
            _count_if(t.c.is_international).label("international_count"),
            _ratio(_count_if(t.c.is_international), n, 100.0).label("international_pct"), self._last_updated(),
        ], keys)

    def product_cross_sell(self, f: Filters) -> sa.Select:
        chosen = sa.select(self.c.c.customer_id).where(*self._customer_conditions(f))
        holding = self.holdings(chosen).cte("holding")
        pairs = self.pairs(holding, chosen)
        holders = (sa.select(holding.c.product_name, sa.func.count().label("n"))
                   .group_by(holding.c.product_name).subquery("holders"))
        n1, n2 = holders.alias("n1"), holders.alias("n2")
        total = sa.select(sa.func.count()).select_from(chosen.subquery()).scalar_subquery()
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
            _f(sa.func.sum(t.c.amount)).label("total_spend"), _avg(t.c.amount).label("avg_transaction_amount"),
            _ratio(n, customers).label("transactions_per_customer"),
            _ratio(_count_if(t.c.is_recurring), n, 100.0).label("recurring_pct"), self._last_updated(),
        ], keys)

    def credit_behavior(self, f: Filters) -> sa.Select:
        p = self.customer_profile(f)
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
        p = self.customer_profile(f)
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
            sa.func.count().label("transaction_count"), _f(sa.func.sum(t.c.amount)).label("total_volume"),
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
