"""Product cross-sell: the product network (circle layout) and the product x product affinity matrix.

Both are drawn with Bokeh's `figure` directly, once per session (`BokehView`), then fed new columns.
HoloViews would declare them in fewer words but owns what these need in hand: the network's hover
tools are each bound to one renderer (the old overlay stacked one tooltip per edge on a node), its
legend sits outside the frame, its colours follow the page's theme; the matrix needs a log colour
mapper with round ticks and a colour for "nobody" (0) apart from "not a pair" (the diagonal).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import param
from bokeh.models import (ColorBar, FactorRange, FixedTicker, HoverTool, Legend, LegendItem, LogColorMapper,
                          NumeralTickFormatter, Range1d)
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from ..warehouse import reference as ref
from .bokeh_view import BokehView, factor_at
from .brush import covered
from .crosssell import (balance_words, clear_of_nodes, holders_words, pair_grid, relative_holders, round_ticks,
                        short_label, texts, theme_colors)
from .marks import alpha, lit
from .style import OTHER_COLOR, PRODUCT_CATEGORY_COLORS, is_missing, number

__all__ = ["AffinityMatrix", "CrossSellNetwork", "relative_holders"]

TABLE = "analytics_product_cross_sell_patterns"
PAIR_COLUMNS = ["product_1", "category_1", "product_2", "category_2", "customer_count",
                "avg_combined_balance", "avg_min_age_months", "cross_sell_score"]
EDGE_COLOR = "#8c8c8c"
CATEGORY_WORDS = {"DEPOSIT": "Deposit", "CREDIT": "Credit", "LOAN": "Loan", "INVESTMENT": "Investment"}
LIFT = "Lift (1 = as often as chance)"
BALANCE = "Avg combined balance of the two products"


class _CrossSell(BokehView):
    """Shared by both product views: the gold table, the product dimension and a stable product list."""

    table = TABLE
    own = ("product",)

    def products(self, df: pd.DataFrame) -> list[str]:
        """Every product of the warehouse (so positions/rows stay put under filters) plus any in `df`."""
        if getattr(self, "_known", None) is None:  # asked once: the warehouse's products do not change
            try:
                self._known = [str(p) for p in self.store.options("product")]
            except Exception:  # a warehouse with gold tables only: the products come with the data
                self._known = []
        return sorted(set(self._known) | set(df["product_1"]) | set(df["product_2"]))

    @staticmethod
    def categories(df: pd.DataFrame) -> dict[str, str]:
        pairs = pd.concat([df[["product_1", "category_1"]].set_axis(["p", "c"], axis=1),
                           df[["product_2", "category_2"]].set_axis(["p", "c"], axis=1)])
        found = dict(zip(pairs["p"], pairs["c"]))
        return {**{p: c for p, (c, _) in ref.PRODUCTS.items()}, **found}


# the pair table without a row: what `build` draws (every product, no pair) before the first frame
NO_PAIRS = pd.DataFrame({c: pd.Series(dtype=object if c.startswith(("product", "category")) else float)
                         for c in PAIR_COLUMNS})


class CrossSellNetwork(_CrossSell):
    """Products on a circle joined by their co-holdings; a click on a node selects its holders.

    A node and a label per product of the warehouse (sources made at build, positions fixed); the
    edges' source changes length with the pairs shown. A node's hover is its own; an edge is hovered
    on the part of it that lies off every node, so a pointer on a node shows one tooltip."""

    title = "Product cross-sell network"
    help = ("Products on a circle; a line joins two products held by the same customers (width = customers "
            "holding both, hover for the lift), node size = holders, colour = product category. Click a "
            "product to filter every other view to its holders; click it again to clear.")
    height = param.Integer(default=520)
    min_customers = param.Integer(default=1, bounds=(1, None), doc="Hide pairs held by fewer customers")
    top_pairs = param.Integer(default=50, bounds=(1, None), doc="Draw at most this many pairs (most customers first)")
    shares_frames = False  # `transform` also sets `nodes`

    TAP_RADIUS = 0.2  # data units on the unit circle
    X_HALF, Y_HALF = 2.2, 1.5  # the frame around the unit circle, in data units: room for the labels
    LABEL_PX, LABEL_GAP_PX = 11, 30  # label font; a node's centre to its label (the largest node is 48 px)
    # The fewest screen pixels per data unit the frame is drawn at (about 95 across, 140 up for the
    # card of a 1280-px window): node discs are turned into data units with it to keep edge hovers off.
    NARROW_PX = 85.0
    NODE_TIPS = [("Product", "@product"), ("Category", "@category"), ("Holders", "@holders_label"),
                 ("Co-held with", "@pairs other products")]
    EDGE_TIPS = [("Pair", "@pair"), ("Customers holding both", "@customer_count{0,0}"), (LIFT, "@lift_label"),
                 (BALANCE, "@balance_label")]

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        holders = relative_holders(df)
        self.nodes = self._node_table(df, holders)
        edges = df[df["customer_count"] >= self.min_customers]
        edges = edges.sort_values(["customer_count", "product_1", "product_2"], ascending=[False, True, True],
                                  kind="stable").head(self.top_pairs)
        edges = edges[PAIR_COLUMNS].reset_index(drop=True)
        edges["holders_index_1"] = edges["product_1"].map(holders).astype(float)
        edges["holders_index_2"] = edges["product_2"].map(holders).astype(float)
        return edges

    def _node_table(self, df: pd.DataFrame, holders: pd.Series) -> pd.DataFrame:
        """Every product on the circle (sorted, clockwise from the top) with its category and holders."""
        products = self.products(df)
        categories = self.categories(df)
        theta = np.pi / 2 - 2 * np.pi * np.arange(len(products)) / max(len(products), 1)
        return pd.DataFrame({
            "product": products, "category": [categories.get(p, "OTHER") for p in products],
            "x": np.cos(theta), "y": np.sin(theta),
            "holders_index": [holders.get(p, np.nan) for p in products],
            "pairs": [int(((df["product_1"] == p) | (df["product_2"] == p)).sum()) for p in products],
        })

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(self.nodes)} products · {len(df)} pairs · {int(df['customer_count'].sum()):,} pair holdings"

    # -- the figure ------------------------------------------------------------------------------------
    themed_data = True  # a touched edge's emphasis

    @property
    def _colors(self) -> dict[str, str]:
        return theme_colors()

    def build(self):
        colors = self._colors
        fig = figure(x_range=Range1d(-self.X_HALF, self.X_HALF), y_range=Range1d(-self.Y_HALF, self.Y_HALF),
                     height=self.height - 10, sizing_mode="stretch_width", toolbar_location=None, tools="",
                     x_axis_location=None, y_axis_location=None, min_border=4, outline_line_color=None)
        fig.grid.visible = False
        for name, columns in self.data(self.transform(NO_PAIRS)).items():  # every product, no pair yet
            self.source(name, **columns)
        edges, nodes, labels = (self.sources[n] for n in ("edges", "nodes", "labels"))
        fig.segment("x0", "y0", "x1", "y1", source=edges, line_color="color", line_alpha="alpha", line_width="width")
        hits = fig.segment("hx0", "hy0", "hx1", "hy1", source=edges, line_alpha=0.0, line_width="hit_width")
        self._dots = dots = fig.scatter("x", "y", source=nodes, size="size", fill_color="color", fill_alpha="alpha",
                                        line_color=colors["outline"], line_alpha="alpha", line_width="outline")
        self._labels = fig.text("x", "y", text="text", source=labels, x_offset="dx", y_offset="dy",
                                text_align="align", text_baseline="baseline", text_font_size=f"{self.LABEL_PX}px",
                                text_color=colors["label"])
        fig.add_tools(HoverTool(renderers=[dots], tooltips=self.NODE_TIPS, limit=1, description="Product"),
                      HoverTool(renderers=[hits], tooltips=self.EDGE_TIPS, limit=1, point_policy="follow_mouse",
                                description="Pair"))
        # below the frame, so it can never cover a node or a label
        fig.add_layout(Legend(items=[LegendItem(label={"field": "kind"}, renderers=[dots])], orientation="horizontal",
                              location="center", label_text_font_size="11px", glyph_width=14, spacing=12,
                              border_line_alpha=0, background_fill_alpha=0, margin=2, padding=4), "below")
        return fig

    def apply_theme(self) -> None:
        self._dots.glyph.line_color = self._colors["outline"]
        self._labels.glyph.text_color = self._colors["label"]

    def data(self, frame):
        nodes = self.nodes
        index = nodes["holders_index"].astype(float)
        size = np.where(index.notna(), 14 + 34 * np.sqrt(index.fillna(0)), 22.0)
        top = nodes["product"][index.idxmax()] if index.notna().any() else None
        marks = self.marks(frame)
        return {
            "nodes": {"x": nodes["x"].to_numpy(float), "y": nodes["y"].to_numpy(float),
                      "product": nodes["product"].to_numpy(object), "category": nodes["category"].to_numpy(object),
                      "kind": texts(CATEGORY_WORDS.get(c, "Other") for c in nodes["category"]),
                      "color": texts(PRODUCT_CATEGORY_COLORS.get(c, OTHER_COLOR) for c in nodes["category"]),
                      "size": size, "pairs": nodes["pairs"].to_numpy(int),
                      "holders_label": texts(holders_words(v, p, top) for v, p in zip(index, nodes["product"])),
                      **marks["nodes"]},
            "edges": {**self._edge_columns(frame, size), **marks["edges"]},
            "labels": self._label_columns(nodes),
        }

    def _edge_columns(self, frame: pd.DataFrame, size: np.ndarray) -> dict:
        at = {p: i for i, p in enumerate(self.nodes["product"])}
        x, y = self.nodes["x"].to_numpy(float), self.nodes["y"].to_numpy(float)
        one, two = frame["product_1"].map(at).to_numpy(int), frame["product_2"].map(at).to_numpy(int)
        count = frame["customer_count"].to_numpy(float)
        width = 1 + 7 * count / max(float(count.max()) if len(count) else 1.0, 1.0)
        hit_width = width + 6
        # a node's disc plus the hover's reach (half the hit line), in data units at the narrowest scale
        radius = (size[None, :] / 2 + 1 + hit_width[:, None] / 2) / self.NARROW_PX
        hits = clear_of_nodes(x[one], y[one], x[two], y[two], x, y, radius)
        return {"x0": x[one], "y0": y[one], "x1": x[two], "y1": y[two], "hx0": hits[:, 0], "hy0": hits[:, 1],
                "hx1": hits[:, 2], "hy1": hits[:, 3], "width": width, "hit_width": hit_width,
                "product_1": texts(frame["product_1"]), "product_2": texts(frame["product_2"]),
                "pair": texts(frame["product_1"] + " ↔ " + frame["product_2"]),
                "customer_count": frame["customer_count"].to_numpy(int),
                "lift_label": texts(number(v, 2) for v in frame["cross_sell_score"]),
                "balance_label": texts(balance_words(v) for v in frame["avg_combined_balance"])}

    def _label_columns(self, nodes: pd.DataFrame) -> dict:
        """Labels just outside their node (a fixed pixel gap), aligned away from the circle."""
        x, y = nodes["x"].to_numpy(float), nodes["y"].to_numpy(float)
        return {"x": x, "y": y, "text": texts(short_label(p) for p in nodes["product"]),
                "dx": self.LABEL_GAP_PX * x, "dy": -self.LABEL_GAP_PX * y,  # screen y points down
                "align": np.where(x > 0.1, "left", np.where(x < -0.1, "right", "center")).astype(object),
                "baseline": np.where(np.abs(y) < 0.7, "middle", np.where(y > 0, "bottom", "top")).astype(object)}

    def marks(self, frame):
        chosen = set(self.selected("product"))
        touching = (frame["product_1"].isin(chosen) | frame["product_2"].isin(chosen)).to_numpy(bool)
        edge_alpha = np.where(touching, 0.9, 0.08) if chosen else np.full(len(frame), 0.55)
        return {"nodes": {"alpha": alpha(lit(self, self.nodes)),
                          "outline": np.where(self.nodes["product"].isin(chosen), 3.0, 1.0)},
                "edges": {"alpha": edge_alpha.astype(float),
                          "color": np.where(touching, self._colors["emphasis"], EDGE_COLOR).astype(object)}}

    def selection_from_tap(self, x, y):
        nodes = self.nodes
        distance = np.hypot(nodes["x"] - float(x), nodes["y"] - float(y))
        if distance.empty or distance.min() > self.TAP_RADIUS:
            return None
        return {"product": [str(nodes["product"].iloc[int(distance.argmin())])]}


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
