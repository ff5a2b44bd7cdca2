"""Time patterns: the day-of-week x hour heatmap and the hourly channel mix."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import param
from holoviews import dim

from bokeh.models import NumeralTickFormatter

from ..warehouse import reference as ref
from .legacy import HoloViewsView
from .bokeh_view import BokehView, factor_at, holoviews_figure
from .marks import alpha, lit
from .style import CHANNEL_COLORS, FADED_OPACITY, colours, ordered

DAY_SHORT = tuple(d[:3] for d in ref.DAY_NAMES)  # Sun first: day_of_week 0 is Sunday
GRID = pd.MultiIndex.from_product([range(7), range(24)], names=["day_of_week", "transaction_hour"])


class TimeHeatmap(BokehView):
    """Transactions by day of week and hour; a click on a cell selects that day and hour.

    Declared with HoloViews (a HeatMap over the fixed 7 x 24 grid, drawn once); a filter change
    then sets the cells' counts, colours and opacity on HoloViews' own source."""

    title = "Transaction time heatmap"
    table = "analytics_transaction_time_patterns"
    own = ("day_of_week", "transaction_hour")
    help = ("Transactions of the chosen customers by weekday (Sunday first) and hour. "
            "Click a cell to filter every other view to that day and hour; click it again to clear.")
    height = param.Integer(default=460)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        out = (df.groupby(["day_of_week", "transaction_hour"])[["transaction_count", "fraud_count"]].sum()
               .reindex(GRID, fill_value=0).reset_index())
        out["day"] = [DAY_SHORT[d] for d in out["day_of_week"]]
        out["fraud_rate_pct"] = np.where(out["transaction_count"] > 0,
                                         100 * out["fraud_count"] / out["transaction_count"].where(out["transaction_count"] > 0, 1), np.nan)
        return out[["day_of_week", "day", "transaction_hour", "transaction_count", "fraud_count", "fraud_rate_pct"]]

    def build(self):
        empty = pd.DataFrame({"day": [DAY_SHORT[d] for d, _ in GRID], "transaction_hour": [h for _, h in GRID],
                              "transaction_count": 0.0, "fraud_rate_pct": np.nan, "alpha": 1.0})
        figure, handles = holoviews_figure(hv.HeatMap(empty, kdims=["day", "transaction_hour"],
                                                      vdims=["transaction_count", "fraud_rate_pct", "alpha"]).opts(
            cmap="viridis", colorbar=True, clabel="Transactions", tools=["hover"], default_tools=[],
            xlabel="Day of week", ylabel="Hour of day", invert_yaxis=True, responsive=True, toolbar="above",
            colorbar_opts={"formatter": NumeralTickFormatter(format="0,0")},
            hover_tooltips=[("Day", "@day"), ("Hour", "@transaction_hour{0}:00"),
                            ("Transactions", "@transaction_count{0,0}"), ("Fraud rate", "@fraud_rate_pct{0.00}%")]))
        self.sources["cells"] = cells = handles["source"]
        handles["glyph"].fill_alpha = "alpha"
        self._mapper = handles["color_mapper"]
        # the rows of HoloViews' source, by (day of week, hour): every update is put in this order
        self._order = pd.MultiIndex.from_arrays([[DAY_SHORT.index(d) for d in cells.data["day"]],
                                                 np.asarray(cells.data["transaction_hour"], dtype=int)])
        return figure

    def _cells(self, frame: pd.DataFrame) -> pd.DataFrame:
        return frame.set_index(["day_of_week", "transaction_hour"]).reindex(self._order)

    def data(self, frame):
        cells = self._cells(frame)
        counts = cells["transaction_count"].to_numpy(float)
        return {"cells": {"zvalues": counts, "transaction_count": counts,
                          "fraud_rate_pct": cells["fraud_rate_pct"].to_numpy(float), **self.marks(frame)["cells"]}}

    def marks(self, frame):
        index = self._order.to_frame(index=False, name=["day_of_week", "transaction_hour"])
        return {"cells": {"alpha": alpha(lit(self, index))}}

    def fit(self, frame) -> None:
        top = float(frame["transaction_count"].max())
        self._mapper.update(low=0.0, high=max(top, 1.0))

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{int(df['transaction_count'].sum()):,} transactions"

    def selection_from_tap(self, x, y):
        day = factor_at(self.figure.x_range.factors, x)
        if day not in DAY_SHORT:
            return None
        hour = int(round(float(y)))
        return {"day_of_week": [DAY_SHORT.index(day)], "transaction_hour": [hour]} if 0 <= hour <= 23 else None


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
