"""What a filter change sends to the browser: only data. No new model, no new figure, no Plotly
trace list re-sent, a bounded number of events per view; a highlight-only change runs no query."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from panel.io.state import set_curdoc
from bokeh.document.events import ColumnDataChangedEvent, ModelChangedEvent
from bokeh.model import Model

from dashboard.app import _excel_button, dashboard_views
from dashboard.components import base
from dashboard.components import coordinator as coordinator_module
from dashboard.components.time import TimeHeatmap
from dashboard.data import DataStore
from dashboard.workbook import column_label

from .helpers import make_store
from .test_base import _in_own_loop

MAX_EVENTS_PER_VIEW = 12


@pytest.fixture(scope="module")
def page(warehouse_url):
    """Every view on one store, in one document (as a served session holds them)."""
    store = DataStore(warehouse_url)
    views = [v for _, items in dashboard_views(store) for v in items]
    doc = Document()
    doc.add_root(pn.Column(*views).get_root(doc))
    return store, views, doc


def _change(doc, store, **selection):
    """(document events, model ids before, model ids after) of one store change."""
    before = {m.id for m in doc.models}
    events: list = []
    record = events.append
    doc.on_change(record)
    try:
        store.select(**selection) if selection else store.clear()
    finally:
        doc.remove_on_change(record)
    return events, before, {m.id for m in doc.models}


@pytest.mark.parametrize("selection", [{"customer_segment": ["Premium"]}, {"region": ["West"], "channel": ["Online"]},
                                       {"day_of_week": [6], "transaction_hour": [12]}, {}])
def test_a_filter_change_sends_only_data(page, selection):
    store, views, doc = page
    figures = {v.title: v.figure for v in views}
    traces = {v.title: len(v.figure.data) for v in views if hasattr(v.figure, "data")}
    events, before, after = _change(doc, store, **selection)
    assert after == before  # no model made or dropped
    assert {v.title: v.figure for v in views} == figures
    assert {v.title: len(v.figure.data) for v in views if hasattr(v.figure, "data")} == traces
    kinds = Counter(type(e).__name__ for e in events)
    assert set(kinds) <= {"ColumnDataChangedEvent", "ColumnsPatchedEvent", "ModelChangedEvent"}, kinds
    for event in events:
        if isinstance(event, ModelChangedEvent):
            assert not isinstance(event.new, Model), f"{event.attr} set to a new model {event.new}"
            assert event.attr != "data" or type(event.model).__name__ != "PlotlyPlot", \
                "a Plotly trace list was re-sent as JSON: its structure changed"
    assert len(events) <= MAX_EVENTS_PER_VIEW * len(views), kinds


def test_a_highlight_change_sends_only_marks_and_runs_no_query(page, monkeypatch):
    store, views, doc = page
    store.clear()
    asked = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda table, *rest: asked.append(table) or fetch(table, *rest))
    # every view's own dimensions at once would filter the others: one view's alone
    heatmap = next(v for v in views if v.title == "Transaction time heatmap")
    others = [v for v in views if not {"day_of_week", "transaction_hour"} <= set(v.own)]
    events, before, after = _change(doc, store, day_of_week=[2], transaction_hour=[9])
    assert after == before
    assert sorted(asked) == sorted(v.table for v in others)  # one query each; the heatmap's own: none
    columns = {e.cols and tuple(sorted(e.cols)) for e in events
               if isinstance(e, ColumnDataChangedEvent) and e.model is heatmap.sources["cells"]}
    assert columns == {("alpha",)}



def _sources(view) -> dict:
    """A Bokeh view's data sources as plain lists (a line's points are arrays of their own)."""
    plain = lambda x: x.tolist() if isinstance(x, np.ndarray) else x  # noqa: E731
    return {name: {k: [plain(x) for x in v] for k, v in source.data.items()} for name, source in view.sources.items()}


def _asking(store, monkeypatch) -> list:
    """The tables the store is asked for from now on."""
    asked, fetch = [], store.fetch
    monkeypatch.setattr(store, "fetch", lambda table, *rest: asked.append(table) or fetch(table, *rest))
    return asked


@pytest.fixture
def out_of_sight(page, monkeypatch):
    """The heatmap of the served-like page, its card reported out of sight by the browser."""
    store, views, doc = page
    store.clear()
    heatmap = next(v for v in views if v.title == "Transaction time heatmap")
    header = heatmap.__panel__()[0]
    monkeypatch.setattr(base, "served", lambda: True)
    header.param.update(seen=False)  # what the page's observer says when the card scrolls away
    yield store, doc, heatmap, header
    header.param.update(seen=True)
    store.clear()


def test_a_view_out_of_sight_asks_nothing_until_it_comes_into_sight(page, out_of_sight, warehouse_url, monkeypatch):
    """Served, a card the browser reports out of sight runs no query, no pandas and sends nothing
    on a filter change; when it is seen it shows what a view built fresh would show."""
    store, doc, heatmap, header = out_of_sight
    shown_before, frame_before, summary_before = _sources(heatmap), heatmap.frame, header.summary
    asked = _asking(store, monkeypatch)
    events, _, _ = _change(doc, store, customer_segment=["Premium"])
    fresh = TimeHeatmap(make_store(warehouse_url, customer_segment=["Premium"]))
    sharing = sum(v.table == TimeHeatmap.table for v in page[1]) - 1  # the channel area reads it too
    assert asked.count(TimeHeatmap.table) == sharing and len(asked) > sharing  # the others were asked
    assert not any(getattr(e, "model", None) in heatmap.sources.values() for e in events)
    assert _sources(heatmap) == shown_before and heatmap.frame is frame_before and header.summary == summary_before
    assert _sources(fresh) != shown_before

    events = []
    doc.on_change(events.append)
    header.param.update(seen=True)  # unserved coordinator: asked for at once
    doc.remove_on_change(events.append)
    assert asked.count(TimeHeatmap.table) == sharing + 1
    assert any(isinstance(e, ColumnDataChangedEvent) and e.model is heatmap.sources["cells"] for e in events)
    assert _sources(heatmap) == _sources(fresh) and heatmap.frame.equals(fresh.frame)
    assert header.summary == fresh.summarize(fresh.frame)


def test_cards_that_come_into_sight_together_are_asked_for_in_one_wave(page, warehouse_url, monkeypatch):
    """A scroll reports each card that comes into sight apart; they are asked for together, in
    one change of the coordinator, each then showing what a view built fresh shows."""
    store, views, doc = page
    store.clear()
    cards = [v for v in views if v.title in ("Transaction time heatmap", "Seasonal spending by category")]
    monkeypatch.setattr(base, "served", lambda: True)  # the change itself is drawn synchronously
    try:
        for view in cards:
            view.__panel__()[0].param.update(seen=False)
        store.select(channel=["Online"])
        fresh = [type(v)(make_store(warehouse_url, channel=["Online"])) for v in cards]
        assert all(_sources(v) != _sources(f) for v, f in zip(cards, fresh))  # both wait
        callbacks, runs = set(doc.session_callbacks), []
        monkeypatch.setattr(coordinator_module, "served", lambda: True)
        monkeypatch.setattr(pn.state, "execute", lambda callback, **kw: runs.append(callback))
        with set_curdoc(doc):
            for view in cards:
                view.__panel__()[0].param.update(seen=True)
            (gather,) = set(doc.session_callbacks) - callbacks  # one for both, a moment later
            doc.remove_timeout_callback(gather)
            gather.callback()
        assert len(runs) == 1 and all(_sources(v) != _sources(f) for v, f in zip(cards, fresh))
        _in_own_loop(runs[0]())
        assert all(_sources(v) == _sources(f) for v, f in zip(cards, fresh))
        assert all(v.frame.equals(f.frame) for v, f in zip(cards, fresh))
    finally:
        monkeypatch.undo()
        for view in cards:
            view.__panel__()[0].param.update(seen=True)
        store.clear()


def test_a_view_out_of_sight_is_current_when_saved_or_exported(out_of_sight, warehouse_url, tmp_path):
    store, doc, heatmap, header = out_of_sight
    store.select(channel=["Online"])
    fresh = TimeHeatmap(make_store(warehouse_url, channel=["Online"]))
    heatmap._on_status({"csv": True})  # the status line's CSV button
    assert header.csv["text"] == fresh._csv().getvalue()
    heatmap.save_html(tmp_path / "heatmap.html")
    assert _sources(heatmap) == _sources(fresh)


def test_the_excel_workbook_holds_the_current_frames_of_views_out_of_sight(out_of_sight, warehouse_url):
    store, doc, heatmap, header = out_of_sight
    store.select(customer_segment=["Business"])  # no query for the heatmap: its frame lags
    book = pd.read_excel(_excel_button(store, [heatmap]).callback(), sheet_name=None)
    fresh = TimeHeatmap(make_store(warehouse_url, customer_segment=["Business"])).frame
    (sheet,) = [v for k, v in book.items() if k != "Filters"]
    fresh = fresh.rename(columns=column_label)  # the workbook's headers are words
    pd.testing.assert_frame_equal(sheet, fresh.astype({c: float for c in fresh.select_dtypes("number")}),
                                  check_dtype=False, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize("name", ["GeoMetricsHeatmap", "MerchantSunburst"])
def test_a_deferred_figure_joins_its_card_when_seen_with_the_current_data(name, warehouse_url, monkeypatch):
    """Served, a card below the fold is painted without its figure (fewer models in the first
    paint); when it is seen, its figure joins the card already holding the current filters' data."""
    from dashboard import components
    cls = getattr(components, name)
    store = DataStore(warehouse_url)
    whole = Document()
    whole.add_root(pn.panel(cls(store)).get_root(whole))
    view = cls(store)
    view.defer()
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))
    figures = lambda d: [m for m in d.models if type(m).__name__.lower() in ("figure", "plotlyplot")]  # noqa: E731
    assert figures(whole) and not figures(doc) and len(doc.models) < len(whole.models)

    header = view.__panel__()[0]
    monkeypatch.setattr(base, "served", lambda: True)
    header.param.update(seen=False)  # the page's observer: out of sight
    store.select(customer_segment=["Premium"])  # asks nothing: the card is out of sight
    assert not figures(doc)
    header.param.update(seen=True)  # scrolled into sight
    fresh = cls(make_store(warehouse_url, customer_segment=["Premium"]))
    assert figures(doc) and view.frame.equals(fresh.frame)
    assert header.summary == fresh.summarize(fresh.frame)
    if hasattr(view, "sources"):
        assert _sources(view) == _sources(fresh)
    else:
        assert [t.to_plotly_json().keys() for t in view.figure.data] == [t.to_plotly_json().keys() for t in fresh.figure.data]
        assert all(np.array_equal(np.asarray(a.ids), np.asarray(b.ids)) and np.allclose(a.values, b.values)
                   for a, b in zip(view.figure.data, fresh.figure.data))
