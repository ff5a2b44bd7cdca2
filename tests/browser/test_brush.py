"""Brushes in a real browser: a drag on the time heatmap, the channel area, the risk bubble chart and
the geo map filters the other views while it moves and on release. The page's link holds the
server's filters; every view's summary is compared with what an in-process store computes for them,
the chips with their words, and the link, undo and a double-click are checked to round-trip."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from dashboard.components.brush import phrase
from dashboard.data import LABELS, LIST_DIMENSIONS, DataStore, value_label

from .test_dashboard import HEATMAP_BOX_JS, address, chips, expected_summaries, reach, ready, wait_until

pytestmark = pytest.mark.browser

# The drag area of the Plotly figure in the card titled `title`, scrolled into sight (screen pixels).
PLOTLY_AREA_JS = """(title) => {
  const all = [];
  const walk = (n) => { for (const c of n.children) { all.push(c); if (c.shadowRoot) walk(c.shadowRoot); walk(c); } };
  walk(document.body);
  let card = all.find((e) => e.tagName === 'H4' && e.textContent === title);
  while (card && !(card.classList && card.classList.contains('view-card'))) card = card.parentNode || card.host;
  if (!card) return null;
  const inside = [];
  const walk2 = (n) => { for (const c of n.children) { inside.push(c); if (c.shadowRoot) walk2(c.shadowRoot); walk2(c); } };
  walk2(card);
  if (card.shadowRoot) walk2(card.shadowRoot);
  const area = inside.find((e) => e.classList && (e.classList.contains('nsewdrag') || e.classList.contains('geo')));
  if (!area) return null;
  area.scrollIntoView({block: 'center'});
  const r = area.getBoundingClientRect();
  return r.width > 0 ? {x0: r.left, y0: r.top, x1: r.right, y1: r.bottom} : null;
}"""


def link_selection(url: str, store: DataStore) -> dict[str, list]:
    """The filters the page's link holds (what the server's store holds), as store values."""
    args = parse_qs(urlparse(url).query)
    return {d: [store.param[d].item_type(v) for v in args[d]] for d in LIST_DIMENSIONS if d in args}


def tooltips(page) -> str:
    return " ".join(page.locator(".bk-tooltip-content:visible").all_text_contents())


def drag(page, start, end, moves=10, seconds=2.0, during=None):
    """Press at `start`, move to `end` in `moves` steps over `seconds`, call `during()` before releasing."""
    page.mouse.move(*start)
    page.mouse.down()
    for i in range(1, moves + 1):
        page.mouse.move(start[0] + (end[0] - start[0]) * i / moves, start[1] + (end[1] - start[1]) * i / moves,
                        steps=2)
        time.sleep(seconds / moves)
    seen = during() if during else None
    page.mouse.up()
    return seen


def settle(page, url: str, dimensions: tuple[str, ...]) -> dict[str, list]:
    """After a release: the link names the brush's dimensions; its selection."""
    store = DataStore(url)
    wait_until(lambda: all(f"{d}=" in address(page) for d in dimensions),
               message=f"the link to hold {dimensions} (chips {chips(page)}, link {address(page)})")
    return link_selection(address(page), store)


