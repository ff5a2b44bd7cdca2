"""Product cross-sell: the product network (circle layout) and the product x product affinity matrix."""
from __future__ import annotations


import holoviews as hv
import numpy as np
import pandas as pd
import param
from bokeh.models import CustomJSTickFormatter
from bokeh.palettes import Turbo256
from holoviews import dim

from ..warehouse import reference as ref
from .legacy import HoloViewsView
from .style import (FADED_OPACITY, OTHER_COLOR, PRODUCT_CATEGORY_COLORS, SELECTED_LINE, is_missing, money, number,
                    plain)

TABLE = "analytics_product_cross_sell_patterns"
PAIR_COLUMNS = ["product_1", "category_1", "product_2", "category_2", "customer_count",
                "avg_combined_balance", "avg_min_age_months", "cross_sell_score"]
EDGE_COLOR, EDGE_EMPHASIS = "#8c8c8c", "#303030"










def relative_holders(pairs: pd.DataFrame) -> pd.Series:
    """Holders of each product relative to the most-held one (1.0), from the pair table alone.

    customer_count / cross_sell_score = holders_1 x holders_2 / chosen customers, so the log of it
    is a sum of two per-product terms: a least-squares solve gives every product's holders up to
    one common factor (exact when the pairs do not form a bipartite graph; NaN when they do).
    """
    ok = pairs[(pairs["customer_count"] > 0) & (pairs["cross_sell_score"] > 0)
               & np.isfinite(pairs["cross_sell_score"].astype(float))]
    names = sorted(set(ok["product_1"]) | set(ok["product_2"]))
    if not names:
        return pd.Series(dtype=float)
    col = {p: i for i, p in enumerate(names)}
    design = np.zeros((len(ok), len(names)))
    rows = np.arange(len(ok))
    design[rows, ok["product_1"].map(col).to_numpy()] = 1.0
    design[rows, ok["product_2"].map(col).to_numpy()] = 1.0
    target = np.log(ok["customer_count"].to_numpy(float) / ok["cross_sell_score"].to_numpy(float))
    if np.linalg.matrix_rank(design) < len(names):
        return pd.Series(np.nan, index=names)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    return pd.Series(np.exp(solution - solution.max()), index=names)


class _CrossSell(HoloViewsView):
    """Shared by both product views: the gold table, the product dimension and a stable product list."""

    table = TABLE
    own = ("product",)

    def products(self, df: pd.DataFrame) -> list[str]:
        """Every product of the warehouse (so positions/rows stay put under filters) plus any in `df`."""
        try:
            known = [str(p) for p in self.store.options("product")]
        except Exception:  # a warehouse with gold tables only
            known = []
        return sorted(set(known) | set(df["product_1"]) | set(df["product_2"]))

    @staticmethod
    def categories(df: pd.DataFrame) -> dict[str, str]:
        pairs = pd.concat([df[["product_1", "category_1"]].set_axis(["p", "c"], axis=1),
                           df[["product_2", "category_2"]].set_axis(["p", "c"], axis=1)])
        found = dict(zip(pairs["p"], pairs["c"]))
        return {**{p: c for p, (c, _) in ref.PRODUCTS.items()}, **found}


