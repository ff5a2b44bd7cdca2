"""Product cross-sell: the product network (circle layout), and what the product x product affinity
matrix (affinity.py) shares with it.

Both are drawn with Bokeh's `figure` directly, once per session (`BokehView`), then fed new columns.
HoloViews would declare them in fewer words but owns what these need in hand: the network's hover
tools are each bound to one renderer (the old overlay stacked one tooltip per edge on a node), its
legend sits outside the frame, its colours follow the page's theme; the matrix needs a log colour
mapper with round ticks and a colour for "nobody" (0) apart from "not a pair" (the diagonal).
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import param
from bokeh.models import HoverTool, Legend, LegendItem, Range1d
from bokeh.plotting import figure

from ..warehouse import reference as ref
from .bokeh_view import BokehView
from .crosssell import balance_words, clear_of_nodes, holders_words, relative_holders, short_label, texts, theme_colors
from .marks import alpha, lit
from .style import OTHER_COLOR, PRODUCT_CATEGORY_COLORS, number

__all__ = ["CrossSellNetwork", "relative_holders"]

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
        return sorted(set(self._known) | set(df["product_1"].tolist()) | set(df["product_2"].tolist()))

    @staticmethod
    def categories(df: pd.DataFrame) -> dict[str, str]:
        found = dict(zip(df["product_1"].tolist(), df["category_1"].tolist()))
        found.update(zip(df["product_2"].tolist(), df["category_2"].tolist()))  # a product's last pair names it
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
        holders = relative_holders(df).to_dict()
        self.nodes = self._node_table(df, holders)
        edges = df[df["customer_count"] >= self.min_customers]
        # most customers first, then by the two names (a pair is unique): the top `top_pairs`
        order = np.lexsort((edges["product_2"].to_numpy(object), edges["product_1"].to_numpy(object),
                            -edges["customer_count"].to_numpy(float)))[:self.top_pairs]
        edges = edges[PAIR_COLUMNS].iloc[order].reset_index(drop=True)
        for i in (1, 2):
            edges[f"holders_index_{i}"] = np.array([holders.get(p, np.nan) for p in edges[f"product_{i}"].tolist()], float)
        return edges

    def _node_table(self, df: pd.DataFrame, holders: dict[str, float]) -> pd.DataFrame:
        """Every product on the circle (sorted, clockwise from the top) with its category and holders."""
        products = self.products(df)
        categories = self.categories(df)
        theta = np.pi / 2 - 2 * np.pi * np.arange(len(products)) / max(len(products), 1)
        paired = Counter(df["product_1"].tolist()) + Counter(df["product_2"].tolist())  # a pair names two products
        return pd.DataFrame({
            "product": products, "category": [categories.get(p, "OTHER") for p in products],
            "x": np.cos(theta), "y": np.sin(theta),
            "holders_index": [holders.get(p, np.nan) for p in products],
            "pairs": [paired.get(p, 0) for p in products],
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
