"""Seasonal patterns: monthly spend of the top merchant categories."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import param
from bokeh.models import NumeralTickFormatter
from holoviews import dim

from ..warehouse import reference as ref
from .legacy import HoloViewsView
from .style import CATEGORY_COLORS, FADED_OPACITY, OTHER_COLOR, short_money

MONTH_SHORT = tuple(m[:3] for m in ref.MONTH_NAMES)
# Axes of every layer (framewise: ranges follow each new frame when served as layered DynamicMaps)
AXES_OPTS = dict(xlabel="Month", ylabel="Total spend ($)", xticks=list(enumerate(MONTH_SHORT, start=1)),
                 padding=(0.04, 0.08), yformatter=NumeralTickFormatter(format="$0,0"), framewise=True,
                 show_grid=True)
# The overlay's look (base.HoloViewsView applies it to the composed layers when served).
OVERLAY_OPTS = dict(responsive=True, min_height=360, legend_position="right", toolbar="above", **AXES_OPTS)
TAP_TOLERANCE = 0.12  # a tap counts when within this share of the y range of the nearest line's point


class SeasonalLines(HoloViewsView):
    """Monthly spend per merchant category (top N by spend), summed over years and days of week."""

    title = "Seasonal spending by category"
    table = "analytics_seasonal_patterns"
    own = ("month", "merchant_category")
    help = ("Spend per calendar month of the top categories by total spend (all years and weekdays summed "
            "per month of year). Click a point to filter the other views to that month and category; "
            "click it again to clear.")
    height = param.Integer(default=440)
    layered = True  # render() is an overlay whose first layer (all points, invisible) takes the taps
    overlay_opts = OVERLAY_OPTS
    top_categories = param.Integer(default=5, bounds=(1, len(ref.CATEGORIES)),
                                   doc="How many categories to draw (largest total spend first)")

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        columns = ["month", "month_name", "merchant_category", "total_volume", "transaction_count"]
        if df.empty:
            return pd.DataFrame(columns=columns)
        monthly = df.groupby(["month", "merchant_category"])[["total_volume", "transaction_count"]].sum()
        totals = monthly.groupby(level="merchant_category")["total_volume"].sum().reset_index()
        top = (totals.sort_values(["total_volume", "merchant_category"], ascending=[False, True])
               ["merchant_category"].head(self.top_categories).tolist())
        months = sorted(int(m) for m in df["month"].unique())
        # A month with no spend in a drawn category is a real 0, not a gap in the line.
        grid = pd.MultiIndex.from_product([months, top], names=["month", "merchant_category"])
        out = monthly.reindex(grid, fill_value=0).reset_index()
        out["total_volume"] = out["total_volume"].astype(float)
        out["transaction_count"] = out["transaction_count"].astype("int64")
        out["month_name"] = [ref.MONTH_NAMES[m - 1] for m in out["month"]]
        rank = {c: i for i, c in enumerate(top)}
        out = out.sort_values(["merchant_category", "month"], key=lambda s: s.map(rank) if s.name ==
                              "merchant_category" else s).reset_index(drop=True)
        return out[columns]

    def summarize(self, df: pd.DataFrame) -> str:
        return f"top {df['merchant_category'].nunique()} categories · {short_money(df['total_volume'].sum())} spend"

    def render(self, df: pd.DataFrame):
        # First layer: every point, invisible and unlabelled: a stable element for the Tap to listen to.
        elements = [hv.Scatter(df, "month", "total_volume").opts(alpha=0, size=1, tools=[], show_legend=False)]
        months = sorted(int(m) for m in df["month"].unique())
        lo, hi = (min(months), max(months)) if months else (1, 12)
        # (HoloViews rewrites "@month…" in tooltips as the month dimension, hence "calendar_month")
        df = df.assign(calendar_month=df["month_name"])
        vdims = ["total_volume", "calendar_month", "merchant_category", "transaction_count", "alpha", "size"]
        for category, part in df.groupby("merchant_category", sort=False):
            color = CATEGORY_COLORS.get(category, OTHER_COLOR)
            line_alpha = 1.0 if self.is_selected(merchant_category=category) else FADED_OPACITY
            part = part.assign(alpha=[1.0 if self.is_selected(month=m, merchant_category=category)
                                      else FADED_OPACITY for m in part["month"]],
                               size=[11 if self.selected("month") and m in self.selected("month")
                                     and self.is_selected(merchant_category=category) else 7
                                     for m in part["month"]])
            # Months without any data (outside the warehouse's period) break the line instead of bridging it.
            line = part.set_index("month").reindex(range(lo, hi + 1)).reset_index()
            elements.append(hv.Curve(line, "month", vdims, label=category).opts(
                color=color, alpha=line_alpha, line_width=2.5, tools=[]))
            elements.append(hv.Scatter(part, "month", vdims, label=category).opts(
                color=color, alpha=dim("alpha"), size=dim("size"), tools=["hover", "tap"],
                hover_tooltips=[("Category", "@merchant_category"), ("Month", "@calendar_month"),
                                ("Spend", "@total_volume{$0,0}"), ("Transactions", "@transaction_count{0,0}")]))
        for month in self.selected("month"):
            elements.append(hv.VLine(month).opts(color="#555555", line_dash="dashed", line_width=1))
        return hv.Overlay(elements).opts(hv.opts.Curve(**AXES_OPTS), hv.opts.Scatter(**AXES_OPTS),
                                         hv.opts.Overlay(**OVERLAY_OPTS))

    def selection_from_tap(self, x, y):
        df = self.frame
        months = np.array(sorted(df["month"].unique()))
        x, y = float(x), float(y)
        month = int(months[np.argmin(np.abs(months - x))])
        if abs(month - x) > 0.5:
            return None
        at = df[df["month"] == month]
        gaps = (at["total_volume"] - y).abs()
        nearest = at.loc[gaps.idxmin()]
        span = max(float(df["total_volume"].max()) - min(float(df["total_volume"].min()), 0.0), 1.0)
        if gaps.min() > TAP_TOLERANCE * span:
            return None
        return {"month": [month], "merchant_category": [nearest["merchant_category"]]}
