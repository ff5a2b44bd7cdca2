"""dashboard/memory.py: one collection and trim a few seconds after a burst of sessions closes."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from dashboard import memory


def test_a_burst_of_closing_sessions_releases_once_after_the_last(monkeypatch):
    calls = []
    monkeypatch.setattr(memory, "DELAY_S", 0.2)
    monkeypatch.setattr(memory, "release", lambda: calls.append(asyncio.get_running_loop().time()))

    async def burst():
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(3):  # three sessions closing 0.1 s apart
            memory.release_soon(object())
            await asyncio.sleep(0.1)
        last = loop.time()
        await asyncio.sleep(0.5)
        return started, last

    with ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright may run one in this thread)
        started, last = pool.submit(asyncio.run, burst()).result()
    assert len(calls) == 1
    assert calls[0] - last >= 0.2 - 0.1 - 0.01  # DELAY_S after the last call, not the first
    assert calls[0] - started >= 0.4


def test_malloc_trim_is_found_on_glibc():
    assert memory._TRIM is not None  # Debian's glibc has it; without it only gc.collect runs
    assert memory._TRIM(0) in (0, 1)  # 1: memory was given back


def test_a_sessions_store_and_views_are_freed_once_nothing_holds_them(warehouse_url):
    """A closed session's store, coordinator and views are garbage once Panel lets go of its
    document: nothing process-wide (a registry of coordinators, a cache of frames) keeps them,
    or every session a team ever opened would stay in the server's memory."""
    import gc
    import weakref

    from dashboard.app import dashboard_views
    from dashboard.data import DataStore

    store = DataStore(warehouse_url)
    views = [v for _, items in dashboard_views(store) for v in items]
    store.select(customer_segment=["Premium"])
    gone = [weakref.ref(x) for x in (store, views[0], views[-1], views[0].coordinator)]
    del store, views
    gc.collect()
    assert [ref() is None for ref in gone] == [True] * 4


def test_what_lives_before_the_first_page_is_frozen_once(monkeypatch):
    """The process's long-lived heap leaves the collector's sight once; later objects stay in it."""
    import gc

    monkeypatch.setattr(memory, "_frozen", False)
    memory.freeze_long_lived()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    later = [[] for _ in range(1000)]  # made after the freeze: tracked, collectable as usual
    memory.freeze_long_lived()  # a second page: nothing more is frozen
    assert gc.get_freeze_count() == frozen and all(gc.is_tracked(x) for x in later)
