"""One visual language for every view: colours per segment/channel/band and human number formats."""
from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from ..warehouse import reference as ref

SEGMENT_COLORS = dict(zip(ref.SEGMENTS, ("#6a3d9a", "#1f78b4", "#33a02c", "#ff7f00")))
CHANNEL_COLORS = dict(zip(ref.CHANNELS, ("#8c564b", "#1f77b4", "#7f7f7f", "#2ca02c", "#d62728")))
BAND_COLORS = dict(zip(ref.CREDIT_BAND_LABELS, ("#d7191c", "#fdae61", "#e6d96a", "#a6d96a", "#1a9641")))
INCOME_COLORS = dict(zip(ref.INCOME_BRACKET_LABELS, ("#c6dbef", "#6baed6", "#2171b5", "#08306b")))
CATEGORY_COLORS = dict(zip(ref.CATEGORIES, ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")))
PRODUCT_CATEGORY_COLORS = {"DEPOSIT": "#1f78b4", "CREDIT": "#e31a1c", "LOAN": "#ff7f00", "INVESTMENT": "#33a02c"}
OTHER_COLOR = "#999999"
EXTRA_COLORS = ("#17becf", "#bcbd22", "#e377c2", "#9467bd", "#aec7e8", "#ffbb78")  # for a warehouse's own values
SELECTED_LINE = "#111111"
ORDERS = {"customer_segment": ref.SEGMENTS, "age_group": ref.AGE_GROUP_LABELS,
          "income_bracket": ref.INCOME_BRACKET_LABELS, "credit_score_band": ref.CREDIT_BAND_LABELS,
          "channel": ref.CHANNELS}
FADED_OPACITY = 0.25

CARD_STYLES = {"background": "var(--panel-surface-color, #fff)", "border": "1px solid rgba(0,0,0,.10)",
               "border-radius": "8px", "padding": "4px 8px 8px 8px", "box-shadow": "0 1px 3px rgba(0,0,0,.06)"}


def is_missing(value) -> bool:
    """None, NaN or pandas NA: shown as 'n/a', never as 0."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or bool(pd.isna(value))


def money(value, decimals: int = 0) -> str:
    """-$1,234.50: the full figure, for hovers and cells."""
    if is_missing(value):
        return "n/a"
    return f"{'-' if value < 0 else ''}${abs(value):,.{decimals}f}"


def number(value, decimals: int = 1, suffix: str = "") -> str:
    """1,234.5 (with an optional unit such as '%')."""
    return "n/a" if is_missing(value) else f"{value:,.{decimals}f}{suffix}"


def plotly_text(value) -> str:
    """A value from the data as Plotly text (labels, legend, hover): plotly.js reads tags such as
    <b>, <i>, <a>, <br> and entities such as &amp; there as formatting; escaped, the value shows as it is."""
    return html.escape(str(value), quote=False)


def floats(column: pd.Series) -> np.ndarray:
    """A column as floats, NaN for missing (None, NA): what the transforms' array arithmetic reads."""
    return column.to_numpy(dtype=float, na_value=np.nan)


def plain(df: pd.DataFrame) -> pd.DataFrame:
    """Text columns as Python objects: HoloViews' gridding cannot reshape pandas 3 Arrow strings."""
    return df.astype({c: object for c in df.columns if pd.api.types.is_string_dtype(df[c])})


def in_order(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows sorted by the vocabularies' order (Premium before Affluent, Poor before Fair …), unknown last."""
    def rank(s: pd.Series) -> pd.Series:
        order = ORDERS.get(s.name)
        return s.map(lambda v: order.index(v) if v in order else len(order)) if order else s
    columns = [c for c in columns if c in df.columns]
    return df.sort_values(columns, kind="stable", key=rank).reset_index(drop=True)


def ordered(values, order) -> list:
    """The distinct values in the vocabulary's order, unknown ones after, sorted."""
    values = set(values)
    return [v for v in order if v in values] + sorted(values - set(order))


def colours(palette: dict[str, str], values) -> dict[str, str]:
    """A colour for each value: the palette's, then a distinct extra one for each value the
    vocabulary does not know (a warehouse's own channel), grey once those run out."""
    extra = iter(EXTRA_COLORS)
    return {v: palette[v] if v in palette else next(extra, OTHER_COLOR) for v in values}


def groups_of_customers(groups: int, least: int, customers: int) -> str:
    """'64 groups of ≥ 20 customers · 19,835 customers': a status line says what it counts, so totals that
    differ between views (groups under a minimum left out, the largest cities only …) read as meant."""
    groups_text = f"{groups:,} group{'' if groups == 1 else 's'}"
    groups_text += f" of ≥ {least:,} customers" if least > 1 else ""
    return f"{groups_text} · {customers:,} customers"


def short_money(value) -> str:
    """$1.2M, $35.4K, $980 — for summaries; hovers use full figures."""
    if is_missing(value):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if v >= size:
            return f"{sign}${v / size:,.1f}{unit}"
    return f"{sign}${v:,.0f}"
