"""Credit score correlation: the behaviour scatter matrix (brushable) and what the risk bubble chart
(credit_risk.py) shares with it.

Both are Plotly (PlotlyView). The matrix is Plotly's Splom: every pair of five metrics in one trace
per band, with box and lasso selection across all cells; Bokeh has no such glyph (twenty linked
figures would be hundreds of models per session) and HoloViews' Bokeh `gridmatrix` is those figures.
The bubble chart stays Plotly beside it, so both share one hover, legend and band look.

Each figure is built once with a trace per category known at build (the vocabulary, then the
warehouse's own values, then an "Other" slot for values the build did not know). An update sets
NumPy arrays on those traces; a highlight only opacity and outline arrays (the others are the
arrays already sent, which Panel does not send again). The bubble chart's score bands are layout
shapes and labels made once and moved (x0/x1) or re-tinted through the layout (sent as JSON).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from ..warehouse import reference as ref
from .marks import Hover, alpha, any_selected, lit
from .plotly_view import PlotlyView
from .theme import pick
from .style import (BAND_COLORS, OTHER_COLOR, SELECTED_LINE, colours, groups_of_customers, in_order,
                    is_missing, money, number, ordered, plotly_text)

TABLE = "analytics_credit_score_behavior_correlation"
KEYS = ["credit_score_band", "income_bracket", "customer_segment"]
BANDS = ref.CREDIT_BAND_LABELS  # Poor .. Excellent
BAND_RANGES = [(low, high) for (_, low), high in  # [lowest score, next band's lowest) .. 850
               zip(ref.CREDIT_BANDS, [b[1] for b in ref.CREDIT_BANDS[1:]] + [850])]
OTHER = "Other"  # the slot of values the build did not know
# Per page theme (read as drawn: a theme switch redraws, see theme.py). What must read on the plot's
# background (white; in the dark theme the plot is transparent over Panel's card, #2b3035): band
# labels at least 4.5:1 (WCAG AA text), outlines at least 3:1 (non-text), so the navy bubbles
# ("Very High" income) keep a visible edge on a dark card and a selected mark stands out.
THEMES = {
    "light": {"background": "#ffffff", "label": "#555555", "grid": "#eeeeee", "outline": "#2f4f4f",
              "selected": SELECTED_LINE, "bands": (0.06, 0.16)},
    "dark": {"background": "#2b3035", "label": "#ced4da", "grid": "#3d444b", "outline": "#adb5bd",
             "selected": "#f8f9fa", "bands": (0.10, 0.24)},
}

# Above the plot, not beside it (the plot keeps a half-width card's whole width), in the top margin
# from the figure's top down (a row that wraps grows into the margin, not off the figure).
LEGEND = dict(orientation="h", x=0, xanchor="left", y=1, yref="container", yanchor="top", font=dict(size=10),
              itemwidth=30, itemclick=False, itemdoubleclick=False)


def padded(low: float, high: float, pixels: float, below: float, above: float) -> list[float]:
    """[low, high] widened so that `below` / `above` pixels fit outside the data on an axis `pixels` long
    (a bubble centred on the last value is drawn whole, not cut at the axis)."""
    room = max(pixels - below - above, 0.2 * pixels)
    per_px = max(high - low, 1e-9) / room
    return [low - below * per_px, high + above * per_px]


class _Credit(PlotlyView):
    """Both credit views: one gold table, a `min_customers` threshold (a knob: changing it re-transforms),
    a trace per slot of one dimension and the highlight of the own selection."""

    table = TABLE
    min_customers = param.Integer(default=1, bounds=(1, None), doc="Hide groups with fewer customers")
    themed_data = True  # outlines and band labels
    _slots: list[tuple[str, str]] = []
    _drawn = None  # the frame `traces` last drew (`marks` reuses its arrays)

    @property
    def _theme(self) -> dict:
        return pick(THEMES)

    def theme_layout(self, dark: bool) -> dict:
        layout = super().theme_layout(dark)
        if not dark:  # white, not the template's blue-grey: the band colours read on it
            layout.update(plot_bgcolor=THEMES["light"]["background"], paper_bgcolor=THEMES["light"]["background"])
        return layout

    def summarize(self, df: pd.DataFrame) -> str:
        return groups_of_customers(len(df), self.min_customers, int(df["customer_count"].sum()))

    def slots(self, dimension: str, vocabulary, palette: dict) -> list[tuple[str, str]]:
        """(value, colour) per trace: the vocabulary, the warehouse's own values, then OTHER."""
        try:
            found = [str(v) for v in self.store.options(dimension)]
        except Exception:  # a warehouse with gold tables only: its own values go to OTHER
            found = []
        known = list(vocabulary) + [v for v in ordered(found, vocabulary) if v not in vocabulary]
        palette = colours(palette, known)
        return [(v, palette[v]) for v in known] + [(OTHER, OTHER_COLOR)]

    def slot_rows(self, frame: pd.DataFrame, column: str) -> list[np.ndarray]:
        """Per slot, the positions of its rows in the frame (unknown values in the last, OTHER)."""
        index = {name: i for i, (name, _) in enumerate(self._slots[:-1])}
        slot = np.array([index.get(v, len(self._slots) - 1) for v in frame[column].astype(object)], dtype=int)
        return [np.flatnonzero(slot == i) for i in range(len(self._slots))]

    def _empty(self) -> dict:
        """A trace's arrays before data comes (the same keys as every update)."""
        return dict(customdata=np.empty((0, len(self.HOVER.fields)), object), hovertemplate=self.HOVER.template)

    def _highlight(self, on: np.ndarray, high: float, widths: tuple[float, float]) -> dict:
        """Opacity and outline per mark: lit or faded; a selected mark outlined (when something is selected)."""
        emphasis = on & any_selected(self)
        return {"marker.opacity": alpha(on, high),
                "marker.line.color": np.where(emphasis, self._theme["selected"], self._theme["outline"]).astype(object),
                "marker.line.width": np.where(emphasis, *widths).astype(float)}

    def _keys(self, frame: pd.DataFrame) -> dict:
        """Hover fields: the raw keys (what a click selects) and the same shown as text (escaped)."""
        raw = {k: frame[k].astype(object).to_numpy() for k in KEYS}
        return {**raw, **{short: [plotly_text(v) for v in raw[k]]
                          for short, k in zip(("band", "income", "segment"), KEYS)}}

    def _clicked(self, point: dict, *dimensions: str) -> dict | None:
        values = [self.HOVER.read(point, d) for d in dimensions]
        if any(is_missing(v) for v in values):  # no customdata (not a group's mark)
            return None
        return {d: [str(v)] for d, v in zip(dimensions, values)}


