"""What the gold definitions choose before they aggregate: the transactions and customers a set
of filters keeps, and the per-customer profiles several tables read (gold.py's GoldDefinitions
adds the seven tables; fast.py, profiles.py, detail.py and the rollups reuse these parts).
The SQL helpers keep every engine's arithmetic the same (floats, no integer division, BIGINT sums).
"""
from __future__ import annotations

import sqlalchemy as sa

from .filters import DATE_DIMENSIONS, TRANSACTION_DIMENSIONS, Filters
from .schema import SILVER_TABLES

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


# The additive columns of the transaction-grain tables, from their chosen transactions `t`: the
# definitions use these, and a view's Need (needs.py) sums them by fewer keys.
SUMS = {
    "transaction_count": lambda t: sa.func.count(),
    "fraud_count": lambda t: _count_if(t.c.is_fraud),
    "total_spend": lambda t: _f(sa.func.sum(t.c.amount)),
    "total_volume": lambda t: _f(sa.func.sum(t.c.amount)),
}


class Choice:
    """What the definitions choose, bound to one set of silver tables (the live ones, or a build's staging
    copies).

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

        Customer filters become one join to the chosen customers' ids (grouped, so that a customer
        table holding an id twice cannot double a transaction), so views that group by transaction
        columns only never read the customers' other columns. A join, not `IN (chosen customers)`:
        DuckDB filters the scan through an inner hash join about twice as fast as through its semi join.
        """
        conds = self._transaction_conditions(self.t, f)
        customer_conds = self._customer_conditions(f.without(*TRANSACTION_DIMENSIONS, *DATE_DIMENSIONS))
        columns, source = [self.t], self.t
        if customer_conds:
            ids = (sa.select(self.c.c.customer_id).where(*customer_conds).group_by(self.c.c.customer_id)
                   .subquery("chosen_customers"))
            source = source.join(ids, ids.c.customer_id == self.t.c.customer_id)
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

    def need_transactions(self, f: Filters, columns: set[str], customer_columns: bool = False) -> sa.Select:
        """`chosen_transactions`, for a reader of these transaction `columns` only (a copy holding them
        may answer: wide.py)."""
        return self.chosen_transactions(f, customer_columns)

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
