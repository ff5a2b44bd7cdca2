"""Customer behaviour: the segment x age x income 3D scatter (and what the engagement radar, radar.py, shares).

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
        self._drawn, self._rows, self._x = frame, self.slot_rows(frame), x
        marks = self.marks(frame)
        return [{"y": y[rows], "z": z[rows], "customdata": hover[rows], "marker.size": sizes[rows], **mark}
                for rows, mark in zip((r for r in self._rows for _ in (0, 1)), marks)]

    def marks(self, frame: pd.DataFrame) -> list[dict]:
        if frame is not self._drawn:
            return self.traces(frame)
        on = lit(self, frame)
        return [{"x": shown(self._x[rows], keep)} for rows in self._rows for keep in (on[rows], ~on[rows])]
