"""The served dashboard in a real browser: it renders offline, and clicks cross-filter every view.

What a view shows is read from the page (each card's summary, e.g. '4,039 transactions') and
compared with what an in-process store computes for the selection the page's chips report.
"""
from __future__ import annotations

import re
import shutil
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from dashboard import components
from dashboard.app import SECTIONS
from dashboard.data import LABELS, DataStore, value_label

from .conftest import ARTIFACTS, VIEW_SUMMARIES, page_text

pytestmark = pytest.mark.browser

VIEW_CLASSES = [getattr(components, name) for _, names in SECTIONS for name in names]
TITLES = [cls.title for cls in VIEW_CLASSES]
LABEL_TO_DIM = {label: dim for dim, label in LABELS.items()}
HEATMAP_BOX_JS = """(column) => {
  const views = [];
  const walk = (v) => { if (!v || views.includes(v)) return; views.push(v);
    for (const c of (v.child_views || [])) walk(c); };
  for (const root of Object.values(Bokeh.index)) walk(root);
  for (const pv of views.filter(v => v.frame !== undefined && v.canvas_view !== undefined)) {
    if (!pv.model.renderers.some(r => r.data_source && r.data_source.data[column])) continue;
    pv.canvas_view.el.scrollIntoView({block: "center"});
    const rect = pv.canvas_view.el.getBoundingClientRect(), b = pv.frame.bbox;
    return {x0: rect.left + b.x0, y0: rect.top + b.y0, x1: rect.left + b.x1, y1: rect.top + b.y1};
  }
  return null;
}"""


