"""What a new user tripped on (issue #16), checked on the served page: what the drill-down table shows,
what a click on the map selects, what the 3D view says and offers when its threshold hides every group,
that a click far down the page says the charts are updating, and that the theme switches in place."""
from __future__ import annotations

import time

import pytest

from dashboard.data import DataStore

from .test_dashboard import address, chips, loaded, ready, wait_until

pytestmark = pytest.mark.browser


def detail_card(page):
    card = page.locator(".view-card", has=page.locator("h4", has_text="Behind the selection"))
    card.scroll_into_view_if_needed()
    return card


def test_the_transactions_list_shows_dates_and_times(server, tab, warehouse_url):
    """The list read 1767225546000 (epoch milliseconds) on every row."""
    page = tab.page
    page.goto(server)
    wait_until(lambda: loaded(page), timeout=60, message="views")
    card = detail_card(page)
    card.locator("button", has_text="Transactions").click()
    rows, _ = DataStore(warehouse_url).detail("transactions", 1, 25, "transaction_ts", True)
    want = [ts.strftime("%d %b %Y %H:%M") for ts in rows["transaction_ts"]]
    cells = card.locator('.tabulator-row .tabulator-cell[tabulator-field="transaction_ts"]')
    shown = wait_until(lambda: (texts := [t.strip() for t in cells.all_text_contents()]) == want and texts,
                       timeout=60, message=f"the first page's dates ({want[:2]} …)")
    assert not any(t.isdigit() for t in shown)


def card(page, title: str):
    return page.locator(".view-card", has=page.locator("h4", has_text=title))


def test_the_3d_view_names_its_threshold_and_lowers_it(server, tab, warehouse_url, silver):
    """It said 'No data for this selection' beside a radar of 270 customers: every group of the
    state was under the 20-customer minimum. It says so, and its button lowers the minimum."""
    from dashboard.components import BehaviorScatter3D
    from tests.components.helpers import reference
    def groups(state):
        return reference(silver, {"state": [state]}, BehaviorScatter3D.own, table=BehaviorScatter3D.table)

    counts = silver["customers"]["state"].value_counts(ascending=True)
    state, gold = next((s, g) for s in counts.index[counts >= 2]
                       if not (g := groups(s)).empty and g["customer_count"].max() < 20)
    largest = int(gold["customer_count"].max())
    page = tab.page
    page.goto(f"{server}?state={state}")
    scatter = card(page, BehaviorScatter3D.title)
    message = scatter.locator(".view-message-box")
    wait_until(lambda: "No group of this selection has at least 20 customers" in (message.text_content() or ""),
               timeout=60, message="the 3D view's message")
    button = message.locator("button", has_text=f"Show groups of {largest:,} or more customers")
    button.click()
    shown = (gold["customer_count"] >= largest).sum()
    wait_until(lambda: scatter.locator(".view-summary").text_content().startswith(f"{shown:,} group"),
               timeout=60, message=f"{shown} groups drawn")
    assert not message.is_visible()


# The screen centre of the map's bubble for (state, city), scrolled into sight; null until it is drawn.
BUBBLE_JS = """([state, city]) => {
  const all = [];
  const walk = (n) => { for (const c of n.children) { all.push(c); if (c.shadowRoot) walk(c.shadowRoot); walk(c); } };
  walk(document.body);
  const gd = all.find((e) => e.classList && e.classList.contains('js-plotly-plot') && e.data
                       && e.data.some((t) => t.type === 'scattergeo'));
  if (!gd) return null;
  gd.scrollIntoView({block: 'center'});
  for (const el of gd.querySelectorAll('.scattergeo .point')) {
    const trace = el.closest('.trace').__data__[0].trace, custom = trace.customdata && trace.customdata[el.__data__.i];
    if (custom && custom[0] === state && custom[1] === city) {
      const r = el.getBoundingClientRect();
      return {x: r.left + r.width / 2, y: r.top + r.height / 2};
    }
  }
  return null;
}"""


