"""Geography: the city bubble map (Plotly, drawn offline) and the per-city metrics heatmap (HoloViews)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import param
import plotly.graph_objects as go
from bokeh.models import ColorBar, FixedTicker, HoverTool, LinearColorMapper
from bokeh.palettes import PuOr
from bokeh.plotting import figure

from ..static import topojson_url
from ..warehouse import reference as ref
from .bokeh_view import BokehView, factor_at
from .brush import covered
from .marks import Hover, alpha, any_selected, bubble_px, lit
from .plotly_view import PlotlyView
from .style import SELECTED_LINE, floats, money, number, plotly_text

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
    """Customers per city on a US map; a click on a bubble selects its city (and the city's state, as
    the metrics heatmap's click does: a city name is not unique), a box or lasso their states.

    A bubble is a city, so its click chooses what it highlights: selecting the whole state lit only
    that bubble while every other view took the state's other cities too (New York City -> three cities)."""

    title = "Customer geographic distribution"
    table = TABLE
    own = ("state", "city")
    brushes = ("state",)
    help = ("The cities with most customers, at their coordinates: bubble area = customers, colour = "
            "average customer lifetime value. Click a bubble to filter the other views to its city; "
            "click it again to clear. Drag a box (or pick the lasso above the map) over bubbles to filter "
            "to their states; double-click or Reset to clear.")
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
        return f"{int(df['customer_count'].sum()):,} customers in the {len(df):,} largest cities"

    HOVER = Hover("<b>{label}</b>{placed}<br>Customers: {customers}<br>Avg CLV: {clv}<br>Avg credit score: "
                  "{score}<br>Avg annual income: {income}<br>90-day volume: {volume}",
                  "state", "city", "label", "customers", "clv", "score", "income", "volume", "placed")

    def build(self) -> go.Figure:
        """Two traces, always: cities with a CLV (coloured on the shared colour axis) and without (grey)."""
        fig = go.Figure([go.Scattergeo(lat=[], lon=[], mode="markers", name=name, showlegend=not coloured,
                                       hovertemplate=self.HOVER.template,
                                       marker=dict(sizemode="diameter", sizeref=1,
                                                   **({"coloraxis": "coloraxis"} if coloured else {"color": "#9e9e9e"})))
                         for name, coloured in (("Avg CLV", True), ("CLV n/a", False))])
        fig.update_geos(scope="usa", projection_type="albers usa", showland=True, showsubunits=True,
                        showlakes=False, bgcolor="rgba(0,0,0,0)")
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), clickmode="event", dragmode="select",
                          legend=dict(orientation="h", y=0, x=0),
                          coloraxis=dict(colorscale="Plasma", colorbar=dict(title=dict(text="Avg CLV"), tickprefix="$",
                                                                            tickformat=",.0f", thickness=14, len=0.75)))
        return fig

    def theme_layout(self, dark: bool) -> dict:
        return {**super().theme_layout(dark), "geo.landcolor": "#2b3035" if dark else "#eef0f3",
                "geo.subunitcolor": "#777" if dark else "white"}

    def traces(self, frame: pd.DataFrame) -> list[dict]:
        on = lit(self, frame)
        chosen = on & any_selected(self)  # outlined: the selected bubbles
        sizes = bubble_px(frame["customer_count"], self.size_max)
        custom = self.HOVER.customdata(
            state=frame["state"], city=frame["city"],
            label=[plotly_text(city_label(c, s)) for c, s in zip(frame["city"], frame["state"])],
            customers=[number(n, 0) for n in frame["customer_count"]], clv=[money(v) for v in frame["avg_clv"]],
            score=[_score(v) for v in frame["avg_credit_score"]], income=[money(v) for v in frame["avg_annual_income"]],
            volume=[money(v) for v in frame["total_volume_90d"]],
            placed=["" if how == "city" else " (placed at the state's centre)" for how in frame["located_by"]])
        clv = frame["avg_clv"].to_numpy(float)
        out = []
        for coloured, mask in ((True, ~np.isnan(clv)), (False, np.isnan(clv))):
            marker = {"marker.size": sizes[mask], "marker.opacity": alpha(on[mask], 0.9),
                      "marker.line.color": np.where(chosen[mask], SELECTED_LINE, "white").astype(object),
                      "marker.line.width": np.where(chosen[mask], 1.5, 0.5)}
            if coloured:
                marker["marker.color"] = clv[mask]
            out.append({"lat": frame["latitude"].to_numpy(float)[mask], "lon": frame["longitude"].to_numpy(float)[mask],
                        "customdata": custom[mask], **marker})
        return out

    def layout(self, frame: pd.DataFrame) -> dict:
        clv = frame["avg_clv"].astype(float).dropna()
        low, high = (float(clv.min()), float(clv.max())) if len(clv) else (0.0, 1.0)
        if high - low < 1:  # one city (or equal values): a readable ±5 % scale, not five equal ticks
            low, high = low * 0.95 - 1, high * 1.05 + 1
        return {"coloraxis.cmin": low, "coloraxis.cmax": high}

    def selection_from_click(self, point: dict):
        state, city = (self.HOVER.read(point, f) for f in ("state", "city"))
        if isinstance(state, str) and state and isinstance(city, str) and city:
            return {"state": [state], "city": [city]}
        return None

    def selection_from_points(self, points: list[dict]):
        states = [self.HOVER.read(p, "state") for p in points]
        states = sorted({str(s) for s in states if isinstance(s, str) and s})
        return {"state": states} if states else None


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


