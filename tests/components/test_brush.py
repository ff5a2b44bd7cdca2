"""Brushes (components/brush.py): each view's brush -> the store values of the marks it covers (none,
all, one), live steps as one undo step and one link, the chip in words, clicks and brushes replacing
each other, and the other views' data equal to a fresh store's under the same filters."""
from __future__ import annotations

from urllib.parse import parse_qs

import numpy as np
import pandas as pd
import pytest
from bokeh.events import SelectionGeometry

from dashboard.app import _excel_button
from dashboard.components import (AffinityMatrix, CreditRiskBubble, CreditScatterMatrix, FilterChips, GeoBubbleMap,
                                  GeoMetricsHeatmap, HourlyChannelArea, Permalink, SeasonalLines, TimeHeatmap)
from dashboard.components.brush import brushed, covered, phrase
from dashboard.components.permalink import query_of
from dashboard.data import DataStore

from .test_credit import point_of
from .test_geo import bubble_point


def brush(view, x0, x1, y0=0.0, y1=1.0, final=True) -> None:
    """What the browser sends for a box select's rectangle (data coordinates) on the figure."""
    view.figure._trigger_event(SelectionGeometry(view.figure, geometry={
        "type": "rect", "x0": x0, "x1": x1, "y0": y0, "y1": y1}, final=final))


def select(view, points: list[dict], live=False) -> None:
    """What Panel's Plotly pane sets for a box or lasso: on release, or while it moves (live)."""
    view._plot.selected_data = {"points": points, **({"live": True} if live else {})}


def chips(store) -> list[str]:
    return [c["label"] for c in FilterChips(store).chips]


def same_as_fresh(url, store, cls) -> None:
    """A view on this store shows what the same view shows on a new store given the same filters."""
    fresh = DataStore(url)
    fresh.select(**store.filters().active())
    pd.testing.assert_frame_equal(cls(store).frame.reset_index(drop=True), cls(fresh).frame.reset_index(drop=True))


def test_covered_takes_the_marks_whose_cell_meets_the_interval():
    assert covered(range(24), 8.6, 10.4) == [9, 10]
    assert covered(range(24), 10.4, 8.6) == [9, 10]  # either direction
    assert covered(range(24), 9.3, 9.45) == [9]
    assert covered(range(24), 30, 40) == [] and covered([], 0, 1) == []


def test_phrase_reads_runs_as_ranges_and_lists_the_rest():
    assert phrase("transaction_hour", [17, 9, 10, 11, 12, 13, 14, 15, 16]) == "Hour: 09:00–17:00"
    assert phrase("day_of_week", [1, 2, 3, 4, 5]) == "Day of week: Monday–Friday"
    assert phrase("day_of_week", [0, 6]) == "2 days: Sunday, Saturday"  # not consecutive (Sunday is 0)
    assert phrase("credit_score_band", ["Good", "Fair"]) == "Credit band: Fair–Good"
    assert phrase("state", ["TX", "OK", "LA"]) == "3 states: TX, OK, LA"
    assert phrase("city", list("ABCDEFG")) == "7 cities: A, B, C, D, E + 2 more"


def test_heatmap_brush_covers_days_and_hours_live_then_one_undo_step(warehouse_url):
    store = DataStore(warehouse_url)
    link = Permalink(store, {})
    view, geo = TimeHeatmap(store), GeoBubbleMap(store)
    before = view.frame.copy()
    days = list(view.figure.x_range.factors)
    monday, friday = days.index("Mon"), days.index("Fri")
    for hour in (12.2, 14.4, 16.7):  # the drag: three live steps
        brush(view, monday + 0.3, friday + 0.6, 8.8, hour, final=False)
        assert store.brushing and store.day_of_week == [1, 2, 3, 4, 5]
        assert link._sync.query == ""  # live steps write no link (no history entry each)
    assert store.transaction_hour == list(range(9, 18)) and not store.can_undo
    same_as_fresh(warehouse_url, store, GeoBubbleMap)  # the others follow each live step
    brush(view, monday + 0.3, friday + 0.6, 8.8, 16.7)  # released where the last step was
    assert not store.brushing and store.can_undo and len(store._undo) == 1
    assert parse_qs(link._sync.query.lstrip("?"))["transaction_hour"] == [str(h) for h in range(9, 18)]
    assert chips(store) == ["Day of week: Monday–Friday", "Hour: 09:00–17:00"]
    pd.testing.assert_frame_equal(view.frame, before)  # its own dimensions highlight, not filter
    alphas = pd.Series(view.sources["cells"].data["alpha"])
    assert (alphas == 1.0).sum() == 5 * 9
    assert not geo.frame.equals(GeoBubbleMap(DataStore(warehouse_url)).frame)
    store.undo()  # the whole drag, at once
    assert store.day_of_week == [] and store.transaction_hour == [] and not store.can_undo


