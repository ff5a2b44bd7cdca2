"""Merchant spending: the group -> category -> segment sunburst and the region -> group -> category treemap."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from ..warehouse.needs import Need
from .marks import Hover
from .plotly_view import PlotlyView
from .style import CATEGORY_COLORS, FADED_OPACITY, SEGMENT_COLORS, money, plotly_text, short_money

GROUP_COLORS = {"Essential Services": "#4e79a7", "Retail": "#59a14f", "Lifestyle": "#b07aa1",
                "Professional Services": "#9c755f"}


SUMS = ("total_spend", "transaction_count")  # what the rings and tiles draw


class _Hierarchy(PlotlyView):
    """A Plotly hierarchy (sunburst/treemap) over `levels` of the merchant table; a click selects its path."""

    table = "analytics_merchant_spending_patterns"
    levels: tuple[tuple[str, str], ...] = ()  # (column in the frame, store dimension)
    trace = go.Sunburst
    _paths: dict[str, list[str]] = {}  # node id -> its path, as last drawn (names may hold "/": ids are not split)
    _nodes_shown = None  # the nodes drawn (their highlight is redrawn without a query)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c, _ in self.levels]
        out = (df.groupby(cols, observed=True)
               .agg(total_spend=("total_spend", "sum"), transaction_count=("transaction_count", "sum"))
               .reset_index())
        return out[out["total_spend"] > 0]

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{short_money(df['total_spend'].sum())} spend in {int(df['transaction_count'].sum()):,} transactions"

    def _nodes(self, df: pd.DataFrame) -> pd.DataFrame:
        """One row per node, depth by depth, each depth in sorted path order (as a groupby would give):
        plain Python sums over the few hundred rows, without pandas' per-groupby overhead."""
        cols = [c for c, _ in self.levels]
        keys = list(zip(*(df[c].tolist() for c in cols)))
        spend, count = df["total_spend"].tolist(), df["transaction_count"].tolist()
        columns: dict[str, list] = {k: [] for k in ("id", "parent", "label", "depth", "path", "total_spend",
                                                   "transaction_count")}
        for depth in range(1, len(cols) + 1):
            sums: dict[tuple, list] = {}
            for key, s, n in zip(keys, spend, count):
                path = key[:depth]
                if any(pd.isna(v) for v in path):  # as groupby: a missing key is no node
                    continue
                total = sums.setdefault(tuple(str(v) for v in path), [0.0, 0])
                total[0] += s
                total[1] += n
            for path in sorted(sums):
                columns["id"].append("/".join(path))
                columns["parent"].append("/".join(path[:-1]))
                columns["label"].append(path[-1])
                columns["depth"].append(depth)
                columns["path"].append(list(path))
                columns["total_spend"].append(sums[path][0])
                columns["transaction_count"].append(sums[path][1])
        return pd.DataFrame(columns)

    def _color(self, label: str, path: list[str]) -> str:
        root = path[0]
        return SEGMENT_COLORS.get(label) or CATEGORY_COLORS.get(label) or GROUP_COLORS.get(label) \
            or GROUP_COLORS.get(root, "#cccccc")

    def _highlighted(self, path: list[str]) -> bool:
        return self.is_selected(**{dim: value for (_, dim), value in zip(self.levels, path)})

    HOVER = Hover("<b>{label}</b><br>Spend: {spend}<br>Transactions: {transactions}"
                  "<br>Share of parent: %{percentParent:.1%}", "label", "spend", "transactions")

    def build(self) -> go.Figure:
        fig = go.Figure(self.trace(ids=[], parents=[], labels=[], values=[], branchvalues="total",
                                   marker=dict(line=dict(color="white", width=1)),
                                   hovertemplate=self.HOVER.template))
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0))
        return fig

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        nodes = self._nodes(frame)
        self._paths = dict(zip(nodes["id"], nodes["path"]))
        self._nodes_shown = nodes
        return [{"ids": nodes["id"].to_numpy(object), "parents": nodes["parent"].to_numpy(object),
                 "labels": np.array([plotly_text(v) for v in nodes["label"]], dtype=object),
                 "values": nodes["total_spend"].to_numpy(float),
                 "customdata": self.HOVER.customdata(
                     label=[plotly_text(v) for v in nodes["label"]],
                     spend=[money(v) for v in nodes["total_spend"]],
                     transactions=[f"{int(v):,}" for v in nodes["transaction_count"]]),
                 **self._colours(nodes)}]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        return [self._colours(self._nodes_shown)]

    def _colours(self, nodes: pd.DataFrame) -> dict:
        colours = [_fade(self._color(label, path), 1.0 if self._highlighted(path) else FADED_OPACITY)
                   for label, path in zip(nodes["label"].tolist(), nodes["path"].tolist())]
        return {"marker.colors": np.array(colours, dtype=object)}

    def selection_from_click(self, point: dict):
        path = self._paths.get(str(point.get("id")))
        if not path:
            return None
        selection = {dim: [value] for (_, dim), value in zip(self.levels, path)}
        for _, dim in self.levels[len(path):]:  # deeper levels this view set earlier are cleared
            if self.store.origin.get(dim) == self.title:
                selection[dim] = []
        return selection


def _fade(hex_color: str, opacity: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{opacity})"


class MerchantSunburst(_Hierarchy):
    title = "Merchant spending sunburst"
    own = ("category_group", "merchant_category", "customer_segment")
    levels = (("category_group", "category_group"), ("category", "merchant_category"),
              ("customer_segment", "customer_segment"))
    need = Need(_Hierarchy.table, tuple(c for c, _ in levels), SUMS)
    help = ("Spend by category group, category and segment. Click a ring to filter the other views "
            "to it (the inner rings set the group and category, the outer ring also the segment).")


class MerchantTreemap(_Hierarchy):
    title = "Merchant spending treemap"
    own = ("region", "category_group", "merchant_category")
    levels = (("region", "region"), ("category_group", "category_group"), ("category", "merchant_category"))
    need = Need(_Hierarchy.table, tuple(c for c, _ in levels), SUMS)
    trace = go.Treemap
    help = "Spend by region, category group and category. Click a tile to filter the other views to it."
