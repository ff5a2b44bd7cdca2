"""What creating one dashboard session costs, in a fresh interpreter (run by `bench.serving --profile`).

    python -m bench._session_profile duckdb:////path/warehouse.duckdb      # prints one JSON line

Imports are timed first, so nothing heavy may be imported above `measure`. Then two whole
sessions as `panel serve` makes them: `create_app` and the session's Bokeh document (the first
cold: empty query cache, first figures; the second warm). Then, with the query cache emptied,
view by view: the SQL (`query_s`), building the view (`build_s`: cached fetch, transform, figure,
panes) and turning it into the Bokeh models a session sends (`bokeh_models_s`, `models`).
"""
from __future__ import annotations

import json
import sys
import time


def measure(url: str) -> dict:
    t0 = time.perf_counter()
    import panel as pn
    t1 = time.perf_counter()
    from bokeh.document import Document

    import dashboard.app as app
    from dashboard import components
    from dashboard.data import DataStore
    t2 = time.perf_counter()
    out: dict = {"import_panel_s": t1 - t0, "import_dashboard_s": t2 - t1}

    def whole_session() -> tuple[float, float, int]:
        a = time.perf_counter()
        template = app.create_app(url)
        b = time.perf_counter()
        session_doc = Document()
        template.server_doc(session_doc)
        c = time.perf_counter()
        return b - a, c - b, len(session_doc.models)

    out["session_1_create_app_s"], out["session_1_document_s"], out["models_per_session"] = whole_session()
    out["session_2_create_app_s"], out["session_2_document_s"], _ = whole_session()
    pn.state.clear_caches()  # the per-view figures below start from an empty query cache
    store = DataStore(url)
    t = time.perf_counter()
    problems = store.check()
    out["check_s"] = time.perf_counter() - t
    if problems:
        raise SystemExit(f"warehouse problems: {problems}")
    doc = Document()
    views = []
    for _, names in app.SECTIONS:
        for name in names:
            cls = getattr(components, name)
            a = time.perf_counter()
            store.fetch(cls.table, cls.own, need=cls.need)  # the SQL (the first time a table is asked for: a cache miss)
            b = time.perf_counter()
            view = cls(store)  # fetch again (a cache hit), transform, render, panes
            c = time.perf_counter()
            root = pn.panel(view).get_root(doc)  # the Bokeh models sent to the browser
            d = time.perf_counter()
            views.append({"view": cls.title, "query_s": round(b - a, 4), "build_s": round(c - b, 4),
                          "bokeh_models_s": round(d - c, 4), "models": len(list(root.references()))})
    out["views"] = views
    t = time.perf_counter()
    pn.panel(components.FilterSidebar(store)).get_root(doc)
    out["sidebar_s"] = time.perf_counter() - t

    return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1])))