class CreditScatterMatrix(_Credit):
    """Scatter matrix of credit score and behaviour per band x income x segment group; brush to select bands."""

    title = "Credit score vs behaviour"
    own = ("credit_score_band",)
    brushes = ("credit_score_band",)
    help = ("One point per credit band, income bracket and segment with at least 20 customers (an average of "
            "fewer says little), "
            "every pair of five metrics (colour = credit band). Drag a box or lasso over points to filter the "
            "other views to their credit bands (they follow as you drag), or click one for its band; "
            "double-click or Reset to clear.")
    height = param.Integer(default=640)
    min_customers = param.Integer(default=20, bounds=(1, None),
                                  doc="Hide groups with fewer customers (the seed's customer_count >= 20)")

    # column -> axis title: two short lines at most, so five titles fit the bottom row of a half-width card
    DIMENSIONS = {"avg_credit_score": "Credit score", "avg_transactions": "Transactions<br>(90d)",
                  "avg_transaction_size": "Avg<br>transaction ($)", "avg_credit_utilization_pct": "Utilization<br>(%)",
                  "avg_total_balance": "Avg total<br>balance ($)"}
    HOVER = Hover("<b>{band}</b> · {income} income · {segment}<br>Customers: {customers}<br>Credit score: {score}"
                  "<br>Transactions (90d): {transactions}<br>Avg transaction: {size}<br>Utilization: {utilization}"
                  "<br>Avg total balance: {balance}", *KEYS, "customers", "score", "transactions", "size",
                  "utilization", "balance", "band", "income", "segment")

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers]
        return in_order(out[KEYS + ["customer_count", *self.DIMENSIONS]], KEYS)

    def build(self) -> go.Figure:
        self._slots = self.slots("credit_score_band", BANDS, BAND_COLORS)
        fig = go.Figure()
        for i, (name, colour) in enumerate(self._slots):
            fig.add_trace(go.Splom(
                name=plotly_text(name), showlegend=i < len(self._slots) - 1, **self._empty(),
                dimensions=[dict(label=label, values=np.empty(0)) for label in self.DIMENSIONS.values()],
                diagonal_visible=False, showupperhalf=True,
                marker=dict(color=colour, size=8, opacity=np.empty(0), line=dict(color=np.empty(0, object),
                                                                                 width=np.empty(0)))))
        axes = {}
        for i, col in enumerate(self.DIMENSIONS, start=1):
            # small titles close to their ticks (the bottom row's five sit side by side), 3 ticks: upright
            fmt = dict(tickfont=dict(size=8), title=dict(font=dict(size=9), standoff=4), nticks=3)
            if col in ("avg_transaction_size", "avg_total_balance"):
                fmt.update(tickformat="$~s")  # d3: -$100k, not $-100k
            elif col == "avg_credit_utilization_pct":
                fmt.update(ticksuffix="%")
            axes[f"xaxis{i if i > 1 else ''}"] = fmt
            axes[f"yaxis{i if i > 1 else ''}"] = fmt
        fig.update_layout(**axes, dragmode="select", hovermode="closest", margin=dict(l=72, r=8, t=56, b=60),
                          # t: room for the legend on two rows
                          legend=LEGEND | {"title": dict(text="Credit band")})
        return fig

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        hover = self.HOVER.customdata(
            **self._keys(frame), customers=[f"{int(v):,}" for v in frame["customer_count"]],
            score=[number(v, 0) for v in frame["avg_credit_score"]],
            transactions=[number(v, 1) for v in frame["avg_transactions"]],
            size=[money(v, 2) for v in frame["avg_transaction_size"]],
            utilization=[number(v, 1, "%") for v in frame["avg_credit_utilization_pct"]],
            balance=[money(v, 2) for v in frame["avg_total_balance"]])
        self._drawn, self._rows = frame, self.slot_rows(frame, "credit_score_band")
        self._values = frame[list(self.DIMENSIONS)].to_numpy(float)
        return [{"customdata": hover[rows], **mark} for rows, mark in zip(self._rows, self.marks(frame))]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        if frame is not self._drawn:
            return self.traces(frame)
        on = lit(self, frame)
        # Panel's pane takes nested arrays (a dimension's values, the marker's) out of the figure's own
        # dicts when it sends them: each update sets them again (unchanged ones do not travel)
        return [{**{f"dimensions[{j}].values": np.ascontiguousarray(self._values[rows, j])
                    for j in range(len(self.DIMENSIONS))}, **self._highlight(on[rows], 0.8, (1.5, 0.4))}
                for rows in self._rows]

    def selection_from_click(self, point: dict):
        return self._clicked(point, "credit_score_band")

    def selection_from_points(self, points: list[dict]):
        bands = [v for v in (self.HOVER.read(p, "credit_score_band") for p in points) if not is_missing(v)]
        return {"credit_score_band": ordered([str(b) for b in bands], BANDS)} if bands else None
