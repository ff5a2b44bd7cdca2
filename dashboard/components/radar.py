"""The per-segment engagement radar: each segment's profile on six axes, each scaled to the best
segment (= 100), a filled polar chart (Plotly: Bokeh has no polar axes); built like the 3D scatter
(behavior.py), two traces per segment slot, a highlight moving NaNs between them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from .behavior import KEYS, LEGEND, OTHER, _Segments, shown
from .marks import Hover, lit
from .style import FADED_OPACITY, floats, in_order, is_missing, plotly_text

# (column, axis label, unit shown in the hover, decimals)
RADAR_AXES = (
    ("avg_transactions_90d", "Transactions", "transactions per customer (90d)", 1),
    ("avg_unique_categories", "Categories", "merchant categories per customer (90d)", 2),
    ("avg_accounts", "Accounts", "accounts per customer", 2),
    ("mobile_usage_pct", "Mobile %", "% of transactions on Mobile (90d)", 1),
    ("avg_satisfaction_score", "Satisfaction", "CSAT, 1–5", 2),
    ("engagement_score", "Engagement", "score, 0–100", 1),
)
LABELS = [label for _, label, *_ in RADAR_AXES]


class EngagementRadar(_Segments):
    """Each segment's engagement profile, every axis scaled to the best segment (= 100)."""

    title = "Customer engagement profile by segment"
    table = "analytics_customer_behavior_clusters"
    own = ("customer_segment",)
    help = ("Per segment: customer-weighted means of the groups' averages (Σ value × customers / Σ customers; "
            "Mobile % weighted by transactions, i.e. the segment's pooled share). Each axis is scaled so the "
            "highest segment is 100; the hover gives the raw value. Click a segment's shape to filter to it.")
    height = param.Integer(default=480)

    HOVER = Hover("<b>{segment}</b> · %{theta}<br>{raw}<br>Scaled: {scaled} (top segment = 100)<br>"
                  "Customers: {customers}", "customer_segment", "raw", "scaled", "customers", "segment")

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        # weighted means per segment: Σ value·weight / Σ weight over the groups where both are known
        # (weights: customers; for Mobile %, transactions = customers × avg). A few dozen rows: numpy
        # sums by segment cost a fraction of a pandas groupby.
        codes, segments = pd.factorize(df["customer_segment"])  # NaN segments: -1, left out
        keep = codes >= 0
        codes, n = codes[keep], len(segments)
        count = floats(df["customer_count"])[keep]
        transactions = count * floats(df["avg_transactions_90d"])[keep]
        out = {"customer_segment": list(segments), "customer_count": [
            int(c) for c in np.bincount(codes, weights=df["customer_count"].to_numpy()[keep], minlength=n)]}
        for col, *_ in RADAR_AXES:
            weight, value = (transactions if col == "mobile_usage_pct" else count), floats(df[col])[keep]
            ok = ~np.isnan(value) & ~np.isnan(weight) & (weight > 0)
            num = np.bincount(codes, weights=np.where(ok, value * weight, 0.0), minlength=n)
            den = np.bincount(codes, weights=np.where(ok, weight, 0.0), minlength=n)
            out[col] = np.divide(num, den, out=np.full(n, np.nan), where=den > 0)
        for col, *_ in RADAR_AXES:
            values = out[col]
            top = np.nanmax(values) if n and not np.isnan(values).all() else np.nan
            out[f"{col}_index"] = 100.0 * values / top if top > 0 else np.where(np.isnan(values), np.nan, 0.0)
        if not n:
            return pd.DataFrame(columns=list(out))
        return in_order(pd.DataFrame(out), KEYS)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{int(df['customer_count'].sum()):,} customers in {len(df):,} segments"

    def build(self) -> go.Figure:
        self._slots = self.slots()
        fig = go.Figure()
        for name, colour in self._slots:
            for on in (True, False):
                fig.add_trace(go.Scatterpolar(
                    r=np.array([], float), theta=np.array([], object), fill="toself", name=plotly_text(name),
                    legendgroup=name, showlegend=on, opacity=0.6 if on else FADED_OPACITY,
                    line=dict(color=colour, width=2.5 if on else 2), marker=dict(size=6),
                    customdata=np.empty((0, len(self.HOVER.fields)), object), hovertemplate=self.HOVER.template))
        fig.update_layout(
            polar=dict(radialaxis=dict(visible=True, range=[0, 100], gridcolor="lightgrey", tickfont=dict(size=10)),
                       angularaxis=dict(tickfont=dict(size=12))),
            legend=LEGEND,
            # the angular labels sit outside the circle, "Mobile %" and "Transactions" beside it
            margin=dict(l=90, r=90, t=50, b=30))
        return fig

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        shapes = [self._shape(rec) for rec in frame.to_dict("records")]
        gap = (np.array([-1]), np.full(1, np.nan), np.array([None], object),
               np.full((1, len(self.HOVER.fields)), None, object))
        self._drawn, self._points = frame, []
        out = []
        for rows in self.slot_rows(frame):
            # several segments in one trace (only the "Other" slot): a NaN point cuts the shapes apart
            parts = [p for k, i in enumerate(rows)
                     for p in ([gap] if k else []) + [(np.full(len(shapes[i][0]), i), *shapes[i])]]
            owner, r, theta, customdata = (np.concatenate(c) for c in zip(*parts)) if parts else (
                np.array([], int), np.array([], float), np.array([], object), gap[3][:0])
            self._points.append((owner, r))
            out += [{"theta": theta, "customdata": customdata}, {"theta": theta, "customdata": customdata}]
        return [{**full, **mark} for full, mark in zip(out, self.marks(frame))]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        if frame is not self._drawn:
            return self.traces(frame)
        on = np.append(lit(self, frame), False)  # owner -1 (a gap) is in neither trace
        return [{"r": shown(r, keep)} for owner, r in self._points for keep in (on[owner], ~on[owner] & (owner >= 0))]

    def _shape(self, rec: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One segment's closed polygon (r, theta, customdata): a missing value drawn at 0, said 'n/a'."""
        index = [rec[f"{col}_index"] for col, *_ in RADAR_AXES]
        raw = [("n/a" if is_missing(rec[col]) else f"{rec[col]:,.{dec}f}{'%' if col.endswith('_pct') else ''}")
               + f" ({unit})" for col, _, unit, dec in RADAR_AXES]
        n = len(LABELS)
        customdata = self.HOVER.customdata(
            customer_segment=[rec["customer_segment"]] * n, raw=raw,
            scaled=["n/a" if is_missing(v) else f"{v:.0f} / 100" for v in index],
            customers=[f"{rec['customer_count']:,}"] * n, segment=[plotly_text(rec["customer_segment"])] * n)
        close = np.r_[np.arange(n), 0]  # back to the first axis
        r = np.array([0.0 if is_missing(v) else v for v in index], float)
        return r[close], np.array(LABELS, object)[close], customdata[close]

    def selection_from_click(self, point: dict):
        selection = super().selection_from_click(point)
        curve = point.get("curveNumber")  # no customdata (a click on a fill): the trace's slot names the segment
        if selection is None and isinstance(curve, int) and 0 <= curve < 2 * len(self._slots):
            name = self._slots[curve // 2][0]
            selection = None if name == OTHER else {"customer_segment": [name]}
        return selection
