"""Customer behaviour: the segment x age x income 3D scatter and the per-segment engagement radar."""
from __future__ import annotations


import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from ..warehouse import reference as ref
from .legacy import PlotlyView
from .style import FADED_OPACITY, OTHER_COLOR, SEGMENT_COLORS, in_order, is_missing, money, number, plotly_text

KEYS = ["customer_segment", "age_group", "income_bracket"]










class BehaviorScatter3D(PlotlyView):
    """One bubble per segment x age group x income bracket, placed by activity, ticket size and balance."""

    title = "Customer behaviour clusters (3D)"
    table = "analytics_customer_behavior_clusters"
    own = ("customer_segment", "age_group", "income_bracket")
    help = ("One bubble per segment, age group and income bracket with at least 20 customers (min_customers): "
            "transactions in the last 90 days (x), average transaction size (y), average signed total "
            "balance (z); bubble size = customers. Click a bubble to filter the other views to its segment, "
            "age group and income bracket; click it again to clear.")
    height = param.Integer(default=560)
    min_customers = param.Integer(default=20, bounds=(1, None),
                                  doc="Hide groups with fewer customers (the seed's customer_count >= 20)")

    AXES = ("avg_transactions_90d", "avg_transaction_size", "avg_total_balance")
    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers].dropna(subset=list(self.AXES))
        out = out[KEYS + ["customer_count", *self.AXES, "engagement_score"]]
        return in_order(out, KEYS)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(df):,} groups · {int(df['customer_count'].sum()):,} customers"

    def render(self, df: pd.DataFrame):
        size_ref = 2.0 * float(df["customer_count"].max()) / 25 ** 2  # px.scatter_3d's size_max=25
        selected = np.array([self.is_selected(customer_segment=s, age_group=a, income_bracket=i)
                             for s, a, i in zip(df["customer_segment"], df["age_group"], df["income_bracket"])])
        segments = [s for s in ref.SEGMENTS if s in set(df["customer_segment"])]
        segments += sorted(set(df["customer_segment"]) - set(segments))
        fig = go.Figure()
        for segment in segments:
            in_segment = (df["customer_segment"] == segment).to_numpy()
            # Plotly's 3D markers take one opacity per trace: selected and faded bubbles are two traces.
            for highlighted in (True, False):
                part = df[in_segment & (selected == highlighted)]
                if part.empty:
                    continue
                customdata = np.column_stack([
                    part["customer_segment"], part["age_group"], part["income_bracket"],
                    [f"{int(c):,}" for c in part["customer_count"]],
                    [number(v, 1) for v in part["avg_transactions_90d"]],
                    [money(v, 2) for v in part["avg_transaction_size"]],
                    [money(v, 2) for v in part["avg_total_balance"]],
                    [number(v, 1) for v in part["engagement_score"]],
                    *([plotly_text(v) for v in part[k]] for k in KEYS),  # shown; the raw keys above are clicked
                ])
                fig.add_trace(go.Scatter3d(
                    x=part["avg_transactions_90d"], y=part["avg_transaction_size"], z=part["avg_total_balance"],
                    mode="markers", name=plotly_text(segment), legendgroup=segment,
                    showlegend=highlighted or not selected[in_segment].any(),
                    customdata=customdata.tolist(),
                    marker=dict(size=part["customer_count"], sizemode="area", sizeref=size_ref, sizemin=3,
                                color=SEGMENT_COLORS.get(segment, OTHER_COLOR),
                                opacity=0.85 if highlighted else FADED_OPACITY,
                                line=dict(width=0.5, color="DarkSlateGrey")),
                    hovertemplate=("<b>%{customdata[8]}</b> · %{customdata[9]} · %{customdata[10]} income<br>"
                                   "Customers: %{customdata[3]}<br>Avg transactions (90d): %{customdata[4]}<br>"
                                   "Avg transaction size: %{customdata[5]}<br>Avg total balance: %{customdata[6]}"
                                   "<br>Engagement score: %{customdata[7]}<extra></extra>"),
                ))
        axis = dict(backgroundcolor="rgb(240,240,240)", gridcolor="white", showbackground=True)
        fig.update_layout(
            scene=dict(xaxis=dict(title="Transactions (90d)", **axis),
                       yaxis=dict(title="Avg amount ($)", tickformat="$~s", **axis),
                       zaxis=dict(title="Balance ($)", tickformat="$~s", **axis),
                       camera=dict(eye=dict(x=1.5, y=1.5, z=1))),
            legend=dict(title="Segment", y=0.92), margin=dict(l=0, r=0, b=0, t=10),
            height=self.height - 30, paper_bgcolor="white", uirevision=self.title)
        return fig

    def selection_from_click(self, point: dict):
        data = point.get("customdata")
        if not isinstance(data, (list, tuple)) or len(data) < 3 or any(is_missing(v) for v in data[:3]):
            return None
        segment, age, income = data[:3]
        return {"customer_segment": [segment], "age_group": [age], "income_bracket": [income]}


