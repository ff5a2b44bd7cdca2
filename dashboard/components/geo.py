"""Geography: the city bubble map (Plotly, drawn offline) and the per-city metrics heatmap (HoloViews)."""
from __future__ import annotations

import math

import holoviews as hv
import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go
from holoviews import dim

from ..static import topojson_url
from ..warehouse import reference as ref
from .legacy import HoloViewsView, PlotlyView
from .style import FADED_OPACITY, SELECTED_LINE, money, number, plain, plotly_text

TABLE = "analytics_geographic_clustering"
CITY_COORDS = {(city, state): (lat, lon) for city, state, _pop, lat, lon in ref.CITIES}


def largest_cities(df: pd.DataFrame, n: int) -> pd.DataFrame:
    """The `n` cities with most customers (ties by state, city: the same order on every engine)."""
    return (df.sort_values(["customer_count", "state", "city"], ascending=[False, True, True], kind="mergesort")
            .head(n).reset_index(drop=True))


def locate(city: str, state: str) -> tuple[float, float, str]:
    """(latitude, longitude, how it was placed): the city's coordinates, else its state's centroid."""
    if (city, state) in CITY_COORDS:
        return (*CITY_COORDS[(city, state)], "city")
    if state in ref.STATE_CENTROIDS:
        return (*ref.STATE_CENTROIDS[state], "state centroid")
    return (math.nan, math.nan, "unknown")












def city_label(city: str, state: str) -> str:
    return f"{str(city).title()}, {state}"


class GeoBubbleMap(PlotlyView):
    """Customers per city on a US map; a click on a bubble selects its state."""

    title = "Customer geographic distribution"
    table = TABLE
    own = ("state",)
    help = ("The cities with most customers, at their coordinates: bubble area = customers, colour = "
            "average customer lifetime value. Click a bubble to filter the other views to its state; "
            "click it again to clear.")
    top_cities = param.Integer(default=50, bounds=(1, None), doc="How many cities (most customers first)")
    size_max = 30  # diameter in px of the largest bubble, as the seed's size_max

    def plotly_config(self) -> dict:
        # plotly.js fetches the map outline from cdn.plot.ly unless told otherwise: serve it ourselves
        return {**super().plotly_config(), "topojsonURL": topojson_url()}

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        out = largest_cities(df.drop(columns=["last_updated"], errors="ignore"), self.top_cities)
        placed = [locate(c, s) for c, s in zip(out["city"], out["state"])]
        out.insert(2, "latitude", [p[0] for p in placed])
        out.insert(3, "longitude", [p[1] for p in placed])
        out.insert(4, "located_by", [p[2] for p in placed])
        return out

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{len(df):,} cities · {int(df['customer_count'].sum()):,} customers"

    def render(self, df: pd.DataFrame):
        selected = [self.is_selected(state=s) for s in df["state"]]
        any_selection = bool(self.selected("state"))
        custom = np.array([
            [s, c, plotly_text(city_label(c, s)), number(n, 0), money(clv), _score(score), money(inc),
             money(vol), "" if how == "city" else " (placed at the state's centre)"]
            for s, c, n, clv, score, inc, vol, how in zip(
                df["state"], df["city"], df["customer_count"], df["avg_clv"], df["avg_credit_score"],
                df["avg_annual_income"], df["total_volume_90d"], df["located_by"])], dtype=object)
        hover = ("<b>%{customdata[2]}</b>%{customdata[8]}<br>Customers: %{customdata[3]}"
                 "<br>Avg CLV: %{customdata[4]}<br>Avg credit score: %{customdata[5]}"
                 "<br>Avg annual income: %{customdata[6]}<br>90-day volume: %{customdata[7]}<extra></extra>")
        counts = df["customer_count"].astype(float)
        sizeref = 2.0 * max(float(counts.max()), 1.0) / self.size_max ** 2
        clv = df["avg_clv"].astype(float)
        has_clv = clv.notna().to_numpy()
        fig = go.Figure()
        for mask, colored in ((has_clv, True), (~has_clv, False)):
            if not mask.any():
                continue
            idx = np.flatnonzero(mask)
            marker = dict(
                size=counts.iloc[idx], sizemode="area", sizeref=sizeref, sizemin=3,
                opacity=[0.9 if selected[i] else FADED_OPACITY for i in idx],
                line=dict(color=[SELECTED_LINE if any_selection and selected[i] else "white" for i in idx],
                          width=[1.5 if any_selection and selected[i] else 0.5 for i in idx]))
            if colored:
                low, high = float(clv.min()), float(clv.max())
                if high - low < 1:  # one city (or equal values): a readable ±5 % scale, not five equal ticks
                    low, high = low * 0.95 - 1, high * 1.05 + 1
                marker.update(color=clv.iloc[idx], colorscale="Plasma", cmin=low, cmax=high,
                              colorbar=dict(title=dict(text="Avg CLV"), tickprefix="$", tickformat=",.0f",
                                            thickness=14, len=0.75))
            else:
                marker.update(color="#9e9e9e")
            fig.add_trace(go.Scattergeo(
                lat=df["latitude"].iloc[idx], lon=df["longitude"].iloc[idx], customdata=custom[idx],
                mode="markers", marker=marker, hovertemplate=hover,
                name="Avg CLV" if colored else "CLV n/a", showlegend=not colored))
        fig.update_geos(scope="usa", projection_type="albers usa", showland=True, landcolor="#eef0f3",
                        showsubunits=True, subunitcolor="white", showlakes=False, bgcolor="rgba(0,0,0,0)")
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), height=self.height - 30, clickmode="event",
                          legend=dict(orientation="h", y=0, x=0))
        return fig

    def selection_from_click(self, point: dict):
        custom = point.get("customdata")
        if isinstance(custom, (list, tuple)) and custom and custom[0]:
            return {"state": [str(custom[0])]}
        return None