@pytest.mark.parametrize("x0, x1, y0, y1, days, hours", [
    (-5.0, 20.0, -3.0, 30.0, list(range(7)), list(range(24))),  # everything
    (2.1, 2.2, 7.9, 8.1, [2], [8]),  # one cell
])
def test_heatmap_brush_everything_or_one_cell(warehouse_url, x0, x1, y0, y1, days, hours):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    brush(view, x0, x1, y0, y1)
    factors = list(view.figure.x_range.factors)
    assert [factors[d] for d in store.day_of_week] == [factors[d] for d in days]
    assert store.transaction_hour == hours


def test_a_brush_over_no_mark_clears_the_views_selection(warehouse_url):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    brush(view, 1.2, 2.5, 3, 4)
    assert store.day_of_week and store.transaction_hour
    brush(view, 8.0, 9.0, 3, 4)  # right of the last day
    assert store.day_of_week == [] and store.transaction_hour == [] and store.origin == {}


def test_channel_area_brush_sets_hours_and_replaces_a_channel_click(warehouse_url):
    store = DataStore(warehouse_url)
    view = HourlyChannelArea(store)
    store.select(origin=view.title, channel=["Branch"])  # as a click on the Branch band
    brush(view, 8.7, 17.2)
    assert store.transaction_hour == list(range(9, 18)) and store.channel == []  # the brush replaced the click
    strips = view.sources["hours"].data
    np.testing.assert_array_equal(strips["x0"], np.arange(9, 18) - 0.5)  # the brush shows as strips
    view.apply_selection({"channel": ["ATM"]})  # a click replaces the brush
    assert store.channel == ["ATM"] and store.transaction_hour == []
    store.select(origin=TimeHeatmap.title, transaction_hour=[3])  # another view's hour is not this view's to clear
    view.apply_selection({"channel": ["Online"]})
    assert store.transaction_hour == [3]
    brush(view, -3, 40)
    assert store.transaction_hour == list(range(24))
    brush(view, 30, 40)  # beyond the last hour: nothing covered
    assert store.transaction_hour == []
    store.clear()
    brush(view, 11.8, 12.3)
    assert store.transaction_hour == [12] and chips(store) == ["Hour: 12:00"]  # one value: a plain chip


def test_seasonal_brush_sets_months(warehouse_url):
    store = DataStore(warehouse_url)
    view = SeasonalLines(store)
    months = sorted(int(m) for m in view.frame["month"].unique())
    brush(view, months[0] - 0.2, months[1] + 0.2)
    assert store.month == months[:2]
    view.apply_selection({"month": [months[-1]], "merchant_category": [view.frame["merchant_category"][0]]})
    assert store.month == [months[-1]]
    brush(view, months[0] - 5, months[-1] + 5)  # everything: the category the click set is replaced
    assert store.month == months and store.merchant_category == []
    same_as_fresh(warehouse_url, store, TimeHeatmap)


def test_geo_heatmap_brush_sets_the_cities_of_its_columns(warehouse_url):
    store = DataStore(warehouse_url)
    view = GeoMetricsHeatmap(store)
    cities = list(dict.fromkeys(view.frame["city"]))
    brush(view, 0.4, 2.6, 0, 5)
    assert store.city == cities[:3] and store.state == []
    assert chips(store) == [f"3 cities: {', '.join(c.title() for c in cities[:3])}"]
    assert set(view.frame["city"]) == set(cities)  # not filtered by its own brush
    brush(view, 1.5, 1.6)
    assert store.city == [cities[1]]
    same_as_fresh(warehouse_url, store, GeoBubbleMap)


