"""The session's coordinator: one filter change updates every view together, spinners only for
slow ones, newer changes overtake older answers, failures retry, a cancel stops the query."""
from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import param
import pytest
import sqlalchemy as sa
from bokeh.document import Document
from panel.io.state import set_curdoc

from dashboard.components import base, coordinator as coordinator_module, shaped

from dashboard.components import EngagementRadar, GeoBubbleMap, MerchantTreemap, TimeHeatmap
from dashboard.components.coordinator import SPINNER_AFTER_S, Coordinator
from dashboard.data import DataStore

from .helpers import make_store

VIEWS = (TimeHeatmap, MerchantTreemap, EngagementRadar)


def _quietly(store: DataStore, **selection) -> None:
    """Change the filters without the watchers (the test plays the served session's part)."""
    with param.discard_events(store):
        store.param.update(**selection)


def _expected(url: str, **selection) -> dict[str, object]:
    store = DataStore(url)
    store.param.update(**selection)
    return {cls.title: cls(store).frame for cls in VIEWS}


def _slow(store: DataStore, table: str, seconds: float) -> None:
    fetch = store.fetch

    def slow_fetch(name, *rest):
        if name == table:
            time.sleep(seconds)
        return fetch(name, *rest)

    store.fetch = slow_fetch


def _treemap_slow_on_premium(url: str):
    """An unfiltered treemap whose store now asks for Premium, each query a second late (the
    thread waits before it queries): (store, treemap, the unfiltered frame it shows)."""
    store = DataStore(url)
    treemap = MerchantTreemap(store)
    unfiltered = treemap.frame
    _quietly(store, customer_segment=["Premium"])
    _slow(store, MerchantTreemap.table, 1.0)
    return store, treemap, unfiltered


