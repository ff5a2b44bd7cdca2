"""Sidebar widgets and chips stay in sync with the store, both ways."""
from __future__ import annotations

import datetime as dt

from dashboard.components import FilterChips, FilterSidebar, TimeHeatmap
from dashboard.data import DataStore


def test_a_click_shows_in_the_widgets_and_a_widget_change_filters_the_views(warehouse_url):
    store = DataStore(warehouse_url)
    sidebar = FilterSidebar(store)
    heatmap = TimeHeatmap(store)
    heatmap._on_tap(x="Sun", y=9)
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
    store.select(channel=["ATM"])
    names = [c.label for c in chips.chips]
    assert names == ["Segment: Premium  ✕", "Segment: Business  ✕", "Channel: ATM  ✕"]
    assert "Merchant spending sunburst" in chips.chips[0].description
    chips.chips[1].clicks += 1  # remove "Business"
    assert store.customer_segment == ["Premium"] and len(chips.chips) == 2
    chips._clear.clicks += 1
    assert store.active() == [] and chips.chips == []