def test_affinity_brush_sets_the_products_of_its_rows_and_columns(warehouse_url):
    store = DataStore(warehouse_url)
    view = AffinityMatrix(store)
    rows, columns = list(view.figure.y_range.factors), list(view.figure.x_range.factors)
    brush(view, 0.2, 1.8, 0.2, 0.4)  # columns 0-1, row 0
    assert store.product == sorted({columns[0], columns[1], rows[0]})
    brush(view, 0.5, 0.6, 0.5, 0.6)  # one cell: as its click
    assert store.product == sorted({columns[0], rows[0]})


def test_bubble_box_sets_the_bands_and_brackets_of_its_bubbles(warehouse_url):
    store = DataStore(warehouse_url)
    view = CreditRiskBubble(store)
    frame = view.frame
    rows = [int(frame.index[(frame["credit_score_band"] == b) & (frame["income_bracket"] == i)][0])
            for b, i in (("Good", "High"), ("Fair", "Low"))]
    select(view, [point_of(view, rows[0])], live=True)
    assert store.brushing and store.credit_score_band == ["Good"] and store.income_bracket == ["High"]
    select(view, [point_of(view, r) for r in rows])
    assert not store.brushing and len(store._undo) == 1
    assert store.credit_score_band == ["Fair", "Good"] and store.income_bracket == ["Low", "High"]
    assert chips(store) == ["2 income brackets: Low, High", "Credit band: Fair–Good"]
    same_as_fresh(warehouse_url, store, TimeHeatmap)
    select(view, [])  # a box over no bubble
    assert store.credit_score_band == [] and store.income_bracket == []
    select(view, [point_of(view, r) for r in frame.index])  # every bubble
    assert store.credit_score_band == sorted(set(frame["credit_score_band"]), key=list(
        ["Poor", "Fair", "Good", "Very Good", "Excellent"]).index)


def test_splom_box_is_live_and_replaces_its_previous_bands(warehouse_url):
    store = DataStore(warehouse_url)
    view = CreditScatterMatrix(store)
    frame = view.frame
    poor = int(frame.index[frame["credit_score_band"] == "Poor"][0])
    good = int(frame.index[frame["credit_score_band"] == "Good"][0])
    select(view, [point_of(view, poor)], live=True)
    assert store.credit_score_band == ["Poor"] and store.brushing
    select(view, [point_of(view, poor), point_of(view, good)])
    assert store.credit_score_band == ["Poor", "Good"] and chips(store) == ["2 credit bands: Poor, Good"]


def test_geo_map_box_or_lasso_sets_the_states_inside(warehouse_url):
    store = DataStore(warehouse_url)
    view = GeoBubbleMap(store)
    frame = view.frame
    picked = [int(frame.index[frame["state"] == s][0]) for s in list(dict.fromkeys(frame["state"]))[:3]]
    select(view, [bubble_point(view, r) for r in picked], live=True)
    select(view, [bubble_point(view, r) for r in picked])
    states = sorted(frame["state"][picked])
    assert store.state == states and len(store._undo) == 1
    assert chips(store) == [f"3 states: {', '.join(states)}"]
    same_as_fresh(warehouse_url, store, TimeHeatmap)
    assert len(view.frame) == len(frame)  # the map keeps every state: it highlights
    assert "selectionrevision" not in view.figure._layout
    view.reset()
    assert store.state == []
    # Plotly's own box and fading go too: a new selection revision, no selection shapes
    assert view.figure._layout["selectionrevision"] == 1 and view.figure._layout["selections"] == []
    store.select(customer_segment=["Premium"])
    assert view.figure._layout["selectionrevision"] == 1  # once per cleared brush