def wait_until(condition, timeout=30.0, interval=0.25, message="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def summaries(page) -> dict[str, str]:
    texts = page.locator(VIEW_SUMMARIES).all_text_contents()
    return dict(zip(TITLES, texts)) if len(texts) == len(TITLES) else {}


def loaded(page) -> dict[str, str]:
    s = summaries(page)
    return s if s and all(s.values()) else {}


# How long ago the browser's main thread last ran a long task (ms), and how many view cards lack their figure.
QUIET_JS = """() => {
  if (!window.__lastLongTask) {
    window.__lastLongTask = performance.now();
    new PerformanceObserver((list) => { for (const e of list.getEntries())
      window.__lastLongTask = Math.max(window.__lastLongTask, e.startTime + e.duration); })
      .observe({type: 'longtask', buffered: true});
  }
  const deep = (n, out) => { for (const c of n.children) { out.push(c); if (c.shadowRoot) deep(c.shadowRoot, out); deep(c, out); } return out; };
  const cards = deep(document.body, []).filter((e) => e.classList.contains('view-card') && !e.classList.contains('detail-card'));
  const bare = cards.filter((c) => !deep(c.shadowRoot || c, [c]).some((e) => e.classList.contains('bk-Canvas') || e.classList.contains('js-plotly-plot')));
  return {idle: performance.now() - window.__lastLongTask, cards: cards.length, bare: bare.length};
}"""


def ready(page) -> dict[str, str]:
    """Every view shows its summary and its figure, and the browser's main thread has been idle for a
    moment: what a reader waits for before dragging. (Bokeh takes a press held while the page is busy
    for more than its press threshold, 250 ms, as a press, not the start of a drag or a tap.)"""
    shown = loaded(page)
    state = page.evaluate(QUIET_JS) if shown else {}
    return shown if state and state["cards"] == len(TITLES) and not state["bare"] and state["idle"] > 700 else {}


def address(page) -> str:
    """The address bar now, read from the page ('' while a reload replaces it). Playwright's `page.url`
    is a cached value that a history.pushState or a reload started by a page script updates only when
    the test next calls into the browser: a loop reading it alone never sees the change."""
    try:
        return page.evaluate("() => window.location.href")
    except PlaywrightError:
        return ""


def chips(page) -> list[str]:
    return [t.replace("✕", "").strip() for t in page.locator(".filter-chip button").all_text_contents()]


def selection_from_address(store: DataStore, search: str) -> dict[str, list]:
    """The filters a page's address holds (`?customer_segment=Premium&…`), as the store takes them: the
    address names every value, where a brush's chip may list a few ('7 states: … + 2 more')."""
    from urllib.parse import parse_qs

    from dashboard.components.permalink import parse
    values, _, problems = parse(parse_qs(search.lstrip("?")), store)
    assert not problems, problems
    return {d: list(v) for d, v in values.items() if v not in ([], None)}


def expected_summaries(url: str, selection: dict[str, list]) -> dict[str, str]:
    """What every view should say under this selection, computed in this process."""
    store = DataStore(url)
    store.select(**selection)
    views = [cls(store) for cls in VIEW_CLASSES]  # made after the selection: each computes in __init__
    return {v.title: v.summarize(v.frame) if v.frame is not None and not v.frame.empty else "" for v in views}


def view_cards(page):
    return page.locator(".view-card:not(.detail-card)")


def visit(page, index: int) -> None:
    """Scroll the `index`th view's card into sight, as a reader would (a card out of sight is
    brought up to date when it comes into sight)."""
    view_cards(page).nth(index).evaluate("card => card.scrollIntoView({block: 'center'})")


def reach(page, want: dict[str, str], timeout: float = 90) -> dict[str, str]:
    """Wait until every view's summary is `want` (what an in-process store computes), scrolling
    to each view that differs in turn, and say which views differ if they never get there. A
    definite target, not "nothing moved for a while"."""
    seen: dict = {}

    def matches():
        seen["now"] = loaded(page)
        if seen["now"] == want:
            return seen["now"]
        behind = [i for i, t in enumerate(TITLES) if seen["now"].get(t) != want[t]]
        if behind:
            seen["turn"] = seen.get("turn", -1) + 1
            visit(page, behind[seen["turn"] % len(behind)])
        return None

    try:
        return wait_until(matches, timeout=timeout, message="the views to show the expected figures")
    except AssertionError:
        diff = {t: (seen["now"].get(t), want[t]) for t in want if seen["now"].get(t) != want[t]}
        raise AssertionError(f"views (shown, expected) after {timeout:.0f} s: {diff}; chips: {chips(page)}") from None


def test_all_views_render_offline_without_errors(server, tab):
    page = tab.page
    page.goto(server)
    shown = wait_until(lambda: loaded(page), timeout=60, message="all 13 views to render")
    assert len(shown) == 13
    # the figures below the fold join their cards after the first paint, without a scroll
    wait_until(lambda: page.locator(".js-plotly-plot").count() >= 5 and page.locator(".bk-Canvas, canvas").count() >= 8,
               message="every card's figure to join the page")
    assert tab.outside == []
    assert tab.console_errors == []
    assert "No filters" in page_text(page)
    borders = wait_until(lambda: sum((d or "").count("M") for d in page.locator(".geo .layer.subunits path").evaluate_all(
        "ps => ps.map(p => p.getAttribute('d'))")) > 40, message="the map's US state borders (served locally)")
    assert borders
    for width in (1280, 1920):  # a laptop and a desktop screen: every card fits, nothing scrolls sideways
        page.set_viewport_size({"width": width, "height": 1000})
        seen = {}

        def fits():  # once the page has re-laid itself out (seconds on a busy machine)
            boxes = [b for b in (c.bounding_box() for c in page.locator(".view-card").all()) if b]
            seen.update(boxes=boxes, scroll=page.evaluate("() => document.documentElement.scrollWidth"))
            return (len(boxes) == 14  # 13 views and the drill-down table
                    and all(b["x"] >= 0 and b["x"] + b["width"] <= width + 1 and b["width"] >= 0.3 * (width - 330)
                            for b in boxes) and seen["scroll"] <= width)

        try:
            wait_until(fits, timeout=30, message=f"the cards to fit {width} px")
        except AssertionError:
            raise AssertionError(f"at {width} px: {seen}") from None
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1600, "height": 4300})  # the template scrolls inside: grow the window
    time.sleep(3)
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)


