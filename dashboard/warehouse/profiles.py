"""Customer-grain views: the customer profile under any filter, read from fast tables, not rebuilt.

The four customer-grain tables (clusters, cross-sell, credit, geo) aggregate `customer_profile(f)`:
per chosen customer, their attributes, accounts and contacts, and the 90-day metrics of their
chosen transactions. Under a transaction filter a customer is chosen when they have at least one
chosen transaction in the whole period (their 90-day metrics may then be zero). The plain
definition joins customers, credit profiles, accounts, contacts and every transaction again.
Here the profile comes from `fast.customer_profile`, and only the transaction metrics from

- `fast.customer_cells`, per customer and heatmap cell (day, hour): any days and hours (a click or
  a brushed rectangle) and no other transaction filter. A filter on one key alone reads a table
  per customer and that key (`SINGLES`: `fast.customer_hours`, `_days`, `_channels`, `_by_month`,
  `_category_groups`, `_categories`), a fraction of the rows; one value of it is a row per customer.
  A customer's distinct categories over several cells come from `fast.customer_category_cells`: per
  customer and category of their 90 days, a mask of the hours they had one on each day of the week;
  the categories are the rows whose masks meet the chosen hours on a chosen day (a pass over ~10
  rows per customer, where a distinct over each cell's categories hashed ten times as many pairs);
- `fast.customer_mix`, per customer, channel, category group and merchant category, and
  `fast.customer_months`, per customer, month, category group and merchant category (a seasonal
  click or brush): any filter on one table's keys (several values each) and no other transaction
  filter (several channels, a channel and a category …). Counts and sums add; a customer's distinct
  categories are the distinct categories of their kept rows that hold a 90-day transaction; the
  volatility (sample standard deviation) is recombined exactly from each row's count, sum and
  standard deviation (Chan, Golub and LeVeque's pairwise formula);
- else their transactions, in one pass that also tells who is chosen (no join to rebuild the
  profile).

The cross-sell reads `fast.customer_holdings` (per customer and product) and `fast.customer_pairs`
(per customer, every two products held) of the chosen customers, rather than grouping their
accounts and pairing them up again: both are the definition's own parts, computed once.

Both per-customer tables hold a row for every (customer, key) with a transaction in the whole
period, its 90-day metrics NULL when none is recent: a row kept by the filter chooses its customer.
"""
from __future__ import annotations

import sqlalchemy as sa

from .filters import DATE_DIMENSIONS, NO_FILTERS, TRANSACTION_DIMENSIONS, Filters
from .choice import CUSTOMER_COLUMNS, _f
from .gold import GoldDefinitions
from .schema import SILVER_TABLES, declared

FAST = "fast"
PROFILE = "customer_profile"
CELLS, CELL = "customer_cells", ("day_of_week", "transaction_hour")  # a heatmap cell
# per customer and one transaction key: hours alone (a brush), days alone, one channel, month, category
# group or category
SINGLES = {"customer_hours": "transaction_hour", "customer_days": "day_of_week", "customer_channels": "channel",
           "customer_by_month": "month", "customer_category_groups": "category_group",
           "customer_categories": "merchant_category"}
CATEGORY_CELLS = "customer_category_cells"  # per customer and category of its 90 days: hour masks by day of the week
DAYS = range(7)
MIX, MIX_KEYS = "customer_mix", ("merchant_category", "channel", "category_group")
MONTHS, MONTH_KEYS = "customer_months", ("month", "merchant_category", "category_group")  # a seasonal click or brush
METRICS = ("n_txn", "volume", "n_categories", "n_mobile", "n_weekend", "volatility")
HOLDINGS, PAIRS = "customer_holdings", "customer_pairs"  # the cross-sell's per-customer parts


def per_customer(plain: GoldDefinitions, keys: tuple[str, ...]) -> sa.Select:
    """Every (customer, keys) with a transaction in the whole period, with the customer's 90-day
    transaction metrics there (the definition's own, grouped by the keys too; NULL if none).
    Sorted by the keys: a filter on them reads its blocks only."""
    query = present_with_metrics(plain, plain.t, [], keys)
    return query.order_by(*query.selected_columns[:len(keys) + 1])


def present_with_metrics(plain: GoldDefinitions, t, conditions: list, keys: tuple[str, ...] = ()) -> sa.Select:
    """(keys, customer) of every transaction of `t` meeting `conditions` in the whole period, with the
    90-day metrics of those transactions (NULL when none is recent). The metrics' pass reads the last
    90 days only (and count distinct costs most), the whole period is read for the customers alone."""
    present = sa.select(*(t.c[k] for k in keys), t.c.customer_id).where(*conditions).distinct().subquery("present")
    m = plain.recent_metrics(t, conditions, keys).subquery("recent")
    on = sa.and_(*(m.c[k] == present.c[k] for k in keys), m.c.customer_id == present.c.customer_id)
    return (sa.select(*(present.c[k] for k in keys), present.c.customer_id, *(m.c[n] for n in METRICS))
            .select_from(present.outerjoin(m, on)))