# (column, axis label, unit shown in the hover, decimals)
RADAR_AXES = (
    ("avg_transactions_90d", "Transactions", "transactions per customer (90d)", 1),
    ("avg_unique_categories", "Categories", "merchant categories per customer (90d)", 2),
    ("avg_accounts", "Accounts", "accounts per customer", 2),
    ("mobile_usage_pct", "Mobile %", "% of transactions on Mobile (90d)", 1),
    ("avg_satisfaction_score", "Satisfaction", "CSAT, 1–5", 2),
    ("engagement_score", "Engagement", "score, 0–100", 1),
)


class EngagementRadar(PlotlyView):
    """Each segment's engagement profile, every axis scaled to the best segment (= 100)."""

    title = "Customer engagement profile by segment"
    table = "analytics_customer_behavior_clusters"
    own = ("customer_segment",)
    help = ("Per segment: customer-weighted means of the groups' averages (Σ value × customers / Σ customers; "
            "Mobile % weighted by transactions, i.e. the segment's pooled share). Each axis is scaled so the "
            "highest segment is 100; the hover gives the raw value. Click a segment's shape to filter to it.")
    height = param.Integer(default=480)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        df["_txn_weight"] = df["customer_count"] * df["avg_transactions_90d"]  # = Σ n_txn of the group
        rows = []
        for segment, part in df.groupby("customer_segment", sort=False):
            row = {"customer_segment": segment, "customer_count": int(part["customer_count"].sum())}
            for col, *_ in RADAR_AXES:
                weight = part["_txn_weight"] if col == "mobile_usage_pct" else part["customer_count"]
                ok = part[col].notna() & weight.notna() & (weight > 0)
                total = float(weight[ok].sum())
                row[col] = float((part.loc[ok, col] * weight[ok]).sum()) / total if total > 0 else np.nan
            rows.append(row)
        out = pd.DataFrame(rows, columns=["customer_segment", "customer_count"] + [c for c, *_ in RADAR_AXES])
        for col, *_ in RADAR_AXES:
            top = out[col].max()
            out[f"{col}_index"] = (100.0 * out[col] / top if pd.notna(top) and top > 0
                                   else out[col].where(out[col].isna(), 0.0))
        return in_order(out, KEYS)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(df):,} segments · {int(df['customer_count'].sum()):,} customers"

    def render(self, df: pd.DataFrame):
        labels = [label for _, label, *_ in RADAR_AXES]
        fig = go.Figure()
        self._trace_segments = []
        for rec in df.to_dict("records"):
            segment = rec["customer_segment"]
            index = [rec[f"{col}_index"] for col, *_ in RADAR_AXES]
            raw = [("n/a" if is_missing(rec[col]) else f"{rec[col]:,.{dec}f}{'%' if col.endswith('_pct') else ''}")
                   + f" ({unit})" for col, _, unit, dec in RADAR_AXES]
            r = [0.0 if is_missing(v) else v for v in index]
            shown = ["n/a" if is_missing(v) else f"{v:.0f} / 100" for v in index]
            customdata = [[segment, raw_i, shown_i, f"{rec['customer_count']:,}", plotly_text(segment)]
                          for raw_i, shown_i in zip(raw, shown)]
            selected = self.is_selected(customer_segment=segment)
            color = SEGMENT_COLORS.get(segment, OTHER_COLOR)
            fig.add_trace(go.Scatterpolar(
                r=r + r[:1], theta=labels + labels[:1], customdata=customdata + customdata[:1],
                fill="toself", name=plotly_text(segment), opacity=0.6 if selected else FADED_OPACITY,
                line=dict(color=color, width=3 if selected and self.selected("customer_segment") else 2),
                marker=dict(size=6),
                hovertemplate=("<b>%{customdata[4]}</b> · %{theta}<br>%{customdata[1]}<br>"
                               "Scaled: %{customdata[2]} (top segment = 100)<br>"
                               "Customers: %{customdata[3]}<extra></extra>"),
            ))
            self._trace_segments.append(segment)
        fig.update_layout(
            polar=dict(radialaxis=dict(visible=True, range=[0, 100], gridcolor="lightgrey", tickfont=dict(size=10)),
                       angularaxis=dict(tickfont=dict(size=12))),
            legend=dict(title="Segment"), margin=dict(l=40, r=40, t=30, b=30), height=self.height - 30,
            paper_bgcolor="white", uirevision=self.title)
        return fig

    def selection_from_click(self, point: dict):
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], str):
            return {"customer_segment": [data[0]]}
        curve = point.get("curveNumber")
        segments = getattr(self, "_trace_segments", [])
        if isinstance(curve, int) and 0 <= curve < len(segments):
            return {"customer_segment": [segments[curve]]}
        return None