def test_sunburst_segment_click_filters_heatmap_network_and_map(server, tab, warehouse_url):
    page = tab.page
    page.goto(server)
    before = wait_until(lambda: ready(page), timeout=60, message="views")
    slices = page.locator(".js-plotly-plot g.slice")
    wait_until(lambda: slices.count() > 0, message="sunburst slices")
    premium = next(i for i in range(slices.count()) if (slices.nth(i).text_content() or "").strip() == "Premium")
    slices.nth(premium).click()
    wait_until(lambda: "Segment: Premium" in chips(page), message="a Segment chip")
    wait_until(lambda: "customer_segment=Premium" in address(page), message="the address")
    selection = selection_from_address(DataStore(warehouse_url), page.evaluate("() => window.location.search"))
    assert selection["customer_segment"] == ["Premium"]
    expected = expected_summaries(warehouse_url, selection)
    after = reach(page, expected)
    for title in ("Transaction time heatmap", "Product cross-sell network", "Customer geographic distribution"):
        assert after[title] != before[title], title
        assert after[title] == expected[title], title
    assert after["Merchant spending sunburst"] == before["Merchant spending sunburst"]  # its own dimensions
    page.screenshot(path=ARTIFACTS / "after-sunburst-click.png", full_page=True)

    # an inner ring's sector filters without zooming Plotly into it: every sector stays drawn
    sunburst = page.locator(".sunburstlayer g.slice")
    drawn = sunburst.count()
    lifestyle = next(i for i in range(drawn) if (sunburst.nth(i).text_content() or "").strip() == "Lifestyle")
    sunburst.nth(lifestyle).click()
    wait_until(lambda: "Category group: Lifestyle" in chips(page), message="a Category group chip")
    time.sleep(1.5)  # Plotly's zoom would have run by now (0.75 s)
    assert sunburst.count() == drawn


def test_heatmap_cell_click_filters_the_others_and_chip_removal_restores(server, tab, warehouse_url):
    page = tab.page
    page.goto(server)
    before = wait_until(lambda: ready(page), timeout=60, message="views")
    box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct"), message="heatmap frame")
    day, hour = 6, 12  # Saturday noon; rows are hours 0..23 top-down, columns Sun..Sat
    page.mouse.click(box["x0"] + (day + 0.5) / 7 * (box["x1"] - box["x0"]),
                     box["y0"] + (hour + 0.5) / 24 * (box["y1"] - box["y0"]))
    wait_until(lambda: {"Day of week: Saturday", "Hour: 12:00"} <= set(chips(page)), message="day and hour chips")
    assert sorted(chips(page)) == ["Day of week: Saturday", "Hour: 12:00"]
    after = reach(page, expected_summaries(warehouse_url, {"day_of_week": [6], "transaction_hour": [12]}))
    assert after["Transaction time heatmap"] == before["Transaction time heatmap"]  # highlights, not filtered
    assert after["Customer geographic distribution"] != before["Customer geographic distribution"]

    # the sidebar follows the click
    selected = [t.replace("Remove item", "").strip() for t in
                page.locator(".choices__list--multiple .choices__item").all_text_contents()]
    assert "Saturday" in selected and "12:00" in selected

    while chips(page):  # remove the chips one by one: each click removes exactly one
        count = len(chips(page))
        page.locator(".filter-chip button").first.click()
        wait_until(lambda: len(chips(page)) == count - 1, timeout=60, message=f"chip {count} to go")
    reach(page, before)
    assert chips(page) == []  # no filter came back


def test_sidebar_widget_filters_the_views_and_adds_a_chip(server, tab, warehouse_url):
    page = tab.page
    page.goto(server)
    before = wait_until(lambda: ready(page), timeout=60, message="views")
    page.locator(".choices__input--cloned").first.click()  # the Segment multi-choice
    page.keyboard.type("Business", delay=50)
    page.keyboard.press("Enter")
    wait_until(lambda: "Segment: Business" in chips(page), message="Segment chip from the sidebar")
    after = reach(page, expected_summaries(warehouse_url, {"customer_segment": ["Business"]}))
    assert after != before
    assert re.search(r"\d", after["Transaction time heatmap"])


@pytest.fixture(scope="module", autouse=True)
def publish_screenshot():
    """Keep the latest full-page screenshot for the README (docs/screenshots/ holds the published ones)."""
    yield
    shot = ARTIFACTS / "dashboard.png"
    if shot.exists():
        shutil.copy(shot, ARTIFACTS / "screenshot-for-readme.png")