def _score(value) -> str:
    return number(value, 0)


def _pct(value) -> str:
    return number(value, 1, "%")


METRICS = (  # (gold column, row label, cell format, higher is better)
    ("avg_credit_score", "Avg credit score", _score, True),
    ("avg_annual_income", "Avg annual income", money, True),
    ("avg_clv", "Avg CLV", money, True),
    ("premium_pct", "Premium %", _pct, True),
    ("avg_churn_risk_pct", "Avg churn risk %", _pct, False),
)
CELL_FORMAT = {column: fmt for column, _label, fmt, _better in METRICS}
HOVER_FORMAT = {"avg_credit_score": _score, "avg_annual_income": money, "avg_clv": money,
                "premium_pct": _pct, "avg_churn_risk_pct": _pct}
Z_LIMIT = 2.5  # colour range ±2.5 standard deviations


def row_zscores(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """Standard score of each city within one metric row (population sd), signed so that + is better.

    NaN values stay NaN and are left out of the mean/sd; a row without spread scores 0."""
    mean, sd = values.mean(), values.std(ddof=0)
    if pd.isna(sd) or sd == 0:
        z = values.where(values.isna(), 0.0)
    else:
        z = (values - mean) / sd
    return (z if higher_is_better else -z).astype(float)


class GeoMetricsHeatmap(HoloViewsView):
    """Five metrics for the biggest cities, each row coloured on its own scale; a tap selects a city."""

    title = "Geographic performance metrics"
    table = TABLE
    own = ("city",)
    help = ("Credit score, income, CLV, premium share and churn risk of the cities with most customers. "
            "Each row is coloured by its own z-score (green = better than these cities' average; "
            "for churn risk lower is better); cells show the raw values. Click a column to filter "
            "to that city and its state; click it again to clear.")
    top_cities = param.Integer(default=20, bounds=(1, None), doc="How many cities (most customers first)")
    layered = True  # cells (tapped) + their text labels
    overlay_opts = dict(responsive=True, min_height=360)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        top = largest_cities(df, self.top_cities)
        rows = []
        for column, label, _fmt, better in METRICS:
            part = top[["state", "city", "customer_count"]].copy()
            part.insert(2, "location", [city_label(c, s) for c, s in zip(top["city"], top["state"])])
            part["metric"], part["metric_label"] = column, label
            part["value"] = top[column].astype(float)
            part["zscore"] = row_zscores(part["value"], better)
            rows.append(part)
        columns = ["state", "city", "location", "customer_count", "metric", "metric_label", "value", "zscore"]
        return pd.concat(rows, ignore_index=True)[columns] if rows else pd.DataFrame(columns=columns)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"{df['location'].nunique():,} cities"

    def render(self, df: pd.DataFrame):
        alpha = [1.0 if self.is_selected(city=c, state=s) else FADED_OPACITY
                 for c, s in zip(df["city"], df["state"])]
        df = df.assign(
            cell=[CELL_FORMAT[m](v) for m, v in zip(df["metric"], df["value"])],
            shown=[HOVER_FORMAT[m](v) for m, v in zip(df["metric"], df["value"])],
            customers=[number(n, 0) for n in df["customer_count"]],
            alpha=alpha,
            color=df["zscore"].clip(-Z_LIMIT, Z_LIMIT),
            ink=["white" if abs(z) >= 1.6 and a == 1.0 else "#222222"  # dark text on pale cells
                 for z, a in zip(df["zscore"].fillna(0), alpha)],
        )
        df = plain(df)
        # categorical axes keep first-appearance order: cities by customers, metrics as listed
        heat = hv.HeatMap(df, kdims=[("location", "City"), ("metric_label", "Metric")],
                          vdims=[("color", "z-score within the metric (+ = better)"), "zscore", "shown",
                                 "customers", "alpha"]).opts(
            cmap="RdYlGn", clim=(-Z_LIMIT, Z_LIMIT), colorbar=True, alpha=dim("alpha"),
            clipping_colors={"NaN": "#e0e0e0"}, line_color="white", line_width=1,
            tools=["hover", "tap"], default_tools=[], toolbar="above", xrotation=90, invert_yaxis=True,
            responsive=True, min_height=360, framewise=True, xlabel="", ylabel="",
            hover_tooltips=[("City", "@location"), ("Metric", "@metric_label"), ("Value", "@shown"),
                            ("z-score (+ better)", "@zscore{+0.00}"), ("Customers", "@customers")])
        labels = hv.Labels(df, kdims=["location", "metric_label"], vdims=["cell", "ink", "alpha"]).opts(
            # upright: 20 city columns are ~11 px wide in a half-width card at 1280 px, and
            # horizontal values ran into each other; a cell is tall enough for six characters
            angle=90, text_font_size="8pt", text_color="ink", text_alpha=dim("alpha"), default_tools=[])
        return heat * labels

    def selection_from_tap(self, x, y):
        match = self.frame[self.frame["location"] == x] if isinstance(x, str) else self.frame.iloc[0:0]
        if match.empty:
            return None
        row = match.iloc[0]
        return {"state": [row["state"]], "city": [row["city"]]}