def hours_of(day: int) -> str:
    """The column of `CATEGORY_CELLS` holding the hours (bit h for hour h) of a day of the week."""
    return f"hours_{day}"


def category_cells(plain: GoldDefinitions) -> sa.Select:
    """(customer, category) of every transaction in the last 90 days, once each, with the hours it had
    one there on each day of the week (a bit per hour), sorted by customer."""
    t = plain.t
    bit = sa.literal(1, sa.Integer).bitwise_lshift(t.c.transaction_hour)
    masks = [sa.func.bit_or(sa.case((t.c.day_of_week == d, bit), else_=0)).label(hours_of(d)) for d in DAYS]
    return (sa.select(t.c.customer_id, t.c.merchant_category, *masks).where(t.c.transaction_date >= plain._window_start())
            .group_by(t.c.customer_id, t.c.merchant_category).order_by(t.c.customer_id, t.c.merchant_category))


def holding_definitions(plain: GoldDefinitions) -> dict[str, sa.Select]:
    """Every customer's holdings, and every two products they hold: the cross-sell sums those of the
    chosen customers instead of grouping their accounts and pairing them up again."""
    every = plain.holdings().subquery("holding")
    pairs = plain.pairs(every)
    return {HOLDINGS: sa.select(every).order_by(every.c.customer_id),
            PAIRS: sa.select(pairs).order_by(pairs.c.customer_id)}


def _table(name: str, keys: tuple[str, ...]) -> sa.Table:
    return declared(FAST, name, ("customer_id", *keys, *METRICS))


class FastDefinitions(GoldDefinitions):
    """The gold definitions reading customers from the materialised profile.

    Without transaction filters the profile restricted by the customer filters *is*
    `customer_profile(filters)`, so it replaces the join of customers, credit profiles, 90 days
    of transactions, accounts and contacts. With transaction filters the per-customer metrics
    depend on which transactions count: they are computed from the transactions, in one pass.
    """

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES):
        super().__init__(silver)
        layout = GoldDefinitions(silver).customer_profile(NO_FILTERS).c
        self.profile = self.c = sa.Table(PROFILE, sa.MetaData(schema=FAST), *(sa.Column(c.name, c.type) for c in layout))

    def _attribute_conditions(self, f: Filters) -> list:
        return [self.profile.c[d].in_(getattr(f, d)) for d in (*CUSTOMER_COLUMNS, "credit_score_band") if getattr(f, d)]

    def chosen_metrics(self, f: Filters) -> sa.Subquery:
        """One row per customer with a chosen transaction in the whole period: the 90-day metrics of
        their chosen transactions (NULL when none is recent), as `transaction_profile` defines them."""
        t = self.transactions_for(f)
        return present_with_metrics(self, t, self._transaction_conditions(t, f) + self._among_chosen(t, f)).subquery("txn")

    def _among_chosen(self, x, f: Filters) -> list:
        """Rows of `x` of customers the customer filters choose: per-customer metrics are then summed
        for those only, not for everyone and joined afterwards."""
        customers = _customer_part(f)
        if not customers.active():
            return []
        return [x.c.customer_id.in_(sa.select(self.profile.c.customer_id).where(*self._customer_conditions(customers)))]

    def transactions_for(self, f: Filters) -> sa.Table:
        """Where to read the transactions `f` chooses (the same rows in any case)."""
        return self.t

    def _customer_conditions(self, f: Filters) -> list:
        if not f.has_transaction_filter:
            return super()._customer_conditions(f)
        chosen = self.chosen_metrics(f)
        return super()._customer_conditions(_customer_part(f)) + [self.c.c.customer_id.in_(sa.select(chosen.c.customer_id))]

    def customer_profile(self, f: Filters) -> sa.Subquery:
        p = self.profile
        if not f.has_transaction_filter:
            return sa.select(p).where(*self._customer_conditions(f)).subquery("customer_profile")
        x = self.chosen_metrics(f)
        m = self.transaction_columns(x, p.c.n_accounts)
        return (sa.select(*(m[c.name].label(c.name) if c.name in m else c for c in p.c))
                .select_from(p.join(x, x.c.customer_id == p.c.customer_id))
                .where(*super()._customer_conditions(_customer_part(f))).subquery("customer_profile"))


def _customer_part(f: Filters) -> Filters:
    return f.without(*TRANSACTION_DIMENSIONS, *DATE_DIMENSIONS)


