"""The drill-down table: page 1 after a filter change, paging, its status line, sorting by header, the two
lists, empty and error states, and the served path (off the event loop, retried after a failure)."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from dashboard.components import coordinator, drilldown
from dashboard.components.drilldown import COLUMNS, DetailTable
from dashboard.config import WarehouseError
from dashboard.data import DataStore
from gold_reference import reference_customers

from .helpers import EMPTY, make_store


def click(view: DetailTable, move: str) -> None:
    view._buttons[move].clicks += 1


def disabled(view: DetailTable) -> list[bool]:
    return [view._buttons[m].disabled for m in ("first", "prev", "next", "last")]


def test_page_one_of_the_selection_and_again_after_a_filter_change(warehouse_url, silver):
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    assert view.kind == "customers" and view.page == 1 and view.total == 1500
    assert view._status.summary == "Rows 1–25 of 1,500 customers"
    assert view.frame.equals(store.detail("customers", 1, 25, "total_spend", True)[0])
    shown = view._table.value  # the rows, cities as the charts write them (the warehouse holds capitals)
    assert shown.drop(columns="city").equals(view.frame.drop(columns="city"))
    assert list(shown["city"]) == [c.title() for c in view.frame["city"]] and not shown["city"].str.isupper().any()
    view.go(4)
    store.select(customer_segment=["Premium"])
    n = len(reference_customers(silver, store.filters()))
    assert view.page == 1 and view.total == n and view._status.summary == f"Rows 1–25 of {n:,} customers"
    assert set(view.frame["customer_segment"]) == {"Premium"}


def test_paging_moves_and_the_buttons_know_the_edges(warehouse_url):
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    assert disabled(view) == [True, True, False, False]
    click(view, "next")
    assert view.page == 2 and view._status.summary == "Rows 26–50 of 1,500 customers"
    assert view.frame.equals(store.detail("customers", 2, 25, "total_spend", True)[0])
    click(view, "last")
    assert view.page == 60 and view._status.summary == "Rows 1,476–1,500 of 1,500 customers"
    assert disabled(view) == [False, False, True, True]
    click(view, "prev")
    assert view.page == 59
    click(view, "first")
    assert view.page == 1 and disabled(view) == [True, True, False, False]
    view.go(10_000)  # past the end: the last page
    assert view.page == 60
    view.go(3)
    view.page_size = 10  # rows 51-75 were shown: the page holding row 51
    assert view.page == 6 and view._status.summary == "Rows 51–60 of 1,500 customers" and len(view.frame) == 10


def test_the_transactions_list_with_its_own_columns_and_newest_first(warehouse_url):
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    view.go(3)
    view.kind = "transactions"
    total = store.detail("transactions", 1, 1)[1]
    assert view.page == 1 and view._status.summary == f"Rows 1–25 of {total:,} transactions"
    assert view._table.sorters == [{"field": "transaction_ts", "dir": "desc"}]
    assert view.frame["transaction_ts"].is_monotonic_decreasing
    click(view, "last")
    first = (drilldown.pages(total, 25) - 1) * 25 + 1
    assert view._status.summary == f"Rows {first:,}–{total:,} of {total:,} transactions"


def test_a_header_click_sorts_the_whole_list_from_page_one(warehouse_url):
    store = DataStore(warehouse_url)
    view = DetailTable(store, kind="transactions")
    view.go(5)
    view._table.sorters = [{"field": "amount", "dir": "asc"}]  # what Tabulator sends on a header click
    assert view.page == 1 and view.frame.equals(store.detail("transactions", 1, 25, "amount", False)[0])
    shown = view.frame
    view._table.sorters = [{"field": "amount; DROP TABLE silver.transactions", "dir": "asc"}]  # forged
    assert view._table.sorters == [{"field": "amount", "dir": "asc"}] and view.frame is shown


def test_every_column_is_labelled_and_text_is_never_markup(warehouse_url):
    """Names in the data may hold markup: every text column uses Tabulator's escaping plaintext formatter."""
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    for kind in ("transactions", "customers"):
        view.kind = kind
        frame = store.detail(kind, 1, 1)[0]
        assert list(COLUMNS[kind]) == list(frame.columns) == list(view._table.value.columns)
        assert set(view._table.titles) == set(frame.columns)
        text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) or c.endswith("_id")]
        assert text and all(view._table.formatters[c] == "plaintext" for c in text), kind
        assert view._table.formatters[{"customers": "total_spend", "transactions": "amount"}[kind]]["symbol"] == "$"


def test_an_empty_selection_says_so(warehouse_url):
    view = DetailTable(make_store(warehouse_url, **EMPTY))
    assert view.total == 0 and view._status.summary == "" and disabled(view) == [True, True, True, True]
    assert view._message.shown and view._message.kind == "warning"
    assert "No customers for this selection" in view._message.text
    view.store.clear()
    assert view.total == 1500 and not view._message.shown


