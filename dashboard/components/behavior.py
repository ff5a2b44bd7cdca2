"""Customer behaviour: the segment x age x income 3D scatter and the per-segment engagement radar.

Both are Plotly (PlotlyView): the scatter needs a real 3D scene, which Bokeh and HoloViews' Bokeh
backend do not draw, and the radar is a filled polar chart, which Bokeh has no axes for. Each
figure is built once with a fixed pair of traces per segment slot (ref.SEGMENTS, then the
warehouse's own segments, then one "Other" slot for any the build did not know): the lit marks
of the slot, then its faded ones. Plotly takes one opacity per trace (3D markers, a polar fill),
and changing it would make Panel re-send every trace as JSON; so both traces of a slot hold all
its rows and a highlight only moves NaNs between them (a point with a NaN coordinate is drawn
nowhere): one array per trace changes, and the axes, which span both traces, stay put.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go

from ..warehouse import reference as ref
from .marks import Hover, bubble_px, lit
from .plotly_view import PlotlyView
from .style import FADED_OPACITY, OTHER_COLOR, SEGMENT_COLORS, colours, groups_of_customers, in_order, is_missing, \
    money, number, ordered, plotly_text

KEYS = ["customer_segment", "age_group", "income_bracket"]
OTHER = "Other segments"  # the slot of segments the build did not know (a gold-only warehouse)
# one entry per segment (the lit trace's), in slot order, in a row above the figure
LEGEND = dict(orientation="h", x=0, y=1.0, yanchor="bottom", itemsizing="constant", traceorder="normal")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def shown(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """`values` with NaN where not `keep`: Plotly draws those points nowhere (no mark, no hover, no click)."""
    return np.where(keep, values, np.nan)


class _Segments(PlotlyView):
    """Shared by both views: the segment slots known at build; each has a lit and a faded trace."""

    _slots: list[tuple[str, str]] = []
    _drawn = None  # the frame `traces` last prepared (`marks` reuses its arrays)

    def segments(self) -> list[str]:
        """ref.SEGMENTS, then the warehouse's own segments."""
        try:
            found = [str(s) for s in self.store.options("customer_segment")]
        except Exception:  # a warehouse with gold tables only: its own names go to "Other"
            found = []
        return list(ref.SEGMENTS) + [s for s in ordered(found, ref.SEGMENTS) if s not in ref.SEGMENTS]

    def slots(self) -> list[tuple[str, str]]:
        """(segment or OTHER, colour) per slot, fixed at build."""
        known = self.segments()
        palette = colours(SEGMENT_COLORS, known)
        self._known = set(known)
        return [(s, palette[s]) for s in known] + [(OTHER, OTHER_COLOR)]

    def slot_rows(self, frame: pd.DataFrame) -> list[np.ndarray]:
        """Per slot, the positions of its rows in the frame."""
        segments = frame["customer_segment"].astype(object)
        slot = np.where(segments.isin(self._known).to_numpy(), segments.to_numpy(object), OTHER)
        return [np.flatnonzero(slot == name) for name, _ in self._slots]

    def selection_from_click(self, point: dict):
        values = [self.HOVER.read(point, k) for k in self.own]
        if any(is_missing(v) for v in values):  # no customdata: a stale frame after a redraw
            return None
        return {k: [v] for k, v in zip(self.own, values)}