def test_a_city_bubble_selects_that_city(server, tab, warehouse_url):
    """A click on New York City filtered the whole state (three cities in the metrics heatmap) while
    the map lit one bubble: it selects the city (with its state, as the heatmap's click does)."""
    from dashboard.components import EngagementRadar, GeoBubbleMap, GeoMetricsHeatmap
    from .test_dashboard import TITLES, expected_summaries, summaries, visit
    store = DataStore(warehouse_url)
    bubbles, heatmap = GeoBubbleMap(store).frame, GeoMetricsHeatmap(store).frame
    cities = heatmap.groupby("state")["city"].nunique()
    row = next(r for _, r in bubbles.iterrows() if cities.get(r["state"], 0) >= 2)
    page = tab.page
    page.goto(server)
    wait_until(lambda: ready(page), timeout=60, message="views")
    at = wait_until(lambda: page.evaluate(BUBBLE_JS, [row["state"], row["city"]]),
                    timeout=60, message=f"the bubble of {row['city']}")
    page.mouse.click(at["x"], at["y"])
    wait_until(lambda: any(c.startswith("City: ") for c in chips(page)), timeout=30, message="a City chip")
    assert sorted(chips(page)) == sorted([f"State: {row['state']}", f"City: {row['city'].title()}"])
    # the other views count the city's customers, not its state's
    radar = EngagementRadar.title
    want = expected_summaries(warehouse_url, {"state": [row["state"]], "city": [row["city"]]})[radar]
    assert want.startswith(f"{int(row['customer_count']):,} customers ")
    visit(page, TITLES.index(radar))  # a card out of sight catches up when seen
    wait_until(lambda: summaries(page).get(radar) == want, timeout=60, message=f"the radar to show {want}")


# What the server sends when a change's answers are late (Coordinator.on_busy): the chip bar's
# `updating`, set here on its model as a message from the server would set it.
SET_UPDATING_JS = """(on) => {
  const views = [];
  const visit = (v) => { if (!v || views.includes(v)) return; views.push(v); for (const c of (v.child_views || [])) visit(c); };
  for (const root of Object.values(Bokeh.index)) visit(root);
  const bar = views.find((v) => v.model.data && 'updating' in v.model.data.properties && 'groups' in v.model.data.properties);
  bar.model.data.updating = on;
  return !!bar;
}"""


def test_a_click_far_down_the_page_shows_its_chip_and_that_the_charts_update(server, tab):
    """After a click nothing said the charts were updating, and the chip bar had scrolled away: it
    stays at the top of the page and says 'Updating the charts …' while a change's answers are late
    (the server's timing: tests/components/test_base.py), and nothing once it is answered."""
    from dashboard.components import CrossSellNetwork
    from .test_dashboard import HEATMAP_BOX_JS
    page = tab.page
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(server)
    wait_until(lambda: ready(page), timeout=60, message="views")
    box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "holders_label"), message="the network")  # far down
    time.sleep(1)  # the scroll settles
    box = page.evaluate(HEATMAP_BOX_JS, "holders_label")
    width, height = box["x1"] - box["x0"], box["y1"] - box["y0"]
    page.mouse.click(box["x0"] + width / 2, box["y0"] + height / 2 - height / 3)  # the top node
    wait_until(lambda: any(c.startswith("Product held: ") for c in chips(page)), timeout=30, message="a chip")
    bar = page.locator(".chip-bar").first.bounding_box()
    assert 0 <= bar["y"] and bar["y"] + bar["height"] <= 200, bar  # in sight, at the top
    assert CrossSellNetwork.title in page.locator(".chip-group-title").all_text_contents()
    # answered: no sign left on (a late answer may have shown it a while)
    wait_until(lambda: not page.locator(".chip-updating.on").count(), timeout=60, message="no sign once answered")
    assert page.evaluate(SET_UPDATING_JS, True)  # late answers: the sign, in the bar at the top
    sign = page.locator(".chip-updating.on").first
    wait_until(lambda: sign.count() and sign.is_visible(), timeout=10, message="the sign shown")
    assert "Updating the charts" in sign.text_content()
    assert sign.bounding_box()["y"] + sign.bounding_box()["height"] <= 200
    page.evaluate(SET_UPDATING_JS, False)
    wait_until(lambda: not page.locator(".chip-updating.on").count(), timeout=10, message="the sign gone")