class CrossSellNetwork(_CrossSell):
    """Products on a circle joined by their co-holdings; a click on a node selects its holders."""

    title = "Product cross-sell network"
    help = ("Products on a circle; a line joins two products held by the same customers (width = customers "
            "holding both, hover for the lift), node size = holders, colour = product category. Click a "
            "product to filter every other view to its holders; click it again to clear.")
    height = param.Integer(default=520)
    min_customers = param.Integer(default=1, bounds=(1, None), doc="Hide pairs held by fewer customers")
    top_pairs = param.Integer(default=50, bounds=(1, None), doc="Draw at most this many pairs (most customers first)")
    layered = True  # edges (the layer the Tap listens to), nodes, labels
    overlay_opts = dict(responsive=True, min_height=440, xaxis=None, yaxis=None, xlim=(-2.0, 2.0),
                        ylim=(-1.45, 1.45), legend_position="bottom_right", toolbar="above", show_grid=False)

    TAP_RADIUS = 0.2  # data units on the unit circle

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
        nodes = pd.DataFrame({
            "product": products, "category": [categories.get(p, "OTHER") for p in products],
            "x": np.cos(theta), "y": np.sin(theta),
            "holders_index": [holders.get(p, np.nan) for p in products],
            "pairs": [int(((df["product_1"] == p) | (df["product_2"] == p)).sum()) for p in products],
        })
        nodes["lx"], nodes["ly"] = 1.2 * nodes["x"], 1.2 * nodes["y"]  # labels outside the circle
        top_or_bottom = nodes["x"].abs() <= 0.05
        nodes.loc[top_or_bottom, "ly"] += 0.06 * np.sign(nodes.loc[top_or_bottom, "y"])
        nodes["align"] = np.where(top_or_bottom, "center", np.where(nodes["x"] > 0, "left", "right"))
        return nodes

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(self.nodes)} products · {len(df)} pairs · {int(df['customer_count'].sum()):,} pair holdings"

    def render(self, df: pd.DataFrame):
        chosen = set(self.selected("product"))
        nodes = self.nodes.copy()
        where = dict(zip(nodes["product"], zip(nodes["x"], nodes["y"])))
        index = nodes["holders_index"]
        nodes["size"] = np.where(index.notna(), 14 + 34 * np.sqrt(index.fillna(0)), 22)
        nodes["alpha"] = [1.0 if not chosen or p in chosen else FADED_OPACITY for p in nodes["product"]]
        nodes["outline"] = [3.0 if p in chosen else 1.0 for p in nodes["product"]]
        nodes["holders_label"] = [f"{v:.0%} of the most-held product" if not is_missing(v) else "n/a"
                                  for v in index]

        edges = df.copy()
        edges[["x0", "y0"]] = [where[p] for p in edges["product_1"]]
        edges[["x1", "y1"]] = [where[p] for p in edges["product_2"]]
        peak = max(float(edges["customer_count"].max()), 1.0)
        edges["width"] = 1 + 7 * edges["customer_count"] / peak
        touching = [bool(chosen & {a, b}) for a, b in zip(edges["product_1"], edges["product_2"])]
        edges["alpha"] = [0.55 if not chosen else (0.9 if t else 0.08) for t in touching]
        edges["color"] = [EDGE_EMPHASIS if chosen and t else EDGE_COLOR for t in touching]
        edges["pair"] = edges["product_1"] + " ↔ " + edges["product_2"]
        edges["lift_label"] = [number(v, 2) for v in edges["cross_sell_score"]]
        edges["balance_label"] = [money(v) for v in edges["avg_combined_balance"]]
        edges = edges.sort_values("alpha", kind="stable")  # emphasised lines on top

        return self._draw_network(nodes, edges)

    EDGE_VDIMS = ["product_1", "product_2", "pair", "customer_count", "lift_label", "balance_label", "width",
                  "alpha", "color"]
    NODE_VDIMS = ["product", "category", "holders_label", "pairs", "size", "alpha", "outline"]

    def _draw_network(self, nodes: pd.DataFrame, edges: pd.DataFrame):
        """The three layers, always with the same options (the first drawing fixes the plot's tools)."""
        segments = hv.Segments(plain(edges), kdims=["x0", "y0", "x1", "y1"], vdims=self.EDGE_VDIMS).opts(
            color="color", line_width=dim("width"), alpha=dim("alpha"), tools=["hover"], default_tools=[],
            hover_tooltips=[("Pair", "@pair"), ("Customers holding both", "@customer_count{0,0}"),
                            ("Lift (cross-sell score)", "@lift_label"),
                            ("Avg combined balance", "@balance_label")])
        points = hv.Points(plain(nodes), kdims=["x", "y"], vdims=self.NODE_VDIMS).opts(
            color="category", cmap={**PRODUCT_CATEGORY_COLORS, "OTHER": OTHER_COLOR}, size=dim("size"),
            alpha=dim("alpha"), line_color=SELECTED_LINE, line_width=dim("outline"), show_legend=True,
            tools=["hover", "tap"], default_tools=[], nonselection_alpha=dim("alpha"),
            hover_tooltips=[("Product", "@product"), ("Category", "@category"), ("Holders", "@holders_label"),
                            ("Co-held with", "@pairs products")])
        labels = hv.Labels(plain(nodes), kdims=["lx", "ly"], vdims=["product", "align"]).opts(
            text_align=dim("align"), text_font_size="9pt", text_color="#333333")
        # always these three layers: a DynamicMap overlay cannot change its layers later
        return hv.Overlay([segments, points, labels]).opts(hv.opts.Overlay(**self.overlay_opts))

    def _layers(self, figure) -> tuple:
        return super()._layers(self._blank() if figure is None else figure)

    def _blank(self):
        # Nothing drawn yet: the same layers, options and number of nodes, all invisible (BokehJS
        # fails painting the legend when the node count changes later, or on empty columns).
        nodes = self._node_table(pd.DataFrame(columns=PAIR_COLUMNS), pd.Series(dtype=float)).assign(
            holders_label="", size=0.0, alpha=0.0, outline=0.0)
        edges = pd.DataFrame({"x0": [0.0], "y0": [0.0], "x1": [0.0], "y1": [0.0], "product_1": [""],
                              "product_2": [""], "pair": [""], "customer_count": [0], "lift_label": [""],
                              "balance_label": [""], "width": [0.0], "alpha": [0.0], "color": [EDGE_COLOR]})
        return self._draw_network(nodes, edges)

    def selection_from_tap(self, x, y):
        nodes = self.nodes
        distance = np.hypot(nodes["x"] - float(x), nodes["y"] - float(y))
        if distance.empty or distance.min() > self.TAP_RADIUS:
            return None
        return {"product": [str(nodes["product"].iloc[int(distance.argmin())])]}