def _in_own_loop(coroutine):
    """asyncio.run in a thread of its own: an earlier test (Playwright's sync API) may have left an
    event loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _update(store, views, doc=None) -> Coordinator:
    """The session's coordinator with these views gathered for one change (what the store's
    watcher does in a served session), on a document of its own."""
    coordinator = Coordinator.of(store)
    coordinator.doc = doc or coordinator.doc or Document()
    coordinator._gathering = list(views)
    return coordinator


def test_one_change_updates_every_view_and_only_the_slow_one_spins(warehouse_url):
    store = DataStore(warehouse_url)
    views = [cls(store) for cls in VIEWS]
    radar_frame = views[2].frame
    _quietly(store, customer_segment=["Premium"])
    _slow(store, MerchantTreemap.table, 3 * SPINNER_AFTER_S + 0.5)
    seen = {}

    async def run():
        task = asyncio.ensure_future(_update(store, views)._run())
        await asyncio.sleep(2 * SPINNER_AFTER_S)
        seen["loading"] = [v._status.updating for v in views]
        seen["heatmap"] = views[0].frame.copy()
        await task

    _in_own_loop(run())
    expected = _expected(warehouse_url, customer_segment=["Premium"])
    assert seen["loading"] == [False, True, False]  # the fast answers were drawn in the first wave
    assert seen["heatmap"].equals(expected[TimeHeatmap.title])
    for view in views:
        assert view.frame.equals(expected[view.title]), view.title
        assert not view._status.updating
    assert views[2].frame is radar_frame  # the radar draws segments itself: highlighted, not re-queried


def test_a_newer_change_overtakes_a_slow_answer(warehouse_url):
    store, treemap, _ = _treemap_slow_on_premium(warehouse_url)

    async def run():
        first = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(0.1)
        _quietly(store, customer_segment=["Business"])
        await asyncio.gather(first, _update(store, [treemap])._run())

    _in_own_loop(run())
    assert treemap.frame.equals(_expected(warehouse_url, customer_segment=["Business"])[MerchantTreemap.title])
    assert not treemap._status.updating


def test_a_change_back_overtakes_a_slow_answer_to_the_change_it_reverts(warehouse_url):
    """Filter, then undo it while the first query runs: the view must end on the unfiltered data,
    although the second change asks nothing new of the database (its data is the current one)."""
    store, treemap, unfiltered = _treemap_slow_on_premium(warehouse_url)

    async def run():
        first = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(2 * SPINNER_AFTER_S)  # the first answer is late: the view spins
        assert treemap._status.updating
        _quietly(store, customer_segment=[])
        await asyncio.gather(first, _update(store, [treemap])._run())

    _in_own_loop(run())
    assert treemap.frame is unfiltered
    assert treemap._status.summary == treemap.summarize(unfiltered)
    assert not treemap._status.updating


def test_an_answer_is_for_the_filters_of_the_change_that_asked(warehouse_url):
    """The worker thread may start after the store has moved on: it must still query the filters
    the change asked for, or the view would draw another change's data under this one's key."""
    store, treemap, _ = _treemap_slow_on_premium(warehouse_url)

    async def run():
        first = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(0.2)
        _quietly(store, customer_segment=["Business"])  # no update for it yet
        await first

    _in_own_loop(run())
    assert treemap.frame.equals(_expected(warehouse_url, customer_segment=["Premium"])[MerchantTreemap.title])
    assert treemap._key.customer_segment == ("Premium",)


def test_a_quick_change_back_leaves_no_spinner_behind(warehouse_url):
    """Undone within the spinner's delay: the first change's late first wave must not turn on a
    spinner for a view the second change already settled (nothing would turn it off)."""
    store, treemap, unfiltered = _treemap_slow_on_premium(warehouse_url)

    async def run():
        first = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(SPINNER_AFTER_S / 3)
        _quietly(store, customer_segment=[])
        await _update(store, [treemap])._run()  # data current: done at once
        await first

    _in_own_loop(run())
    assert treemap.frame is unfiltered
    assert not treemap._status.updating


def test_a_synchronous_refresh_overtakes_an_answer_on_its_way(warehouse_url):
    store, treemap, unfiltered = _treemap_slow_on_premium(warehouse_url)

    async def run():
        first = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(0.2)
        _quietly(store, customer_segment=[])
        treemap.refresh()  # e.g. a change handled outside the served path
        await first

    _in_own_loop(run())
    assert treemap.frame.equals(unfiltered)
    assert treemap._status.summary == treemap.summarize(unfiltered)


def test_a_view_that_fails_to_redraw_its_highlight_does_not_stop_the_others(warehouse_url, monkeypatch):
    store = DataStore(warehouse_url)
    heatmap, treemap = TimeHeatmap(store), MerchantTreemap(store)
    _quietly(store, day_of_week=[2])  # the heatmap's own dimension: it only re-highlights
    monkeypatch.setattr(heatmap, "show_marks", lambda df: 1 / 0)
    _in_own_loop(_update(store, [heatmap, treemap])._run())
    assert "drawing this view failed (ZeroDivisionError)" in heatmap._message.text and heatmap._message.shown
    assert treemap.frame.equals(_expected(warehouse_url, day_of_week=[2])[MerchantTreemap.title])
    assert not treemap._status.updating


def test_cancel_stops_the_query_in_the_database_and_retry_asks_again(warehouse_url, monkeypatch):
    from dashboard import queries

    store = DataStore(warehouse_url)
    treemap = MerchantTreemap(store)
    _quietly(store, customer_segment=["Premium"])
    # a statement DuckDB would run for minutes, in place of the treemap's query
    slow = sa.text("SELECT sum(i % 7) AS s FROM range(100000000000) t(i)")
    monkeypatch.setattr(queries, "plan_need", lambda need, filters, available: slow)  # the treemap asks its sums
    queries.clear_answers()  # an earlier test's answer must not come from the cache

    async def run():
        update = asyncio.ensure_future(_update(store, [treemap])._run())
        await asyncio.sleep(1.0)
        assert treemap._status.updating and queries._RUNNING  # spinning, and running in the database
        started = time.perf_counter()
        treemap._on_status({"cancel": True})
        await update  # over once the database has given the statement up
        return time.perf_counter() - started

    assert _in_own_loop(run()) < 5
    assert queries._RUNNING == {} and queries._CANCELLED == set()
    assert treemap._status.cancelled and not treemap._status.updating
    assert "Query cancelled" in treemap._message.text and treemap._message.shown
    assert treemap.error == ""  # not an error: nothing retries by itself

    monkeypatch.undo()
    treemap._on_status({"retry": True})  # outside a served session the view asks again at once
    assert not treemap._status.cancelled and not treemap._message.shown
    assert treemap.frame.equals(_expected(warehouse_url, customer_segment=["Premium"])[MerchantTreemap.title])


def test_status_line_says_what_is_shown_and_its_reset_clears_only_the_own_selection(warehouse_url):
    store = DataStore(warehouse_url)
    heatmap = TimeHeatmap(store)
    assert heatmap._status.summary == heatmap.summarize(heatmap.frame) and not heatmap._status.resettable
    store.select(day_of_week=[0], transaction_hour=[9], channel=["ATM"])
    assert heatmap._status.resettable  # its own dimensions hold a selection
    heatmap._on_status({"reset": False})  # anything but the reset message is ignored
    heatmap._on_status("reset")
    assert store.day_of_week == [0]
    heatmap._on_status({"reset": True})
    assert store.day_of_week == [] and store.transaction_hour == [] and store.channel == ["ATM"]
    assert not heatmap._status.resettable
    assert heatmap._status.summary == f"{heatmap.frame['transaction_count'].sum():,} transactions"


def test_a_failing_query_shows_an_error_and_the_view_heals_by_itself(warehouse_url, monkeypatch):
    import panel as pn

    from dashboard.config import WarehouseError

    store = DataStore(warehouse_url)
    heatmap = TimeHeatmap(store)
    _quietly(store, channel=["ATM"])
    fetch, down = store.fetch, {"now": True}

    def flaky(name, *rest):
        if down["now"]:
            raise WarehouseError("cannot connect to postgresql://reader:***@db/bank: connection refused")
        return fetch(name, *rest)

    store.fetch = flaky
    executed = []
    monkeypatch.setattr(pn.state, "execute", lambda cb, **kw: executed.append(cb))
    monkeypatch.setattr(coordinator_module, "served", lambda: True)
    doc = Document()
    _in_own_loop(_update(store, [heatmap], doc)._run())
    assert heatmap.error.startswith("cannot connect") and heatmap._message.shown
    assert "connection refused" in heatmap._message.text and heatmap._status.summary == ""
    (retry,) = doc.session_callbacks  # one retry, a few seconds later

    down["now"] = False  # the database is back
    doc.remove_timeout_callback(retry)
    with set_curdoc(doc):
        retry.callback()  # the retry fires: it starts an update of the failed view
    _in_own_loop(executed[-1]())
    expected = _expected(warehouse_url, channel=["ATM"])[TimeHeatmap.title]
    assert heatmap.error == "" and heatmap.frame.equals(expected)
    assert not doc.session_callbacks  # healthy: no further retry


def test_a_highlight_change_runs_no_query_and_redraws_only_the_highlight(warehouse_url, monkeypatch):
    store = DataStore(warehouse_url)
    heatmap, treemap = TimeHeatmap(store), MerchantTreemap(store)
    asked = []
    fetch = store.fetch
    store.fetch = lambda table, *rest: asked.append(table) or fetch(table, *rest)
    counts = heatmap.sources["cells"].data["transaction_count"]
    _quietly(store, day_of_week=[2], transaction_hour=[9])
    _in_own_loop(_update(store, [heatmap, treemap])._run())
    assert asked == [MerchantTreemap.table]  # the treemap is filtered; the heatmap only highlights
    cells = heatmap.sources["cells"].data
    assert cells["transaction_count"] is counts  # the counts column was not sent again
    lit = [(d, h) for d, h, a in zip(cells["day"], cells["transaction_hour"], cells["alpha"]) if a == 1.0]
    assert lit == [("Tue", 9)]


def test_the_header_says_title_and_help_and_its_csv_button_sends_the_frame(warehouse_url):
    import io

    import pandas as pd

    store = DataStore(warehouse_url)
    treemap = MerchantTreemap(store)
    header = treemap._status
    assert header.heading == MerchantTreemap.title and header.help == MerchantTreemap.help
    assert header.csv_name == "merchant_spending_treemap.csv" and header.csv == {}
    treemap._on_status({"csv": True})  # the browser's click on CSV
    sent = pd.read_csv(io.StringIO(header.csv["text"]))
    pd.testing.assert_frame_equal(sent, treemap.frame.reset_index(drop=True), check_dtype=False)
    store.select(customer_segment=["Premium"])
    treemap._on_status({"csv": True})  # a second download: a new number, the filtered frame
    again = pd.read_csv(io.StringIO(header.csv["text"]))
    assert header.csv["n"] == 2 and again["total_spend"].sum() == pytest.approx(treemap.frame["total_spend"].sum())
    assert again["total_spend"].sum() < sent["total_spend"].sum()


def test_served_views_share_the_frames_made_from_an_answer(warehouse_url, monkeypatch):
    """Two sessions on the same filters: the second view's frame is what its transform makes of
    the answer, made once; a knob of its own gets a frame of its own; frames are not shared objects."""
    monkeypatch.setattr(base, "served", lambda: True)
    monkeypatch.setattr(shaped, "served", lambda: True)
    monkeypatch.setattr(base, "SHAPED", shaped._Shaped())
    made = []
    transform = GeoBubbleMap.transform
    monkeypatch.setattr(GeoBubbleMap, "transform", lambda self, df: made.append(1) or transform(self, df))
    first, second = (GeoBubbleMap(make_store(warehouse_url, channel=["Online"])) for _ in range(2))
    raw = second.store.fetch(GeoBubbleMap.table, GeoBubbleMap.own)
    assert len(made) == 1 and second.frame.equals(transform(second, raw)) and second.frame is not first.frame
    second.frame["customer_count"] = 0  # one session's frame is its own
    assert first.frame.equals(transform(first, raw))
    fewer = GeoBubbleMap(make_store(warehouse_url, channel=["Online"]), top_cities=3)
    assert len(made) == 2 and fewer.frame.equals(transform(fewer, raw)) and not fewer.frame.equals(first.frame)


def _premium_watched(url: str, late: bool):
    """A treemap asked for Premium (its answer late or not), and what its coordinator tells the page."""
    store = DataStore(url)
    treemap = MerchantTreemap(store)
    coordinator = _update(store, [treemap])
    said: list[bool] = []
    coordinator.on_busy(said.append)
    _quietly(store, customer_segment=["Premium"])
    if late:
        _slow(store, MerchantTreemap.table, 2 * SPINNER_AFTER_S)
    return treemap, coordinator, said


def test_a_change_whose_drawing_breaks_leaves_nothing_said_to_be_updating(warehouse_url):
    """The chip bar's "Updating the charts …" stayed on when a wave raised past the views' guards
    (here a status line that cannot show its spinner)."""
    treemap, coordinator, said = _premium_watched(warehouse_url, late=True)

    def broken(on: bool) -> None:
        raise RuntimeError("no spinner")
    treemap.waiting = broken
    with pytest.raises(RuntimeError):
        _in_own_loop(coordinator._run())
    assert said == [True, False] and not coordinator.busy


@pytest.mark.parametrize("late", [False, True])
def test_the_page_says_the_charts_are_updating_only_when_answers_are_late(warehouse_url, late):
    """With the spinners: after SPINNER_AFTER_S, then off with the last wave; a change answered sooner
    says nothing (a sign on and off within a few hundred ms is a flicker, and two messages a click)."""
    treemap, coordinator, said = _premium_watched(warehouse_url, late)
    _in_own_loop(coordinator._run())
    assert said == ([True, False] if late else [])
    assert treemap.frame.equals(_expected(warehouse_url, customer_segment=["Premium"])[MerchantTreemap.title])
