"""The credit risk bubble chart: average credit score against a risk indicator per band x income x
segment group, over the score bands (layout shapes and labels made once and moved or re-tinted);
a click or a brush selects bands and income brackets. Shares its slots, hover and theme with the
scatter matrix (credit.py)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from ..warehouse import reference as ref
from .credit import BAND_RANGES, BANDS, KEYS, LEGEND, THEMES, _Credit, padded
from .marks import Hover, bubble_px, lit
from .style import BAND_COLORS, INCOME_COLORS, in_order, number, ordered, plotly_text
from .theme import pick


class CreditRiskBubble(_Credit):
    """Credit score against a risk indicator per band x income x segment group; a click selects band + income."""

    title = "Credit score vs risk indicators"
    own = ("credit_score_band", "income_bracket")
    brushes = ("credit_score_band", "income_bracket")
    help = ("One bubble per credit band, income bracket and segment: average credit score against average "
            "past-due accounts (size = customers, colour = income bracket). Click a bubble to filter the "
            "other views to its credit band and income bracket; click it again to clear. Drag a box or "
            "lasso over bubbles to filter to their bands and brackets (every band with every bracket of "
            "the bubbles inside); double-click or Reset to clear.")
    height = param.Integer(default=520)
    risk_metric = param.Selector(
        default="avg_past_due_accounts",
        objects=["avg_past_due_accounts", "avg_late_payments", "avg_missed_payments"],
        doc="The y axis: accounts past due now, or late / missed payments in the last 12 months")

    RISK_LABELS = {"avg_past_due_accounts": "Avg past-due accounts", "avg_late_payments": "Avg late payments (12m)",
                   "avg_missed_payments": "Avg missed payments (12m)"}
    HOVER = Hover("<b>{band}</b> · {income} income · {segment}<br>Customers: {customers}<br>Avg credit score: {score}"
                  "<br>Avg past-due accounts: {past_due}<br>Avg late payments (12m): {late}"
                  "<br>Avg missed payments (12m): {missed}<br>Avg utilization: {utilization}",
                  *KEYS, "customers", "score", "past_due", "late", "missed", "utilization", "band", "income", "segment")
    BUBBLE_PX, MIN_PX = 40, 8  # the largest and smallest bubble's diameter (as px.scatter's size_max, sizemin)
    OUTLINE_PX = 2.0  # the widest outline (a selected bubble)
    # The x range leaves room for the largest bubble on a plot this wide (a half-width card on a
    # 1280 px screen); on a narrower one `cliponaxis=False` still draws an edge bubble whole.
    PLOT_WIDTH_PX = 340
    LABEL_ROWS_PX = 30  # the two rows of band labels at the top of the plot: bubbles stay below them
    MARGIN = dict(l=60, r=10, t=34, b=48)
    _x_range = (300.0, 850.0)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers]
        return in_order(out[KEYS + ["customer_count", "avg_credit_score", *self.RISK_LABELS,
                                  "avg_credit_utilization_pct"]], KEYS)

    def build(self) -> go.Figure:
        self._slots = self.slots("income_bracket", ref.INCOME_BRACKET_LABELS, INCOME_COLORS)
        fig = go.Figure()
        for i, (name, colour) in enumerate(self._slots):
            fig.add_trace(go.Scatter(
                x=np.empty(0), y=np.empty(0), mode="markers", name=plotly_text(name), cliponaxis=False,
                showlegend=i < len(self._slots) - 1, **self._empty(),
                marker=dict(size=np.empty(0), sizemode="diameter", color=colour, opacity=np.empty(0),
                            line=dict(color=np.empty(0, object), width=np.empty(0)))))
        fig.update_layout(margin=self.MARGIN, hovermode="closest", dragmode="select",
                          xaxis=dict(title=dict(text="Average credit score"), range=[300, 850]),
                          yaxis=dict(title=dict(text=self.RISK_LABELS[self.risk_metric]), range=[0, 1]),
                          legend=LEGEND | {"title": dict(text="Income")},
                          **self._bands(self._x_range))
        return fig

    def theme_layout(self, dark: bool) -> dict:
        grid = pick(THEMES, dark)["grid"]
        return {**super().theme_layout(dark), "xaxis.gridcolor": grid, "yaxis.gridcolor": grid}

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        hover = self.HOVER.customdata(
            **self._keys(frame), customers=[f"{int(v):,}" for v in frame["customer_count"]],
            score=[number(v, 0) for v in frame["avg_credit_score"]],
            past_due=[number(v, 2) for v in frame["avg_past_due_accounts"]],
            late=[number(v, 2) for v in frame["avg_late_payments"]],
            missed=[number(v, 2) for v in frame["avg_missed_payments"]],
            utilization=[number(v, 1, "%") for v in frame["avg_credit_utilization_pct"]])
        self._drawn, self._rows = frame, self.slot_rows(frame, "income_bracket")
        self._sizes = bubble_px(frame["customer_count"], self.BUBBLE_PX, self.MIN_PX)  # one scale for all
        x, y = frame["avg_credit_score"].to_numpy(float), frame[self.risk_metric].to_numpy(float)
        return [{"x": x[rows], "y": y[rows], "customdata": hover[rows], **mark}
                for rows, mark in zip(self._rows, self.marks(frame))]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        if frame is not self._drawn:
            return self.traces(frame)
        on = lit(self, frame)
        # the marker's arrays are set again each time (see CreditScatterMatrix.marks)
        return [{"marker.size": self._sizes[rows], **self._highlight(on[rows], 0.85, (self.OUTLINE_PX, 0.6))}
                for rows in self._rows]

    def layout(self, frame: pd.DataFrame) -> dict:
        """Explicit ranges holding every bubble whole (the largest radius and outline beyond the last
        value; the band labels' rows above the highest), the y title, and the bands in that x range."""
        reach = self.BUBBLE_PX / 2 + self.OUTLINE_PX
        height = (self.figure.layout.height or self.height) - self.MARGIN["t"] - self.MARGIN["b"]
        scores, risk = self._extents(frame)
        self._x_range = tuple(padded(*scores, self.PLOT_WIDTH_PX, reach, reach))
        y_range = padded(*risk, height, reach, reach + self.LABEL_ROWS_PX)
        return {"xaxis": {"range": list(self._x_range)},
                "yaxis": {"range": y_range, "title": {"text": self.RISK_LABELS[self.risk_metric]}},
                **self._bands(self._x_range)}

    def show_marks(self, frame: pd.DataFrame) -> None:
        """The highlight, and the tint of the selected bands (layout shapes); no query, no range change."""
        self._patch(self.marks(frame), {"shapes": self._bands(self._x_range)["shapes"]})

    def _extents(self, frame: pd.DataFrame) -> tuple[tuple[float, float], tuple[float, float]]:
        """The scores shown (20 points beyond the data, within 300-850) and the risk values (from 0)."""
        x, y = (frame[c].astype(float).dropna() for c in ("avg_credit_score", self.risk_metric))
        scores = (max(300.0, x.min() - 20), min(850.0, x.max() + 20)) if len(x) else (300.0, 850.0)
        low = min(0.0, y.min()) if len(y) else 0.0
        return scores, (low, y.max() if len(y) and y.max() > low else low + 1.0)

    def _bands(self, x_range) -> dict:
        """The score bands within the x range: a rectangle each (brighter when selected) and a label
        on one of two rows; neighbours alternate, so narrow ones ("Very Good", "Excellent") never
        overlap. A band cut by the range has its label inside, at the cut."""
        left, right = x_range
        faded, bright = self._theme["bands"]
        chosen = bool(self.selected("credit_score_band"))
        shapes, labels = [], []
        for i, (band, (low, high)) in enumerate(zip(BANDS, BAND_RANGES)):
            x0, x1 = max(low, left), min(high, right)
            visible = bool(x1 > x0)
            anchor = ("center" if (low < left) == (high > right) else "left" if low < left else "right")
            at = {"center": (x0 + x1) / 2, "left": x0, "right": x1}[anchor]
            on = chosen and self.is_selected(credit_score_band=band)
            shapes.append(dict(type="rect", xref="x", yref="paper", x0=x0, x1=x1, y0=0, y1=1, visible=visible,
                               fillcolor=BAND_COLORS[band], opacity=bright if on else faded, line=dict(width=0),
                               layer="below"))
            labels.append(dict(text=band, x=at, xref="x", xanchor=anchor, y=1, yref="paper", yanchor="top",
                               yshift=-2 - 14 * (i % 2), showarrow=False, visible=visible,
                               font=dict(size=10, color=self._theme["label"])))
        return {"shapes": shapes, "annotations": labels}

    def selection_from_click(self, point: dict):
        return self._clicked(point, "credit_score_band", "income_bracket")

    def selection_from_points(self, points: list[dict]):
        """The bands and the brackets of the bubbles covered. The store holds values per dimension, not
        pairs: the other views take every covered band with every covered bracket."""
        groups = [self._clicked(p, "credit_score_band", "income_bracket") for p in points]
        groups = [g for g in groups if g]
        if not groups:
            return None
        return {"credit_score_band": ordered({g["credit_score_band"][0] for g in groups}, BANDS),
                "income_bracket": ordered({g["income_bracket"][0] for g in groups}, ref.INCOME_BRACKET_LABELS)}
