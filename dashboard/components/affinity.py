"""The product x product affinity matrix: customers holding both products of each pair on a log
colour scale with round ticks, 'nobody' apart from 'not a pair' (the diagonal); a click selects a
pair's holders, a brush the products it covers. Shares its table and frame with the network
(products.py)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import param
from bokeh.models import ColorBar, FactorRange, FixedTicker, HoverTool, LogColorMapper, NumeralTickFormatter
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from .bokeh_view import factor_at
from .brush import covered
from .crosssell import balance_words, pair_grid, round_ticks, texts, theme_colors
from .marks import alpha
from .products import BALANCE, LIFT, NO_PAIRS, _CrossSell
from .style import is_missing, number


class AffinityMatrix(_CrossSell):
    """Symmetric product x product matrix of customers holding both; a click selects that pair's holders.

    One cell per pair of the warehouse's products (a fixed grid, made at build); colour = customers
    on a log scale whose limits and round ticks are set per frame; 0 ("nobody") is the palette's
    darkest colour, the diagonal (not a pair) the background's neighbour."""

    title = "Product affinity matrix"
    brushes = ("product",)
    help = ("Customers holding both products of each pair (colour on a log scale; hover for the count and "
            "the lift). Click a cell to filter every other view to customers holding both products, a "
            "diagonal cell to the holders of one product; click it again to clear. Drag a rectangle to "
            "filter to customers holding every product of its rows and columns; double-click or Reset "
            "to clear.")
    height = param.Integer(default=560)

    TICK_PX, X_LABEL_ANGLE = 10, math.radians(60)  # axis labels: small and steep, so they never pile up
    TIPS = [("Products", "@product_a × @product_b"), ("Customers holding both", "@count_label"),
            (LIFT, "@lift_label"), (BALANCE, "@balance_label")]

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        # nobody holds two products: an empty frame (the "no data" state), not a matrix of zeros
        return pair_grid(df, self.products(df), self.categories(df))

    def summarize(self, df: pd.DataFrame) -> str:
        held = int((df["customer_count"].fillna(0) > 0).sum()) // 2
        return f"{df['product_a'].nunique()} products · {held} pairs held together"

    # -- the figure ------------------------------------------------------------------------------------
    def build(self):
        products = self.products(NO_PAIRS)
        self._mapper = LogColorMapper(palette=Viridis256, low=1, high=10, low_color=Viridis256[0],
                                      nan_color=theme_colors()["diagonal"])
        self._ticker = FixedTicker(ticks=[1, 10], minor_ticks=[])
        fig = figure(x_range=FactorRange(factors=products), y_range=FactorRange(factors=products[::-1]),
                     height=self.height - 10, sizing_mode="stretch_width", toolbar_location=None, tools="",
                     x_axis_label="Product B", y_axis_label="Product A", min_border=4)
        grid = pd.DataFrame({"product_a": np.repeat(products, len(products)),
                             "product_b": np.tile(products, len(products))})
        cells = self.source("cells", **self._cell_columns(grid.assign(customer_count=np.nan, cross_sell_score=np.nan,
                                                                     avg_combined_balance=np.nan)))
        rect = fig.rect("product_b", "product_a", 1, 1, source=cells, line_color=None, fill_alpha="alpha",
                        fill_color={"field": "customers", "transform": self._mapper})
        fig.add_tools(HoverTool(renderers=[rect], tooltips=self.TIPS, description="Pair"))
        fig.grid.visible = False
        fig.axis.major_label_text_font_size = f"{self.TICK_PX}px"
        fig.axis.axis_label_text_font_size = "11px"
        fig.axis.major_tick_line_color = fig.axis.axis_line_color = None
        fig.xaxis.major_label_orientation = self.X_LABEL_ANGLE
        fig.add_layout(ColorBar(color_mapper=self._mapper, ticker=self._ticker, orientation="horizontal",
                                formatter=NumeralTickFormatter(format="0,0"), height=10,
                                title="Customers holding both (log scale)", title_text_font_size="11px",
                                major_label_text_font_size=f"{self.TICK_PX}px"), "below")
        return fig

    def apply_theme(self) -> None:
        self._mapper.nan_color = theme_colors()["diagonal"]

    def _cell_columns(self, cells: pd.DataFrame) -> dict:
        return {"product_a": texts(cells["product_a"]), "product_b": texts(cells["product_b"]),
                "customers": pd.to_numeric(cells["customer_count"], errors="coerce").astype(float).to_numpy(),
                "count_label": texts(f"{int(v):,}" if not is_missing(v) else "— (click: holders of this product)"
                                    for v in cells["customer_count"]),
                "lift_label": texts(number(v, 2) for v in cells["cross_sell_score"]),
                "balance_label": texts(balance_words(v) for v in cells["avg_combined_balance"]),
                "alpha": self._alpha(cells)}

    def _alpha(self, cells: pd.DataFrame) -> np.ndarray:
        """Lit: every cell; one product chosen: its row and column; two or more: the cells among them."""
        chosen = set(self.selected("product"))
        a, b = cells["product_a"].isin(chosen).to_numpy(bool), cells["product_b"].isin(chosen).to_numpy(bool)
        on = np.ones(len(cells), bool) if not chosen else (a | b) if len(chosen) == 1 else (a & b)
        return alpha(on)

    def data(self, frame):  # the frame's grid is the source's: both are products(df) x products(df), sorted
        return {"cells": self._cell_columns(frame)}

    def marks(self, frame):
        return {"cells": {"alpha": self._alpha(frame)}}

    def fit(self, frame) -> None:
        products = list(dict.fromkeys(frame["product_a"]))
        if list(self.figure.x_range.factors) != products:
            self.figure.x_range.factors, self.figure.y_range.factors = products, products[::-1]
        counts = pd.to_numeric(frame["customer_count"], errors="coerce").astype(float)
        positive = counts[counts > 0]
        low = float(positive.min()) if len(positive) else 1.0
        high = max(float(positive.max()) if len(positive) else 10.0, low * 1.5)
        self._mapper.update(low=low, high=high)
        self._ticker.ticks = round_ticks(low, high)

    def selection_from_tap(self, x, y):
        a, b = factor_at(self.figure.y_range.factors, y), factor_at(self.figure.x_range.factors, x)
        products = set(self.frame["product_a"])
        if a not in products or b not in products:
            return None
        return {"product": sorted({str(a), str(b)})}

    def selection_from_brush(self, x0, x1, y0, y1):
        """The products of the rows and columns covered, all held (the store's `product`: a click on a
        cell is the 1 x 1 case). A wider rectangle asks for customers holding more products at once."""
        rows, columns = list(self.figure.y_range.factors), list(self.figure.x_range.factors)
        a = [rows[int(i)] for i in covered(np.arange(len(rows)) + 0.5, y0, y1)]
        b = [columns[int(i)] for i in covered(np.arange(len(columns)) + 0.5, x0, x1)]
        return {"product": sorted({str(p) for p in a + b})} if a and b else None
