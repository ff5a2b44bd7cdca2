"""Names in the data holding markup, quotes and unicode render as text everywhere the page shows them.

The served warehouse (tests/hostile_warehouse.py) names cities, a state, a region, a segment, category
groups, merchant categories and products `<img onerror=…>`, `<script>…`, `</div><b>bold</b>`,
`"quoted" & 'single' &amp;` and `Zürich — 東京`. Each check reads what the browser shows (Choices.js
items, chips, Tabulator cells, Plotly's SVG text, Bokeh tooltips, Bokeh axis and legend labels) and
compares it with the raw name, so it fails if a name is interpreted as markup (an element, bold text,
a decoded entity) or escaped twice. One page serves all the checks (13 views take 10-60 s to appear on a shared machine);
a value dropped from a link is said in a toast, as text. The last test asserts that no payload ran
(flags, dialogs), no element was injected (shadow roots included) and the console stayed clean.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

import pytest

from dashboard.components.filters import CUSTOMER_GROUP, TRANSACTION_GROUP
from dashboard.components.geo import city_label
from dashboard.data import LABELS, value_label
from hostile_warehouse import BOLD, CITY_IMG, IMG, QUOTES, RENAMES, SCRIPT, SEGMENT, STATE, UNICODE

from .conftest import VIEW_SUMMARIES, Page, page_text, start_server, stop_server

pytestmark = pytest.mark.browser

COLUMN = {"product": "product_name"}  # store dimension -> silver column, where they differ
SIDEBAR = CUSTOMER_GROUP + TRANSACTION_GROUP  # the multi-choices, top to bottom
WALK = """const deepAll = (selector) => { const out = [];
  const walk = (root) => { out.push(...root.querySelectorAll(selector));
    for (const el of root.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot); };
  walk(document); return out; };
const plotly = (type) => deepAll('.js-plotly-plot').find(gd => (gd.data || []).some(t => t.type === type));
const bokehPlots = () => { const views = [];
  const walk = (v) => { if (!v || views.includes(v)) return; views.push(v); (v.child_views || []).forEach(walk); };
  Object.values(Bokeh.index).forEach(walk);
  return views.filter(v => v.frame !== undefined && v.canvas_view !== undefined); };
