"""Credit views: the behaviour scatter matrix and the risk bubble chart against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here)."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

from dashboard.components.credit import CreditRiskBubble, CreditScatterMatrix
from dashboard.components.style import BAND_COLORS, FADED_OPACITY, INCOME_COLORS
from .helpers import EMPTY, click, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_credit_score_behavior_correlation"
reference = functools.partial(shared_reference, table=TABLE)
KEYS = ["credit_score_band", "income_bracket", "customer_segment"]
BANDS = ["Poor", "Fair", "Good", "Very Good", "Excellent"]
SPLOM = ["avg_credit_score", "avg_transactions", "avg_transaction_size", "avg_credit_utilization_pct",
         "avg_total_balance"]
BUBBLE = ["avg_credit_score", "avg_past_due_accounts", "avg_late_payments", "avg_missed_payments",
          "avg_credit_utilization_pct"]
SELECTIONS = {
    "none": {},
    "segment": {"customer_segment": ["Mass Market", "Premium"]},
    "state": {"state": ["CA", "TX", "NY"]},
    "income": {"income_bracket": ["Medium"]},
    "channel": {"channel": ["Mobile"]},
    "day_of_week": {"day_of_week": [0]},
}




def expected(gold: pd.DataFrame, columns: list[str], min_customers: int) -> pd.DataFrame:
    out = gold[gold["customer_count"] >= min_customers]
    rank = {"credit_score_band": BANDS, "income_bracket": ["Low", "Medium", "High", "Very High"],
            "customer_segment": ["Premium", "Affluent", "Mass Market", "Business"]}
    order = sorted(range(len(out)), key=lambda i: tuple(rank[k].index(out.iloc[i][k]) for k in KEYS))
    return out.iloc[order][KEYS + ["customer_count", *columns]].reset_index(drop=True)


def assert_same(actual: pd.DataFrame, expected_frame: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected_frame.columns)
    assert len(actual) == len(expected_frame), (len(actual), len(expected_frame))
    for col in expected_frame.columns:
        a, e = actual[col], expected_frame[col]
        if col in KEYS:
            assert a.astype(object).tolist() == e.astype(object).tolist(), col
        elif col == "customer_count":
            assert a.astype("int64").tolist() == e.astype("int64").tolist(), col
        else:
            np.testing.assert_allclose(a.astype(float), e.astype(float), rtol=1e-9, atol=0, equal_nan=True,
                                       err_msg=col)



def point_of(view, row: int, curve: int = 0) -> dict:
    """A Plotly point payload for frame row `row`, with the trace's customdata as Panel sends it."""
    fig = view._plot.object
    band, income = view.frame.loc[row, "credit_score_band"], view.frame.loc[row, "income_bracket"]
    for number, trace in enumerate(fig.data):
        for index, custom in enumerate(trace.customdata):
            if custom[0] == band and custom[1] == income and custom[2] == view.frame.loc[row, "customer_segment"]:
                return {"curveNumber": number, "pointNumber": index, "pointIndex": index,
                        "x": float(view.frame.loc[row, "avg_credit_score"]), "y": 0.0,
                        "customdata": list(custom)}
    raise AssertionError("row not drawn")


def opacity_by_band(fig) -> dict[str, float]:
    return {t.name: t.marker.opacity for t in fig.data}


# -- (a) the frame equals the independent computation -----------------------------------------------
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_frames_match_reference(warehouse_url, silver, name):
    selection = SELECTIONS[name]
    store = make_store(warehouse_url, **selection)
    splom, bubble = CreditScatterMatrix(store), CreditRiskBubble(store)
    splom_gold = reference(silver, selection, CreditScatterMatrix.own)
    assert not splom_gold.empty
    if selection:  # the filter bites
        assert splom_gold["customer_count"].sum() < reference(silver, {}, ())["customer_count"].sum()
    assert_same(splom.frame, expected(splom_gold, SPLOM, 20))
    assert_same(bubble.frame, expected(reference(silver, selection, CreditRiskBubble.own), BUBBLE, 1))


def test_thresholds_are_parameters(warehouse_url, silver):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store, min_customers=50)
    gold = reference(silver, {}, ())
    assert_same(splom.frame, expected(gold, SPLOM, 50))
    splom.min_customers = 5  # re-transforms on change
    assert_same(splom.frame, expected(gold, SPLOM, 5))
    bubble = CreditRiskBubble(store)
    bubble.min_customers = 10
    assert_same(bubble.frame, expected(gold, BUBBLE, 10))
    assert bubble._plot.object.layout.yaxis.title.text == "Avg past-due accounts"
    bubble.risk_metric = "avg_late_payments"  # redraws with the other indicator
    fig = bubble._plot.object
    assert fig.layout.yaxis.title.text == "Avg late payments (12m)"
    drawn = np.concatenate([np.asarray(t.y, float) for t in fig.data])
    np.testing.assert_allclose(np.sort(drawn), np.sort(bubble.frame["avg_late_payments"].to_numpy(float)))


