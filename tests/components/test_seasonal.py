"""Seasonal lines against an independent pandas computation (tests/gold_reference.py + top-N here)."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from dashboard.components.seasonal import SeasonalLines
from dashboard.components.style import CATEGORY_COLORS, FADED_OPACITY
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold

from .helpers import EMPTY, make_store

TABLE = "analytics_seasonal_patterns"


@pytest.fixture(scope="module")
def selections(silver) -> dict[str, dict]:
    c = silver["customers"]
    return {
        "none": {},
        "customer_segment": {"customer_segment": ["Premium"]},
        "state": {"state": [c["state"].value_counts().index[0]]},
        "day_of_week": {"day_of_week": [0]},
        "channel": {"channel": ["Mobile", "ATM"]},
    }


def expected_lines(gold: pd.DataFrame, top: int = 5) -> pd.DataFrame:
    """Month x category spend summed over years and weekdays, the `top` categories by total spend."""
    volume = gold.pivot_table(index="month", columns="merchant_category", values="total_volume",
                              aggfunc="sum", fill_value=0.0)
    count = gold.pivot_table(index="month", columns="merchant_category", values="transaction_count",
                             aggfunc="sum", fill_value=0)
    keep = volume.sum().nlargest(top).index
    out = pd.DataFrame({"total_volume": volume[keep].stack(), "transaction_count": count[keep].stack()})
    return out.reset_index()


def assert_lines_match(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    keys = ["merchant_category", "month"]
    a = actual.sort_values(keys).reset_index(drop=True)
    e = expected.sort_values(keys).reset_index(drop=True)
    assert a[keys].astype(object).values.tolist() == e[keys].astype(object).values.tolist()
    assert a["transaction_count"].astype("int64").tolist() == e["transaction_count"].astype("int64").tolist()
    np.testing.assert_allclose(a["total_volume"], e["total_volume"].astype(float), rtol=1e-9, atol=0)
    assert a["month_name"].tolist() == [pd.Timestamp(2000, m, 1).month_name() for m in a["month"]]


def _elements(view, kind):
    """The drawn layers of a kind (not the invisible, unlabelled all-points layer the Tap listens to)."""
    return [el for el in view.render(view.frame) if isinstance(el, kind) and (el.label or kind is hv.VLine)]


def _alpha(element) -> float:
    return hv.Store.lookup_options("bokeh", element, "style").kwargs["alpha"]


@pytest.mark.parametrize("name", ["none", "customer_segment", "state", "day_of_week", "channel"])
def test_frame_equals_reference(warehouse_url, silver, selections, name):
    view = SeasonalLines(make_store(warehouse_url, **selections[name]))
    kept = {d: tuple(v) for d, v in selections[name].items() if d not in SeasonalLines.own}
    expected = expected_lines(reference_gold(silver, TABLE, Filters(**kept)))
    assert expected["merchant_category"].nunique() == 5
    assert_lines_match(view.frame, expected)
    assert not view._message.shown


def test_top_categories_is_a_parameter(warehouse_url, silver):
    view = SeasonalLines(make_store(warehouse_url))
    view.top_categories = 3
    assert_lines_match(view.frame, expected_lines(reference_gold(silver, TABLE), 3))
    assert len(_elements(view, hv.Curve)) == 3


def test_lines_use_category_colours(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    for curve in _elements(view, hv.Curve):
        assert hv.Store.lookup_options("bokeh", curve, "style").kwargs["color"] == CATEGORY_COLORS[curve.label]
    hv.render(view.render(view.frame))  # draws with Bokeh without error


def test_own_dimensions_highlight_not_filter(warehouse_url):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    before = view.frame.copy()
    assert {_alpha(c) for c in _elements(view, hv.Curve)} == {1.0}
    category = before["merchant_category"].iloc[-1]
    month = int(before["month"].max())
    store.select(month=[month], merchant_category=[category])
    pd.testing.assert_frame_equal(view.frame, before)
    assert {c.label: _alpha(c) for c in _elements(view, hv.Curve)} == {
        c: 1.0 if c == category else FADED_OPACITY for c in before["merchant_category"].unique()}
    points = {s.label: s.dframe() for s in _elements(view, hv.Scatter)}
    bright = points[category][points[category]["alpha"] == 1.0]
    assert bright["month"].tolist() == [month]
    assert (points[before["merchant_category"].iloc[0]]["alpha"] == FADED_OPACITY).all()
    assert len(_elements(view, hv.VLine)) == 1


def test_tap_sets_month_and_category_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    row = view.frame.sort_values("total_volume").iloc[len(view.frame) // 2]
    view._on_tap(x=row["month"] + 0.2, y=row["total_volume"] * 1.01)
    assert (store.month, store.merchant_category) == ([int(row["month"])], [row["merchant_category"]])
    assert store.origin["month"] == view.title
    view._on_tap(x=row["month"] - 0.1, y=row["total_volume"])
    assert (store.month, store.merchant_category) == ([], [])


def test_tap_on_nothing_changes_nothing(warehouse_url):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    top = float(view.frame["total_volume"].max())
    view._on_tap(x=float(view.frame["month"].min()), y=top * 3)    # far above every line
    view._on_tap(x=float(view.frame["month"].min()) - 2, y=top)   # left of the first month
    assert store.active() == []


def test_months_across_years_sum_per_month_of_year(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    other_year = gold.assign(year=gold["year"] - 1)
    doubled = view.transform(pd.concat([gold, other_year], ignore_index=True))
    once = view.transform(gold)
    np.testing.assert_allclose(doubled["total_volume"], 2 * once["total_volume"], rtol=1e-12)


def test_empty_selection(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown


def test_served_plot_listens_to_taps(warehouse_url):
    """render() returns an overlay, to which HoloViews links no Tap: the pane's extra layer must."""
    view = SeasonalLines(make_store(warehouse_url))
    plot = hv.renderer("bokeh").get_plot(view._plot.object)
    assert any(type(c).__name__ == "TapCallback" for sp in plot.subplots.values() for c in sp.callbacks)
    assert plot.state.xaxis[0].axis_label == "Month" and "tap" in plot.state.subscribed_events
