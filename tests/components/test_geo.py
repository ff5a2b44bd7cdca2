"""Geo views against an independent pandas computation (tests/gold_reference.py + top-N/pivot here),
their highlight, clicks, empty state, NaN safety and the offline topojson route."""
from __future__ import annotations

import functools

import math
import pathlib

import numpy as np
import pandas as pd
import pytest
from bokeh.events import Tap
from panel.io.server import ComponentResourceHandler

from dashboard.components.geo import GeoBubbleMap, GeoMetricsHeatmap, locate
from dashboard.components.style import FADED_OPACITY
from dashboard.static import GeoAssets, topojson_url
from dashboard.warehouse import reference as ref
from .helpers import EMPTY, click, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_geographic_clustering"
reference = functools.partial(shared_reference, table=TABLE)
COUNTS = ["customer_count", "total_transactions_90d", "total_accounts"]
FLOATS = ["avg_credit_score", "avg_annual_income", "avg_clv", "premium_pct", "affluent_pct", "total_volume_90d",
          "avg_transaction_amount", "total_balance", "avg_balance_per_account", "avg_churn_risk_pct"]
METRICS = [("avg_credit_score", 1), ("avg_annual_income", 1), ("avg_clv", 1), ("premium_pct", 1),
           ("avg_churn_risk_pct", -1)]


@pytest.fixture(scope="module")
def selections(silver) -> dict[str, dict]:
    c = silver["customers"]
    return {
        "none": {},
        "customer_segment": {"customer_segment": ["Affluent"]},
        "state": {"state": [c["state"].value_counts().index[0]]},
        "product": {"product": ["Credit Card"]},
        "channel": {"channel": ["Mobile"]},
        "day_of_week+age": {"day_of_week": [0, 6], "age_group": ["25-34", "35-44"]},
    }




def expected_top(gold: pd.DataFrame, n: int) -> pd.DataFrame:
    ordered = sorted(gold.to_dict("records"), key=lambda r: (-r["customer_count"], r["state"], r["city"]))
    return pd.DataFrame(ordered[:n], columns=gold.columns)


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame, floats=FLOATS, counts=COUNTS) -> None:
    assert len(actual) == len(expected)
    assert list(actual["state"]) == list(expected["state"])
    assert list(actual["city"]) == list(expected["city"])
    for col in counts:
        assert list(actual[col].astype(int)) == list(expected[col].astype(int)), col
    for col in floats:
        np.testing.assert_allclose(actual[col].to_numpy(float), expected[col].to_numpy(float),
                                   rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=col)



def bubble_point(view: GeoBubbleMap, row: int) -> dict:
    fig = view.figure
    for curve, trace in enumerate(fig.data):
        for i, custom in enumerate(trace.customdata):
            if custom[0] == view.frame["state"][row] and custom[1] == view.frame["city"][row]:
                return {"curveNumber": curve, "pointNumber": i, "pointIndex": i, "lat": trace.lat[i],
                        "lon": trace.lon[i], "customdata": list(custom)}
    raise AssertionError("row not drawn")


def marker_opacity(view: GeoBubbleMap) -> dict[tuple[str, str], float]:
    out = {}
    for trace in view.figure.data:
        for custom, opacity in zip(trace.customdata, trace.marker.opacity):
            out[(custom[0], custom[1])] = opacity
    return out


