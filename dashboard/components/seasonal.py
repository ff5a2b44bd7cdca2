"""Seasonal patterns: monthly spend of the top merchant categories."""
from __future__ import annotations

import numpy as np
import pandas as pd
import param
from bokeh.models import ColumnDataSource, FixedTicker, HoverTool, Legend, LegendItem, NumeralTickFormatter, Range1d
from bokeh.core.properties import field
from bokeh.plotting import figure

from ..warehouse import reference as ref
from ..warehouse.needs import Need
from .bokeh_view import BokehView
from .brush import covered
from .marks import alpha, lit
from .style import CATEGORY_COLORS, OTHER_COLOR, floats, short_money

MONTH_SHORT = tuple(m[:3] for m in ref.MONTH_NAMES)
PADDING = (0.04, 0.08)  # share of the x / y data span left free on each side
TAP_TOLERANCE = 0.12  # a tap counts when within this share of the y range of the nearest line's point
POINT_PX, SELECTED_POINT_PX = 7, 11


class SeasonalLines(BokehView):
    """Monthly spend per merchant category (top N by spend), summed over years and days of week.

    Drawn with Bokeh directly, as three glyphs made once: one `multi_line` whose rows are the
    drawn categories (ranked; colour and opacity are columns, so the highlight and a new top N are
    data, and the legend follows the rows), one `scatter` of every point (hover, highlight and size
    as columns) and one `vspan` whose rows are the selected months. A Bokeh `line` takes a single
    colour and opacity per glyph: lines per category would make every highlight a glyph change."""

    title = "Seasonal spending by category"
    table = "analytics_seasonal_patterns"
    own = ("month", "merchant_category")
    need = Need(table, ("month", "merchant_category"), ("total_volume", "transaction_count"))
    brushes = ("month",)
    brush_shape = "width"
    help = ("Spend per calendar month of the top categories by total spend (all years and weekdays summed "
            "per month of year). Click a point to filter the other views to that month and category; "
            "click it again to clear. Drag across months to filter to those months (the others follow as "
            "you drag); double-click or Reset to clear.")
    height = param.Integer(default=440)
    top_categories = param.Integer(default=5, bounds=(1, len(ref.CATEGORIES)),
                                   doc="How many categories to draw (largest total spend first)")

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        columns = ["month", "month_name", "merchant_category", "total_volume", "transaction_count"]
        if df.empty:
            return pd.DataFrame(columns=columns)
        # sums by (month, category) and by category: ~150 rows, plain loops beat a pandas groupby here
        monthly: dict[tuple, list] = {}
        totals: dict[str, float] = {}
        for m, c, volume, count in zip(df["month"].tolist(), df["merchant_category"].tolist(),
                                       floats(df["total_volume"]),
                                       df["transaction_count"].tolist()):
            if pd.isna(c):
                continue
            cell = monthly.setdefault((int(m), c), [0.0, 0])
            cell[0] += volume
            cell[1] += count
            totals[c] = totals.get(c, 0.0) + volume
        top = sorted(totals, key=lambda c: (-totals[c], c))[:self.top_categories]
        months = sorted({int(m) for m in df["month"].tolist()})
        # A month with no spend in a drawn category is a real 0, not a gap in the line.
        cells = [(m, c, *monthly.get((m, c), (0.0, 0))) for c in top for m in months]
        return pd.DataFrame({
            "month": np.array([m for m, *_ in cells], dtype="int64"),
            "month_name": pd.Series([ref.MONTH_NAMES[m - 1] for m, *_ in cells], dtype="str"),
            "merchant_category": pd.Series([c for _, c, *_ in cells], dtype="str"),
            "total_volume": np.array([v for *_, v, _ in cells], dtype=float),
            "transaction_count": np.array([n for *_, n in cells], dtype="int64")}, columns=columns)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"top {df['merchant_category'].nunique()} categories · {short_money(df['total_volume'].sum())} spend"

    # -- the figure ---------------------------------------------------------------------------------
    def build(self):
        text, number = np.array([], dtype=object), np.array([], dtype=float)
        self.sources["lines"] = ColumnDataSource({"xs": [], "ys": [], "color": text, "alpha": number,
                                                  "merchant_category": text})
        self.source("points", month=number, total_volume=number, merchant_category=text, month_name=text,
                    transaction_count=number, color=text, alpha=number, size=number)
        self.source("months", x=number)
        fig = figure(height=self.height - 10, sizing_mode="stretch_width", toolbar_location="above", tools="",
                     x_range=Range1d(0.5, 12.5), y_range=Range1d(0, 1), x_axis_label="Month",
                     y_axis_label="Total spend ($)", output_backend="canvas")
        fig.xaxis.ticker = FixedTicker(ticks=list(range(1, 13)))
        fig.xaxis.major_label_overrides = {m: name for m, name in enumerate(MONTH_SHORT, start=1)}
        fig.yaxis.formatter = NumeralTickFormatter(format="$0,0")
        lines = fig.multi_line("xs", "ys", source=self.sources["lines"], line_color="color", line_alpha="alpha",
                               line_width=2.5)
        points = fig.scatter("month", "total_volume", source=self.sources["points"], color="color", alpha="alpha",
                             size="size")
        fig.vspan("x", source=self.sources["months"], line_color="#555555", line_dash="dashed", line_width=1)
        # one legend entry per row of the lines' source, in its (rank) order
        fig.add_layout(Legend(items=[LegendItem(label=field("merchant_category"), renderers=[lines])]), "right")
        fig.add_tools(HoverTool(renderers=[points], tooltips=[
            ("Category", "@merchant_category"), ("Month", "@month_name"), ("Spend", "@total_volume{$0,0}"),
            ("Transactions", "@transaction_count{0,0}")]))
        return fig

    def data(self, frame):
        months = frame["month"].astype(int)
        span = np.arange(months.min(), months.max() + 1)
        categories = list(dict.fromkeys(frame["merchant_category"]))  # the frame's (rank) order
        by_category = frame.set_index(["merchant_category", "month"])["total_volume"]
        # Months without any data (outside the warehouse's period) break the line instead of bridging it.
        ys = [by_category.loc[c].reindex(span).to_numpy(float) for c in categories]
        colour = np.array([CATEGORY_COLORS.get(c, OTHER_COLOR) for c in categories], dtype=object)
        marks = self.marks(frame)
        return {"lines": {"xs": [span.astype(float)] * len(categories), "ys": ys, "color": colour,
                          "merchant_category": np.array(categories, dtype=object), **marks["lines"]},
                "points": {"month": months.to_numpy(float), "total_volume": frame["total_volume"].to_numpy(float),
                           "merchant_category": frame["merchant_category"].to_numpy(object),
                           "month_name": frame["month_name"].to_numpy(object),
                           "transaction_count": frame["transaction_count"].to_numpy(float),
                           "color": np.array([CATEGORY_COLORS.get(c, OTHER_COLOR) for c in frame["merchant_category"]],
                                             dtype=object), **marks["points"]},
                "months": marks["months"]}

    def marks(self, frame):
        categories = list(dict.fromkeys(frame["merchant_category"]))
        category_lit = lit(self, pd.DataFrame({"merchant_category": categories}),
                           {"merchant_category": "merchant_category"})
        point_lit = lit(self, frame)
        months = self.selected("month")
        big = point_lit & frame["month"].isin(months).to_numpy() if months else np.zeros(len(frame), dtype=bool)
        return {"lines": {"alpha": alpha(category_lit)},
                "points": {"alpha": alpha(point_lit), "size": np.where(big, SELECTED_POINT_PX, POINT_PX).astype(float)},
                "months": {"x": np.array(sorted(months), dtype=float)}}

    def fit(self, frame) -> None:
        lo, hi = float(frame["month"].min()), float(frame["month"].max())
        pad = PADDING[0] * (hi - lo) if hi > lo else 0.5
        self.figure.x_range.update(start=lo - pad, end=hi + pad)
        bottom, top = float(frame["total_volume"].min()), float(frame["total_volume"].max())
        pad = PADDING[1] * (top - bottom) if top > bottom else max(abs(top), 1.0) * PADDING[1]
        self.figure.y_range.update(start=bottom - pad, end=top + pad)

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

    def selection_from_brush(self, x0, x1, y0, y1):
        months = [int(m) for m in covered(sorted(self.frame["month"].unique()), x0, x1)]
        return {"month": months} if months else None