def row_zscores(values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """Standard score of each city within one metric row (population sd), signed so that + is better.

    NaN values stay NaN and are left out of the mean/sd; a row without spread scores 0."""
    known = values[~np.isnan(values)]
    sd = known.std() if len(known) else np.nan
    if np.isnan(sd) or sd == 0:
        z = np.where(np.isnan(values), np.nan, 0.0)
    else:
        z = (values - known.mean()) / sd
    return z if higher_is_better else -z


class GeoMetricsHeatmap(BokehView):
    """Five metrics for the biggest cities, each row coloured on its own scale; a tap selects a city.

    Plain Bokeh: rect cells and their text on numeric axes (city i spans [i, i + 1)), built once;
    the city names are the x axis' tick labels, set with the data."""

    title = "Geographic performance metrics"
    table = TABLE
    own = ("city",)
    brushes = ("city",)
    brush_shape = "width"
    help = ("Credit score, income, CLV, premium share and churn risk of the cities with most customers. "
            "Each row is coloured by its own z-score (blue = better than these cities' average, orange = "
            "worse; for churn risk lower is better); cells show the raw values. Click a column to filter "
            "to that city and its state; click it again to clear. Drag across columns to filter to those "
            "cities (by name: a name two states share takes both); double-click or Reset to clear.")
    top_cities = param.Integer(default=20, bounds=(1, None), doc="How many cities (most customers first)")
    UPRIGHT_FROM = 9  # cities: from this many columns on, cell values are written upright (narrow columns)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        top = largest_cities(df, self.top_cities)
        columns = ["state", "city", "location", "customer_count", "metric", "metric_label", "value", "zscore"]
        if not METRICS:
            return pd.DataFrame(columns=columns)
        # one row per (metric, city), metric by metric: built from arrays (a hundred rows)
        k, values = len(METRICS), [floats(top[column]) for column, *_ in METRICS]
        return pd.DataFrame({
            "state": pd.Series(top["state"].tolist() * k, dtype=top["state"].dtype),
            "city": pd.Series(top["city"].tolist() * k, dtype=top["city"].dtype),
            "location": pd.Series([city_label(c, s) for c, s in zip(top["city"].tolist(), top["state"].tolist())] * k,
                                  dtype="str"),
            "customer_count": np.tile(top["customer_count"].to_numpy(), k),
            "metric": pd.Series(np.repeat([column for column, *_ in METRICS], len(top)), dtype="str"),
            "metric_label": pd.Series(np.repeat([label for _, label, *_ in METRICS], len(top)), dtype="str"),
            "value": np.concatenate(values),
            "zscore": np.concatenate([row_zscores(v, better) for v, (*_, better) in zip(values, METRICS)])},
            columns=columns)

    def summarize(self, df: pd.DataFrame) -> str:
        return f"the {df['location'].nunique():,} largest cities"

    def build(self):
        fig = figure(height=self.height - 10, sizing_mode="stretch_width", x_range=(0, 1),
                     y_range=(len(METRICS), 0), tools="", toolbar_location=None, output_backend="canvas")
        cells = self.source("cells", x=[], y=[], color=[], alpha=[], location=[], metric_label=[], shown=[],
                            zscore=[], customers=[], cell=[], ink=[], angle=[])
        self._mapper = LinearColorMapper(palette=list(reversed(PuOr[11])), low=-Z_LIMIT, high=Z_LIMIT,
                                         nan_color="#e0e0e0")
        rects = fig.rect("x", "y", 1, 1, source=cells, fill_color={"field": "color", "transform": self._mapper},
                         fill_alpha="alpha", line_color="white", line_width=1)
        fig.text("x", "y", text="cell", angle="angle", source=cells, text_color="ink", text_alpha="alpha",
                 text_font_size="8pt", text_align="center", text_baseline="middle")
        fig.add_tools(HoverTool(renderers=[rects], tooltips=[
            ("City", "@location"), ("Metric", "@metric_label"), ("Value", "@shown"),
            ("z-score (+ better)", "@zscore{+0.00}"), ("Customers", "@customers")]))
        fig.add_layout(ColorBar(color_mapper=self._mapper, title="z-score within the metric (+ = better)",
                                width=10), "right")
        fig.yaxis.ticker = FixedTicker(ticks=[i + 0.5 for i in range(len(METRICS))])
        fig.yaxis.major_label_overrides = {i + 0.5: label for i, (_c, label, _f, _b) in enumerate(METRICS)}
        fig.xaxis.ticker = FixedTicker(ticks=[])  # its ticks are set with the data (a new ticker would be a new model)
        fig.xaxis.major_label_orientation = math.pi / 2
        for axis in (fig.xaxis, fig.yaxis):
            axis.major_tick_line_color = None
            axis.axis_line_color = None
        fig.grid.visible = False
        return fig

    def _columns(self, frame: pd.DataFrame) -> tuple[list[str], np.ndarray, np.ndarray]:
        cities = list(dict.fromkeys(frame["location"]))  # by customers, as transform ordered them
        row = {column: i for i, (column, *_rest) in enumerate(METRICS)}
        x = np.array([cities.index(c) for c in frame["location"]], dtype=float) + 0.5
        y = np.array([row[m] for m in frame["metric"]], dtype=float) + 0.5
        return cities, x, y

    def data(self, frame: pd.DataFrame):
        cities, x, y = self._columns(frame)
        z = frame["zscore"].to_numpy(float)
        upright = len(cities) >= self.UPRIGHT_FROM
        return {"cells": {
            "x": x, "y": y, "color": np.clip(z, -Z_LIMIT, Z_LIMIT), "zscore": z,
            "location": frame["location"].to_numpy(object), "metric_label": frame["metric_label"].to_numpy(object),
            "shown": np.array([HOVER_FORMAT[m](v) for m, v in zip(frame["metric"], frame["value"])], dtype=object),
            "cell": np.array([CELL_FORMAT[m](v) for m, v in zip(frame["metric"], frame["value"])], dtype=object),
            "customers": np.array([number(n, 0) for n in frame["customer_count"]], dtype=object),
            "angle": np.full(len(frame), math.pi / 2 if upright else 0.0), **self.marks(frame)["cells"]}}

    def marks(self, frame: pd.DataFrame):
        on = lit(self, frame)
        z = np.nan_to_num(frame["zscore"].to_numpy(float))
        ink = np.where((np.abs(z) >= 1.6) & on, "white", "#222222").astype(object)  # dark text on pale cells
        return {"cells": {"alpha": alpha(on), "ink": ink}}

    def fit(self, frame: pd.DataFrame) -> None:
        cities, _x, _y = self._columns(frame)
        self.figure.x_range.update(start=0, end=len(cities))
        self.figure.xaxis.ticker.ticks = [i + 0.5 for i in range(len(cities))]
        self.figure.xaxis.major_label_overrides = {i + 0.5: c for i, c in enumerate(cities)}

    def selection_from_tap(self, x, y):
        cities, _x, _y = self._columns(self.frame)
        location = factor_at(cities, x)
        match = self.frame[self.frame["location"] == location] if location is not None else self.frame.iloc[0:0]
        if match.empty:
            return None
        row = match.iloc[0]
        return {"state": [row["state"]], "city": [row["city"]]}

    def selection_from_brush(self, x0, x1, y0, y1):
        """The cities of the columns covered. Their states are not set (a click's are): the view draws
        the cities of every state, and filtering it by state would move its columns under the brush."""
        cities, _x, _y = self._columns(self.frame)
        city_of = dict(zip(self.frame["location"], self.frame["city"]))
        chosen = [city_of[cities[int(i)]] for i in covered(np.arange(len(cities)) + 0.5, x0, x1)
                  if 0 <= int(i) < len(cities)]
        return {"city": list(dict.fromkeys(chosen))} if chosen else None