def test_heatmap_brush_filters_live_then_links_and_undoes_as_one_step(server, tab, browser, warehouse_url):
    page = tab.page
    page.goto(server)
    before = wait_until(lambda: ready(page), timeout=60, message="views")
    box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct"), message="heatmap frame")
    width, height = box["x1"] - box["x0"], box["y1"] - box["y0"]

    def at(day, hour):  # columns Sun..Sat, rows hours 0..23 top-down
        return box["x0"] + (day + 0.5) / 7 * width, box["y0"] + (hour + 0.5) / 24 * height

    def live():  # the button is still down: the chips (so the store) follow, the link does not yet
        wait_until(lambda: "Day of week: Monday–Friday" in chips(page), message="live chips")
        assert not tooltips(page)  # no tooltip trails the brush over the cells it covers
        return urlparse(address(page)).query

    query_while_dragging = drag(page, at(1, 9), at(5, 17), during=live)
    assert query_while_dragging == ""  # no history entry per live step
    selection = settle(page, warehouse_url, ("day_of_week", "transaction_hour"))
    assert selection == {"day_of_week": [1, 2, 3, 4, 5], "transaction_hour": list(range(9, 18))}
    assert chips(page) == ["Day of week: Monday–Friday", "Hour: 09:00–17:00"]
    after = reach(page, expected_summaries(warehouse_url, selection))
    assert after["Transaction time heatmap"] == before["Transaction time heatmap"]  # it highlights, not filters
    assert after["Customer geographic distribution"] != before["Customer geographic distribution"]
    box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct"), message="heatmap frame")  # scrolled
    width, height = box["x1"] - box["x0"], box["y1"] - box["y0"]
    page.mouse.move(*at(3, 12), steps=3)  # released: a cell's tooltip again
    assert "Day: Wed Hour: 12:00" in wait_until(lambda: tooltips(page), timeout=10, message="the hovered cell's tooltip")

    other = browser.new_page(viewport={"width": 1600, "height": 1000})  # the link, in a fresh tab
    try:
        other.goto(address(page))
        wait_until(lambda: chips(other) == chips(page), timeout=60, message="the same chips from the link")
    finally:
        other.close()

    page.locator("button.chip-undo").click()  # the whole drag is one step
    wait_until(lambda: chips(page) == [], message="undo to clear the brush")
    reach(page, before)
    assert tab.console_errors == [] and tab.outside == []


def test_channel_area_interval_sets_hours(server, tab, warehouse_url):
    page = tab.page
    page.goto(server)
    wait_until(lambda: ready(page), timeout=60, message="views")
    box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "share"), message="channel area frame")
    x = lambda hour: box["x0"] + hour / 23 * (box["x1"] - box["x0"])  # noqa: E731  the x range is 0..23
    y = (box["y0"] + box["y1"]) / 2
    drag(page, (x(7.8), y), (x(12.2), y))
    selection = settle(page, warehouse_url, ("transaction_hour",))
    assert selection == {"transaction_hour": [8, 9, 10, 11, 12]}
    assert chips(page) == ["Hour: 08:00–12:00"]
    reach(page, expected_summaries(warehouse_url, selection))


@pytest.mark.parametrize("title, dimensions", [
    ("Credit score vs risk indicators", ("credit_score_band", "income_bracket")),
    ("Customer geographic distribution", ("state",)),
])
def test_plotly_box_filters_live_and_a_double_click_clears(server, tab, warehouse_url, title, dimensions):
    page = tab.page
    page.goto(server)
    before = wait_until(lambda: ready(page), timeout=60, message="views")
    area = wait_until(lambda: page.evaluate(PLOTLY_AREA_JS, title), message=f"{title}'s plot area")
    time.sleep(1)  # the plot settles in place after scrolling
    area = page.evaluate(PLOTLY_AREA_JS, title)
    width, height = area["x1"] - area["x0"], area["y1"] - area["y0"]
    start, end = (area["x0"] + 0.25 * width, area["y0"] + 0.2 * height), (area["x0"] + 0.75 * width,
                                                                          area["y0"] + 0.85 * height)
    live = drag(page, start, end, during=lambda: wait_until(lambda: chips(page), message="live chips"))
    assert live
    selection = settle(page, warehouse_url, dimensions)
    assert set(selection) == set(dimensions)
    assert sorted(chips(page)) == sorted(phrase(d, v) if len(v) > 1 else f"{LABELS[d]}: {value_label(d, v[0])}"
                                         for d, v in selection.items())  # one chip per brushed dimension
    reach(page, expected_summaries(warehouse_url, selection))  # (scrolls to the views it waits for)
    page.evaluate(PLOTLY_AREA_JS, title)
    time.sleep(1)
    area = page.evaluate(PLOTLY_AREA_JS, title)
    page.mouse.dblclick(area["x0"] + 0.05 * width, area["y0"] + 0.05 * height)  # clears this view's brush
    wait_until(lambda: chips(page) == [], message="a double-click to clear the brush")
    reach(page, before)