class AffinityMatrix(_CrossSell):
    """Symmetric product x product matrix of customers holding both; a click selects that pair's holders."""

    title = "Product affinity matrix"
    help = ("Customers holding both products of each pair (colour on a log scale; hover for the count and "
            "the lift). Click a cell to filter every other view to customers holding both products, a "
            "diagonal cell to the holders of one product; click it again to clear.")
    height = param.Integer(default=560)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        columns = ["product_a", "category_a", "product_b", "category_b", "customer_count", "log_customers",
                   "cross_sell_score", "avg_combined_balance", "avg_min_age_months"]
        if df.empty:  # nobody holds two products: the "no data" state, not a matrix of zeros
            return pd.DataFrame(columns=columns)
        products = self.products(df)
        categories = self.categories(df)
        values = ["customer_count", "cross_sell_score", "avg_combined_balance", "avg_min_age_months"]
        both = pd.concat([
            df[["product_1", "product_2", *values]].set_axis(["product_a", "product_b", *values], axis=1),
            df[["product_2", "product_1", *values]].set_axis(["product_a", "product_b", *values], axis=1)])
        grid = pd.MultiIndex.from_product([products, products], names=["product_a", "product_b"])
        out = both.set_index(["product_a", "product_b"]).reindex(grid).reset_index()
        diagonal = out["product_a"] == out["product_b"]
        paired = set(df["product_1"]) | set(df["product_2"])  # products with holders (in at least one pair)
        missing = out["customer_count"].isna() & ~diagonal
        out["customer_count"] = out["customer_count"].where(~missing, 0).astype("Int64")
        # no customer holds both: the lift is 0 when both products have holders, undefined otherwise
        zero_lift = missing & out["product_a"].isin(paired) & out["product_b"].isin(paired)
        out["cross_sell_score"] = out["cross_sell_score"].astype(float).where(~zero_lift, 0.0)
        out["log_customers"] = np.log1p(out["customer_count"].astype(float))
        out.insert(1, "category_a", out["product_a"].map(categories))
        out.insert(3, "category_b", out["product_b"].map(categories))
        return out[columns]

    def summarize(self, df: pd.DataFrame) -> str:
        held = int((df["customer_count"].fillna(0) > 0).sum()) // 2
        return f"{df['product_a'].nunique()} products · {held} pairs held together"

    def _lit(self, a: str, b: str, chosen: set) -> bool:
        if not chosen:
            return True
        if len(chosen) == 1:
            return a in chosen or b in chosen  # the holders of one product: its row and column
        return a in chosen and b in chosen

    def render(self, df: pd.DataFrame):
        chosen = set(self.selected("product"))
        cells = df.assign(
            count_label=[f"{int(v):,}" if not pd.isna(v) else "— (click: holders of this product)"
                         for v in df["customer_count"]],
            lift_label=[number(v, 2) for v in df["cross_sell_score"]],
            balance_label=[money(v) for v in df["avg_combined_balance"]],
            alpha=[1.0 if self._lit(a, b, chosen) else FADED_OPACITY
                   for a, b in zip(df["product_a"], df["product_b"])])
        return self._draw_matrix(cells)

    CELL_VDIMS = ["log_customers", "count_label", "lift_label", "balance_label", "alpha"]

    def _draw_matrix(self, cells: pd.DataFrame):
        """The heatmap, always with the same options (the first drawing fixes colour bar and axes)."""
        ticks = CustomJSTickFormatter(code="return Math.round(Math.expm1(tick)).toLocaleString('en-US')")
        return hv.HeatMap(plain(cells), kdims=[("product_b", "Product B"), ("product_a", "Product A")],
                          vdims=self.CELL_VDIMS).opts(
            cmap=list(Turbo256), colorbar=True, clabel="Customers holding both (log scale)", alpha=dim("alpha"),
            colorbar_opts={"formatter": ticks}, clipping_colors={"NaN": "#f4f4f4"},
            tools=["hover", "tap"], default_tools=[], invert_yaxis=True, xrotation=45,
            responsive=True, min_height=480, toolbar="above", framewise=True,
            fontsize={"xticks": "8pt", "yticks": "8pt"},
            hover_tooltips=[("Products", "@product_a × @product_b"), ("Customers holding both", "@count_label"),
                            ("Lift (cross-sell score)", "@lift_label"), ("Avg combined balance", "@balance_label")])

    def selection_from_tap(self, x, y):
        products = set(self.frame["product_a"])
        if x not in products or y not in products:
            return None
        return {"product": sorted({str(x), str(y)})}