"""
# Elements a hostile name would create if it were parsed as HTML (or as Plotly's pseudo-HTML): the page
# itself has no <img>, no inline on* handler, no <b>/<i> or bold/italic tspan holding just these words.
INJECTED_JS = "() => {" + WALK + """
  const words = ['bold', 'it', 'mass'];
  return deepAll('*').filter(el => el.localName === 'img'
      || [...el.attributes].some(a => a.name.toLowerCase().startsWith('on'))
      || (el.localName === 'script' && /xss/i.test(el.textContent))
      || (['b', 'i'].includes(el.localName) && words.includes(el.textContent.trim().toLowerCase()))
      || (el.localName === 'tspan' && /bold|italic/.test(el.getAttribute('style') || '')
          && words.includes(el.textContent.trim().toLowerCase())))
    .map(el => el.outerHTML.slice(0, 120)); }"""
FLAGS_JS = "() => [window.__xss, window.Window.__Xss]"  # the payloads' flags (a city's is title-cased)
PLOTLY_MARKS_JS = "([type, names]) => {" + WALK + """
  const gd = plotly(type), out = [];
  gd.scrollIntoView({block: 'center'});
  const centre = (el) => { const r = el.getBoundingClientRect();
    return {x: r.left + r.width / 2, y: r.top + r.height / 2}; };
  for (const el of gd.querySelectorAll('g.slice')) {  // sunburst, treemap: a slice's label text
    const pt = el.__data__ && el.__data__.data && el.__data__.data.data, text = el.querySelector('text');
    if (pt && names.includes(pt.label)) out.push(centre(text && text.getBoundingClientRect().width ? text : el));
  }
  for (const el of gd.querySelectorAll('path.point')) {  // scatter, polar, geo: a point whose customdata holds it
    const trace = el.closest('g.trace').__data__[0].trace, row = (trace.customdata || [])[el.__data__.i];
    if (row && row.some(v => names.includes(v))) out.push(centre(el));
  }
  if (type === 'splom') {  // WebGL points: placed on the (x2, y) panel through its axes
    const fl = gd._fullLayout, svg = gd.querySelector('.main-svg').getBoundingClientRect();
    for (const trace of gd._fullData) (trace.customdata || []).forEach((row, i) => {
      if (row.some(v => names.includes(v)))
        out.push({x: svg.left + fl.xaxis2._offset + fl.xaxis2.c2p(trace.dimensions[1].values[i]),
                  y: svg.top + fl.yaxis._offset + fl.yaxis.c2p(trace.dimensions[0].values[i])});
    });
  }
  return out; }"""
PLOTLY_HOVER_JS = "(type) => {" + WALK + " const layer = plotly(type).querySelector('.hoverlayer'); " \
                  "return layer ? layer.textContent : ''; }"
PLOTLY_TEXTS_JS = "([type, selector]) => {" + WALK + \
                  " return [...plotly(type).querySelectorAll(selector)].map(t => t.textContent); }"
BOKEH_MARK_JS = "(match) => {" + WALK + """
  for (const pv of bokehPlots()) for (const r of pv.model.renderers) {
    const data = r.data_source && r.data_source.data, keys = Object.keys(match);
    if (!data || !keys.every(k => data[k] !== undefined)) continue;
    const i = [...data[keys[0]]].findIndex((_, j) => keys.every(k => data[k][j] === match[k]));
    if (i < 0) continue;
    const glyph = [...pv.computed_renderer_views].find(v => v.model === r).glyph;
    pv.canvas_view.el.scrollIntoView({block: 'center'});
    const rect = pv.canvas_view.el.getBoundingClientRect();
    return {x: rect.left + glyph.sx[i], y: rect.top + glyph.sy[i]};
  }
  return null; }"""
BOKEH_FACTORS_JS = "(column) => {" + WALK + """
  const pv = bokehPlots().find(v => v.model.renderers.some(r => r.data_source && r.data_source.data[column]));
  const labels = (o) => !o ? [] : (o instanceof Map ? [...o.values()] : Object.values(o));
  const axes = [...pv.model.below, ...pv.model.left].flatMap(a => labels(a.major_label_overrides));
  return [...(pv.model.x_range.factors || []), ...(pv.model.y_range.factors || []), ...axes]; }"""
# a legend item's label: a fixed text, or a column whose values it shows (one entry each)
BOKEH_LEGENDS_JS = """() => { const out = [];
  for (const doc of Bokeh.documents) for (const m of doc._all_models.values())
    if (m.type === 'Legend') for (const item of m.items) {
      const label = item.label;
      if (label && label.value !== undefined) out.push(label.value);
      else if (label && label.field) for (const r of item.renderers) out.push(...(r.data_source.data[label.field] || []));
    }
  return out; }"""


# -- helpers -----------------------------------------------------------------------------------------
def wait_for(page, condition, timeout_s: float = 120, what: str = "the page", shown=None):
    """Poll `condition` through Playwright (never time.sleep: the routes must keep being served);
    on a timeout, say `what` and, if given, what `shown()` reads then."""
    for _ in range(int(timeout_s * 4)):
        value = condition()
        if value:
            return value
        page.wait_for_timeout(250)
    raise AssertionError(f"timed out waiting for {what}" + (f"; shown: {shown()}" if shown else ""))


def summaries(page) -> list[str]:
    return page.locator(VIEW_SUMMARIES).all_text_contents()


def loaded(page) -> bool:
    """Every view shows a summary (all have data when nothing is filtered)."""
    shown = summaries(page)
    return len(shown) == 13 and all(shown)


def quiet(page, what: str, timeout_s: float = 180) -> None:
    """Wait until no view is querying and the summaries stay the same for two seconds."""
    last, calm = None, 0
    for _ in range(int(timeout_s * 4)):
        now = (summaries(page), page.locator(".view-updating").count())
        calm = calm + 1 if now == last and now[1] == 0 else 0
        if calm >= 8:
            return
        last = now
        page.wait_for_timeout(250)
    raise AssertionError(f"timed out waiting for {what}")


def chips(page) -> list[str]:
    return [t.replace("✕", "").strip() for t in page.locator(".filter-chip button").all_text_contents()]


def injected(page) -> list[str]:
    return page.evaluate(INJECTED_JS)


def shown_within(page, read, expected: str, timeout_s: float) -> str:
    """What `read()` returns once it holds `expected`, or its last value after `timeout_s`."""
    text = ""
    for _ in range(int(timeout_s * 4)):
        text = read() or ""
        if expected in text:
            break
        page.wait_for_timeout(250)
    return text


def hover_plotly(page, trace_type: str, name: str, expected: str) -> tuple[str, dict]:
    """Hover the marks of `trace_type` labelled `name` (in the views' escaped form or raw) until one's
    hover label says `expected` (marks overlap); returns that hover text (else the last) and where."""
    marks = page.evaluate(PLOTLY_MARKS_JS, [trace_type, [name, html.escape(name, quote=False)]])
    assert marks, f"no {trace_type} mark for {name!r}"
    text, at = "", marks[0]
    for at in marks[:12]:
        page.mouse.move(at["x"], at["y"])
        text = shown_within(page, lambda: page.evaluate(PLOTLY_HOVER_JS, trace_type), expected, 2)
        if expected in text:
            break
    return text, at


def hover_bokeh(page, match: dict, expected: str) -> str:
    """Hover the Bokeh glyph whose data row matches `match`; the visible tooltips' text once it says `expected`."""
    at = wait_for(page, lambda: page.evaluate(BOKEH_MARK_JS, match), 30, f"a glyph {match}")
    page.mouse.move(at["x"], at["y"])
    return shown_within(page, lambda: " ".join(page.locator(".bk-tooltip-content:visible").all_text_contents()),
                        expected, 10)


def dropdown(page, dimension: str):
    """The items of the sidebar's multi-choice for `dimension`, its dropdown opened."""
    box = page.locator(".choices").nth(SIDEBAR.index(dimension))
    box.locator(".choices__input--cloned").click()
    items = box.locator(".choices__list--dropdown.is-active .choices__item--choice")
    wait_for(page, items.count, 10, f"the {dimension} dropdown")
    return items


# -- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile_server(hostile_url):
    proc, url, _ = start_server({"DASHBOARD_DATABASE_URL": hostile_url})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def tab(hostile_server, browser):
    """One page for the module, with dialogs (alert() …) recorded and dismissed."""
    tab = Page(browser)
    tab.dialogs = []
    tab.page.on("dialog", lambda d: (tab.dialogs.append(d.message), d.dismiss()))
    tab.page.goto(hostile_server, timeout=180_000)
    wait_for(tab.page, lambda: loaded(tab.page), 180, "all 13 views")
    quiet(tab.page, "the first drawing")
    yield tab
    tab.page.close()


# -- tests ---------------------------------------------------------------------------------------------
def test_the_scan_finds_markup_injected_into_a_shadow_root(tab):
    """The final checks must be able to fail: what a parsed name would create is found, even in a shadow root."""
    page = tab.page
    before, flags = injected(page), page.evaluate(FLAGS_JS)
    page.evaluate("""() => { const host = [...document.querySelectorAll('*')].find(e => e.shadowRoot);
      const probe = document.createElement('div'); probe.id = 'xss-probe';
      probe.innerHTML = '<img><script>/* xss */</script><b>bold</b><span onclick="">x</span>'
        + '<svg><text><tspan style="font-weight:bold">bold</tspan></text></svg>';
      host.shadowRoot.append(probe); window.Window.__Xss = 'probe'; }""")
    assert len(injected(page)) == len(before) + 5
    assert page.evaluate(FLAGS_JS)[1] == "probe"
    page.evaluate("(old) => { [...document.querySelectorAll('*')].find(e => e.shadowRoot)"
                  ".shadowRoot.getElementById('xss-probe').remove(); window.Window.__Xss = old; }", flags[1])
    assert injected(page) == before and page.evaluate(FLAGS_JS) == flags


def test_sidebar_options_show_names_as_text(tab):
    page = tab.page
    for dimension in ("customer_segment", "region", "state", "city", "product", "category_group",
                      "merchant_category"):
        options = dropdown(page, dimension).all_text_contents()
        page.keyboard.press("Escape")
        for name in RENAMES[COLUMN.get(dimension, dimension)].values():
            assert value_label(dimension, name) in options, (dimension, name, options)


def test_plotly_labels_legends_and_hovers_show_names_as_text(tab):
    page = tab.page
    for trace_type in ("scatter3d", "scatterpolar"):  # legends: the segment
        assert SEGMENT in page.evaluate(PLOTLY_TEXTS_JS, [trace_type, ".legendtext"]), trace_type
    for trace_type in ("sunburst", "treemap"):  # labels drawn on the slices
        assert BOLD in page.evaluate(PLOTLY_TEXTS_JS, [trace_type, "g.slice text"]), trace_type
    cases = [("sunburst", BOLD, BOLD), ("sunburst", IMG, IMG), ("sunburst", SEGMENT, SEGMENT),
             ("treemap", QUOTES, QUOTES), ("treemap", SCRIPT, SCRIPT),
             ("scatterpolar", SEGMENT, SEGMENT), ("scatter", SEGMENT, SEGMENT), ("splom", SEGMENT, SEGMENT),
             ("scattergeo", CITY_IMG, city_label(CITY_IMG, "NY")), ("scattergeo", BOLD, city_label(BOLD, "IL"))]
    for trace_type, name, expected in cases:
        text, _ = hover_plotly(page, trace_type, name, expected)
        assert expected in text, (trace_type, name, text)


def test_bokeh_tooltips_axes_and_legends_show_names_as_text(tab):
    page = tab.page
    products = list(RENAMES["product_name"].values())
    hovers = [({"product_a": IMG, "product_b": QUOTES}, f"{IMG} × {QUOTES}"),  # affinity matrix cell
              ({"product": BOLD}, f"Product: {BOLD}"),  # network node
              ({"merchant_category": IMG, "month_name": "December"}, f"Category: {IMG}")]  # seasonal point
    for city, state in ((SCRIPT, "CA"), ("PHILADELPHIA", STATE)):  # geo metrics heatmap cells
        label = city_label(city, state)
        hovers.append(({"location": label, "metric_label": "Avg CLV"}, f"City: {label}"))
    for match, expected in hovers:
        text = hover_bokeh(page, match, expected)
        assert expected in text, (match, text)
    assert set(products) <= set(page.evaluate(BOKEH_FACTORS_JS, "count_label"))  # affinity axes
    cities = {city_label(c, s) for c, s in [(CITY_IMG, "NY"), (SCRIPT, "CA"), (BOLD, "IL"), (QUOTES, "TX"),
                                            (UNICODE, "AZ"), ("PHILADELPHIA", STATE)]}
    assert cities <= set(page.evaluate(BOKEH_FACTORS_JS, "metric_label"))  # geo heatmap axis
    assert {IMG, QUOTES, UNICODE} <= set(page.evaluate(BOKEH_LEGENDS_JS))  # seasonal legend


def test_chips_from_the_sidebar_and_chart_clicks_show_names_as_text(tab):
    page = tab.page
    city = value_label("city", CITY_IMG)
    dropdown(page, "city").filter(has_text=city).first.click()
    page.keyboard.press("Escape")
    wait_for(page, lambda: f"{LABELS['city']}: {city}" in chips(page), 120, "the City chip")
    selected = page.locator(".choices__list--multiple .choices__item").all_text_contents()
    assert any(t.replace("Remove item", "").strip() == city for t in selected), selected
    quiet(page, "the views after the sidebar")
    page.locator(".tabulator").first.scroll_into_view_if_needed()  # the drill-down table: rows drawn in view
    cells = page.locator('.tabulator-cell[tabulator-field="city"]')  # the customers behind the selection
    wait_for(page, lambda: set(cells.all_text_contents()) == {city}, 60,  # as the charts name it, as text
             "the table to list only the chosen city", shown=lambda: set(cells.all_text_contents()))

    _, at = hover_plotly(page, "sunburst", BOLD, BOLD)  # the category group's ring: its path holds '/'
    page.mouse.click(at["x"], at["y"])
    wait_for(page, lambda: f"{LABELS['category_group']}: {BOLD}" in chips(page), 120, "the Category group chip")
    quiet(page, "the views after the sunburst click")

    at = wait_for(page, lambda: page.evaluate(BOKEH_MARK_JS, {"product": BOLD}), 30, "the product node")
    page.mouse.click(at["x"], at["y"])
    wait_for(page, lambda: f"{LABELS['product']}: {BOLD}" in chips(page), 120, "the Product chip")
    quiet(page, "the views after the network click")
    assert sorted(chips(page)) == sorted([f"{LABELS['city']}: {city}", f"{LABELS['category_group']}: {BOLD}",
                                          f"{LABELS['product']}: {BOLD}"])


def test_a_dropped_hostile_value_is_said_as_text_in_the_notice(tab):
    """A link's value the data does not hold is dropped with a toast (reached here by the browser's
    back/forward to such a link): the toast shows it as text."""
    page = tab.page
    unknown = "<b>bold</b><img src=y onerror=alert(9)>"  # short: the notice clips values at 40 characters
    page.evaluate("(q) => { history.pushState({}, '', q); window.dispatchEvent(new PopStateEvent('popstate')); }",
                  "?" + urlencode({"city": unknown}))
    toast = wait_for(page, lambda: " ".join(page.locator(".notyf__message").all_text_contents()), 60, "a toast")
    assert unknown in toast, toast


def test_nothing_ran_nothing_was_injected_and_the_console_is_clean(tab):
    page = tab.page
    quiet(page, "the views")
    text = page_text(page)
    assert "Cannot load this view" not in text and "drawing this view failed" not in text
    assert page.evaluate(FLAGS_JS) == [None, None]
    assert tab.dialogs == []
    assert injected(page) == []
    assert tab.console_errors == []
    assert tab.outside == []
