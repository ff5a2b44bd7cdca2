"""A synthetic retail bank, generated with vectorised numpy and fully determined by a seed.

The generator emits conformed silver frames directly (labels, calendar columns, signed
balances); what a real bank would land as raw bronze files is not kept. Transactions are
produced in chunks of customers so a million-customer bank fits in memory, each chunk with
its own child random stream so the output does not depend on the chunk size's scheduling.

Shapes it builds in (asserted by tests/test_realism.py):
daily rhythm per channel (night lull, lunch and evening peaks, ATM/Branch in opening hours),
weekly rhythm (Saturday shopping, Branch closed on Sunday), a December peak for retail and a
summer peak for travel, age-dependent channel mix, segment-specific spend, log-normal
amounts per category, monthly recurring bills, fraud well under 1 % concentrated in Online
and at night, a few % international, loans and card balances negative.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import pandas as pd

from . import reference as ref

GENERATOR_VERSION = "bank-synth/2"
N_SEG, N_AGE, N_CAT, N_CH = len(ref.SEGMENTS), len(ref.AGE_GROUPS), len(ref.CATEGORIES), len(ref.CHANNELS)
CAT = {c: i for i, c in enumerate(ref.CATEGORIES)}
CH = {c: i for i, c in enumerate(ref.CHANNELS)}

# Mean transactions per active customer per month, by segment (Premium, Affluent, Mass, Business).
TXN_RATE = np.array([42.0, 36.0, 27.0, 52.0])
DORMANT_SHARE = 0.04
SPEND_MULT = np.array([1.7, 1.3, 1.0, 1.45])

# Share of a segment's card spend per category (rows: segments; columns: ref.CATEGORIES order).
CATEGORY_MIX = np.array([
    # Groc  Gas  Util  Rest  Retl  Onln  Ent  Trvl  Hlth  Svc
    [0.15, 0.06, 0.03, 0.20, 0.12, 0.12, 0.09, 0.10, 0.05, 0.08],  # Premium
    [0.18, 0.09, 0.03, 0.19, 0.12, 0.12, 0.08, 0.06, 0.05, 0.08],  # Affluent
    [0.24, 0.12, 0.04, 0.17, 0.12, 0.12, 0.07, 0.02, 0.04, 0.06],  # Mass Market
    [0.08, 0.12, 0.06, 0.16, 0.10, 0.14, 0.04, 0.12, 0.03, 0.15],  # Business
])
# Channel preference by age group (columns: ATM, Online, Branch, POS, Mobile) ...
AGE_CHANNEL = np.array([
    [0.05, 0.15, 0.01, 0.34, 0.45], [0.06, 0.18, 0.02, 0.34, 0.40], [0.08, 0.20, 0.03, 0.37, 0.32],
    [0.10, 0.22, 0.05, 0.40, 0.23], [0.12, 0.22, 0.08, 0.43, 0.15], [0.15, 0.15, 0.15, 0.47, 0.08],
])
# ... times how plausible a channel is for a category.
CATEGORY_CHANNEL = np.array([
    [0.30, 0.30, 0.05, 1.00, 0.60], [0.10, 0.05, 0.01, 1.00, 0.30], [0.05, 1.00, 0.50, 0.05, 1.00],
    [0.20, 0.30, 0.01, 1.00, 0.80], [0.30, 0.50, 0.05, 1.00, 0.60], [0.00, 1.00, 0.00, 0.00, 1.00],
    [0.10, 1.00, 0.01, 0.60, 1.00], [0.10, 1.00, 0.30, 0.40, 0.80], [0.20, 0.50, 0.20, 1.00, 0.40],
    [0.20, 0.80, 0.50, 0.60, 0.70],
])
# Day-of-week weights per channel, Sunday first.
CHANNEL_DOW = np.array([
    [0.90, 0.90, 0.90, 0.95, 1.00, 1.25, 1.15],  # ATM
    [1.00, 1.05, 1.00, 1.00, 1.00, 0.92, 1.00],  # Online
    [0.00, 1.00, 1.00, 1.00, 1.05, 1.15, 0.55],  # Branch: closed Sunday, short Saturday
    [0.85, 0.80, 0.85, 0.90, 1.00, 1.30, 1.35],  # POS
    [1.05, 1.00, 1.00, 1.00, 1.00, 1.10, 1.15],  # Mobile
])
_h = np.arange(24)


def _bumps(*peaks: tuple[float, float, float], floor: float = 0.0) -> np.ndarray:
    w = np.full(24, floor)
    for centre, width, height in peaks:
        w = w + height * np.exp(-0.5 * ((_h - centre) / width) ** 2)
    return w


HOUR_WEIGHTS = np.array([
    np.where((_h >= 6) & (_h <= 23), _bumps((8, 1.5, 0.8), (12.5, 1.5, 1.0), (18.5, 2.0, 1.2), floor=0.15), 0),
    _bumps((10, 2.5, 0.6), (20.5, 2.2, 1.3), (13, 2, 0.5), floor=0.04),
    np.where((_h >= 9) & (_h <= 17), _bumps((10.5, 1.5, 0.8), (13, 1.2, 1.0), (16, 1.5, 0.6), floor=0.3), 0),
    _bumps((12.5, 1.3, 1.1), (18.5, 1.8, 1.2), (9, 1.5, 0.4), floor=0.005) * ((_h >= 6) | (_h <= 1)),
    _bumps((8, 1.2, 0.6), (12.5, 1.3, 0.8), (21, 1.8, 1.3), floor=0.03),
])
MONTH_BASE = np.array([0.88, 0.86, 0.95, 0.97, 1.00, 1.03, 1.05, 1.04, 0.97, 0.99, 1.08, 1.30])
MONTH_CATEGORY = {  # seasonal shape overriding the base for some categories
    "Travel": np.array([0.70, 0.75, 0.95, 1.00, 1.15, 1.50, 1.65, 1.50, 1.00, 0.90, 0.85, 1.20]),
    "Retail": np.array([0.80, 0.78, 0.90, 0.93, 0.97, 0.98, 1.00, 1.02, 0.95, 1.00, 1.35, 1.85]),
    "Online Shopping": np.array([0.82, 0.80, 0.90, 0.92, 0.96, 0.97, 0.99, 1.00, 0.95, 1.02, 1.40, 1.80]),
    "Gas Station": np.array([0.92, 0.90, 0.96, 1.00, 1.05, 1.10, 1.12, 1.10, 1.00, 0.98, 0.97, 1.00]),
    "Utilities": np.array([1.12, 1.10, 1.00, 0.92, 0.90, 0.98, 1.08, 1.08, 0.95, 0.92, 1.00, 1.10]),
}
FRAUD_BASE = 0.00045
FRAUD_CHANNEL = np.array([1.5, 4.0, 0.2, 1.0, 1.6])
INTERNATIONAL_BASE = np.array([0.012, 0.01, 0.01, 0.01, 0.006, 0.05, 0.01, 0.18, 0.004, 0.02])

# (product, P(hold) for Premium, Affluent, Mass Market, Business)
PRODUCT_HOLDING = {
    "Checking Account": (0.92, 0.94, 0.96, 0.55),
    "Savings Account": (0.85, 0.75, 0.55, 0.50),
    "Business Checking": (0.05, 0.03, 0.01, 0.95),
    "Certificate of Deposit": (0.25, 0.15, 0.05, 0.10),
    "Investment Account": (0.70, 0.38, 0.08, 0.30),
    "Credit Card": (0.30, 0.55, 0.60, 0.50),
    "Premium Credit Card": (0.72, 0.30, 0.05, 0.35),
    "Mortgage": (0.50, 0.45, 0.24, 0.30),
    "Auto Loan": (0.20, 0.25, 0.20, 0.30),
    "Personal Loan": (0.03, 0.08, 0.15, 0.10),
}
SEASON_LABELS = ("Winter", "Spring", "Summer", "Autumn")
SEASON_CODE = np.array([SEASON_LABELS.index(ref.SEASONS[m]) for m in range(1, 13)])
CONTACT_CHANNELS = ("Phone", "Branch", "Chat", "Email")
CONTACT_REASONS = ("Account inquiry", "Card issue", "Dispute", "Loan inquiry", "Fraud report",
                   "Digital banking help", "Complaint")


@dataclass(frozen=True)
class BankSpec:
    customers: int = 20_000
    months: int = 12
    seed: int = 42
    as_of: dt.date = dt.date(2025, 12, 31)

    @property
    def first_day(self) -> dt.date:
        first = (pd.Timestamp(self.as_of).to_period("M") - (self.months - 1)).to_timestamp()
        return first.date()

    @property
    def window_start(self) -> dt.date:
        return self.as_of - dt.timedelta(days=ref.WINDOW_DAYS - 1)


class _Categorical:
    """Categorical draws from many weight rows in O(1) each: Walker's alias method, vectorised.

    Outcome j of row r is kept with probability prob[r, j], else replaced by alias[r, j], so a
    draw costs two random numbers and two table look-ups whatever the number of outcomes
    (a binary search over the CDF, or comparing with every outcome, cost 5-10x more).
    """

    def __init__(self, weights: np.ndarray):
        w = np.asarray(weights, dtype=float).reshape(-1, np.shape(weights)[-1])
        self.k = w.shape[1]
        self.prob = np.ones(w.shape)
        self.alias = np.tile(np.arange(self.k), (len(w), 1))
        for r, row in enumerate(w):
            scaled = list(row * self.k / row.sum())  # mean 1: each column holds exactly one unit of mass
            small = [j for j in range(self.k) if scaled[j] < 1.0]
            large = [j for j in range(self.k) if scaled[j] >= 1.0]
            while small and large:
                s, big = small.pop(), large.pop()
                self.prob[r, s], self.alias[r, s] = scaled[s], big
                scaled[big] -= 1.0 - scaled[s]
                (small if scaled[big] < 1.0 else large).append(big)
            # Leftovers keep prob 1 (exact arithmetic would have left them at 1): a zero-weight
            # outcome is always a `small` paired with some `large`, so it can never be drawn.
        self.prob, self.alias = self.prob.ravel(), self.alias.ravel()

    def draw(self, rng: np.random.Generator, row: np.ndarray) -> np.ndarray:
        """One outcome index per element of `row` (the weight row each draw uses)."""
        j = rng.integers(0, self.k, len(row))
        cell = row.astype(np.intp, copy=False) * self.k + j
        return np.where(rng.random(len(row)) < self.prob[cell], j, self.alias[cell])


CATEGORY_DRAW = _Categorical(CATEGORY_MIX)                                                  # row: segment
CHANNEL_DRAW = _Categorical(AGE_CHANNEL[:, None, :] * CATEGORY_CHANNEL[None, :, :])         # row: age group x category
HOUR_DRAW = _Categorical(HOUR_WEIGHTS)                                                      # row: channel
AMOUNT_MEDIAN = np.array([v[1] for v in ref.MERCHANT_CATEGORIES.values()])
AMOUNT_SIGMA = np.array([v[2] for v in ref.MERCHANT_CATEGORIES.values()])
CATEGORY_GROUP_CODE = np.array([ref.CATEGORY_GROUPS.index(v[0]) for v in ref.MERCHANT_CATEGORIES.values()])
# P(international) by segment x category (Premium travels twice as much), P(fraud) by channel x night x international.
INTERNATIONAL_P = (np.where(np.arange(N_SEG) == 0, 2.0, 1.0)[:, None] * INTERNATIONAL_BASE).ravel()
FRAUD_P = (FRAUD_BASE * FRAUD_CHANNEL[:, None, None] * np.array([1.0, 5.0])[:, None] * np.array([1.0, 6.0])).ravel()


def _labels(codes: np.ndarray, labels) -> pd.Categorical:
    """Codes are indexes into our own vocabularies, so pandas need not re-check them."""
    return pd.Categorical.from_codes(codes, categories=list(labels), validate=False)


class Bank:
    """Customers, accounts, credit profiles, merchants and contacts; transactions by chunk."""

    def __init__(self, spec: BankSpec):
        self.spec = spec
        self.rng = np.random.default_rng([spec.seed, 0])
        self.days = pd.date_range(spec.first_day, spec.as_of, freq="D")
        self._calendar()
        self._customers()
        self._merchants()

    def _calendar(self) -> None:
        """Per-day calendar codes (looked up by day index) and the day draw of each category x channel."""
        self.first_second = np.datetime64(self.spec.first_day, "s").astype(np.int64)
        self.day_dow = ((self.days.day_of_week.to_numpy() + 1) % 7).astype(np.int8)  # pandas Monday=0 -> Sunday=0
        self.day_month = self.days.month.to_numpy().astype(np.int8)
        self.day_year = self.days.year.to_numpy().astype(np.int32)
        # Weekday rhythm per channel x season per category x a slight upward trend over the period.
        season = np.array([MONTH_CATEGORY.get(c, MONTH_BASE) for c in ref.CATEGORIES])[:, self.day_month - 1]
        trend = np.linspace(0.97, 1.03, len(self.days))
        self.day_draw = _Categorical(season[:, None, :] * CHANNEL_DOW[None, :, self.day_dow] * trend)  # row: category x channel

    # -- people -------------------------------------------------------------------------
    def _customers(self) -> None:
        rng, n = self.rng, self.spec.customers
        seg = rng.choice(N_SEG, size=n, p=ref.SEGMENT_SHARE)
        age = np.clip(rng.normal(np.array([52, 45, 38, 46])[seg], 14), 18, 90).astype(int)
        age_group = np.searchsorted([a[1] for a in ref.AGE_GROUPS], age, side="right") - 1
        age_curve = np.array([0.62, 0.85, 1.0, 1.1, 1.05, 0.8])[age_group]
        median_income = np.array([210_000, 125_000, 52_000, 140_000])[seg]
        income = np.round(median_income * age_curve * rng.lognormal(0, 0.45, n), 0)
        bracket = np.searchsorted([b[1] for b in ref.INCOME_BRACKETS], income, side="right") - 1
        city_pop = np.array([c[2] for c in ref.CITIES], dtype=float)
        city = rng.choice(len(ref.CITIES), size=n, p=city_pop / city_pop.sum())
        tenure = np.clip(rng.exponential(84, n), 1, (age - 17) * 12).astype(int)
        # Latent payment risk drives late payments, missed payments and the score together.
        risk = rng.normal(0, 1, n) - 0.35 * np.log(income / 60_000)
        late = rng.poisson(np.exp(-1.2 + 0.9 * risk))
        missed = rng.binomial(late, 0.22)
        past_due = rng.poisson(0.04 * np.exp(1.1 * risk))
        score = 700 + 38 * np.log(income / 60_000) - 22 * late - 55 * missed - 60 * past_due \
            + 0.15 * np.minimum(tenure, 240) + rng.normal(0, 48, n)
        score = np.clip(np.round(score), 300, 850).astype(int)
        band = np.searchsorted([b[1] for b in ref.CREDIT_BANDS], score, side="right") - 1
        active = rng.random(n) >= DORMANT_SHARE
        self.txn_rate = np.where(active, TXN_RATE[seg] * (0.8 + 0.2 * (age < 65)) * rng.gamma(3, 1 / 3, n), 0.0)
        self.seg, self.age_group, self.active = seg, age_group, active
        self.customer_id = np.arange(1, n + 1, dtype=np.int64)
        self._accounts(seg, age, income, tenure, risk)
        churn = 100 / (1 + np.exp(-(0.6 - 0.012 * tenure + 0.45 * risk - 0.8 * active
                                    - 0.25 * self.n_products + rng.normal(0, 0.5, n))))
        annual_revenue = (0.012 * self.deposits + 0.01 * self.investments + 0.14 * self.card_debt
                          + 0.015 * self.loans + 12 * 0.012 * self.txn_rate * 60 * SPEND_MULT[seg])
        clv = np.round(annual_revenue * 5 * (1 - churn / 100), 2)
        city_rows = [ref.CITIES[i] for i in range(len(ref.CITIES))]
        city_name = np.array([c[0] for c in city_rows], dtype=object)[city]
        city_state = np.array([c[1] for c in city_rows], dtype=object)[city]
        self.customers = pd.DataFrame({
            "customer_id": self.customer_id,
            "customer_segment": _labels(seg, ref.SEGMENTS), "age": age,
            "age_group": _labels(age_group, ref.AGE_GROUP_LABELS), "annual_income": income,
            "income_bracket": _labels(bracket, ref.INCOME_BRACKET_LABELS),
            "state": city_state, "city": city_name,
            "region": [ref.STATE_REGION[s] for s in city_state], "tenure_months": tenure,
            "clv": clv, "churn_risk_pct": np.round(churn, 2),
        })
        utilization = np.where(self.card_limit > 0, 100 * self.card_debt / np.maximum(self.card_limit, 1), np.nan)
        self.credit_profiles = pd.DataFrame({
            "customer_id": self.customer_id, "credit_score": score,
            "credit_score_band": _labels(band, ref.CREDIT_BAND_LABELS),
            "credit_limit": np.where(self.card_limit > 0, self.card_limit, np.nan),
            "credit_utilization_pct": np.round(utilization, 2), "past_due_accounts": past_due,
            "late_payments_12m": late, "missed_payments_12m": missed,
        })
        self._contacts(seg, late, risk)

    def _accounts(self, seg, age, income, tenure, risk) -> None:
        rng, n = self.rng, self.spec.customers
        rows = []
        self.deposits = np.zeros(n); self.investments = np.zeros(n)
        self.card_debt = np.zeros(n); self.card_limit = np.zeros(n); self.loans = np.zeros(n)
        mortgage_age = np.where((age >= 28) & (age <= 70), 1.0, 0.2)
        held_any_deposit = np.zeros(n, bool)
        for p, (name, (category, sign)) in enumerate(ref.PRODUCTS.items()):
            prob = np.array(PRODUCT_HOLDING[name])[seg]
            if name == "Mortgage":
                prob = prob * mortgage_age
            held = rng.random(n) < prob
            if name in ("Checking Account", "Business Checking"):
                held_any_deposit |= held
            if name == "Savings Account":  # everyone banks somewhere: no deposit yet -> savings
                held |= ~held_any_deposit
            idx = np.flatnonzero(held)
            inc = income[idx]
            m = len(idx)
            if category == "DEPOSIT":
                scale = {"Checking Account": 0.06, "Savings Account": 0.18,
                         "Business Checking": 0.35, "Certificate of Deposit": 0.25}[name]
                bal = inc * scale * rng.lognormal(0, 0.8, m)
                self.deposits[idx] += bal
            elif category == "INVESTMENT":
                bal = inc * 0.9 * rng.lognormal(0, 0.9, m)
                self.investments[idx] += bal
            elif category == "CREDIT":
                limit = np.clip(inc * (0.12 if name == "Credit Card" else 0.25), 500, 75_000).round(-2)
                util = np.clip(rng.beta(1.6, 4.0, m) * np.exp(0.35 * risk[idx]), 0, 1.05)
                bal = -limit * util
                self.card_debt[idx] += -bal; self.card_limit[idx] += limit
            else:
                base = {"Mortgage": inc * 2.4, "Auto Loan": np.full(m, 24_000.0),
                        "Personal Loan": np.full(m, 9_000.0)}[name]
                bal = -base * rng.lognormal(0, 0.45, m) * rng.uniform(0.15, 1.0, m)
                self.loans[idx] += -bal
            age_months = np.maximum(1, (rng.random(m) * tenure[idx]).astype(int))
            rows.append(pd.DataFrame({"customer_id": self.customer_id[idx], "product_name": name,
                                      "product_category": category, "balance": np.round(bal, 2),
                                      "account_age_months": age_months}))
        acc = pd.concat(rows, ignore_index=True).sort_values(["customer_id", "product_name"], kind="stable")
        acc.insert(0, "account_id", np.arange(1, len(acc) + 1, dtype=np.int64))
        as_of = np.datetime64(self.spec.as_of, "M")
        acc["opened_date"] = (as_of - acc["account_age_months"].to_numpy().astype("timedelta64[M]")).astype("datetime64[D]")
        self.accounts = acc[["account_id", "customer_id", "product_name", "product_category", "balance",
                             "opened_date", "account_age_months"]].reset_index(drop=True)
        self.n_products = np.bincount(self.accounts["customer_id"].to_numpy() - 1, minlength=n)

    def _contacts(self, seg, late, risk) -> None:
        rng, n = self.rng, self.spec.customers
        rate = np.array([0.22, 0.16, 0.14, 0.25])[seg] * (1 + 0.3 * late) * self.spec.months
        k = rng.poisson(rate)
        cust = np.repeat(np.arange(n), k)
        m = len(cust)
        reason = rng.choice(len(CONTACT_REASONS), size=m, p=[0.3, 0.2, 0.1, 0.12, 0.06, 0.14, 0.08])
        channel = rng.choice(len(CONTACT_CHANNELS), size=m, p=[0.45, 0.15, 0.3, 0.1])
        mood = 4.1 - 0.9 * (reason == 6) - 0.5 * (reason == 2) - 0.2 * (channel == 3) + 0.2 * (seg[cust] == 0) \
            - 0.15 * risk[cust] + rng.normal(0, 0.8, m)
        day = rng.integers(0, len(self.days), m)
        self.service_contacts = pd.DataFrame({
            "contact_id": np.arange(1, m + 1, dtype=np.int64), "customer_id": self.customer_id[cust],
            "contact_date": self.days.values[day].astype("datetime64[D]"),
            "contact_channel": _labels(channel, CONTACT_CHANNELS),
            "reason": _labels(reason, CONTACT_REASONS),
            "satisfaction_score": np.clip(np.round(mood), 1, 5).astype(int),
        })

    def _merchants(self) -> None:
        rng = self.rng
        per_cat = int(np.clip(self.spec.customers // 40, 40, 4000))
        cats = np.repeat(np.arange(N_CAT), per_cat)
        # Zipf-like popularity within each category; merchant_id - 1 is the draw's flat cell.
        self.merchant_draw = _Categorical(np.tile(1 / np.arange(1, per_cat + 1) ** 0.9, (N_CAT, 1)))
        words = ("Summit", "Harbor", "Maple", "Union", "Pioneer", "Metro", "Golden", "Liberty", "River", "Oak")
        names = [f"{words[rng.integers(10)]} {ref.CATEGORIES[c]} #{i % per_cat + 1}" for i, c in enumerate(cats)]
        self.merchants = pd.DataFrame({
            "merchant_id": np.arange(1, len(cats) + 1, dtype=np.int64), "merchant_name": names,
            "merchant_category": _labels(cats, ref.CATEGORIES),
            "category_group": [ref.MERCHANT_CATEGORIES[ref.CATEGORIES[c]][0] for c in cats],
        })

    # -- transactions --------------------------------------------------------------------
    def transaction_chunks(self, chunk_customers: int = 5_000) -> Iterator[pd.DataFrame]:
        """Silver transactions per chunk of customers, in time order, ids running on across chunks."""
        next_id = 1
        n = self.spec.customers
        for k, start in enumerate(range(0, n, chunk_customers)):
            rng = np.random.default_rng([self.spec.seed, 1, k])
            frame = self._transactions(rng, np.arange(start, min(n, start + chunk_customers), dtype=np.int32), next_id)
            next_id += len(frame)
            yield frame

    def _transactions(self, rng: np.random.Generator, idx: np.ndarray, first_id: int) -> pd.DataFrame:
        """Card and recurring draws as plain arrays, sorted by time once, then labelled.

        The draws come in the narrowest dtypes (int8 codes, int32 ids): reordering them by time
        is a random gather, several times cheaper on 1-byte than on 8-byte values.
        """
        card, bills = self._card_transactions(rng, idx), self._recurring(rng, idx)
        cust, cat, ch, day, hour, amount, merchant, intl, fraud = (np.concatenate(p) for p in zip(card, bills))
        m = len(cust)
        offset = (day * 24 + hour) * 3600 + rng.integers(0, 3600, m)  # seconds since the first day
        # Sort (offset, row) keys packed into one int64: np.sort is ~5x faster than argsort or
        # lexsort, and the row in the low bits is the permutation (ties keep generation order).
        shift = max(m - 1, 1).bit_length()
        key = np.sort((offset << shift) | np.arange(m))
        order, offset = key & ((1 << shift) - 1), key >> shift
        day = offset // 86_400
        dow, month = self.day_dow[day], self.day_month[day]
        cat, amount = cat.take(order), np.round(amount.take(order), 2)
        return pd.DataFrame({
            "transaction_id": np.arange(first_id, first_id + m, dtype=np.int64),
            "customer_id": self.customer_id[cust.take(order)], "merchant_id": merchant.take(order).astype(np.int64),
            "merchant_category": _labels(cat, ref.CATEGORIES),
            "category_group": _labels(CATEGORY_GROUP_CODE[cat], ref.CATEGORY_GROUPS),
            "channel": _labels(ch.take(order), ref.CHANNELS), "amount": amount,
            "transaction_ts": (self.first_second + offset).view("datetime64[s]"),
            "transaction_date": (self.first_second + 86_400 * day).view("datetime64[s]"),
            "transaction_hour": (offset // 3600 % 24).astype(np.int32), "day_of_week": dow.astype(np.int32),
            "day_name": _labels(dow, ref.DAY_NAMES), "month": month.astype(np.int32),
            "month_name": _labels(month - 1, ref.MONTH_NAMES), "quarter": ((month - 1) // 3 + 1).astype(np.int32),
            "year": self.day_year[day], "season": _labels(SEASON_CODE[month - 1], SEASON_LABELS),
            "is_weekend": (dow == 0) | (dow == 6), "is_recurring": order >= len(card[0]),
            "is_international": intl.take(order), "is_fraud": fraud.take(order),
            "is_high_value": amount >= ref.HIGH_VALUE_THRESHOLD,
        }, copy=False)  # copy=False: no consolidation of the columns into 2-D blocks

    def _card_transactions(self, rng, idx) -> tuple[np.ndarray, ...]:
        k = rng.poisson(self.txn_rate[idx] * self.spec.months)
        cust = np.repeat(idx, k)
        m = len(cust)
        seg, age_group = self.seg[cust], self.age_group[cust]
        cat = CATEGORY_DRAW.draw(rng, seg)
        ch = CHANNEL_DRAW.draw(rng, age_group * N_CAT + cat)
        day = self.day_draw.draw(rng, cat * N_CH + ch)
        hour = HOUR_DRAW.draw(rng, ch)
        amount = AMOUNT_MEDIAN[cat] * SPEND_MULT[seg] * np.exp(AMOUNT_SIGMA[cat] * rng.standard_normal(m))
        intl = rng.random(m) < INTERNATIONAL_P[seg * N_CAT + cat]
        fraud = rng.random(m) < FRAUD_P[(ch * 2 + (hour <= 4)) * 2 + intl]
        amount[fraud] *= rng.uniform(1.5, 6.0, np.count_nonzero(fraud))
        merchant = self._draw_merchants(rng, cat)
        return cust, cat.astype(np.int8), ch.astype(np.int8), day, hour, amount, merchant, intl, fraud

    def _draw_merchants(self, rng, cat) -> np.ndarray:
        return (cat * self.merchant_draw.k + self.merchant_draw.draw(rng, cat) + 1).astype(np.int32)

    def _recurring(self, rng, idx) -> tuple[np.ndarray, ...]:
        """Monthly bills on a fixed day: utilities, subscriptions and streaming, paid by autopay."""
        idx = idx[self.active[idx]]
        bills = [(CAT["Utilities"], 0.85, 2), (CAT["Services"], 0.6, 1), (CAT["Entertainment"], 0.55, 1)]
        cust, cat = [], []
        for c, p, most in bills:
            count = (rng.random(len(idx)) < p) * rng.integers(1, most + 1, len(idx))
            cust.append(np.repeat(idx, count)); cat.append(np.full(count.sum(), c))
        cust, cat = np.concatenate(cust), np.concatenate(cat)
        nb = len(cust)
        merchant = self._draw_merchants(rng, cat)
        median = np.where(cat == CAT["Utilities"], 120.0, np.where(cat == CAT["Services"], 85.0, 15.0))
        base_amount = median * rng.lognormal(0, 0.4, nb) * SPEND_MULT[self.seg[cust]]
        pay_day = rng.integers(1, 29, nb)
        month_starts = pd.date_range(self.spec.first_day, self.spec.as_of, freq="MS").values.astype("datetime64[D]")
        dates = month_starts[None, :] + (pay_day[:, None] - 1).astype("timedelta64[D]")
        first = np.datetime64(self.spec.first_day, "D")
        day = ((dates - first).astype(int)).ravel()
        keep = day < len(self.days)
        rep = np.repeat(np.arange(nb), len(month_starts))[keep]
        day = day[keep]
        jitter = np.where(cat[rep] == CAT["Utilities"], rng.lognormal(0, 0.12, len(rep)), 1.0)
        m = len(rep)
        hour = rng.integers(5, 9, m)
        ch = np.where(rng.random(m) < 0.8, CH["Online"], CH["Mobile"]).astype(np.int8)
        no = np.zeros(m, bool)
        return cust[rep], cat[rep].astype(np.int8), ch, day, hour, base_amount[rep] * jitter, merchant[rep], no, no
