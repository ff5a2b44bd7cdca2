"""Seasonal lines against an independent pandas computation (tests/gold_reference.py + top-N here)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.events import Tap
from bokeh.models import HoverTool

from dashboard.components.seasonal import SeasonalLines
from dashboard.components.style import CATEGORY_COLORS, FADED_OPACITY, OTHER_COLOR
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


def tap(view, x, y) -> None:
    """What the browser sends for a click on the figure at data coordinates (x, y)."""
    view.figure._trigger_event(Tap(view.figure, x=x, y=y))


def _lines(view) -> pd.DataFrame:
    """The drawn lines: a row per category (its colour, opacity and y per month of the x span)."""
    data = view.sources["lines"].data
    return pd.DataFrame({"merchant_category": list(data["merchant_category"]), "color": list(data["color"]),
                         "alpha": list(data["alpha"]), "xs": list(data["xs"]), "ys": list(data["ys"])})


def _points(view) -> pd.DataFrame:
    return pd.DataFrame({k: np.asarray(v) for k, v in view.sources["points"].data.items()})


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
    figure, renderers = view.figure, list(view.figure.renderers)
    view.top_categories = 3
    assert_lines_match(view.frame, expected_lines(reference_gold(silver, TABLE), 3))
    assert _lines(view)["merchant_category"].tolist() == list(dict.fromkeys(view.frame["merchant_category"]))
    assert len(_lines(view)) == 3 and len(_points(view)) == len(view.frame)
    assert view.figure is figure and view.figure.renderers == renderers  # the same glyphs, fewer rows


def test_drawn_lines_and_points_are_the_frame(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    lines, points, frame = _lines(view), _points(view), view.frame
    assert lines["merchant_category"].tolist() == list(dict.fromkeys(frame["merchant_category"]))  # rank order
    for line in lines.itertuples():
        part = frame[frame["merchant_category"] == line.merchant_category]
        np.testing.assert_array_equal(line.xs, part["month"].astype(float))
        np.testing.assert_allclose(line.ys, part["total_volume"])
    np.testing.assert_allclose(points["total_volume"], frame["total_volume"])
    np.testing.assert_array_equal(points["month"], frame["month"].astype(float))
    np.testing.assert_array_equal(points["transaction_count"], frame["transaction_count"])
    assert points["merchant_category"].tolist() == frame["merchant_category"].tolist()
    assert points["month_name"].tolist() == frame["month_name"].tolist()
    x, y = view.figure.x_range, view.figure.y_range
    assert x.start < frame["month"].min() <= frame["month"].max() < x.end
    assert y.start < frame["total_volume"].min() <= frame["total_volume"].max() < y.end
    assert view.figure.legend[0].items[0].label.field == "merchant_category"  # an entry per drawn line


def test_a_month_without_data_breaks_the_line(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    months = sorted(gold["month"].unique())
    gap = gold[gold["month"] != months[1]]
    view.show(view.transform(gap))
    line = _lines(view).iloc[0]
    np.testing.assert_array_equal(line["xs"], np.arange(months[0], months[-1] + 1, dtype=float))
    assert np.isnan(line["ys"][1]) and np.isfinite(line["ys"][[0, 2]]).all()


def test_lines_use_category_colours(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    lines, points = _lines(view), _points(view)
    assert dict(zip(lines["merchant_category"], lines["color"])) == {
        c: CATEGORY_COLORS[c] for c in lines["merchant_category"]}
    assert (points["color"] == [CATEGORY_COLORS[c] for c in points["merchant_category"]]).all()
    other = view.transform(view.store.fetch(TABLE).replace({"merchant_category": {lines["merchant_category"][0]:
                                                                                  "A bank's own"}}))
    view.show(other)
    assert dict(zip(_lines(view)["merchant_category"], _lines(view)["color"]))["A bank's own"] == OTHER_COLOR


def test_own_dimensions_highlight_not_filter(warehouse_url, monkeypatch):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    before = view.frame.copy()
    assert set(_lines(view)["alpha"]) == {1.0} and len(view.sources["months"].data["x"]) == 0
    category = before["merchant_category"].iloc[-1]
    month = int(before["month"].max())
    asked = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda *a, **k: asked.append(a) or fetch(*a, **k))
    store.select(month=[month], merchant_category=[category])
    assert asked == []  # only its own dimensions changed: the highlight, no query
    pd.testing.assert_frame_equal(view.frame, before)
    assert dict(zip(_lines(view)["merchant_category"], _lines(view)["alpha"])) == {
        c: 1.0 if c == category else FADED_OPACITY for c in before["merchant_category"].unique()}
    points = _points(view)
    bright = points[points["alpha"] == 1.0]
    assert bright["month"].tolist() == [month] and bright["merchant_category"].tolist() == [category]
    assert points.loc[points["alpha"] == 1.0, "size"].tolist() == [11.0] and set(points["size"]) == {7.0, 11.0}
    assert (points.loc[points["merchant_category"] == before["merchant_category"].iloc[0], "alpha"]
            == FADED_OPACITY).all()
    assert view.sources["months"].data["x"].tolist() == [month]  # one marker, at the selected month
    store.select(month=[])
    assert len(view.sources["months"].data["x"]) == 0 and asked == []


def test_figure_is_built_once(warehouse_url, monkeypatch):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    doc = Document()
    doc.add_root(view.__panel__().get_root(doc))
    figure, sources, renderers = view.figure, dict(view.sources), list(view.figure.renderers)
    models = {m.id for m in doc.models}
    category = view.frame["merchant_category"].iloc[0]
    for change in ({"customer_segment": ["Premium"]}, {"channel": ["ATM"], "region": ["West"]},
                   {"month": [int(view.frame["month"].min())], "merchant_category": [category]}, {}):
        store.clear()
        store.select(**change)
        assert view.figure is figure and view.figure.renderers == renderers and view.sources == sources
        assert {m.id for m in doc.models} == models  # no model made or dropped
    asked = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda *a, **k: asked.append(a) or fetch(*a, **k))
    store.select(customer_segment=["Business"])
    assert asked  # a filter change queries (so the counter can fail)
    assert view.figure.output_backend == "canvas"


def test_every_hover_field_is_a_column_of_its_renderer(warehouse_url):
    view = SeasonalLines(make_store(warehouse_url))
    hovers = [t for t in view.figure.tools if isinstance(t, HoverTool)]
    assert len(hovers) == 1 and hovers[0].renderers != "auto"
    for hover in hovers:
        fields = {name for _, text in hover.tooltips
                  for groups in re.findall(r"@\{([^}]+)\}|@(\w+)", text) for name in groups if name}
        assert fields >= {"merchant_category", "month_name", "total_volume", "transaction_count"}
        for renderer in hover.renderers:
            assert fields <= set(renderer.data_source.data), fields - set(renderer.data_source.data)


def test_tap_sets_month_and_category_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    row = view.frame.sort_values("total_volume").iloc[len(view.frame) // 2]
    tap(view, row["month"] + 0.2, row["total_volume"] * 1.01)
    assert (store.month, store.merchant_category) == ([int(row["month"])], [row["merchant_category"]])
    assert store.origin["month"] == view.title
    tap(view, row["month"] - 0.1, row["total_volume"])
    assert (store.month, store.merchant_category) == ([], [])


def test_tap_on_nothing_changes_nothing(warehouse_url):
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    top = float(view.frame["total_volume"].max())
    tap(view, float(view.frame["month"].min()), top * 3)    # far above every line
    tap(view, float(view.frame["month"].min()) - 2, top)   # left of the first month
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


def test_a_double_tap_clears_its_selection(warehouse_url):
    from bokeh.events import DoubleTap
    store = make_store(warehouse_url)
    view = SeasonalLines(store)
    assert "tap" in view.figure.subscribed_events and "doubletap" in view.figure.subscribed_events
    row = view.frame.iloc[0]
    tap(view, row["month"], row["total_volume"])
    assert store.month == [int(row["month"])]
    view.figure._trigger_event(DoubleTap(view.figure, x=0, y=0))
    assert (store.month, store.merchant_category) == ([], [])
