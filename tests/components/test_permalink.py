"""The URL <-> filters mapping (components/permalink.py), and the reset gestures, without a browser."""
from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs

from dashboard.components import FilterChips, Permalink, TimeHeatmap
from dashboard.components.geo import GeoBubbleMap
from dashboard.components.permalink import query_of
from dashboard.data import DataStore


def test_a_link_sets_the_filters_and_a_change_writes_them_back(warehouse_url):
    store = DataStore(warehouse_url)
    link = Permalink(store, {"customer_segment": ["Premium", "Business"], "day_of_week": ["0"],
                             "date_from": ["2025-12-01"], "theme": ["dark"]})
    assert store.active() == [("customer_segment", "Premium"), ("customer_segment", "Business"),
                              ("day_of_week", 0), ("date_from", dt.date(2025, 12, 1))]
    assert not store.can_undo and store.notice == ""  # opening a link is not a change to undo
    store.select(channel=["Mobile"])
    assert parse_qs(link._sync.query.lstrip("?")) == {
        "customer_segment": ["Premium", "Business"], "channel": ["Mobile"], "day_of_week": ["0"],
        "date_from": ["2025-12-01"], "theme": ["dark"]}  # Panel's theme parameter is kept
    store.clear()
    assert link._sync.query == "?theme=dark"


def test_values_with_commas_ampersands_and_unicode_survive_the_round_trip(warehouse_url):
    store = DataStore(warehouse_url)
    city = store.options("city")[0]
    store.select(city=[city], state=["NY"])
    other = DataStore(warehouse_url)
    Permalink(other, parse_qs(query_of(store).lstrip("?")))
    assert other.active() == store.active()
    odd = DataStore(warehouse_url)
    odd.options = lambda d: ["A, B & C — Zürich"] if d == "city" else DataStore.options(odd, d)
    odd.select(city=["A, B & C — Zürich"])
    assert parse_qs(query_of(odd).lstrip("?")) == {"city": ["A, B & C — Zürich"]}


def test_a_malformed_or_hostile_link_is_cut_down_with_a_notice(warehouse_url):
    store = DataStore(warehouse_url)
    notices = []
    store.param.watch(lambda e: notices.append(e.new), ["notice"])
    Permalink(store, {"__class__": ["x"], "customer_segment": ["Premium", "<script>alert(1)</script>", "' OR 1=1 --"],
                      "transaction_hour": ["9", "nine", "1e9"], "date_to": ["yesterday"], "state": ["NY"] * 3 + [str(i) for i in range(10_000)]})
    assert store.active() == [("customer_segment", "Premium"), ("state", "NY"), ("transaction_hour", 9)]
    said = " | ".join(notices)
    assert "'nine' is not a whole number" in said and "'1e9' is not a whole number" in said
    assert "unknown parameter '__class__'" in said and "<script>alert(1)</script>" in said
    assert "'yesterday' is not a date" not in said and "and 1 more" in said  # three problems named, then a count
    assert "and 9997 more" in said  # 10,000 states not in the data: three named, the rest counted


def test_back_and_forward_messages_restore_that_entry_and_forged_ones_do_nothing(warehouse_url):
    store = DataStore(warehouse_url)
    link = Permalink(store, {})
    store.select(customer_segment=["Premium"])
    link.handle({"query": "?region=West&month=12"})  # as the browser sends it on popstate
    assert store.active() == [("region", "West"), ("month", 12)]
    assert link._sync.query == "?region=West&month=12"  # the address bar already shows it: no new entry
    for forged in [None, "?region=South", {"query": 5}, {"query": ["?x"]}, {"search": "?region=South"}]:
        link.handle(forged)
    assert store.active() == [("region", "West"), ("month", 12)]
    link.handle({"query": "&".join(["state=NY"] * 30_000)})
    assert store.active() == [("region", "West"), ("month", 12)] and "more than 20,000" in store.notice
    store.undo()
    assert store.active() == [("customer_segment", "Premium")]


def groups(store: DataStore) -> dict[str, list[str]]:
    return {g["title"]: [c["label"] for c in g["chips"]] for g in FilterChips(store)._bar.groups}


def test_which_view_set_a_filter_travels_with_the_link(warehouse_url):
    """A copied link (or the theme switch's reload) groups the chips by the view that set them, as
    the page it came from did; a forged `set_by` is dropped with a notice, its filter kept."""
    store = DataStore(warehouse_url)
    store.select(origin=TimeHeatmap.title, day_of_week=[0], transaction_hour=[9])
    store.select(customer_segment=["Premium"])  # the sidebar's
    query = query_of(store)
    assert parse_qs(query.lstrip("?"))["set_by"] == [f"day_of_week:{TimeHeatmap.title}",
                                                     f"transaction_hour:{TimeHeatmap.title}"]
    other = DataStore(warehouse_url)
    Permalink(other, parse_qs(query.lstrip("?")))
    assert other.active() == store.active() and other.origin == store.origin and other.notice == ""
    assert groups(other) == {"Sidebar": ["Segment: Premium"],
                             TimeHeatmap.title: ["Day of week: Sunday", "Hour: 09:00"]}

    forged = DataStore(warehouse_url)
    link = Permalink(forged, {"day_of_week": ["0"], "set_by": ["day_of_week:<b>Nobody</b>", "colour:" + TimeHeatmap.title,
                                                         "no colon"]})
    assert forged.active() == [("day_of_week", 0)] and forged.origin == {}
    assert "set_by='day_of_week:<b>Nobody</b>' names no filter and view" in forged.notice
    assert forged.notice.count("names no filter and view") == 3 and "unknown parameter" not in forged.notice

    link.handle({"query": query})  # back/forward to the first page's entry: its grouping too
    assert forged.origin == store.origin and groups(forged) == groups(other)
    forged.undo()
    assert forged.origin == {} and forged.active() == [("day_of_week", 0)]


def test_double_click_clears_the_views_own_selection_only(warehouse_url):
    store = DataStore(warehouse_url)
    geo, heatmap = GeoBubbleMap(store), TimeHeatmap(store)
    store.select(state=["NY"], day_of_week=[0], transaction_hour=[9])
    geo._plot.doubleclick_data = {"points": []}  # Plotly's double-click, as the pane reports it
    assert store.active() == [("day_of_week", 0), ("transaction_hour", 9)]
    heatmap.reset(x=1.0, y=2.0)  # HoloViews' DoubleTap calls its subscriber with the coordinates
    assert store.active() == []


def test_links_keep_the_theme_the_page_switched_to(warehouse_url):
    """The switch writes the address itself; the links made after it carry the new theme."""
    store = DataStore(warehouse_url)
    link = Permalink(store, args={})
    link.keep_theme(True)
    store.select(customer_segment=["Premium"])
    assert link._sync.query == "?customer_segment=Premium&theme=dark"
    link.keep_theme(False)
    store.select(customer_segment=[])
    assert link._sync.query == ""