# The page's figures' backgrounds: each Bokeh plot's canvas (its border, a pixel in its corner) and
# each Plotly figure's paper, read through the shadow roots they are drawn in.
BACKGROUNDS_JS = """() => {
  const deep = (n, out) => { for (const c of n.children) { out.push(c); if (c.shadowRoot) deep(c.shadowRoot, out); deep(c, out); } return out; };
  const all = deep(document.body, []);
  const canvases = all.filter((e) => e.tagName === 'CANVAS' && e.width > 100 && e.height > 100)
    .map((c) => c.getContext('2d')).filter((g) => g).map((g) => Array.from(g.getImageData(3, 3, 1, 1).data))
    .filter((px) => px[3] === 255);  // a layer's opaque pixel: the plot's border fill
  const papers = all.filter((e) => e.classList && e.classList.contains('main-svg') && e.style.background)
    .map((e) => e.style.background);
  return {canvases, papers};
}"""


def test_the_theme_switch_is_live_and_keeps_the_session(server, tab):
    """It reloaded the page (~15 s) and lost the undo history: now the page, its charts and its address
    change in place, and the session (its filters, its Undo) stays."""
    page = tab.page
    page.goto(f"{server}?customer_segment=Premium&channel=Mobile")
    wait_until(lambda: ready(page), timeout=90, message="the page ready")
    page.locator(".filter-chip button", has_text="Channel: Mobile").click()  # one change to take back
    wait_until(lambda: chips(page) == ["Segment: Premium"], timeout=30, message="the channel chip gone")
    light = page.evaluate(BACKGROUNDS_JS)
    assert light["canvases"] and all(px[:3] == [255, 255, 255] for px in light["canvases"]), light
    assert light["papers"] and set(light["papers"]) <= {"white", "rgb(255, 255, 255)"}, light
    page.evaluate("() => { window.__samePage = true; }")
    page.locator(".theme-switch:visible").first.click()
    wait_until(lambda: "theme=dark" in address(page), timeout=10, message="the theme in the address")
    assert page.evaluate("() => window.__samePage") is True  # no reload
    dark = wait_until(lambda: (b := page.evaluate(BACKGROUNDS_JS))["canvases"] and all(
        sum(px[:3]) < 3 * 60 for px in b["canvases"]) and set(b["papers"]) == {"rgba(0, 0, 0, 0)"} and b,
        timeout=30, message="every figure dark")
    assert len(dark["canvases"]) == len(light["canvases"]) and len(dark["papers"]) == len(light["papers"])
    body = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert sum(int(x) for x in body[4:-1].split(",")[:3]) < 3 * 60, body
    assert page.locator(".theme-switch:visible").first.text_content().endswith("Light")
    page.locator("button.chip-undo").click()  # the session's history, still there
    wait_until(lambda: sorted(chips(page)) == ["Channel: Mobile", "Segment: Premium"], timeout=30,
               message="the channel back after Undo")
    wait_until(lambda: "theme=dark" in address(page) and "channel=Mobile" in address(page), timeout=10,
               message="the undone filters' address keeps the theme")
    page.locator(".theme-switch:visible").first.click()  # and back to light, as loaded
    wait_until(lambda: page.evaluate(BACKGROUNDS_JS) == light, timeout=30, message="every figure light again")
    assert "theme=" not in address(page) and page.evaluate("() => window.__samePage") is True