def heat_data(view: GeoMetricsHeatmap, frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The cells drawn, beside the frame rows they draw (a source row per frame row, in order)."""
    frame = view.frame if frame is None else frame
    cells = view.sources["cells"].data if frame is view.frame else view.data(frame)["cells"]
    return frame.reset_index(drop=True).assign(**{k: list(cells[k]) for k in ("alpha", "shown", "cell", "x", "y")})


def tap_city(view: GeoMetricsHeatmap, location: str | None, metric: int = 2) -> None:
    """A browser's tap on the column of `location` (None: outside every column)."""
    cities = list(dict.fromkeys(view.frame["location"]))
    x = cities.index(location) + 0.5 if location in cities else len(cities) + 3.0
    view.figure._trigger_event(Tap(view.figure, x=x, y=metric + 0.5))


# -- bubble map ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "customer_segment", "state", "product", "channel", "day_of_week+age"])
def test_bubble_frame_matches_reference(warehouse_url, silver, selections, name):
    view = GeoBubbleMap(make_store(warehouse_url, **selections[name]))
    expected = expected_top(reference(silver, selections[name], ("state",)), 50)
    assert_same(view.frame, expected)
    coords = {(c, s): (lat, lon) for c, s, _p, lat, lon in ref.CITIES}
    f = view.frame
    for c, s, lat, lon in zip(f["city"], f["state"], f["latitude"], f["longitude"]):
        assert (lat, lon) == coords.get((c, s), ref.STATE_CENTROIDS.get(s))
    assert "last_updated" not in view.frame.columns


def test_bubble_top_cities_parameter(warehouse_url, silver):
    view = GeoBubbleMap(make_store(warehouse_url), top_cities=7)
    assert_same(view.frame, expected_top(reference(silver, {}, ()), 7))
    view.top_cities = 12
    assert_same(view.frame, expected_top(reference(silver, {}, ()), 12))
    assert sum(len(t.lat) for t in view.figure.data) == 12


def test_bubble_own_state_highlights_not_filters(warehouse_url):
    store = make_store(warehouse_url)
    view = GeoBubbleMap(store)
    before = view.frame.copy()
    assert set(marker_opacity(view).values()) == {0.9}
    state = before["state"][0]
    store.state = [state]
    pd.testing.assert_frame_equal(view.frame, before)
    for (s, _c), opacity in marker_opacity(view).items():
        assert opacity == (0.9 if s == state else FADED_OPACITY)


def test_bubble_click_selects_its_city_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = GeoBubbleMap(store)
    view.click_debounce = 0  # deliberate second clicks
    point = bubble_point(view, 2)
    click(view, point)
    assert store.state == [view.frame["state"][2]] and store.city == [view.frame["city"][2]]
    assert store.origin["state"] == store.origin["city"] == view.title
    click(view, bubble_point(view, 2))
    assert store.state == [] and store.city == []
    view._plot.click_data = {"points": [{"curveNumber": 0, "pointNumber": 0}]}  # no customdata: nothing
    view._plot.click_data = {"points": []}
    assert store.state == []


def test_a_city_bubble_selects_that_city_where_its_state_has_others(warehouse_url):
    """Issue #16: a click on New York City filtered the whole state (three cities in the metrics
    heatmap) while the map lit that one bubble. Now the map lights, and every view takes, that city."""
    store = make_store(warehouse_url)
    bubbles, heatmap = GeoBubbleMap(store), GeoMetricsHeatmap(store)
    counts = bubbles.frame["state"].value_counts()
    row = next(r for r in bubbles.frame.index if counts[bubbles.frame["state"][r]] >= 2)
    state, city = bubbles.frame["state"][row], bubbles.frame["city"][row]
    click(bubbles, bubble_point(bubbles, row))
    lit = {key for key, opacity in marker_opacity(bubbles).items() if opacity > FADED_OPACITY}
    assert lit == {(state, city)}  # the bubble clicked, not its state's other cities
    data = heat_data(heatmap)  # the state's cities, the clicked one lit
    assert set(data["state"]) == {state} and data["city"].nunique() >= 1
    assert set(data.loc[data["city"] == city, "alpha"]) == {1.0}
    assert set(data.loc[data["city"] != city, "alpha"]) <= {FADED_OPACITY}
    assert store.filters().city == (city,) and store.filters().state == (state,)


def test_bubble_map_draws_offline(warehouse_url):
    view = GeoBubbleMap(make_store(warehouse_url))
    assert view._plot.config["topojsonURL"] == topojson_url()
    fig = view.figure
    assert fig.layout.geo.scope == "usa"
    assert fig.data[0].hovertemplate == GeoBubbleMap.HOVER.template


def test_topojson_is_served_by_panels_component_route():
    url = topojson_url()
    assert url.endswith("/") and "://" not in url and not url.startswith("/")  # page-relative
    handler = object.__new__(ComponentResourceHandler)  # parse_url_path needs no tornado state
    served = pathlib.Path(handler.parse_url_path((url + "usa_110m.json").split("components/", 1)[1]))
    assert served.is_file() and served.name == "usa_110m.json"
    assert served.parent.parent == pathlib.Path(__import__("dashboard.static").static.__file__).parent
    assert '"type":"Topology"' in served.read_text()[:200].replace(" ", "")
    with pytest.raises(Exception):  # anything not listed on GeoAssets is refused
        handler.parse_url_path(url.split("components/", 1)[1] + "SOURCE.md")
    assert GeoAssets._resources["topojson"]


def test_bubble_empty_selection(warehouse_url):
    # EMPTY's state and city are the map's own dimensions (highlighted, not filtered), which leaves its region:
    # narrow it to a kind of customer the small warehouse's Northeast does not have
    view = GeoBubbleMap(make_store(warehouse_url, **EMPTY, customer_segment=["Premium"], income_bracket=["Low"],
                                   age_group=["18-24"], credit_score_band=["Excellent"]))
    assert view.frame.empty and view._message.shown


def test_bubble_nan_safe(warehouse_url):
    view = GeoBubbleMap(make_store(warehouse_url))
    df = view.frame.copy()
    df.loc[0, ["avg_clv", "avg_credit_score"]] = np.nan
    df.loc[1, "avg_annual_income"] = np.nan
    coloured, grey = view.traces(df)
    assert len(view.figure.data) == 2 and view.figure.data[1].name == "CLV n/a"
    hover = GeoBubbleMap.HOVER
    row = dict(zip(hover.fields, grey["customdata"][0]))
    assert row["clv"] == "n/a" and row["score"] == "n/a"
    assert any(dict(zip(hover.fields, r))["income"] == "n/a" for r in coloured["customdata"])
    assert not np.isnan(coloured["marker.color"]).any() and "marker.color" not in grey


def test_locate_falls_back_to_state_centroid():
    assert locate("NEW YORK", "NY")[:2] == (40.71, -74.01)
    assert locate("GOTHAM", "NY") == (*ref.STATE_CENTROIDS["NY"], "state centroid")
    lat, lon, how = locate("ATLANTIS", "ZZ")
    assert math.isnan(lat) and math.isnan(lon) and how == "unknown"


# -- metrics heatmap -------------------------------------------------------------------------------
def expected_heatmap(gold: pd.DataFrame, n: int) -> pd.DataFrame:
    top = expected_top(gold, n)
    rows = []
    for metric, sign in METRICS:
        values = top[metric].astype(float)
        sd = values.std(ddof=0)
        z = (values - values.mean()) / sd * sign if sd > 0 else values * 0.0
        for (_, r), v, zz in zip(top.iterrows(), values, z):
            rows.append({"state": r["state"], "city": r["city"],
                         "location": f"{r['city'].title()}, {r['state']}", "customer_count": r["customer_count"],
                         "metric": metric, "value": v, "zscore": zz})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("name", ["none", "customer_segment", "state", "product", "channel", "day_of_week+age"])
def test_heatmap_frame_matches_reference(warehouse_url, silver, selections, name):
    view = GeoMetricsHeatmap(make_store(warehouse_url, **selections[name]))
    expected = expected_heatmap(reference(silver, selections[name], ("city",)), 20)
    assert_same(view.frame, expected, floats=["value", "zscore"], counts=["customer_count"])
    assert list(view.frame["metric"]) == list(expected["metric"])
    assert list(view.frame["location"]) == list(expected["location"])


def test_heatmap_rows_are_normalised_separately(warehouse_url):
    view = GeoMetricsHeatmap(make_store(warehouse_url))
    for metric, group in view.frame.groupby("metric"):
        assert abs(group["zscore"].mean()) < 1e-9 and abs(group["zscore"].std(ddof=0) - 1) < 1e-9, metric
    churn = view.frame[view.frame["metric"] == "avg_churn_risk_pct"]
    worst = churn.loc[churn["value"].idxmax()]
    assert worst["zscore"] == churn["zscore"].min()  # highest churn risk = most negative (red)
    data = heat_data(view)
    assert set(data["alpha"]) == {1.0}
    income = data[data["metric"] == "avg_annual_income"]
    assert all(t.startswith("$") and "," in t for t in income["shown"])


def test_heatmap_top_cities_parameter(warehouse_url, silver):
    view = GeoMetricsHeatmap(make_store(warehouse_url))
    view.top_cities = 4
    expected = expected_heatmap(reference(silver, {}, ()), 4)
    assert_same(view.frame, expected, floats=["value", "zscore"], counts=["customer_count"])
    assert len(view.frame) == 4 * len(METRICS)


def test_heatmap_own_city_highlights_not_filters(warehouse_url):
    store = make_store(warehouse_url)
    view = GeoMetricsHeatmap(store)
    before = view.frame.copy()
    city = before["city"][1]
    store.city = [city]
    pd.testing.assert_frame_equal(view.frame, before)
    data = heat_data(view)
    assert set(data.loc[data["city"] == city, "alpha"]) == {1.0}
    assert set(data.loc[data["city"] != city, "alpha"]) == {FADED_OPACITY}


def test_heatmap_tap_selects_state_and_city_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = GeoMetricsHeatmap(store)
    row = view.frame.iloc[3]
    tap_city(view, row["location"])
    assert store.state == [row["state"]] and store.city == [row["city"]]
    assert row["city"].isupper()
    assert set(view.frame["state"]) == {row["state"]}  # state is not the heatmap's own: it filters it
    data = heat_data(view)
    assert set(data.loc[data["location"] == row["location"], "alpha"]) == {1.0}
    assert set(data.loc[data["location"] != row["location"], "alpha"]) <= {FADED_OPACITY}
    tap_city(view, row["location"], metric=3)
    assert store.state == [] and store.city == []
    tap_city(view, "Atlantis, ZZ")
    assert store.state == [] and store.city == []


def test_heatmap_is_built_once_and_writes_values_upright_only_for_many_cities(warehouse_url):
    store = make_store(warehouse_url)
    view = GeoMetricsHeatmap(store)
    figure, renderers = view.figure, list(view.figure.renderers)
    assert "tap" in figure.subscribed_events
    assert set(view.sources["cells"].data["angle"]) == {math.pi / 2}  # 20 narrow columns
    store.select(state=[view.frame["state"][0]])  # a state's few cities: wide columns, values level
    assert view.figure is figure and view.figure.renderers == renderers
    cities = view.frame["location"].nunique()
    assert cities < GeoMetricsHeatmap.UPRIGHT_FROM and set(view.sources["cells"].data["angle"]) == {0.0}
    assert figure.x_range.end == cities and len(figure.xaxis.major_label_overrides) == cities
    mapper = view._mapper
    assert (mapper.low, mapper.high) == (-2.5, 2.5)  # a fixed scale: colours compare across filters


def test_heatmap_empty_selection(warehouse_url):
    view = GeoMetricsHeatmap(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown


def test_heatmap_nan_safe(warehouse_url):
    view = GeoMetricsHeatmap(make_store(warehouse_url))
    raw = view.store.fetch(TABLE, ("city",))
    raw.loc[raw["customer_count"].idxmax(), ["avg_clv", "avg_credit_score"]] = np.nan
    frame = view.transform(raw)
    nan_rows = frame[frame["value"].isna()]
    assert len(nan_rows) == 2 and nan_rows["zscore"].isna().all()
    ok = frame[(frame["metric"] == "avg_clv") & frame["value"].notna()]
    assert abs(ok["zscore"].mean()) < 1e-9  # NaN left out of the row's mean and sd
    data = heat_data(view, frame)
    assert set(data.loc[data["value"].isna(), "shown"]) == {"n/a"}


def test_cities_named_with_markup_show_as_text_and_a_click_sends_the_raw_state(hostile_url):
    """plotly.js reads <b>, <i>, &amp; … in hovers as formatting: the city label goes there escaped;
    the state a click selects is the raw value."""
    from hostile_warehouse import RENAMES, STATE, assert_shown_as_text
    from dashboard.components.geo import city_label
    store = make_store(hostile_url)
    view = GeoBubbleMap(store)
    top = set(view.frame["city"])
    labels = [city_label(c, s) for c, s in zip(view.frame["city"], view.frame["state"])
              if c in set(RENAMES["city"].values()) or s == STATE]
    assert len(labels) >= len(RENAMES["city"]) + 1 and set(RENAMES["city"].values()) <= top
    assert_shown_as_text(view.figure, labels)
    click(view, bubble_point(view, int(view.frame.index[view.frame["state"] == STATE][0])))
    assert store.state == [STATE]


def test_bubble_colour_scale_follows_the_filters_in_the_sent_layout(warehouse_url):
    """The colour axis limits go to the browser as Plotly reads them (layout.coloraxis.cmin), not as
    a key named "coloraxis.cmin", and follow the CLVs shown after a filter change."""
    from bokeh.document import Document

    store = make_store(warehouse_url)
    view = GeoBubbleMap(store)
    root = view._plot.get_root(Document())
    model = view._plot._models[root.ref["id"]][0]
    store.select(customer_segment=["Premium"])
    clv = view.frame["avg_clv"].dropna()
    sent = model.layout
    assert not [k for k in sent if "." in k]
    assert sent["coloraxis"]["cmin"] == pytest.approx(clv.min()) and sent["coloraxis"]["cmax"] == pytest.approx(clv.max())
    assert sent["coloraxis"]["colorscale"]  # the build's settings kept beside the limits
    assert view.figure.layout.coloraxis.cmin == pytest.approx(clv.min())
