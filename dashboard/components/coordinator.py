"""One coordinator per session: it schedules what the views and the drill-down table ask for.

Mosaic's client/coordinator split: a client says what it needs for the current filters
(`request`), and draws what comes back (`receive`, `fail`); the coordinator runs the queries,
caches nothing itself (the store does) and owns the timing: every query of one change runs at
once in worker threads; a newer change overtakes an answer still on its way (tickets); answers
are drawn in waves, each one document change; spinners show only for answers slower than
SPINNER_AFTER_S; failed clients are asked again every RETRY_AFTER_S until they answer; a
cancel stops the query in the database. A served client whose card is out of sight asks for
nothing (no query, no pandas, no figure data) and says it is `behind`; the cards a scroll brings
into sight together are asked for, or sent what their figure lacks, in one wave (`sighted`).

A client implements:
    request() -> (thunk, key) | None    what to run in a worker thread (None: nothing to fetch)
    receive(result, key)                draw an answer
    fail(message)                       say why it could not be had
    remark()                            redraw what changed without a query (a highlight)
    waiting(on: bool)                   show or hide its spinner
    stop(key)                           stop that query in the database (cancel)
    failed -> bool                      whether its last request failed
    behind -> bool                      whether it skipped a change out of sight (asked when seen)
    catch_up()                          send what its figure lacks (it came into sight)
Outside a served session (a notebook, a script, a test) requests run at once, synchronously.
"""
from __future__ import annotations

import asyncio
import logging
import weakref
from contextlib import contextmanager
from typing import Iterable

import panel as pn
from panel.io.state import set_curdoc

from ..config import WarehouseError
from ..data import FILTER_PARAMETERS, DataStore

log = logging.getLogger(__name__)
SPINNER_AFTER_S = 0.3
RETRY_AFTER_S = 5.0
SIGHTED_GATHER_MS = 30  # a scroll reports each card coming into sight apart: they are drawn together
ATTACH_STEP_MS = 50  # between two deferred cards joining the page: time for the browser to answer a click


def served() -> bool:
    """True inside a `panel serve` session (False in a notebook, a script or a test)."""
    doc = pn.state.curdoc
    return doc is not None and doc.session_context is not None


@contextmanager
def wave(doc):
    """A wave of redraws as one document change: its events leave together (`hold`). Bokeh
    re-indexes all the document's models when a change may have added or dropped one; a wave
    of data updates adds none, so the re-index (a walk of every model) runs once at the end, and
    only if some change asked for it (Bokeh's own `freeze` always runs it)."""
    if doc is None:
        yield
        return
    models, asked = doc.models, []
    models.invalidate = lambda: asked.append(True)  # this instance only, for this wave
    try:
        with pn.io.hold(doc):
            yield
    finally:
        del models.invalidate
        if asked:
            models.invalidate()


def guarded(client, draw) -> None:
    """Run one client's drawing; a client that fails to draw says so and does not stop the others."""
    try:
        draw()
    except Exception as exc:  # a bug in one view's drawing, not a database problem
        log.exception("drawing %s failed", getattr(client, "title", client))
        client.waiting(False)
        client.fail(f"drawing this view failed ({type(exc).__name__})")