# -- (b) own dimensions: highlight, don't filter -------------------------------------------------------
def test_band_selection_highlights_without_filtering_the_splom(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    before = splom.frame.copy()
    assert set(opacity_by_band(splom._plot.object).values()) == {0.8}
    store.select(credit_score_band=["Fair", "Good"])
    pd.testing.assert_frame_equal(splom.frame, before)
    fig = splom._plot.object
    opacity = opacity_by_band(fig)
    assert opacity.pop("Fair") == opacity.pop("Good") == 0.8
    assert opacity and set(opacity.values()) == {FADED_OPACITY}
    assert [t.name for t in fig.data] == [b for b in BANDS if b in set(before["credit_score_band"])]
    assert all(t.marker.color == BAND_COLORS[t.name] for t in fig.data)
    assert all(t.diagonal.visible is False for t in fig.data) and fig.layout.dragmode == "select"
    store.select(income_bracket=["High"])  # not its own dimension: filters
    assert len(splom.frame) < len(before)


def test_band_and_income_highlight_without_filtering_the_bubbles(warehouse_url):
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store)
    before = bubble.frame.copy()
    store.select(credit_score_band=["Good"], income_bracket=["High"])
    pd.testing.assert_frame_equal(bubble.frame, before)
    for trace in bubble._plot.object.data:
        assert trace.marker.color == INCOME_COLORS[trace.name]
        lit = [c[0] == "Good" and c[1] == "High" for c in trace.customdata]
        assert list(trace.marker.opacity) == [0.85 if x else FADED_OPACITY for x in lit]
    store.select(customer_segment=["Business"])  # not its own dimension: filters
    assert len(bubble.frame) < len(before)


# -- (c) clicks and brushing ---------------------------------------------------------------------------
def test_splom_click_selects_and_clears_band(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    splom.click_debounce = 0  # deliberate second clicks
    row = int(splom.frame.index[splom.frame["credit_score_band"] == "Fair"][0])
    point = point_of(splom, row)
    click(splom, point)
    assert store.credit_score_band == ["Fair"] and store.origin["credit_score_band"] == splom.title
    click(splom, point)
    assert store.credit_score_band == []
    click(splom, {"curveNumber": 0, "pointNumber": 0})  # no customdata: nothing
    assert store.credit_score_band == []


def test_splom_box_selection_selects_bands_of_points(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    frame = splom.frame
    rows = [int(frame.index[frame["credit_score_band"] == b][0]) for b in ("Very Good", "Poor")]
    points = [point_of(splom, r) for r in rows] + [point_of(splom, rows[0])]
    box = {"points": points, "selector": {"type": "box", "selector_state": {"xrange": [0, 1], "yrange": [0, 1]}}}
    splom._plot.selected_data = box
    assert store.credit_score_band == ["Poor", "Very Good"]  # band order, no duplicates
    lasso = {"points": [point_of(splom, rows[1])], "selector": {"type": "lasso", "selector_state": {}}}
    splom._plot.selected_data = lasso
    assert store.credit_score_band == ["Poor"]
    splom._plot.selected_data = None  # Plotly clearing its selection changes nothing
    assert store.credit_score_band == ["Poor"]
    splom._plot.selected_data = {"points": [], "selector": None}  # an empty box: nothing
    assert store.credit_score_band == ["Poor"]
    assert splom.selection_from_points([]) is None


def test_bubble_click_selects_band_and_income(warehouse_url):
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store)
    bubble.click_debounce = 0  # deliberate second clicks
    row = int(bubble.frame["customer_count"].idxmax())
    band, income = bubble.frame.loc[row, ["credit_score_band", "income_bracket"]]
    point = point_of(bubble, row)
    click(bubble, point)
    assert store.credit_score_band == [band] and store.income_bracket == [income]
    click(bubble, point)
    assert store.credit_score_band == [] and store.income_bracket == []
    assert bubble.selection_from_click({"curveNumber": 0, "pointNumber": 0}) is None


# -- (d) empty selection, NaN, rendering -------------------------------------------------------------
def test_empty_selection_shows_message(warehouse_url):
    store = make_store(warehouse_url, **EMPTY)
    views = (CreditScatterMatrix(store), CreditRiskBubble(store))
    for view in views:
        assert view.frame.empty and view._message.shown
    store.select(state=[], city=[], region=[])
    for view in views:
        assert not view.frame.empty and not view._message.shown


def test_nan_metrics_render_and_hover_as_na(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store, min_customers=1)
    nan_rows = splom.frame[splom.frame[SPLOM].isna().any(axis=1)]
    assert not nan_rows.empty  # small groups without a card have no utilisation
    pio.to_json(splom._plot.object)  # serialises (NaN -> null)
    hover = [list(c) for t in splom._plot.object.data for c in t.customdata]
    assert any("n/a" in c for c in hover)
    assert all(c[3].replace(",", "").isdigit() for c in hover)  # counts with thousands separators
    assert any(c[6].startswith(("$", "-$")) for c in hover)
    bubble = CreditRiskBubble(store)
    pio.to_json(bubble._plot.object)
    assert splom.summarize(splom.frame).endswith("customers")


def test_a_segment_named_with_markup_shows_as_text_in_the_hovers(hostile_url):
    """plotly.js reads <b>, <i>, &amp; … in hovers as formatting: names from the data go there escaped."""
    from hostile_warehouse import SEGMENT, assert_shown_as_text
    store = make_store(hostile_url)
    for view in (CreditScatterMatrix(store), CreditRiskBubble(store)):
        assert_shown_as_text(view._plot.object, [SEGMENT])