class SummaryDefinitions(FastDefinitions):
    """With `fast.customer_cells` and `fast.customer_mix`: the transaction metrics of a filter they
    answer are summed from their rows (see the module's rules) instead of read from the transactions."""

    def __init__(self, silver: dict[str, sa.Table] = SILVER_TABLES, available: frozenset[str] = frozenset()):
        super().__init__(silver)
        self.cells = _table(CELLS, CELL) if CELLS in available else None
        self.singles = {key: _table(name, (key,)) for name, key in SINGLES.items() if name in available}
        self.category_cells = (declared(FAST, CATEGORY_CELLS, ("customer_id", "merchant_category",
                                                               *((hours_of(d), sa.Integer) for d in DAYS)))
                               if CATEGORY_CELLS in available else None)
        self.mix = _table(MIX, MIX_KEYS) if MIX in available else None
        self.months = _table(MONTHS, MONTH_KEYS) if MONTHS in available else None
        layout = {name: query.selected_columns for name, query in holding_definitions(GoldDefinitions(silver)).items()}
        self.held, self.paired = (sa.Table(name, sa.MetaData(schema=FAST), *(sa.Column(c.name, c.type) for c in layout[name]))
                                  if name in available else None for name in (HOLDINGS, PAIRS))

    def holdings(self, chosen: sa.Select | None = None) -> sa.Select:
        if self.held is None:
            return super().holdings(chosen)
        return sa.select(self.held) if chosen is None else sa.select(self.held).where(self.held.c.customer_id.in_(chosen))

    def pairs(self, holding, chosen: sa.Select | None = None) -> sa.Subquery:
        if self.paired is None or chosen is None:
            return super().pairs(holding, chosen)
        return sa.select(self.paired).where(self.paired.c.customer_id.in_(chosen)).subquery("pairs")

    def _summary(self, f: Filters) -> tuple[sa.Table, list, str] | None:
        """The per-customer table answering `f`'s transaction filter, its conditions on it, and how its
        rows make a customer's metrics: "one" (a row each, as is), "cells" (summed; the categories from
        `CATEGORY_CELLS`) or "categories" (summed; the categories counted from the rows)."""
        active = {d: v for d, v in f.active().items() if d in TRANSACTION_DIMENSIONS + DATE_DIMENSIONS}
        if not active:
            return None
        if len(active) == 1:  # one key: a table of its own, a fifth (hours) to a tenth (a channel) of the rows
            (key, values), = active.items()
            x = self.singles.get(key)
            if x is not None and (len(values) == 1 or key in CELL and self.category_cells is not None):
                return x, [x.c[key].in_(values)], "one" if len(values) == 1 else "cells"
        if self.cells is not None and set(active) <= set(CELL):
            one = set(active) == set(CELL) and all(len(v) == 1 for v in active.values())
            if one or self.category_cells is not None:
                return self.cells, [self.cells.c[d].in_(v) for d, v in active.items()], "one" if one else "cells"
        for x, keys in ((self.mix, MIX_KEYS), (self.months, MONTH_KEYS)):
            if x is not None and set(active) <= set(keys):
                return x, [x.c[d].in_(v) for d, v in active.items()], "categories"
        return None

    def chosen_metrics(self, f: Filters) -> sa.Subquery:
        found = self._summary(f)
        if found is None:
            return super().chosen_metrics(f)
        x, where, rows = found
        if rows == "one":  # one cell, or one value of a single key: a row per customer, as is
            return (sa.select(x.c.customer_id, *(x.c[m] for m in METRICS)).where(*where, *self._among_chosen(x, f))
                    .subquery("txn"))
        n, s = sa.func.sum(x.c.n_txn), sa.func.sum(x.c.volume)
        spread = (sa.func.sum(sa.func.coalesce(x.c.volatility * x.c.volatility * (x.c.n_txn - 1), 0.0))
                  + sa.func.sum(x.c.volume * x.c.volume / x.c.n_txn) - s * s / _f(n))
        volatility = sa.case((n > 1, sa.func.sqrt(sa.func.greatest(_f(spread), 0.0) / _f(n - 1))))
        if rows == "categories":  # its rows are categories: those with a recent transaction count
            categories = sa.func.count(sa.distinct(sa.case((x.c.n_txn.is_not(None), x.c.merchant_category))))
        else:  # several cells: counted from the categories table (below)
            categories = sa.null()
        metrics = (sa.select(x.c.customer_id, n.label("n_txn"), s.label("volume"), categories.label("n_categories"),
                             sa.func.sum(x.c.n_mobile).label("n_mobile"), sa.func.sum(x.c.n_weekend).label("n_weekend"),
                             volatility.label("volatility"))
                   .where(*where, *self._among_chosen(x, f)).group_by(x.c.customer_id))
        if rows == "cells":
            return self._with_categories(metrics.subquery("cells"), f)
        return metrics.subquery("txn")

    def _with_categories(self, m: sa.Subquery, f: Filters) -> sa.Subquery:
        """The cells' metrics `m` with each customer's distinct categories there (NULL when none is recent)."""
        c, hours = self.category_cells, sum(1 << h for h in set(f.transaction_hour or range(24)) if 0 <= h < 24)
        days = sorted(d for d in set(f.day_of_week or DAYS) if d in DAYS)
        met = sa.or_(sa.false(), *(c.c[hours_of(d)].bitwise_and(hours) != 0 for d in days))
        cats = (sa.select(c.c.customer_id, sa.func.count(c.c.merchant_category).label("n"))
                .where(met, *self._among_chosen(c, f)).group_by(c.c.customer_id).subquery("categories"))
        return (sa.select(*(cats.c.n.label(col.name) if col.name == "n_categories" else col for col in m.c))
                .select_from(m.outerjoin(cats, cats.c.customer_id == m.c.customer_id)).subquery("txn"))
