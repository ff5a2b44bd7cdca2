"""Time patterns: the day-of-week x hour heatmap and the hourly channel mix."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import param
from holoviews import dim

from ..warehouse import reference as ref
from .base import HoloViewsView
from .style import CHANNEL_COLORS, FADED_OPACITY, colours, ordered

DAY_SHORT = tuple(d[:3] for d in ref.DAY_NAMES)  # Sun first: day_of_week 0 is Sunday


class TimeHeatmap(HoloViewsView):
    """Transactions by day of week and hour; a click on a cell selects that day and hour."""

    title = "Transaction time heatmap"
    table = "analytics_transaction_time_patterns"
    own = ("day_of_week", "transaction_hour")
    help = ("Transactions of the chosen customers by weekday (Sunday first) and hour. "
            "Click a cell to filter every other view to that day and hour; click it again to clear.")
    height = param.Integer(default=460)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        grid = pd.MultiIndex.from_product([range(7), range(24)], names=["day_of_week", "transaction_hour"])
        out = (df.groupby(["day_of_week", "transaction_hour"])[["transaction_count", "fraud_count"]].sum()
               .reindex(grid, fill_value=0).reset_index())
        out["day"] = [DAY_SHORT[d] for d in out["day_of_week"]]
        out["fraud_rate_pct"] = np.where(out["transaction_count"] > 0,
                                         100 * out["fraud_count"] / out["transaction_count"].where(out["transaction_count"] > 0, 1), np.nan)
        return out[["day_of_week", "day", "transaction_hour", "transaction_count", "fraud_count", "fraud_rate_pct"]]

    def render(self, df: pd.DataFrame):
        df = df.assign(alpha=[1.0 if self.is_selected(day_of_week=d, transaction_hour=h) else FADED_OPACITY
                              for d, h in zip(df["day_of_week"], df["transaction_hour"])])
        return hv.HeatMap(df, kdims=["day", "transaction_hour"],
                          vdims=["transaction_count", "fraud_rate_pct", "alpha"]).opts(
            cmap="viridis", colorbar=True, clabel="Transactions", alpha=dim("alpha"), tools=["hover", "tap"],
            xlabel="Day of week", ylabel="Hour of day", invert_yaxis=True, framewise=True,
            responsive=True, min_height=380, toolbar="above", default_tools=[],
            hover_tooltips=[("Day", "@day"), ("Hour", "@transaction_hour{0}:00"),
                            ("Transactions", "@transaction_count{0,0}"), ("Fraud rate", "@fraud_rate_pct{0.00}%")])

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{int(df['transaction_count'].sum()):,} transactions"

    def selection_from_tap(self, x, y):
        day = DAY_SHORT.index(x) if x in DAY_SHORT else None
        if day is None:
            return None
        return {"day_of_week": [day], "transaction_hour": [int(round(float(y)))]}


class HourlyChannelArea(HoloViewsView):
    """Transactions per hour stacked by channel; a click on a band selects that channel. The bands
    are the channels in the data (the usual five in their order, then a warehouse's own), so the
    stack adds up to every transaction."""

    title = "Channel usage by hour"
    table = "analytics_transaction_time_patterns"
    own = ("transaction_hour", "channel")
    layered = True
    overlay_opts = dict(responsive=True, min_height=360, legend_position="top_left", toolbar="above")
    help = "Stacked transactions per hour and channel. Click inside a channel's band to filter to that channel."

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        channels = ordered(df["channel"], ref.CHANNELS)
        grid = pd.MultiIndex.from_product([range(24), channels], names=["transaction_hour", "channel"])
        return (df.groupby(["transaction_hour", "channel"])["transaction_count"].sum()
                .reindex(grid, fill_value=0).rename("total").reset_index())

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{int(df['total'].sum()):,} transactions"

    def _wide(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.pivot(index="transaction_hour", columns="channel", values="total").reindex(
            columns=ordered(df["channel"], ref.CHANNELS)).fillna(0)

    def render(self, df: pd.DataFrame):
        wide = self._wide(df)
        areas, colour = [], colours(CHANNEL_COLORS, wide.columns)
        for channel in wide.columns:
            alpha = 0.85 if self.is_selected(channel=channel) else FADED_OPACITY
            areas.append(hv.Area((wide.index, wide[channel]), "transaction_hour", ("total", "Transactions"),
                                 label=channel).opts(color=colour[channel], alpha=alpha))
        return hv.Area.stack(hv.Overlay(areas)).opts(
            hv.opts.Area(tools=["hover", "tap"], line_width=0.5, default_tools=[], framewise=True,
                         xlabel="Hour of day", ylabel="Transactions", yformatter="%.0f"))

    def selection_from_tap(self, x, y):
        wide = self._wide(self.frame)
        hour = int(np.clip(round(float(x)), 0, 23))
        tops = wide.loc[hour].cumsum()
        hits = [c for c in wide.columns if float(y) <= tops[c]]
        return {"channel": [hits[0]]} if hits and float(y) >= 0 else None
