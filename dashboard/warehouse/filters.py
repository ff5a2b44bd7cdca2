"""The cross-filter state as plain data: what the store sends to the gold definitions.

Two grains (see README, "Cross-filter semantics"): customer filters choose customers,
transaction filters choose transactions. Values combine as OR inside a dimension and AND
across dimensions, except `product`, which means "holds every listed product" so that an
affinity-matrix cell (a product pair) selects the customers who hold both.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields, replace

CUSTOMER_DIMENSIONS = ("customer_segment", "region", "state", "city", "age_group",
                       "income_bracket", "credit_score_band", "product")
TRANSACTION_DIMENSIONS = ("channel", "category_group", "merchant_category", "day_of_week",
                          "transaction_hour", "month")
DATE_DIMENSIONS = ("date_from", "date_to")


@dataclass(frozen=True)
class Filters:
    customer_segment: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    city: tuple[str, ...] = ()
    age_group: tuple[str, ...] = ()
    income_bracket: tuple[str, ...] = ()
    credit_score_band: tuple[str, ...] = ()
    product: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    category_group: tuple[str, ...] = ()
    merchant_category: tuple[str, ...] = ()
    day_of_week: tuple[int, ...] = ()
    transaction_hour: tuple[int, ...] = ()
    month: tuple[int, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name not in DATE_DIMENSIONS and not isinstance(value, tuple):
                raise TypeError(f"filter {f.name!r} takes a tuple of values, got {type(value).__name__}")

    def active(self) -> dict[str, object]:
        """The dimensions that restrict anything, with their values."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) not in ((), None)}

    def without(self, *dimensions: str) -> "Filters":
        """The same filters minus some dimensions (a view ignores the ones it draws)."""
        empty = {d: (None if d in DATE_DIMENSIONS else ()) for d in dimensions}
        return replace(self, **empty)

    @property
    def has_transaction_filter(self) -> bool:
        return any(d in self.active() for d in TRANSACTION_DIMENSIONS + DATE_DIMENSIONS)


NO_FILTERS = Filters()
