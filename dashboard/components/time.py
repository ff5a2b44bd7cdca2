"""Time patterns: the day-of-week x hour heatmap and the hourly channel mix."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import param
from bokeh.core.properties import value
from bokeh.models import ColumnDataSource, HoverTool, Legend, LegendItem, NumeralTickFormatter, Range1d
from bokeh.plotting import figure

from ..warehouse import reference as ref
from ..warehouse.needs import Need
from .bokeh_view import BokehView, factor_at, holoviews_figure
from .brush import covered
from .marks import alpha, lit
from .style import CHANNEL_COLORS, OTHER_COLOR, colours, ordered

DAY_SHORT = tuple(d[:3] for d in ref.DAY_NAMES)  # Sun first: day_of_week 0 is Sunday
HOURS = np.arange(24)
BAND_X = np.concatenate([HOURS, HOURS[::-1]]).astype(float)  # a band's polygon: along its top, back along its bottom
LIT_BAND = 0.85  # a band's opacity when lit (faded: FADED_OPACITY)
OTHER_CHANNELS = "Other channels"  # the band of channels the build did not know (a gold-only warehouse)
GRID = pd.MultiIndex.from_product([range(7), range(24)], names=["day_of_week", "transaction_hour"])


class TimeHeatmap(BokehView):
    """Transactions by day of week and hour; a click on a cell selects that day and hour, a rectangle
    dragged over cells their days and hours.

    Declared with HoloViews (a HeatMap over the fixed 7 x 24 grid, drawn once); a filter change
    then sets the cells' counts, colours and opacity on HoloViews' own source."""

    title = "Transaction time heatmap"
    table = "analytics_transaction_time_patterns"
    own = ("day_of_week", "transaction_hour")
    need = Need(table, ("day_of_week", "transaction_hour"), ("transaction_count", "fraud_count"))
    brushes = ("day_of_week", "transaction_hour")
    help = ("Transactions of the chosen customers by weekday (Sunday first) and hour. "
            "Click a cell to filter every other view to that day and hour; click it again to clear. "
            "Drag a rectangle to filter to its days and hours (the others follow as you drag); "
            "double-click or Reset to clear.")
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

    def selection_from_brush(self, x0, x1, y0, y1):
        factors = list(self.figure.x_range.factors)
        days = [DAY_SHORT.index(factors[int(i)]) for i in covered(np.arange(len(factors)) + 0.5, x0, x1)
                if factors[int(i)] in DAY_SHORT]
        hours = [int(h) for h in covered(HOURS, y0, y1)]
        return {"day_of_week": sorted(days), "transaction_hour": hours} if days and hours else None


class HourlyChannelArea(BokehView):
    """Transactions per hour stacked by channel; a click on a band selects that channel. The bands
    are every channel known at build (the usual five in their order, then the warehouse's own, then
    one slot for channels the build did not know), so the stack adds up to every transaction.

    Drawn with Bokeh directly: a band's highlight must be a column, and Bokeh's area glyphs take
    one opacity per glyph, so the bands are the rows of one `patches` glyph (stacks computed here).
    Hover and taps use invisible quads, one per hour and band: a tooltip names one channel at one
    hour, and the quad under the pointer is the band a tap selects (same hour, same stack)."""

    title = "Channel usage by hour"
    table = "analytics_transaction_time_patterns"
    own = ("transaction_hour", "channel")
    need = Need(table, ("transaction_hour", "channel"), ("transaction_count",))
    brushes = ("transaction_hour",)
    brush_shape = "width"
    help = ("Stacked transactions per hour and channel. Click inside a channel's band to filter to that channel; "
            "drag across hours to filter to those hours (the others follow as you drag). A click and a drag "
            "replace each other; double-click or Reset to clear.")

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        if df.empty:
            return df
        channels = ordered(df["channel"], ref.CHANNELS)
        grid = pd.MultiIndex.from_product([range(24), channels], names=["transaction_hour", "channel"])
        return (df.groupby(["transaction_hour", "channel"])["transaction_count"].sum()
                .reindex(grid, fill_value=0).rename("total").reset_index())

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{int(df['total'].sum()):,} transactions"

    # -- the figure ---------------------------------------------------------------------------------
    def channels(self) -> list[str]:
        """ref.CHANNELS, then the warehouse's own channels (as in every other view's colours)."""
        try:
            found = [str(c) for c in self.store.options("channel")]
        except Exception:  # a warehouse with gold tables only: its own channels land in the last slot
            found = []
        return list(ref.CHANNELS) + [c for c in ordered(found, ref.CHANNELS) if c not in ref.CHANNELS]

    def build(self):
        known = self.channels()
        self.slots = known + [OTHER_CHANNELS]
        self._members = [[c] for c in known] + [[]]  # the channels of each band in the frame shown
        palette = colours(CHANNEL_COLORS, known)
        colour = np.array([palette[c] for c in known] + [OTHER_COLOR], dtype=object)
        n, hidden = len(self.slots), np.full(2 * len(HOURS), np.nan)
        self._values = np.zeros((len(HOURS), n))
        self.sources["bands"] = ColumnDataSource({  # a polygon per band: its top left to right, its bottom back
            "xs": [BAND_X] * n, "ys": [hidden] * n, "color": colour, "alpha": np.full(n, LIT_BAND),
            "channel": np.array(self.slots, dtype=object)})
        self.source("cells", left=np.tile(HOURS - 0.5, n), right=np.tile(HOURS + 0.5, n),
                    bottom=np.full(n * len(HOURS), np.nan), top=np.full(n * len(HOURS), np.nan),
                    hour=np.tile([f"{h}:00" for h in HOURS], n).astype(object),
                    channel=np.repeat(np.array(self.slots, dtype=object), len(HOURS)),
                    transactions=np.zeros(n * len(HOURS)), share=np.zeros(n * len(HOURS)))
        fig = figure(height=self.height - 10, sizing_mode="stretch_width", toolbar_location="above", tools="",
                     x_range=Range1d(0, 23), y_range=Range1d(0, 1), x_axis_label="Hour of day",
                     y_axis_label="Transactions", output_backend="canvas")
        bands = fig.patches("xs", "ys", source=self.sources["bands"], fill_color="color", fill_alpha="alpha",
                            line_color="color", line_alpha="alpha", line_width=0.5)
        cells = fig.quad(left="left", right="right", bottom="bottom", top="top", source=self.sources["cells"],
                         fill_alpha=0, line_alpha=0)
        # the selected hours (a brush, or another view's hour), a strip each over the full height
        self.source("hours", x0=np.empty(0), x1=np.empty(0))
        fig.vstrip("x0", "x1", source=self.sources["hours"], fill_color="#1f4e79", fill_alpha=0.15,
                   line_alpha=0, level="underlay")
        fig.yaxis.formatter = NumeralTickFormatter(format="0,0")
        fig.add_layout(Legend(items=[LegendItem(label=value(c), renderers=[bands], index=i, visible=False)
                                     for i, c in enumerate(self.slots)], location="top_left"))
        # one tooltip: on the line between two hours both quads are hit (two stacked tooltips were seen)
        fig.add_tools(HoverTool(renderers=[cells], point_policy="follow_mouse", limit=1, tooltips=[
            ("Hour", "@hour"), ("Channel", "@channel"), ("Transactions", "@transactions{0,0}"),
            ("Share of the hour", "@share{0.0%}")]))
        return fig

    def _slot(self, channel) -> int:
        return self.slots.index(channel) if channel in self.slots[:-1] else len(self.slots) - 1

    def data(self, frame):
        values = np.zeros((len(HOURS), len(self.slots)))
        members = [[c] for c in self.slots[:-1]] + [[]]
        wide = frame.pivot(index="transaction_hour", columns="channel", values="total").reindex(HOURS).fillna(0)
        for channel in wide.columns:
            i = self._slot(channel)
            values[:, i] += wide[channel].to_numpy(float)
            if i == len(self.slots) - 1:
                members[i].append(channel)
        self._values, self._members = values, members
        hi = values.cumsum(axis=1)
        lo = hi - values
        drawn = values.sum(axis=0) > 0
        ys = [np.concatenate([hi[:, i], lo[::-1, i]]) if drawn[i] else np.full(2 * len(HOURS), np.nan)
              for i in range(len(self.slots))]
        totals = values.sum(axis=1, keepdims=True)
        share = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
        empty = values <= 0  # no quad (nothing to hover) where a band has no height
        marks = self.marks(frame)
        return {"bands": {"ys": ys, **marks["bands"]}, "hours": marks["hours"],
                "cells": {"bottom": np.where(empty, np.nan, lo).T.ravel(), "top": np.where(empty, np.nan, hi).T.ravel(),
                          "transactions": values.T.ravel(), "share": share.T.ravel()}}

    def marks(self, frame):
        chosen = set(self.selected("channel"))
        unknown = bool(chosen - set(self.slots[:-1]))  # a channel of the last band (e.g. chosen in the sidebar)
        on = np.array([not chosen or bool(chosen & set(m)) or (i == len(self.slots) - 1 and unknown)
                       for i, m in enumerate(self._members)])
        hours = np.array(sorted(self.selected("transaction_hour")), dtype=float)
        return {"bands": {"alpha": alpha(on, high=LIT_BAND)}, "hours": {"x0": hours - 0.5, "x1": hours + 0.5}}

    def fit(self, frame) -> None:
        top = float(self._values.sum(axis=1).max())
        self.figure.y_range.update(start=0.0, end=max(top, 1.0) * 1.05)
        for item, drawn in zip(self.figure.legend[0].items, self._values.sum(axis=0) > 0):
            item.visible = bool(drawn)

    def selection_from_tap(self, x, y):
        hour, y = int(np.clip(round(float(x)), 0, 23)), float(y)
        values = self._values[hour]
        hits = [i for i, top in enumerate(values.cumsum()) if values[i] > 0 and 0 <= y <= top]
        if not hits:
            return None
        channels = self._members[hits[0]] if hits[0] == len(self.slots) - 1 else [self.slots[hits[0]]]
        return {"channel": sorted(channels)}

    def selection_from_brush(self, x0, x1, y0, y1):
        hours = [int(h) for h in covered(HOURS, x0, x1)]
        return {"transaction_hour": hours} if hours else None
