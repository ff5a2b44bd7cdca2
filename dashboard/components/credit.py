"""Credit score correlation: the behaviour scatter matrix (brushable) and the risk bubble chart."""
from __future__ import annotations


import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from ..warehouse import reference as ref
from .legacy import PlotlyView
from .style import (BAND_COLORS, FADED_OPACITY, INCOME_COLORS, OTHER_COLOR, SELECTED_LINE, in_order, money,
                    number, ordered, plotly_text)

TABLE = "analytics_credit_score_behavior_correlation"
KEYS = ["credit_score_band", "income_bracket", "customer_segment"]
BANDS = ref.CREDIT_BAND_LABELS  # Poor .. Excellent
BAND_RANGES = [(low, high) for (_, low), high in  # [lowest score, next band's lowest) .. 850
               zip(ref.CREDIT_BANDS, [b[1] for b in ref.CREDIT_BANDS[1:]] + [850])]












class _Credit(PlotlyView):
    """Both credit views: one gold table and a `min_customers` threshold (a knob: changing it re-transforms)."""

    table = TABLE
    min_customers = param.Integer(default=1, bounds=(1, None), doc="Hide groups with fewer customers")

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(df)} groups · {int(df['customer_count'].sum()):,} customers"


class CreditScatterMatrix(_Credit):
    """Scatter matrix of credit score and behaviour per band x income x segment group; brush to select bands."""

    title = "Credit score vs behaviour"
    own = ("credit_score_band",)
    help = ("One point per credit band, income bracket and segment with at least `min_customers` customers, "
            "every pair of five metrics (colour = credit band). Drag a box or lasso over points, or click "
            "one, to filter the other views to their credit bands; select the same bands again to clear.")
    height = param.Integer(default=640)
    min_customers = param.Integer(default=20, bounds=(1, None),
                                  doc="Hide groups with fewer customers (the seed's customer_count >= 20)")

    DIMENSIONS = {"avg_credit_score": "Credit score", "avg_transactions": "Transactions (90d)",
                  "avg_transaction_size": "Avg transaction ($)", "avg_credit_utilization_pct": "Utilization (%)",
                  "avg_total_balance": "Avg total balance ($)"}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers]
        return in_order(out[KEYS + ["customer_count", *self.DIMENSIONS]], KEYS)

    def _hover_data(self, df: pd.DataFrame) -> np.ndarray:
        return np.column_stack([
            df["credit_score_band"].astype(str), df["income_bracket"].astype(str),
            df["customer_segment"].astype(str), [f"{int(v):,}" for v in df["customer_count"]],
            [number(v, 0) for v in df["avg_credit_score"]], [number(v, 1) for v in df["avg_transactions"]],
            [money(v, 2) for v in df["avg_transaction_size"]],
            [number(v, 1, "%") for v in df["avg_credit_utilization_pct"]],
            [money(v, 2) for v in df["avg_total_balance"]],
            *([plotly_text(v) for v in df[k]] for k in KEYS)]).astype(object)  # shown; the raw keys are clicked

    def render(self, df: pd.DataFrame):
        fig = go.Figure()
        for band in ordered(df["credit_score_band"], BANDS):
            part = df[df["credit_score_band"] == band]
            selected = self.is_selected(credit_score_band=band)
            fig.add_trace(go.Splom(
                name=plotly_text(band), legendrank=BANDS.index(band) if band in BANDS else len(BANDS),
                dimensions=[dict(label=label, values=part[col].astype(float))
                            for col, label in self.DIMENSIONS.items()],
                customdata=self._hover_data(part), diagonal_visible=False, showupperhalf=True,
                marker=dict(color=BAND_COLORS.get(band, OTHER_COLOR), size=8,
                            opacity=0.8 if selected else FADED_OPACITY,
                            line=dict(width=1.5 if selected and self.selected("credit_score_band") else 0.4,
                                      color=SELECTED_LINE if selected and self.selected("credit_score_band")
                                      else "DarkSlateGrey")),
                hovertemplate=("<b>%{customdata[9]}</b> · %{customdata[10]} income · %{customdata[11]}"
                               "<br>Customers: %{customdata[3]}<br>Credit score: %{customdata[4]}"
                               "<br>Transactions (90d): %{customdata[5]}<br>Avg transaction: %{customdata[6]}"
                               "<br>Utilization: %{customdata[7]}<br>Avg total balance: %{customdata[8]}"
                               "<extra></extra>")))
        axes = {}
        for i, col in enumerate(self.DIMENSIONS, start=1):
            fmt = dict(tickfont=dict(size=9), title=dict(font=dict(size=10)))
            if col in ("avg_transaction_size", "avg_total_balance"):
                fmt.update(tickformat="$~s")  # d3: -$100k, not $-100k
            elif col == "avg_credit_utilization_pct":
                fmt.update(ticksuffix="%")
            axes[f"xaxis{i if i > 1 else ''}"] = fmt
            axes[f"yaxis{i if i > 1 else ''}"] = fmt
        fig.update_layout(**axes, dragmode="select", hovermode="closest", height=self.height - 30,
                          margin=dict(l=60, r=10, t=36, b=50), plot_bgcolor="white", paper_bgcolor="white",
                          legend=dict(title="Credit band", itemclick=False, itemdoubleclick=False))
        return fig

    def selection_from_click(self, point: dict):
        data = point.get("customdata")
        return {"credit_score_band": [str(data[0])]} if data else None

    def selection_from_points(self, points: list[dict]):
        bands = [p["customdata"][0] for p in points if p.get("customdata")]
        return {"credit_score_band": ordered(bands, BANDS)} if bands else None