class Coordinator:
    """The scheduler of one session's clients (one per store: a store is one session's filters)."""

    def __init__(self, store: DataStore):
        self.store = store
        self.clients: list = []
        self.doc = None
        self._tickets: "weakref.WeakKeyDictionary[object, int]" = weakref.WeakKeyDictionary()
        self._asked: "weakref.WeakKeyDictionary[object, object]" = weakref.WeakKeyDictionary()
        self._gathering: list | None = None  # clients of the change being gathered this tick
        self._retrying: list | None = None
        self._sighted: list | None = None  # clients come into sight, to catch up in the next wave
        self._pending: "weakref.WeakKeyDictionary[object, int]" = weakref.WeakKeyDictionary()  # answer on its way: ticket
        self._busy_watchers: list = []  # told True when a change's answers are late, False when its last wave is sent
        self._announced = False
        store.param.watch(self._on_filters, list(FILTER_PARAMETERS))

    def on_busy(self, watcher) -> None:
        """Call `watcher(True)` when a served change's answers are late (with the views' spinners, after
        SPINNER_AFTER_S: a change answered sooner says nothing, no sign flickers) and `watcher(False)`
        once its last wave has been sent: the page says the charts are updating."""
        self._busy_watchers.append(watcher)

    def _announce(self, busy: bool) -> None:
        if busy != self._announced:
            self._announced = busy
            for watcher in self._busy_watchers:
                watcher(busy)

    @classmethod
    def of(cls, store: DataStore) -> "Coordinator":
        # kept on the store, not in a class-level WeakKeyDictionary: a coordinator refers to its store,
        # so such a mapping's value would keep its key, and every session ever opened, alive
        if getattr(store, "_coordinator", None) is None:
            store._coordinator = cls(store)
        return store._coordinator

    def add(self, client) -> None:
        """A new client: asked for its data now (synchronously: it is being built)."""
        self.clients.append(client)
        self.run_now([client])

    def _on_filters(self, *events) -> None:
        self.update(self.clients)

    def update(self, clients: Iterable) -> None:
        """Ask these clients again (a filter or a knob changed)."""
        clients = list(clients)
        if not served():
            self.run_now(clients)
            return
        self.doc = pn.state.curdoc
        if self._gathering is None:  # the first client of this change: run them all on the next tick
            self._gathering = []
            pn.state.execute(self._run)
        self._gathering.extend(c for c in clients if c not in self._gathering)

    @property
    def retries(self) -> bool:
        """Whether failed clients are asked again by themselves (in a served session)."""
        return served()

    @property
    def busy(self) -> bool:
        """Whether a change is being gathered or an answer is still on its way (a live brush's next
        step waits for it: brush.py)."""
        return self._gathering is not None or len(self._pending) > 0

    def ticket(self, client) -> int:
        """A new ticket for `client`: any answer still on its way for an older one is dropped."""
        self._tickets[client] = self._tickets.get(client, 0) + 1
        return self._tickets[client]

    def current(self, client, ticket: int) -> bool:
        return self._tickets.get(client) == ticket

    # -- synchronous (notebook, script, test) -------------------------------------------------------
    def run_now(self, clients: list) -> None:
        """Every client's request first (each says what it will ask: shared reads are grouped), then the answers."""
        requests = []
        for client in clients:
            self.ticket(client)
            requests.append((client, client.request()))
        for client, asked in requests:
            if asked is None:
                guarded(client, client.remark)
                continue
            thunk, key = asked
            try:
                result = thunk()
            except WarehouseError as exc:
                message = str(exc)
                guarded(client, lambda: client.fail(message))
            else:
                guarded(client, lambda: client.receive(result, key))

    # -- served ------------------------------------------------------------------------------------
    async def _run(self) -> None:
        clients, self._gathering = self._gathering or [], None  # a change from now on starts anew
        loop = asyncio.get_running_loop()
        tasks, tickets = {}, {}
        for client in clients:
            tickets[client] = self.ticket(client)
            asked = client.request()
            if asked is not None:
                self._asked[client] = asked[1]
                tasks[client] = asyncio.ensure_future(self._fetch(loop, *asked))
                self._pending[client] = tickets[client]
        try:
            await self._draw_answers(clients, tasks, tickets)
        finally:  # whatever happened, nothing of this change is pending, nor said to be updating
            for client in tasks:  # overtaken ones
                self._settled(client, tickets[client])
            if not self.busy:
                with set_curdoc(self.doc):
                    self._announce(False)
        self._retry_later([c for c in clients if c.failed and not c.behind and self.current(c, tickets[c])])

    async def _draw_answers(self, clients: list, tasks: dict, tickets: dict) -> None:
        """The answers in waves: those back within SPINNER_AFTER_S with the highlights, spinners for the
        others, then each as it comes."""
        waiting = set(tasks.values())
        done: set = set()
        if waiting:
            done, waiting = await asyncio.wait(waiting, timeout=SPINNER_AFTER_S)
        with set_curdoc(self.doc), wave(self.doc):
            for client in clients:
                if not self.current(client, tickets[client]):
                    continue  # a newer change (or a cancel) took over
                task = tasks.get(client)
                if task is None:  # only the highlight changed, the card is out of sight, or nothing changed
                    client.waiting(False)
                    guarded(client, client.remark)
                elif task in done:
                    self._apply(client, task, tickets[client])
                else:
                    self._announce(True)
                    client.waiting(True)
        while waiting:
            done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            with set_curdoc(self.doc), wave(self.doc):
                for client, task in tasks.items():
                    if task in done and self.current(client, tickets[client]):
                        self._apply(client, task, tickets[client])

    @staticmethod
    async def _fetch(loop, thunk, key):
        try:
            return await loop.run_in_executor(None, thunk), key, ""
        except WarehouseError as exc:
            return None, key, str(exc)

    def _settled(self, client, ticket: int) -> None:
        if self._pending.get(client) == ticket:
            del self._pending[client]

    def _apply(self, client, task, ticket: int) -> None:
        self._settled(client, ticket)
        result, key, error = task.result()
        client.waiting(False)
        if error:
            guarded(client, lambda: client.fail(error))
        else:
            guarded(client, lambda: client.receive(result, key))

    def sighted(self, client) -> None:
        """`client` came into sight behind the filters or with a figure behind its frame: asked
        for or drawn within SIGHTED_GATHER_MS, with the others the same scroll brought in (each
        would be a message, and a page layout, of its own). One whose answer is on its way is
        drawn by that answer's wave."""
        if not served():
            self.run_now([client]) if client.behind else guarded(client, client.catch_up)
            return
        self.doc = pn.state.curdoc
        if self._sighted is None:
            self._sighted = []
            self.doc.add_timeout_callback(self._draw_sighted, SIGHTED_GATHER_MS)
        if client not in self._sighted:
            self._sighted.append(client)

    def _draw_sighted(self) -> None:
        clients, self._sighted = self._sighted or [], None
        with set_curdoc(self.doc):
            self.update([c for c in clients if c.behind])
            with wave(self.doc):
                for client in clients:
                    if not client.behind and client not in self._pending:
                        guarded(client, client.catch_up)

    def attach_later(self, clients: list) -> None:
        """Deferred cards (`View.defer`) join the page after its first paint, one per
        ATTACH_STEP_MS in page order, each its own message and page layout (the page answers a
        click in between); a scroll that brings one into sight first draws it at once (`sighted`)."""
        queue, doc = list(clients), pn.state.curdoc

        def next_one() -> None:
            while queue and queue[0].attached:
                queue.pop(0)
            if not queue:
                return
            client = queue.pop(0)
            with set_curdoc(doc), wave(doc):
                guarded(client, client.catch_up)
            if queue:
                doc.add_timeout_callback(next_one, ATTACH_STEP_MS)

        pn.state.onload(next_one)

    def cancel(self, client) -> None:
        """Drop the answer `client` waits for and stop its query in the database."""
        self.ticket(client)
        if client in self._asked:
            client.stop(self._asked.pop(client))
        client.waiting(False)

    def _retry_later(self, failed: list) -> None:
        """Ask the failed clients again in RETRY_AFTER_S (one pending retry per session)."""
        if not failed or self.doc is None:
            return
        if self._retrying is not None:  # a retry is already scheduled: it takes these too
            self._retrying.extend(c for c in failed if c not in self._retrying)
            return
        self._retrying = list(failed)
        doc = self.doc

        def retry() -> None:
            clients, self._retrying = self._retrying or [], None
            with set_curdoc(doc):
                self.update(clients)

        doc.add_timeout_callback(retry, int(RETRY_AFTER_S * 1000))
