"""Sidebar widgets and chips stay in sync with the store, both ways."""
from __future__ import annotations

import datetime as dt

from bokeh.events import Tap

from dashboard.components import FilterChips, FilterSidebar, TimeHeatmap
from dashboard.data import DataStore


def test_a_click_shows_in_the_widgets_and_a_widget_change_filters_the_views(warehouse_url):
    store = DataStore(warehouse_url)
    sidebar = FilterSidebar(store)
    heatmap = TimeHeatmap(store)
    heatmap.figure._trigger_event(Tap(heatmap.figure, x=0.5, y=9))  # Sunday's column, 09:00
    assert sidebar.widgets["day_of_week"].value == [0] and sidebar.widgets["transaction_hour"].value == [9]
    total = heatmap.frame["transaction_count"].sum()
    sidebar.widgets["customer_segment"].value = ["Affluent"]
    assert store.customer_segment == ["Affluent"]
    assert heatmap.frame["transaction_count"].sum() < total
    sidebar.widgets["date_from"].value = dt.date(2025, 12, 1)
    assert store.date_from == dt.date(2025, 12, 1)
    store.clear()
    assert all(w.value in ([], None) for w in sidebar.widgets.values())


def test_widget_options_read_as_words(warehouse_url):
    sidebar = FilterSidebar(DataStore(warehouse_url))
    assert list(sidebar.widgets["day_of_week"].options)[:2] == ["Sunday", "Monday"]
    assert sidebar.widgets["month"].options["December"] == 12
    assert sidebar.widgets["transaction_hour"].options["07:00"] == 7
    assert "New York" in sidebar.widgets["city"].options


def test_chips_one_per_value_removable_and_clear_all(warehouse_url):
    store = DataStore(warehouse_url)
    chips = FilterChips(store)
    assert chips.chips == []
    store.select(origin="Merchant spending sunburst", customer_segment=["Premium", "Business"])
    store.select(channel=["ATM"], day_of_week=[0], date_from=dt.date(2025, 12, 1))
    names = [c["label"] for c in chips.chips]
    assert names == ["Segment: Premium", "Segment: Business", "Channel: ATM", "Day of week: Sunday",
                     "From: 2025-12-01"]
    groups = [(g["title"], len(g["chips"])) for g in chips._bar.groups]  # the view that set them, a count each
    assert groups == [("Merchant spending sunburst", 2), ("Sidebar", 3)]
    chips.handle({"remove": {"dimension": "customer_segment", "value": "Business"}})  # as the page sends it
    assert store.customer_segment == ["Premium"] and len(chips.chips) == 4
    chips.handle({"remove": {"dimension": "day_of_week", "value": 0}})
    chips.handle({"remove": {"dimension": "date_from", "value": "2025-12-01"}})
    assert store.day_of_week == [] and store.date_from is None and len(chips.chips) == 2
    chips.handle({"clear": True})
    assert store.active() == [] and chips.chips == [] and chips._bar.can_undo


def test_undo_takes_back_each_change_in_turn_with_its_group(warehouse_url):
    store = DataStore(warehouse_url)
    chips = FilterChips(store)
    assert not chips._bar.can_undo
    store.select(origin="Geo bubble map", state=["CA"])
    store.select(origin="Time heatmap", day_of_week=[6], transaction_hour=[21])
    store.customer_segment = ["Premium", "<not in the data>"]  # the unknown value is dropped: one change
    chips.handle({"clear": True})
    seen = []
    while chips._bar.can_undo:
        chips.handle({"undo": True})  # as the page sends it
        seen.append([(g["title"], [c["label"] for c in g["chips"]]) for g in chips._bar.groups])
    assert seen == [
        [("Sidebar", ["Segment: Premium"]), ("Geo bubble map", ["State: CA"]),
         ("Time heatmap", ["Day of week: Saturday", "Hour: 21:00"])],
        [("Geo bubble map", ["State: CA"]), ("Time heatmap", ["Day of week: Saturday", "Hour: 21:00"])],
        [("Geo bubble map", ["State: CA"])],
        []]
    chips.handle({"undo": True})  # nothing left to undo: nothing happens
    assert store.active() == []


def test_chip_messages_that_match_no_chip_change_nothing(warehouse_url):
    """The page is not trusted: a forged or stale message cannot set a filter or raise."""
    store = DataStore(warehouse_url)
    chips = FilterChips(store)
    store.select(customer_segment=["Premium"])
    for message in [None, "clear", {"clear": "yes"}, {"undo": 1}, {"remove": "Premium"}, {"remove": {"dimension": "state"}},
                    {"remove": {"dimension": "customer_segment", "value": "' OR 1=1 --"}},
                    {"remove": {"dimension": "__class__", "value": "Premium"}}, {"remove": {"value": "Premium"}}]:
        chips.handle(message)
    assert store.customer_segment == ["Premium"] and [c["label"] for c in chips.chips] == ["Segment: Premium"]


def test_sidebar_labels_are_escaped_because_the_widget_renders_them_as_html(warehouse_url, monkeypatch):
    store = DataStore(warehouse_url)
    hostile = ['<img src=x onerror="window.__xss=1">', "O'Brien & Sons \"Travel\""]
    real = store.options
    monkeypatch.setattr(store, "options", lambda d: hostile + real(d) if d == "merchant_category" else real(d))
    options = FilterSidebar(store).widgets["merchant_category"].options
    assert options['&lt;img src=x onerror=&quot;window.__xss=1&quot;&gt;'] == hostile[0]  # the value stays raw
    assert options["O&#x27;Brien &amp; Sons &quot;Travel&quot;"] == hostile[1]
    assert not any("<" in label for label in options)


def test_the_date_fields_say_what_empty_means_and_open_within_the_data(warehouse_url, silver):
    """They were blank grey boxes, and the calendar opened in 2026 while the data ended in 2025."""
    sidebar = FilterSidebar(DataStore(warehouse_url))
    times = silver["transactions"]["transaction_ts"]
    first, last = times.min().date(), times.max().date()
    since, until = sidebar.widgets["date_from"], sidebar.widgets["date_to"]
    assert since.start == until.start and since.end == until.end
    assert since.start <= first and since.start.day == 1 and (first - since.start).days < 31  # the first month's
    assert since.end == last
    assert since.name == f"Transactions from (empty: {since.start:%d %b %Y})"
    assert until.name == f"to (empty: {last:%d %b %Y})"


def test_how_to_use_comes_before_the_filters(warehouse_url):
    from dashboard.app import _sidebar
    items = _sidebar(DataStore(warehouse_url), [])
    assert "How to use" in items[0].object and "Click a mark" in items[0].object
    assert isinstance(items[-1], FilterSidebar)