def test_a_failed_query_says_why_and_a_later_change_recovers(warehouse_url):
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    detail = store.detail
    store.detail = lambda *a: (_ for _ in ()).throw(WarehouseError("the query took <b>too long</b>"))
    store.select(channel=["ATM"])
    assert view.error and view._message.shown and view._message.kind == "danger"
    assert "Cannot load this view" in view._message.text
    assert "<b>too long" in view._message.detail  # as text: the box sets textContent, never HTML
    assert disabled(view) == [True, True, True, True]
    store.detail = detail
    store.select(channel=["Mobile"])  # the next change asks again
    assert view.error == "" and not view._message.shown and view.total > 0


def _in_own_loop(coroutine):
    """asyncio.run in a thread of its own (an earlier test may have left a loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_served_queries_run_later_the_newest_wins_and_failures_retry(warehouse_url, monkeypatch):
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    executed, detail, down = [], store.detail, {"now": False}

    def flaky(*args):
        if down["now"]:
            raise WarehouseError("cannot connect to the warehouse")
        return detail(*args)

    store.detail = flaky
    monkeypatch.setattr(coordinator, "served", lambda: True)
    monkeypatch.setattr(pn.state, "execute", lambda callback, **kw: executed.append(callback))
    doc = Document()
    with set_curdoc(doc):
        view.go(2)
        view.go(3)  # in the same tick: one run, for the newest page
        assert view.page == 1 and len(executed) == 1  # nothing ran on the event loop yet
        view.go(2)
        _in_own_loop(executed[0]())
        assert view.page == 2 and view._status.summary == "Rows 26–50 of 1,500 customers"
        view.go(3)

        async def overtaken(run):
            task = asyncio.ensure_future(run())
            await asyncio.sleep(0)  # the run has asked; a newer change takes over meanwhile
            view.coordinator.ticket(view)
            await task

        _in_own_loop(overtaken(executed[-1]))
        assert view.page == 2  # the answer for page 3 was dropped

        down["now"] = True
        view.go(4)
        _in_own_loop(executed[-1]())
        assert "Trying again every few seconds" in view._message.text and not view._status.updating
        (retry,) = doc.session_callbacks  # one retry, a few seconds later
        down["now"] = False
        doc.remove_timeout_callback(retry)
        retry.callback()
        _in_own_loop(executed[-1]())
        assert view.error == "" and view.page == 4 and not view._message.shown and not doc.session_callbacks
        store.select(channel=["Mobile"])  # a filter change: the first page of the new selection
        _in_own_loop(executed[-1]())
        assert view.page == 1 and view.total < 1500


def test_it_works_alone_in_a_notebook_cell(warehouse_url):
    root = pn.panel(DetailTable(DataStore(warehouse_url))).get_root()
    assert root is not None


def test_served_out_of_sight_it_asks_nothing_until_it_is_seen(warehouse_url, monkeypatch):
    """Served, a change while the table's card is out of sight runs no page query and draws no
    rows; when the card comes into sight it shows the first page of the current selection."""
    store = DataStore(warehouse_url)
    view = DetailTable(store)
    shown, asked, detail = view.frame, [], store.detail
    store.detail = lambda *args: asked.append(args) or detail(*args)
    executed = []
    monkeypatch.setattr(coordinator, "served", lambda: True)
    monkeypatch.setattr(drilldown, "served", lambda: True)
    monkeypatch.setattr(pn.state, "execute", lambda callback, **kw: executed.append(callback))
    with set_curdoc(Document()):
        view._status.param.update(seen=False)  # what the page's observer says when the card scrolls away
        store.select(customer_segment=["Premium"])
        _in_own_loop(executed[-1]())
        assert asked == [] and view.frame is shown and view._table.value.equals(view._readable(shown))
        callbacks = set(pn.state.curdoc.session_callbacks)
        view._status.param.update(seen=True)
        (gather,) = set(pn.state.curdoc.session_callbacks) - callbacks  # the cards a scroll brings, together
        pn.state.curdoc.remove_timeout_callback(gather)
        gather.callback()
        _in_own_loop(executed[-1]())
    fresh = DetailTable(make_store(warehouse_url, customer_segment=["Premium"]))
    assert len(asked) == 1 and view.frame.equals(fresh.frame) and view._table.value.equals(fresh._table.value)
    assert view._status.summary == fresh._status.summary


def test_the_pager_says_its_moves_in_words_without_a_tooltip(warehouse_url):
    """The pager's tooltip covered the button it explained: the buttons carry the words instead."""
    view = DetailTable(DataStore(warehouse_url))
    assert [view._buttons[m].name for m in ("first", "prev", "next", "last")] == \
        ["« First", "‹ Previous", "Next ›", "Last »"]
    assert not any(button.description for button in view._buttons.values())