def test_a_brushed_chip_removes_its_dimension_and_reads_the_same_after_a_link(warehouse_url):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    brush(view, 1.3, 5.5, 8.8, 17.2)
    query = query_of(store)
    other = DataStore(warehouse_url)
    Permalink(other, parse_qs(query.lstrip("?")))
    assert chips(other) == chips(store) == ["Day of week: Monday–Friday", "Hour: 09:00–17:00"]
    assert other.describe(brushed(other)) == "Day of week: Monday–Friday · Hour: 09:00–17:00"
    bar = FilterChips(other)
    bar.handle({"remove": {"dimension": "transaction_hour", "value": None}})  # as the page sends it
    assert other.transaction_hour == [] and other.day_of_week == [1, 2, 3, 4, 5]
    store.clear()
    store.select(transaction_hour=[9, 10, 11])  # such values from the sidebar: a chip each
    assert chips(store) == ["Hour: 09:00", "Hour: 10:00", "Hour: 11:00"]


def test_the_excel_filters_line_names_a_brush_in_words(warehouse_url):
    store = DataStore(warehouse_url)
    view = HourlyChannelArea(store)
    brush(view, 8.7, 17.2)
    store.select(customer_segment=["Premium"])
    about = pd.read_excel(_excel_button(store, [view]).callback(), sheet_name="Filters", header=None)
    line = dict(zip(about[0], about[1]))["Filters"]
    assert line == "Segment: Premium · Hour: 09:00–17:00"


# Each remaining brushable view over nothing, everything and one mark: (view, the dimension its brush
# sets, a rectangle per case in data coordinates, or None for a Plotly box given as points).
def _months(view):
    return sorted(int(m) for m in view.frame["month"].unique())


def _cities(view):
    return list(dict.fromkeys(view.frame["city"]))


BOKEH_CASES = {
    SeasonalLines: ("month", lambda v: {"nothing": ((20, 30, 0, 1), []),
                                        "everything": ((-10, 30, -1e12, 1e12), _months(v)),
                                        "one": ((_months(v)[2] - 0.2, _months(v)[2] + 0.2, -1e12, 1e12),
                                                [_months(v)[2]])}),
    GeoMetricsHeatmap: ("city", lambda v: {"nothing": ((len(_cities(v)) + 3, len(_cities(v)) + 5, 0, 5), []),
                                           "everything": ((-5, len(_cities(v)) + 5, -5, 50), _cities(v)),
                                           "one": ((1.4, 1.6, 0, 5), [_cities(v)[1]])}),
    AffinityMatrix: ("product", lambda v: {"nothing": ((40, 50, 40, 50), []),
                                           "everything": ((-5, 50, -5, 50), sorted(v.figure.x_range.factors)),
                                           "one": ((2.4, 2.6, 2.4, 2.6),  # as a click on that cell
                                                   {v.figure.x_range.factors[2], v.figure.y_range.factors[2]})}),
}


@pytest.mark.parametrize("case", ["nothing", "everything", "one"])
@pytest.mark.parametrize("cls", list(BOKEH_CASES), ids=lambda c: c.__name__)
def test_bokeh_brushes_over_nothing_everything_or_one_mark(warehouse_url, cls, case):
    store = DataStore(warehouse_url)
    view = cls(store)
    dimension, cases = BOKEH_CASES[cls]
    brush(view, *cases(view)["everything"][0])  # a previous brush, which any new one replaces
    rectangle, want = cases(view)[case]
    brush(view, *rectangle)
    assert sorted(getattr(store, dimension)) == sorted(want)
    assert (view.title in store.origin.values()) == bool(want)  # nothing covered: the view selects nothing


@pytest.mark.parametrize("case", ["nothing", "everything", "one"])
@pytest.mark.parametrize("cls, dimension, point", [(CreditScatterMatrix, "credit_score_band", point_of),
                                                   (GeoBubbleMap, "state", bubble_point)],
                         ids=["CreditScatterMatrix", "GeoBubbleMap"])
def test_plotly_boxes_over_nothing_everything_or_one_mark(warehouse_url, cls, dimension, point, case):
    store = DataStore(warehouse_url)
    view = cls(store)
    frame = view.frame
    rows = {"nothing": [], "everything": list(frame.index), "one": [frame.index[len(frame) // 2]]}[case]
    select(view, [point(view, r) for r in frame.index])  # a previous box over everything
    select(view, [point(view, r) for r in rows])
    assert sorted(getattr(store, dimension)) == sorted(set(frame.loc[rows, dimension]))
