"""One visual language for every view: colours per segment/channel/band and human number formats."""
from __future__ import annotations

import math

from ..warehouse import reference as ref

SEGMENT_COLORS = dict(zip(ref.SEGMENTS, ("#6a3d9a", "#1f78b4", "#33a02c", "#ff7f00")))
CHANNEL_COLORS = dict(zip(ref.CHANNELS, ("#8c564b", "#1f77b4", "#7f7f7f", "#2ca02c", "#d62728")))
BAND_COLORS = dict(zip(ref.CREDIT_BAND_LABELS, ("#d7191c", "#fdae61", "#e6d96a", "#a6d96a", "#1a9641")))
INCOME_COLORS = dict(zip(ref.INCOME_BRACKET_LABELS, ("#c6dbef", "#6baed6", "#2171b5", "#08306b")))
CATEGORY_COLORS = dict(zip(ref.CATEGORIES, ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac")))
SELECTED_LINE = "#111111"
FADED_OPACITY = 0.25

CARD_STYLES = {"background": "var(--panel-surface-color, #fff)", "border": "1px solid rgba(0,0,0,.10)",
               "border-radius": "8px", "padding": "4px 8px 8px 8px", "box-shadow": "0 1px 3px rgba(0,0,0,.06)"}


def money(value: float) -> str:
    """$1.2M, $35.4K, $980 — for labels; hovers use full figures."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    sign = "-" if value < 0 else ""
    v = abs(value)
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if v >= size:
            return f"{sign}${v / size:,.1f}{unit}"
    return f"{sign}${v:,.0f}"
