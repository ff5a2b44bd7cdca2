"""Every chart reads whole (issue #16): at 1280, 1600 and 1920 px, light and dark, each card's title and
status line are whole and on one line, and every axis, axis title, legend and colour bar of its figure
lies inside the card (read from the page: Plotly's SVG, BokehJS's laid-out panels); the drill-down
list's columns fit its card. The full-page
screenshots of docs/ are taken here too (1280 and 1600 px, both themes)."""
from __future__ import annotations

import time

import pytest

from .conftest import ARTIFACTS
from .test_dashboard import loaded, wait_until

pytestmark = pytest.mark.browser

TALL = 5600  # px: a window this high shows every card at once (each draws its figure)

# Per chart card: its box, whether its title and status line are whole on one line, and the boxes of
# what must lie inside it (screen pixels). Walks shadow roots: Panel renders each component in one.
CARDS_JS = """() => {
  const all = [];
  const walk = (n) => { for (const c of n.children) { all.push(c); if (c.shadowRoot) walk(c.shadowRoot); walk(c); } };
  walk(document.body);
  const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  const within = (card, e) => { for (let n = e; n; n = n.parentNode || n.host) if (n === card) return true; return false; };
  const bokeh = [];
  const seen = [];
  const visit = (v) => { if (!v || seen.includes(v)) return; seen.push(v); for (const c of (v.child_views || [])) visit(c); };
  for (const root of Object.values(Bokeh.index)) visit(root);
  for (const pv of seen.filter(v => v.canvas_view !== undefined && v.renderer_views)) {
    const r = pv.canvas_view.el.getBoundingClientRect();
    for (const rv of pv.renderer_views.values()) {
      if (!/Axis|Legend|ColorBar/.test(rv.model.type) || !rv.bbox) continue;
      const b = rv.bbox;
      bokeh.push({el: pv.canvas_view.el, what: rv.model.type, box: [r.left + b.x0, r.top + b.y0, r.left + b.x1, r.top + b.y1]});
    }
  }
  const parts = '.g-xtitle, .g-ytitle, [class^="g-x"][class$="title"], [class^="g-y"][class$="title"], .xtick text, ' +
                '.ytick text, .legend, .colorbar, .angularaxistick text, .annotation, .gtitle';
  return all.filter((e) => e.classList && e.classList.contains('view-card') && !e.classList.contains('detail-card'))
    .map((card) => {
      const inside = all.filter((e) => within(card, e));
      const h4 = inside.find((e) => e.tagName === 'H4');
      const summary = inside.find((e) => e.classList && e.classList.contains('view-summary'));
      const text = summary && summary.firstElementChild;
      const line = text ? parseFloat(getComputedStyle(text).lineHeight) || 16 : 0;
      const items = inside.filter((e) => e.matches && e.matches(parts) && e.getBoundingClientRect().width > 0)
        .map((e) => ({what: e.getAttribute('class') || e.tagName, text: e.textContent.slice(0, 40), box: box(e)}));
      for (const b of bokeh) if (within(card, b.el)) items.push({what: b.what, text: '', box: b.box});
      const xtitles = inside.filter((e) => e.matches && e.matches('[class^="g-x"][class$="title"] text'))
        .map((e) => ({text: e.textContent, box: box(e)}));
      return {title: h4 ? h4.textContent : '', box: box(card),
              titleWhole: !!h4 && h4.scrollWidth <= h4.clientWidth + 1,
              status: text ? text.textContent : '', statusWhole: !!text && text.scrollWidth <= text.clientWidth + 1,
              statusLines: text ? Math.round(text.getBoundingClientRect().height / line) : 0, items, xtitles};
    });
}"""


# The drill-down list shown (customers at first): its rows, and the width its columns take against its own.
TABLE_JS = """() => {
  const all = [];
  const walk = (n) => { for (const c of n.children) { all.push(c); if (c.shadowRoot) walk(c.shadowRoot); walk(c); } };
  walk(document.body);
  const table = all.find((e) => e.classList && e.classList.contains('tabulator') && e.getClientRects().length);
  const holder = table && table.querySelector('.tabulator-tableholder');
  return holder ? {rows: table.querySelectorAll('.tabulator-row').length, needs: holder.scrollWidth,
                   has: holder.clientWidth} : {rows: 0};
}"""


def overlap(a, b) -> bool:
    return a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1


def problems(cards: list[dict]) -> list[str]:
    out = []
    for card in cards:
        x0, y0, x1, y1 = card["box"]
        if not card["titleWhole"]:
            out.append(f"{card['title']}: title cut")
        if not card["statusWhole"] or card["statusLines"] != 1:
            out.append(f"{card['title']}: status line {card['status']!r} cut or on {card['statusLines']} lines")
        for item in card["items"]:
            a, b, c, d = item["box"]
            if a < x0 - 1 or b < y0 - 1 or c > x1 + 1 or d > y1 + 1:
                out.append(f"{card['title']}: {item['what']} {item['text']!r} {item['box']} outside {card['box']}")
        titles = card["xtitles"]
        for i, one in enumerate(titles):
            for other in titles[i + 1:]:
                if overlap(one["box"], other["box"]):
                    out.append(f"{card['title']}: axis titles {one['text']!r} and {other['text']!r} collide")
    return out


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("width", [1280, 1600, 1920])
def test_every_chart_reads_whole_inside_its_card(server, tab, width, theme):
    page = tab.page
    page.set_viewport_size({"width": width, "height": TALL})
    page.goto(server + ("?theme=dark" if theme == "dark" else ""))
    wait_until(lambda: loaded(page), timeout=90, message="views")
    wait_until(lambda: page.locator(".js-plotly-plot").count() >= 7 and page.locator(".bk-Canvas, canvas").count() >= 8,
               timeout=60, message="every card's figure")
    seen: dict = {}

    def settled():  # figures lay themselves out after they join their cards: until nothing is out of place
        seen["cards"] = page.evaluate(CARDS_JS)
        return len(seen["cards"]) == 13 and not problems(seen["cards"])

    try:
        wait_until(settled, timeout=30, interval=1.0, message="every chart inside its card")
    except AssertionError:
        raise AssertionError(f"{width} px, {theme}: " + "; ".join(problems(seen["cards"])[:12])) from None
    # the customers' columns fit the card: the last ("Spend") was cut off at 1280 px, behind a sideways scroll
    table = wait_until(lambda: (t := page.evaluate(TABLE_JS))["rows"] and t, timeout=60, message="the list's rows")
    assert table["needs"] <= table["has"] + 1, f"{width} px, {theme}: the list needs {table}"
    if width in (1280, 1600):  # the README's screenshots (docs/screenshots/), down to the drill-down table
        ARTIFACTS.mkdir(exist_ok=True)
        time.sleep(1)
        table = page.locator(".detail-card").bounding_box()
        page.screenshot(path=ARTIFACTS / f"dashboard-{width}-{theme}.png",
                        clip={"x": 0, "y": 0, "width": width, "height": table["y"] + table["height"] + 12})
