"""The app's first start: with no warehouse yet it builds one, and serves as soon as silver and
gold are readable, while the fast-path tables are still being built (reading through the build's
own engine: DuckDB takes one writer)."""
from __future__ import annotations

import threading
import types

import pandas as pd
import panel as pn
import pytest
import sqlalchemy as sa

from dashboard import app, engines, queries
from dashboard.config import database_url
from dashboard.warehouse.fast import PROFILE
from dashboard.warehouse.gold import gold_query


def _assert_shows_the_plain_definitions(sections: list, url: str) -> None:
    shown = [view for _, items in sections for view in items]
    assert len(shown) == 13
    with engines.connect(url) as conn:
        for view in shown:
            assert not view.error, (view.title, view.error)
            plain = view.transform(pd.read_sql(gold_query(view.table), conn))
            pd.testing.assert_frame_equal(view.frame.reset_index(drop=True), plain.reset_index(drop=True),
                                          check_exact=False, rtol=1e-9, obj=view.title)


def test_the_first_start_serves_once_readable_before_the_fast_tables(tmp_path, monkeypatch):
    monkeypatch.delenv("DASHBOARD_DATABASE_URL", raising=False)
    monkeypatch.setenv("DASHBOARD_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DASHBOARD_BUILD_CUSTOMERS", "300")
    monkeypatch.setenv("DASHBOARD_BUILD_MONTHS", "3")
    monkeypatch.setattr(app, "FIRST_BUILD", app._FirstBuild())
    in_fast_phase, release = threading.Event(), threading.Event()
    build = app.build_warehouse

    def build_held_in_the_fast_phase(url, spec, progress, engine):
        def held(stage, done=None, detail=""):
            progress(stage, done, detail)
            if stage == "fast-path tables" and not in_fast_phase.is_set():
                in_fast_phase.set()
                assert release.wait(120)
        return build(url, spec, progress=held, engine=engine)

    monkeypatch.setattr(app, "build_warehouse", build_held_in_the_fast_phase)
    sessions, dashboard_views = [], app.dashboard_views  # each served session's views
    monkeypatch.setattr(app, "dashboard_views", lambda store: sessions.append(dashboard_views(store)) or sessions[-1])
    polls = []  # no server here: the waiting page's poll is called by the test
    monkeypatch.setattr(pn.state, "add_periodic_callback",
                        lambda callback, period: polls.append(callback) or types.SimpleNamespace(stop=lambda: None))
    queries.clear_answers()
    url = database_url()
    try:
        assert app.needs_first_build(url)
        waiting = app.create_app()
        assert "Preparing the warehouse" in waiting.main[0][0].object and not sessions
        assert in_fast_phase.wait(120), app.FIRST_BUILD.error
        assert app.FIRST_BUILD.readable and not app.needs_first_build(url)
        assert PROFILE not in engines.fast_tables(url, max_age=0)  # still to come (staged at most)
        polls[0]()  # the waiting page fills itself in
        app.create_app()  # and a new session is served at once
        assert len(sessions) == 2
        for sections in sessions:
            _assert_shows_the_plain_definitions(sections, url)
    finally:
        release.set()
        app.FIRST_BUILD.thread.join(120)
    assert app.FIRST_BUILD.error is None
    assert PROFILE in engines.fast_tables(url, max_age=0)
    with engines.connect(url) as conn, pytest.raises(sa.exc.DBAPIError):  # read-only again
        conn.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
    engines.forget(url)
    queries.clear_answers()
