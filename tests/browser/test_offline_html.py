"""Saved HTML files open from file:// with no network and draw every chart, the map's states included.

One component and the whole set of views are saved with `dashboard.offline` and opened in Debian
Chromium, every request but the file itself blocked and recorded (there must be none). Then the
page is read: each Bokeh plot's canvas holds a drawing, each Plotly chart its marks (SVG, or a WebGL
canvas that changes the picture), and the geo map its US state borders, which plotly.js draws only
from the topojson outline the file carries (a file saved without it draws none: the check bites).
"""
from __future__ import annotations

import time

import pytest

from dashboard import components, offline
from dashboard.app import SECTIONS
from dashboard.components.plotly_view import PlotlyView
from dashboard.data import DataStore

from .conftest import Page

pytestmark = pytest.mark.browser

VIEWS = [getattr(components, name) for _, names in SECTIONS for name in names]
PLOTLY = sum(issubclass(cls, PlotlyView) for cls in VIEWS)
BOKEH = len(VIEWS) - PLOTLY
DRAWN_JS = """() => {
  const found = (selector) => { const out = [];
    const walk = (n) => { if (n.matches(selector)) out.push(n);
      for (const c of [...(n.shadowRoot ? n.shadowRoot.children : []), ...n.children]) walk(c); };
    walk(document.documentElement); return out; };
  const colours = (canvas) => { if (!canvas.width || !canvas.height) return 0;
    const probe = document.createElement('canvas'); probe.width = probe.height = 100;
    const ctx = probe.getContext('2d'); ctx.drawImage(canvas, 0, 0, 100, 100);
    const px = ctx.getImageData(0, 0, 100, 100).data, seen = new Set();
    for (let i = 0; i < px.length; i += 4) seen.add(px.slice(i, i + 4).join());
    return seen.size; };
  const views = [];
  const walk = (v) => { if (!v || views.includes(v)) return;
    views.push(v); for (const c of (v.child_views || [])) walk(c); };
  for (const root of Object.values(window.Bokeh ? Bokeh.index : {})) walk(root);
  return {
    bokeh: views.filter(v => v.canvas_view !== undefined && v.frame !== undefined)
                .map(v => colours(v.canvas_view.primary.canvas)),
    plotly: found('.js-plotly-plot').map(gd => gd.querySelector('.main-svg') === null ? 0 :  // marks: SVG or WebGL
                gd.querySelectorAll('.main-svg .trace path, .main-svg g.slice, canvas').length),
    borders: found('.geo .layer.subunits path')  // one path: a move-to per state border line
                .reduce((n, p) => n + (p.getAttribute('d') || '').split('M').length - 1, 0),
  }; }"""
HIDE_CANVASES_JS = "(gd, hide) => gd.querySelectorAll('canvas').forEach(c => c.style.visibility = hide ? 'hidden' : '')"


class FilePage(Page):
    """A tab that may open one saved file (file://); any other request is blocked and recorded."""

    def __init__(self, browser, path):
        self.url = path.as_uri()
        super().__init__(browser)

    def _route(self, route):
        if route.request.url == self.url:
            route.continue_()
        else:
            super()._route(route)


@pytest.fixture(scope="module")
def saved(warehouse_url, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("offline")
    store = DataStore(warehouse_url)
    geo = components.GeoBubbleMap(store)
    return {"map": offline.save_html(geo, folder / "map.html"), "cities": len(geo.frame),
            "dashboard": offline.save_dashboard(folder / "dashboard.html", store)}


@pytest.fixture
def open_file(browser):
    """Opens a saved file in a new FilePage (closed after the test)."""
    tabs = []

    def open_(path) -> FilePage:
        tabs.append(FilePage(browser, path))
        tabs[-1].page.goto(tabs[-1].url)
        return tabs[-1]

    yield open_
    for tab in tabs:
        tab.page.close()


def drawn(tab, bokeh: int, plotly: int, timeout: float = 90.0) -> dict:
    """What the page drew, once it shows `bokeh` + `plotly` charts and all have drawn (or at the timeout)."""
    deadline = time.time() + timeout
    while True:
        state = tab.page.evaluate(DRAWN_JS)
        ready = len(state["bokeh"]) == bokeh and len(state["plotly"]) == plotly and min(
            state["bokeh"] + state["plotly"], default=1) > 0
        if ready or time.time() > deadline:
            return state
        tab.page.wait_for_timeout(500)


def assert_plotly_drawn(tab) -> None:
    """Every Plotly chart has SVG marks, or (3D scatter, splom: WebGL) canvases that change the picture."""
    plots = tab.page.locator(".js-plotly-plot")
    for i in range(plots.count()):
        plot = plots.nth(i)
        if plot.evaluate("gd => gd.querySelectorAll('.main-svg .trace path, .main-svg g.slice').length"):
            continue
        shown = plot.screenshot()
        plot.evaluate(HIDE_CANVASES_JS, True)
        without = plot.screenshot()
        plot.evaluate(HIDE_CANVASES_JS, False)
        assert shown != without, f"Plotly chart {i} ({plot.evaluate('gd => gd.data[0].type')}) drew nothing"


def test_one_component_opens_offline_with_the_map_drawn(open_file, saved):
    tab = open_file(saved["map"])
    state = drawn(tab, bokeh=0, plotly=1)
    assert tab.page.locator(".scattergeo path.point").count() == saved["cities"]  # one bubble per city
    assert state["borders"] > 40  # the US states, from the outline inside the file
    assert tab.outside == []
    assert tab.console_errors == []


def test_the_whole_dashboard_opens_offline_with_every_chart_drawn(open_file, saved):
    tab = open_file(saved["dashboard"])
    state = drawn(tab, bokeh=BOKEH, plotly=PLOTLY)
    assert len(state["bokeh"]) == BOKEH and len(state["plotly"]) == PLOTLY, state
    assert min(state["bokeh"]) > 20, state  # distinct colours on each canvas: a drawing, not a blank
    assert min(state["plotly"]) > 0, state  # every Plotly chart has its SVG and marks or a WebGL canvas
    assert_plotly_drawn(tab)
    assert state["borders"] > 40
    assert "Banking analytics" in tab.page.title()
    assert tab.outside == []
    assert tab.console_errors == []


def test_without_the_outline_the_map_draws_no_states(open_file, warehouse_url, monkeypatch, tmp_path):
    """The control: the same map saved without the outline shows no states, so `borders > 40` means it."""
    monkeypatch.setattr(offline, "geo_assets_js", lambda: "")
    path = offline.save_html(components.GeoBubbleMap(DataStore(warehouse_url)), tmp_path / "bare.html")
    tab = open_file(path)
    deadline = time.time() + 30
    while not tab.outside and time.time() < deadline:
        tab.page.wait_for_timeout(500)  # (lets Playwright deliver the page's requests)
    assert [url for url in tab.outside if url.endswith("/usa_110m.json")]  # plotly.js looked next to the file
    assert tab.page.evaluate(DRAWN_JS)["borders"] == 0