class CreditRiskBubble(_Credit):
    """Credit score against a risk indicator per band x income x segment group; a click selects band + income."""

    title = "Credit score vs risk indicators"
    own = ("credit_score_band", "income_bracket")
    help = ("One bubble per credit band, income bracket and segment: average credit score against average "
            "past-due accounts (size = customers, colour = income bracket). Click a bubble to filter the "
            "other views to its credit band and income bracket; click it again to clear.")
    height = param.Integer(default=520)
    risk_metric = param.Selector(
        default="avg_past_due_accounts",
        objects=["avg_past_due_accounts", "avg_late_payments", "avg_missed_payments"],
        doc="The y axis: accounts past due now, or late / missed payments in the last 12 months")

    RISK_LABELS = {"avg_past_due_accounts": "Avg past-due accounts", "avg_late_payments": "Avg late payments (12m)",
                   "avg_missed_payments": "Avg missed payments (12m)"}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers]
        return in_order(out[KEYS + ["customer_count", "avg_credit_score", *self.RISK_LABELS,
                                  "avg_credit_utilization_pct"]], KEYS)

    def render(self, df: pd.DataFrame):
        y = self.risk_metric
        size_ref = 2.0 * max(float(df["customer_count"].max()), 1.0) / 40 ** 2  # px.scatter's size_max
        fig = go.Figure()
        x_range = self._score_range(df)
        for band, (low, high) in zip(BANDS, BAND_RANGES):
            low, high = max(low, x_range[0]), min(high, x_range[1])  # clipped: the label sits in view
            if low >= high:
                continue
            lit = self.is_selected(credit_score_band=band) and bool(self.selected("credit_score_band"))
            fig.add_vrect(x0=low, x1=high, fillcolor=BAND_COLORS[band], opacity=0.16 if lit else 0.06,
                          line_width=0, layer="below", annotation_text=band, annotation_position="top",
                          annotation_font=dict(size=10, color="#555555"))
        any_selected = any(self.selected(d) for d in self.own)
        for income in ordered(df["income_bracket"], ref.INCOME_BRACKET_LABELS):
            part = df[df["income_bracket"] == income]
            lit = [self.is_selected(credit_score_band=b, income_bracket=i)
                   for b, i in zip(part["credit_score_band"], part["income_bracket"])]
            custom = np.column_stack([
                part["credit_score_band"].astype(str), part["income_bracket"].astype(str),
                part["customer_segment"].astype(str), [f"{int(v):,}" for v in part["customer_count"]],
                [number(v, 0) for v in part["avg_credit_score"]],
                [number(v, 2) for v in part["avg_past_due_accounts"]],
                [number(v, 2) for v in part["avg_late_payments"]],
                [number(v, 2) for v in part["avg_missed_payments"]],
                [number(v, 1, "%") for v in part["avg_credit_utilization_pct"]],
                *([plotly_text(v) for v in part[k]] for k in KEYS)]).astype(object)  # shown; raw keys are clicked
            fig.add_trace(go.Scatter(
                x=part["avg_credit_score"], y=part[y], mode="markers", name=plotly_text(income), customdata=custom,
                marker=dict(size=part["customer_count"], sizemode="area", sizeref=size_ref, sizemin=4,
                            color=INCOME_COLORS.get(income, OTHER_COLOR),
                            opacity=[0.85 if s else FADED_OPACITY for s in lit],
                            line=dict(color=[SELECTED_LINE if s and any_selected else "DarkSlateGrey" for s in lit],
                                      width=[2 if s and any_selected else 0.6 for s in lit])),
                hovertemplate=("<b>%{customdata[9]}</b> · %{customdata[10]} income · %{customdata[11]}"
                               "<br>Customers: %{customdata[3]}<br>Avg credit score: %{customdata[4]}"
                               "<br>Avg past-due accounts: %{customdata[5]}<br>Avg late payments (12m): "
                               "%{customdata[6]}<br>Avg missed payments (12m): %{customdata[7]}"
                               "<br>Avg utilization: %{customdata[8]}<extra></extra>")))
        fig.update_layout(height=self.height - 30, margin=dict(l=60, r=10, t=30, b=50), hovermode="closest",
                          plot_bgcolor="white", paper_bgcolor="white",
                          xaxis=dict(title="Average credit score", range=x_range, gridcolor="#eeeeee"),
                          yaxis=dict(title=self.RISK_LABELS[y], gridcolor="#eeeeee", rangemode="tozero"),
                          legend=dict(title="Income", itemclick=False, itemdoubleclick=False))
        return fig

    @staticmethod
    def _score_range(df: pd.DataFrame) -> list[float]:
        scores = df["avg_credit_score"].astype(float).dropna()
        if scores.empty:
            return [300.0, 850.0]
        return [max(300.0, scores.min() - 20), min(850.0, scores.max() + 20)]

    def selection_from_click(self, point: dict):
        data = point.get("customdata")
        if not data:
            return None
        return {"credit_score_band": [str(data[0])], "income_bracket": [str(data[1])]}
