"""Behaviour views: the 3D cluster scatter and the engagement radar against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here)."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from dashboard.components.behavior import BehaviorScatter3D, EngagementRadar
from dashboard.components.style import FADED_OPACITY
from gold_reference import reference_gold

from .helpers import EMPTY, click, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_customer_behavior_clusters"
reference = functools.partial(shared_reference, table=TABLE)
KEYS = ["customer_segment", "age_group", "income_bracket"]
XYZ = ["avg_transactions_90d", "avg_transaction_size", "avg_total_balance"]
RADAR = ["avg_transactions_90d", "avg_unique_categories", "avg_accounts", "mobile_usage_pct",
         "avg_satisfaction_score", "engagement_score"]


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def selections(silver) -> dict[str, dict]:
    """Store selections that concern these views: none, a customer filter, two transaction filters."""
    c = silver["customers"]
    return {
        "none": {},
        "state": {"state": [c["state"].value_counts().index[0]]},
        "age_group": {"age_group": [sorted(c["age_group"].unique())[1]]},
        "channel": {"channel": ["Mobile"]},
        "day_of_week": {"day_of_week": [0]},
    }




def assert_frame_matches(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Same key rows; integer columns exact, float columns to rel 1e-9 (NaN == NaN)."""
    assert len(actual) == len(expected), (len(actual), len(expected))
    a = actual.sort_values(keys).reset_index(drop=True)
    e = expected.sort_values(keys).reset_index(drop=True)
    for k in keys:
        assert a[k].astype(object).tolist() == e[k].astype(object).tolist(), k
    for col in e.columns:
        if col in keys:
            continue
        if pd.api.types.is_integer_dtype(e[col]):
            assert a[col].astype("int64").tolist() == e[col].astype("int64").tolist(), col
        else:
            np.testing.assert_allclose(a[col].astype(float), e[col].astype(float), rtol=1e-9, atol=0,
                                       equal_nan=True, err_msg=col)



def expected_scatter(gold: pd.DataFrame, min_customers: int = 20) -> pd.DataFrame:
    keep = (gold["customer_count"] >= min_customers) & gold[XYZ].notna().all(axis=1)
    return gold.loc[keep, KEYS + ["customer_count"] + XYZ + ["engagement_score"]]