class BehaviorScatter3D(_Segments):
    """One bubble per segment x age group x income bracket, placed by activity, ticket size and balance."""

    title = "Customer behaviour clusters (3D)"
    table = "analytics_customer_behavior_clusters"
    own = ("customer_segment", "age_group", "income_bracket")
    help = ("One bubble per segment, age group and income bracket with at least 20 customers (smaller groups "
            "are hidden: an average of a few customers says little; the view offers to lower the minimum): "
            "transactions in the last 90 days (x), average transaction size (y), average signed total "
            "balance (z); bubble size = customers. Click a bubble to filter the other views to its segment, "
            "age group and income bracket; click it again to clear.")
    height = param.Integer(default=560)
    min_customers = param.Integer(default=20, bounds=(1, None),
                                  doc="Hide groups with fewer customers (the seed's customer_count >= 20)")

    AXES = ("avg_transactions_90d", "avg_transaction_size", "avg_total_balance")
    BUBBLE_PX = 25  # the largest bubble (px.scatter_3d's size_max, as before)
    # the three raw keys first (what a click selects), then what the hover shows (escaped)
    HOVER = Hover("<b>{segment}</b> · {age} · {income} income<br>Customers: {customers}<br>"
                  "Avg transactions (90d): {transactions}<br>Avg transaction size: {size}<br>"
                  "Avg total balance: {balance}<br>Engagement score: {engagement}",
                  *KEYS, "customers", "transactions", "size", "balance", "engagement", "segment", "age", "income")
    # of the last answer: groups under min_customers, their customers, customers without figures, and
    # the largest group under min_customers
    _hidden = (0, 0, 0, 0)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = df[df["customer_count"] >= self.min_customers].dropna(subset=list(self.AXES))
        out = out[KEYS + ["customer_count", *self.AXES, "engagement_score"]]
        return in_order(out, KEYS)

    def summarize(self, df: pd.DataFrame) -> str:
        return groups_of_customers(len(df), self.min_customers, int(df["customer_count"].sum()))

    # -- what the threshold hides (the view says it instead of "No data") --------------------------
    def receive(self, raw: pd.DataFrame, key) -> None:
        """Note what `transform` will drop (the frame, the CSV, stays exactly what is drawn)."""
        counts = pd.to_numeric(raw["customer_count"], errors="coerce").fillna(0)
        small = counts < self.min_customers
        blank = ~small & raw[list(self.AXES)].isna().any(axis=1)
        self._hidden = (int((small & (counts > 0)).sum()), int(counts[small].sum()), int(counts[blank].sum()),
                        int(counts[small & ~blank].max()) if (small & ~blank).any() else 0)
        super().receive(raw, key)

    def hidden_message(self) -> tuple[str, str, str] | None:
        """(title, detail, action) when the answer had customers but no group passes the threshold; the
        action lowers it to the largest hidden group (the fewest, most reliable bubbles that show)."""
        groups, small, blank, largest = self._hidden
        if not small and not blank:
            return None
        n = self.min_customers
        title = (f"No group of this selection has at least {n:,} customers." if not blank else
                 "No group of this selection has the figures to place it." if not small else
                 "No group of this selection can be drawn.")
        why = []
        if small:
            why.append(f"{_plural(small, 'customer')} {'is' if small == 1 else 'are'} in "
                       f"{'a smaller group' if groups == 1 else f'{groups:,} smaller groups'}, not drawn: "
                       f"a bubble is an average, shown only for at least {n:,} customers.")
        if blank:
            why.append(f"{_plural(blank, 'customer')} {'is' if blank == 1 else 'are'} in groups with no "
                       "transaction or balance figure under these filters, which have no position.")
        action = f"Show groups of {largest:,} or more customers" if largest else ""
        return title, " ".join(why + [("Lower the minimum below, r" if action else "R")
                                      + "emove a filter chip or press Clear all."]), action

    def message_action(self) -> None:
        """The message's button: lower the threshold to the largest group it hides."""
        largest = self._hidden[3]
        if 0 < largest < self.min_customers:
            self.min_customers = largest

    def _draw(self, data: bool) -> None:
        super()._draw(data)  # the status line; the message it says is replaced (hold sends the last)
        hidden = None if self.error or self.shown or self.frame is None else self.hidden_message()
        if hidden:
            title, detail, action = hidden
            self._message.say(title, detail, action=action)

    # -- the figure ---------------------------------------------------------------------------------
    def build(self) -> go.Figure:
        self._slots = self.slots()
        fig = go.Figure()
        for name, colour in self._slots:
            for on in (True, False):
                fig.add_trace(go.Scatter3d(
                    x=np.array([], float), y=np.array([], float), z=np.array([], float), mode="markers",
                    name=plotly_text(name), legendgroup=name, showlegend=on,
                    customdata=np.empty((0, len(self.HOVER.fields)), object), hovertemplate=self.HOVER.template,
                    marker=dict(size=np.array([], float), sizemode="diameter", sizeref=2, sizemin=3, color=colour,
                                opacity=0.85 if on else FADED_OPACITY, line=dict(width=0.5, color="DarkSlateGrey"))))
        axis = dict(showbackground=True, title_font=dict(size=12), tickfont=dict(size=10))
        fig.update_layout(
            scene=dict(xaxis=dict(title=dict(text="Transactions (90d)"), **axis),
                       yaxis=dict(title=dict(text="Avg amount ($)"), tickformat="$~s", **axis),
                       zaxis=dict(title=dict(text="Balance ($)"), tickformat="$~s", **axis),
                       # a narrower cube seen from further out than before: on a card ~420 px wide the
                       # vertical axis' title and every tick label stay inside the scene
                       aspectmode="manual", aspectratio=dict(x=0.85, y=0.85, z=0.9),
                       camera=dict(eye=dict(x=1.7, y=1.7, z=1.0), center=dict(x=0, y=0, z=-0.1))),
            # above the scene, not beside it: a narrow card keeps its whole width for the cube; no title
            # (plotly.js leaves a side title out of a horizontal legend's wrapping: the last names were cut)
            legend=LEGEND,
            margin=dict(l=10, r=10, b=10, t=30))
        return fig

    def theme_layout(self, dark: bool) -> dict:
        walls = {"backgroundcolor": "#2b3035" if dark else "rgb(240,240,240)", "gridcolor": "#555" if dark else "white"}
        return {**super().theme_layout(dark), **{f"scene.{a}axis.{k}": v for a in "xyz" for k, v in walls.items()}}

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        sizes = bubble_px(frame["customer_count"], self.BUBBLE_PX)  # over the whole frame: one scale
        hover = self.HOVER.customdata(
            **{k: frame[k].astype(object) for k in KEYS},
            customers=[f"{int(c):,}" for c in frame["customer_count"]],
            transactions=[number(v, 1) for v in frame["avg_transactions_90d"]],
            size=[money(v, 2) for v in frame["avg_transaction_size"]],
            balance=[money(v, 2) for v in frame["avg_total_balance"]],
            engagement=[number(v, 1) for v in frame["engagement_score"]],
            segment=[plotly_text(v) for v in frame["customer_segment"]],
            age=[plotly_text(v) for v in frame["age_group"]], income=[plotly_text(v) for v in frame["income_bracket"]])
        x, y, z = (frame[c].to_numpy(float) for c in self.AXES)
        self._drawn, self._rows, self._x, self._sizes = frame, self.slot_rows(frame), x, sizes
        marks = self.marks(frame)
        return [{"y": y[rows], "z": z[rows], "customdata": hover[rows], **mark}
                for rows, mark in zip((r for r in self._rows for _ in (0, 1)), marks)]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        if frame is not self._drawn:
            return self.traces(frame)
        on = lit(self, frame)
        out = []
        for rows in self._rows:
            # Panel's pane takes nested arrays out of the figure's own dicts when it sends them: set again
            size = {"marker.size": self._sizes[rows]}
            out += [{"x": shown(self._x[rows], on[rows]), **size}, {"x": shown(self._x[rows], ~on[rows]), **size}]
        return out


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
        # weighted means per segment in one groupby: Σ value·weight / Σ weight over the groups
        # where both are known (weights: customers; for Mobile %, transactions = customers × avg)
        count = df["customer_count"].astype(float)
        transactions = count * df["avg_transactions_90d"]  # = Σ n_txn of the group
        sums = {"customer_count": df["customer_count"]}
        for col, *_ in RADAR_AXES:
            weight = transactions if col == "mobile_usage_pct" else count
            ok = df[col].notna() & weight.notna() & (weight > 0)
            sums[f"{col} num"] = (df[col] * weight).where(ok, 0.0)
            sums[f"{col} den"] = weight.where(ok, 0.0)
        totals = pd.DataFrame(sums).groupby(df["customer_segment"], sort=False).sum()
        rows = [{"customer_segment": segment, "customer_count": int(t["customer_count"]),
                 **{col: t[f"{col} num"] / t[f"{col} den"] if t[f"{col} den"] > 0 else np.nan
                    for col, *_ in RADAR_AXES}}
                for segment, t in totals.iterrows()]
        out = pd.DataFrame(rows, columns=["customer_segment", "customer_count"] + [c for c, *_ in RADAR_AXES])
        for col, *_ in RADAR_AXES:
            top = out[col].max()
            out[f"{col}_index"] = (100.0 * out[col] / top if pd.notna(top) and top > 0
                                   else out[col].where(out[col].isna(), 0.0))
        return in_order(out, KEYS)

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