def expected_radar(gold: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for segment in gold["customer_segment"].unique():
        g = gold[gold["customer_segment"] == segment]
        row = {"customer_segment": segment, "customer_count": int(g["customer_count"].sum())}
        for col in RADAR:
            # customer-weighted; Mobile % weighted by the group's transactions (pooled share)
            w = g["customer_count"] * (g["avg_transactions_90d"] if col == "mobile_usage_pct" else 1)
            ok = g[col].notna() & (w > 0)
            row[col] = np.average(g.loc[ok, col], weights=w[ok]) if w[ok].sum() > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in RADAR:
        out[col + "_index"] = out[col] / out[col].max() * 100
    return out


# -- 3D scatter ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "state", "channel", "day_of_week"])
def test_scatter_frame_equals_reference(warehouse_url, silver, selections, name):
    view = BehaviorScatter3D(make_store(warehouse_url, **selections[name]))
    expected = expected_scatter(reference(silver, selections[name], BehaviorScatter3D.own))
    assert not expected.empty
    assert_frame_matches(view.frame, expected, KEYS)
    assert not view._message.shown and view._plot.object is not None


def test_scatter_threshold_is_a_parameter(warehouse_url, silver):
    view = BehaviorScatter3D(make_store(warehouse_url))
    gold = reference_gold(silver, TABLE)
    view.min_customers = 1
    assert_frame_matches(view.frame, expected_scatter(gold, 1), KEYS)
    view.min_customers = 30
    assert_frame_matches(view.frame, expected_scatter(gold, 30), KEYS)
    assert len(expected_scatter(gold, 30)) < len(expected_scatter(gold, 1))


def _opacity_by_point(fig) -> dict[tuple, float]:
    return {tuple(cd[:3]): trace.marker.opacity for trace in fig.data for cd in trace.customdata}


def test_scatter_own_dimensions_highlight_not_filter(warehouse_url):
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    before = view.frame.copy()
    assert set(_opacity_by_point(view._plot.object).values()) == {0.85}
    store.select(customer_segment=["Premium"])
    pd.testing.assert_frame_equal(view.frame, before)
    opacity = _opacity_by_point(view._plot.object)
    assert len(opacity) == len(before)
    assert all(o == (0.85 if key[0] == "Premium" else FADED_OPACITY) for key, o in opacity.items())
    first = before.iloc[0]
    store.select(customer_segment=[first.customer_segment], age_group=[first.age_group],
                 income_bracket=[first.income_bracket])
    pd.testing.assert_frame_equal(view.frame, before)
    opacity = _opacity_by_point(view._plot.object)
    assert [k for k, o in opacity.items() if o == 0.85] == [tuple(first[KEYS])]


def test_scatter_click_sets_segment_age_income_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    view.click_debounce = 0  # a deliberate second click (the repeat test is below)
    fig = view._plot.object
    curve, trace = 1, fig.data[1]
    point = {"curveNumber": curve, "pointNumber": 0, "x": trace.x[0], "y": trace.y[0], "z": trace.z[0],
             "marker.size": trace.marker.size[0], "customdata": list(trace.customdata[0])}
    click(view, point)
    segment, age, income = trace.customdata[0][:3]
    assert (store.customer_segment, store.age_group, store.income_bracket) == ([segment], [age], [income])
    assert store.origin["age_group"] == view.title
    click(view, point)  # the same bubble again clears the three dimensions
    assert (store.customer_segment, store.age_group, store.income_bracket) == ([], [], [])
    click(view, {"curveNumber": 0, "pointNumber": 0, "x": 1.0, "y": 2.0, "z": 3.0})  # no customdata
    assert store.active() == []


def test_scatter_repeated_3d_click_event_is_one_click(warehouse_url):
    """A 3D scene sends plotly_click on every frame while the button is held: one toggle only."""
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    trace = view._plot.object.data[0]
    point = {"curveNumber": 0, "pointNumber": 0, "customdata": list(trace.customdata[0])}
    for _ in range(3):
        click(view, point)
    assert store.customer_segment == [trace.customdata[0][0]]
    click(view, {"curveNumber": 0, "pointNumber": 0})  # a stale frame after the redraw: ignored
    assert store.customer_segment == [trace.customdata[0][0]]


def test_scatter_nan_rows_dropped_and_render_safe(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    gold.loc[gold.index[:3], "avg_transaction_size"] = np.nan
    gold.loc[gold.index[3:5], "engagement_score"] = np.nan
    view.min_customers = 1
    out = view.transform(gold)
    assert len(out) == gold["avg_transaction_size"].notna().sum()
    fig = view.render(out)
    texts = [cd[7] for t in fig.data for cd in t.customdata]
    assert texts.count("n/a") == out["engagement_score"].isna().sum() > 0


def test_scatter_empty_selection(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown
    assert "No data" in view._message.text


# -- radar -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "age_group", "state", "channel"])
def test_radar_frame_equals_reference(warehouse_url, silver, selections, name):
    view = EngagementRadar(make_store(warehouse_url, **selections[name]))
    expected = expected_radar(reference(silver, selections[name], EngagementRadar.own))
    assert_frame_matches(view.frame, expected, ["customer_segment"])
    assert list(view.frame["customer_segment"]) == [s for s in ("Premium", "Affluent", "Mass Market", "Business")
                                                  if s in set(expected["customer_segment"])]
    index = view.frame[[c + "_index" for c in RADAR]]
    np.testing.assert_allclose(index.max(), 100.0, rtol=1e-12)
    assert (index.min() >= 0).all()


def test_radar_transactions_axis_is_the_customer_mean(warehouse_url, silver):
    """The customer-weighted mean of group means is the plain mean over the segment's customers."""
    view = EngagementRadar(make_store(warehouse_url))
    gold = reference_gold(silver, TABLE)
    premium = gold[gold["customer_segment"] == "Premium"]
    total = (premium["avg_transactions_90d"] * premium["customer_count"]).sum() / premium["customer_count"].sum()
    row = view.frame.set_index("customer_segment").loc["Premium"]
    assert row["avg_transactions_90d"] == pytest.approx(total, rel=1e-9)
    assert row["customer_count"] == premium["customer_count"].sum()


def test_radar_own_dimension_highlights_not_filters(warehouse_url):
    store = make_store(warehouse_url)
    view = EngagementRadar(store)
    before = view.frame.copy()
    assert {t.opacity for t in view._plot.object.data} == {0.6}
    store.select(customer_segment=["Business"])
    pd.testing.assert_frame_equal(view.frame, before)
    assert {t.name: t.opacity for t in view._plot.object.data} == {
        s: 0.6 if s == "Business" else FADED_OPACITY for s in before["customer_segment"]}


def test_radar_hover_has_raw_value_and_unit(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url))
    trace = view._plot.object.data[0]
    assert list(trace.theta[:6]) == ["Transactions", "Categories", "Accounts", "Mobile %", "Satisfaction",
                                     "Engagement"]
    raw = view.frame.iloc[0]
    assert trace.customdata[3][1] == f"{raw['mobile_usage_pct']:,.1f}% (% of transactions on Mobile (90d))"
    assert trace.r[0] == pytest.approx(raw["avg_transactions_90d_index"])


def test_radar_click_sets_segment_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = EngagementRadar(store)
    view.click_debounce = 0  # deliberate second clicks
    trace = view._plot.object.data[2]
    point = {"curveNumber": 2, "pointNumber": 1, "r": trace.r[1], "theta": trace.theta[1],
             "customdata": list(trace.customdata[1])}
    click(view, point)
    assert store.customer_segment == [trace.name]
    click(view, point)
    assert store.customer_segment == []
    click(view, {"curveNumber": 3, "pointNumber": 0, "r": 50.0, "theta": "Accounts"})  # curveNumber only
    assert store.customer_segment == [view._plot.object.data[3].name]


def test_radar_nan_metric_renders(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    gold.loc[gold["customer_segment"] == "Business", "avg_satisfaction_score"] = np.nan
    out = view.transform(gold)
    assert np.isnan(out.set_index("customer_segment").loc["Business", "avg_satisfaction_score_index"])
    fig = view.render(out)
    business = next(t for t in fig.data if t.name == "Business")
    assert business.r[4] == 0 and business.customdata[4][1].startswith("n/a")


def test_radar_empty_selection(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown


def test_a_segment_named_with_markup_shows_as_text_and_clicks_back(hostile_url):
    """plotly.js reads <b>, <i>, &amp; … in legends and hovers as formatting: the name goes there
    escaped, while a click still sends the raw name (the store only takes names the data holds)."""
    from hostile_warehouse import SEGMENT, assert_shown_as_text
    for cls in (BehaviorScatter3D, EngagementRadar):
        store = make_store(hostile_url)
        view = cls(store)
        assert_shown_as_text(view._plot.object, [SEGMENT])
        curve, trace = next((i, t) for i, t in enumerate(view._plot.object.data) if t.customdata[0][0] == SEGMENT)
        click(view, {"curveNumber": curve, "pointNumber": 0, "customdata": list(trace.customdata[0])})
        assert store.customer_segment == [SEGMENT], cls.__name__
