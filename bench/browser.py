"""Click -> every view redrawn, in headless Chromium against `panel serve serve.py`.

    python -m bench.browser                          # default warehouse, 20 clicks, 1 repeat
    python -m bench.browser --url duckdb:////path/w.duckdb --clicks 20 --repeats 2 --seed 7

Each repeat starts a fresh server (cold query cache), opens the dashboard and, once it is fully
drawn, performs `--clicks` real interactions chosen from a fixed list with a seeded generator:
a cell of the transaction-time heatmap, a ring of the merchant sunburst, a tile of the treemap,
a cell of the product affinity matrix, a node of the cross-sell network, a cell of the geo
metrics heatmap, a point of the seasonal lines, the removal of a filter chip, "Clear all". The
choice depends on the seed and on how many filters are active (at most a few at a time), so a
seed gives the same sequence on the same warehouse.

Before each interaction the target is scrolled to where it will be clicked and the page left to
settle (`aim`; `--no-aim` clicks at once, so the catch-ups of the cards the scroll brings into
sight count in the click, as the benchmarks before session 13 did). What is timed: a recorder in the page notes every change of the views' summaries, spinners and
Bokeh's idle state with the page's clock (sampled every 25 ms), and the time of the click
(`pointerdown`). After the page settles, the chips say what the selection is; an in-process
`DataStore` with that selection computes what every view must say (as tests/browser/ does). The
latency is from the click to the first moment after which every view in sight (its card on the
screen or within NEAR_PX of it: a served view out of sight asks for nothing) says that and no
spinner is on. Then each view out of sight is scrolled to, untimed for the click, and must come
to say it too (`sight_ms`: from the scroll to its summary). A click whose page disagrees with the
in-process store is reported as a mismatch (and left out of the latency figures), one that
changes no filter as missed. Also counted per click: websocket messages and bytes the server sent.

With `--cached`, each sequence is first played once untimed and cleared, so the timed clicks
ask only for answers already in the server's query cache (what the drawing path costs alone).

Results: bench/results/browser.json (p50/p95/max, every click, machine) and a table on stdout.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # `python bench/browser.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import run_and_report  # noqa: E402
from bench._browser_common import (N_VIEWS, ROOT, TITLES, VIEW_STATE_JS, Page, check_warehouse, chromium,  # noqa: E402
                                   machine_info, percentile, start_timed_server, wait_full_render)
from dashboard.components.header import NEAR_PX  # noqa: E402
from playwright.sync_api import Error as PlaywrightError  # noqa: E402
from tests.browser.test_dashboard import (HEATMAP_BOX_JS, chips, expected_summaries,  # noqa: E402
                                          selection_from_address)

VIEWPORT = (1600, 1000)
MAX_ACTIVE_CHIPS = 4  # above this, the next action removes a chip or clears all

# The page-side recorder: a log of (page time, summaries, spinners, Bokeh idle) on every change.
RECORDER_JS = r"""(n) => {
  const state = (""" + VIEW_STATE_JS + r""");
  const rec = window.__bench = {log: [], click: null, last: ''};
  rec.sample = () => {
    const s = state(n);
    if (!s) return;
    const summaries = s.cards.map(c => c.summary), loading = s.cards.filter(c => c.loading).length;
    const key = JSON.stringify([summaries, loading, s.bokehIdle]);
    if (key !== rec.last) {
      rec.last = key;
      rec.log.push({t: performance.now(), summaries, loading, idle: s.bokehIdle});
    }
  };
  rec.reset = () => { rec.log = []; rec.last = ''; rec.click = null; rec.sample(); };
  window.addEventListener('pointerdown', () => { rec.click = performance.now(); }, true);
  rec.timer = setInterval(rec.sample, 25);
  rec.sample();
}"""

# Before the page's own scripts: when each websocket message arrives and each long task (> 50 ms
# of main thread) ends, on the page's clock. A click is answered when the last message of its
# change has arrived and the main thread is idle again.
ANSWER_INIT_JS = r"""(() => {
  const times = window.__wsTimes = [], long = window.__longTasks = [];
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); this.addEventListener('message', () => times.push(performance.now())); }
  };
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) long.push(e.startTime + e.duration); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { window.__noLongTasks = true; }
})();"""

# Where to click a Bokeh plot (found by a column of one of its data sources) in page coordinates:
# `point` = the row's (x, y) data columns, `cell` = the (i, j)-th factors of a categorical plot.
BOKEH_TARGET_JS = r"""([column, how, a, b]) => {
  const views = [];
  const walk = (v) => { if (!v || views.includes(v)) return; views.push(v);
    for (const c of (v.child_views || [])) walk(c); };
  for (const root of Object.values(Bokeh.index)) walk(root);
  for (const pv of views.filter(v => v.frame !== undefined && v.canvas_view !== undefined)) {
    const names = column.split('|');  // alternatives: the column's name in different versions of a view
    const rs = pv.model.renderers.filter(r => r.data_source && names.some(n => r.data_source.data[n] !== undefined));
    if (!rs.length) continue;
    pv.canvas_view.el.scrollIntoView({block: "center"});
    let x, y;
    if (how === 'cell') {
      const xf = pv.model.x_range.factors, yf = pv.model.y_range.factors;
      if (xf && yf) { x = xf[a % xf.length]; y = yf[b % yf.length]; }
      else { x = a + 0.5; y = b + 0.5; }  // numeric axes: cell (i, j) spans [i, i + 1) x [j, j + 1)
    } else {
      const data = rs[0].data_source.data, i = b % data[names.find(n => data[n] !== undefined)].length;
      x = data[a[0]][i]; y = data[a[1]][i];
    }
    const rect = pv.canvas_view.el.getBoundingClientRect();
    return {x: rect.left + pv.frame.x_scale.compute(x), y: rect.top + pv.frame.y_scale.compute(y),
            target: [String(x), String(y)]};
  }
  return null;
}"""

# A point of a treemap tile (its `g.slice`) that is not covered by its children, in page coordinates.
TREEMAP_HEADER_JS = r"""(slice) => {
  const surface = slice.querySelector('path.surface') || slice;
  surface.scrollIntoView({block: 'center'});
  const r = surface.getBoundingClientRect(), root = slice.getRootNode();
  for (const dy of [4, 7, 10, 2, 14]) {
    for (const fx of [0.5, 0.25, 0.75]) {
      const x = r.left + fx * r.width, y = r.top + dy;
      const hit = root.elementFromPoint(x, y);
      if (hit && slice.contains(hit) && hit.closest('g.slice') === slice) return {x, y};
    }
  }
  return null;
}"""

# The plot interactions: (name, kind, argument). Day 0 = Sunday; hours 0..23.
PLOT_ACTIONS = [
    ("heatmap Sat 12:00", "heatmap", (6, 12)),
    ("heatmap Mon 09:00", "heatmap", (1, 9)),
    ("heatmap Fri 18:00", "heatmap", (5, 18)),
    ("heatmap Sun 20:00", "heatmap", (0, 20)),
    ("sunburst Premium", "slice", ("sunburst", "Premium")),
    ("sunburst Lifestyle", "slice", ("sunburst", "Lifestyle")),
    ("sunburst Business", "slice", ("sunburst", "Business")),
    ("treemap West", "slice", ("treemap", "West")),
    ("treemap Midwest", "slice", ("treemap", "Midwest")),
    ("affinity cell 0x1", "bokeh", ("count_label", "cell", 0, 1)),
    ("affinity cell 3x3", "bokeh", ("count_label", "cell", 3, 3)),
    ("network node 2", "bokeh", ("holders_label", "point", ("x", "y"), 2)),
    ("network node 6", "bokeh", ("holders_label", "point", ("x", "y"), 6)),
    ("geo metrics cell 1x0", "bokeh", ("zscore", "cell", 1, 0)),
    ("seasonal point 4", "bokeh", ("calendar_month|month_name", "point", ("month", "total_volume"), 4)),
]
CHIP_ACTION = ("remove first chip", "chip", 0)
CLEAR_ACTION = ("Clear all", "clear", None)


def choose(rng: random.Random, active_chips: int, previous: str | None) -> tuple:
    """The next interaction: a plot click, or a chip removal / Clear all when filters pile up."""
    if active_chips >= MAX_ACTIVE_CHIPS:
        return rng.choice([CHIP_ACTION, CHIP_ACTION, CLEAR_ACTION])
    if active_chips == 0:
        pool = PLOT_ACTIONS
    else:
        roll = rng.random()
        if roll < 0.15:
            return CHIP_ACTION
        if roll < 0.22:
            return CLEAR_ACTION
        pool = PLOT_ACTIONS
    return rng.choice([a for a in pool if a[0] != previous])


def perform(page, action: tuple) -> str:
    """Do the interaction; returns what was clicked (raises if the target is not on the page)."""
    name, kind, arg = action
    if kind == "heatmap":
        day, hour = arg
        box = page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct")
        if not box:
            raise LookupError("time heatmap not found")
        page.mouse.click(box["x0"] + (day + 0.5) / 7 * (box["x1"] - box["x0"]),
                         box["y0"] + (hour + 0.5) / 24 * (box["y1"] - box["y0"]))
        return f"day {day} hour {hour}"
    if kind == "slice":
        trace, label = arg
        slices = page.locator(f".{trace}layer g.slice")  # every Plotly plot has every layer; only one has slices
        index = slices.evaluate_all(
            "(els, label) => els.findIndex(e => (e.textContent || '').trim() === label)", label)
        if index < 0:
            raise LookupError(f"no {trace} slice {label!r}")
        if trace == "treemap":  # a parent tile is covered by its children but for its header strip
            point = slices.nth(index).evaluate(TREEMAP_HEADER_JS)
            if not point:
                raise LookupError(f"no uncovered point in treemap tile {label!r}")
            page.mouse.click(point["x"], point["y"])
        else:
            slices.nth(index).click(timeout=30_000)
        return f"{trace} slice {label}"
    if kind == "bokeh":
        target = page.evaluate(BOKEH_TARGET_JS, list(arg))
        if not target:
            raise LookupError(f"no Bokeh plot with column {arg[0]!r}")
        page.mouse.click(target["x"], target["y"])
        return f"{arg[0]} at {target['target']}"
    if kind == "chip":
        buttons = page.locator(".filter-chip button")
        text = buttons.nth(arg).text_content()
        buttons.nth(arg).click()
        return f"chip {text.replace('✕', '').strip()}"
    if kind == "clear":
        page.locator("button", has_text="Clear all").first.click()
        return "Clear all"
    raise ValueError(kind)


def aim(page, action: tuple) -> None:
    """Scroll the target of `action` to where `perform` will click it, without clicking: a reader
    looks at a chart before clicking it, so the cards that scroll brings into sight catch up
    before the click (timed apart, as `sight_ms`) rather than inside it."""
    name, kind, arg = action
    if kind == "heatmap":
        page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct")
    elif kind == "slice":
        slices = page.locator(f".{arg[0]}layer g.slice")
        index = slices.evaluate_all("(els, label) => els.findIndex(e => (e.textContent || '').trim() === label)", arg[1])
        if index >= 0:
            slices.nth(index).evaluate(TREEMAP_HEADER_JS) if arg[0] == "treemap" else slices.nth(index).scroll_into_view_if_needed()
    elif kind == "bokeh":
        page.evaluate(BOKEH_TARGET_JS, list(arg))
    elif kind == "chip":
        page.locator(".filter-chip button").nth(arg).scroll_into_view_if_needed()
    elif kind == "clear":
        page.locator("button", has_text="Clear all").first.scroll_into_view_if_needed()


class Expected:
    """What every view must say under a selection, computed in this process (cached per selection)."""

    def __init__(self, url: str):
        from dashboard.data import DataStore
        self.url = url
        self.store = DataStore(url)
        self.cache: dict = {}

    def __call__(self, search: str) -> tuple[dict, list[str]]:
        selection = selection_from_address(self.store, search)
        key = tuple(sorted((d, tuple(sorted(map(str, v)))) for d, v in selection.items()))
        if key not in self.cache:
            by_title = expected_summaries(self.url, selection)
            self.cache[key] = [by_title[t] for t in TITLES]
        return selection, self.cache[key]


def _wait_chips(page, chips_before: list[str], timeout_s: float) -> bool:
    """Wait until the chips differ from `chips_before` (False if they never do: the click missed)."""
    deadline = time.perf_counter() + timeout_s
    while chips(page) == chips_before:
        if time.perf_counter() > deadline:
            return False
        time.sleep(0.05)
    return True


class _Quiet:
    """Is everything still? The page's views, the websocket and the server process's CPU."""

    def __init__(self, server_pid: int, frames: list):
        import psutil
        self.server = psutil.Process(server_pid)
        self.frames = frames
        self.cpu: list[tuple[float, float]] = []  # (perf_counter, server CPU seconds)

    def __call__(self, page, quiet_s: float) -> bool:
        now = time.perf_counter()
        t = self.server.cpu_times()
        self.cpu.append((now, t.user + t.system))
        past = [c for c in self.cpu if c[0] <= now - quiet_s]
        if not past:
            return False
        server_busy = (self.cpu[-1][1] - past[-1][1]) / (now - past[-1][0])  # cores, over >= quiet_s
        if server_busy > 0.05 or (self.frames and now - self.frames[-1][0] < quiet_s):
            return False
        info = page.evaluate("""() => { const r = window.__bench, e = r.log[r.log.length - 1];
            return {age: performance.now() - e.t, loading: e.loading, idle: e.idle}; }""")
        return info["age"] >= quiet_s * 1000 and not info["loading"] and info["idle"]


# Which views' cards are on the screen or near it (as the page's IntersectionObserver sees them,
# a little inside its margin so that a card counted here is surely counted there).
VIEW_CARDS_JS = r"""const cards = [], kids = (x) => x.shadowRoot ? [...x.shadowRoot.children, ...x.children] : [...x.children];
  const find = (x) => { for (const c of kids(x)) {
    if (c.classList.contains('view-card') && !c.classList.contains('detail-card')) cards.push(c); else find(c); } };
  find(document.body);"""
NEAR_JS = "(near) => {" + VIEW_CARDS_JS + r"""
  const scroller = (node) => {  // the cards' scrolling ancestor: the page's observers watch within it
    for (let n = node.parentNode; n; n = n instanceof ShadowRoot ? n.host : n.parentNode) {
      if (n instanceof Element && /(auto|scroll)/.test(getComputedStyle(n).overflowY)) return n; }
    return null; };
  const root = cards.length && scroller(cards[0]);
  const box = root ? root.getBoundingClientRect() : {top: 0, bottom: innerHeight};
  return cards.map((c) => { const r = c.getBoundingClientRect(); return r.bottom > box.top - near && r.top < box.bottom + near; });
}"""
SCROLL_TO_CARD_JS = "(i) => {" + VIEW_CARDS_JS + " cards[i].scrollIntoView({block: 'center'}); }"


def _in_sight(page) -> list[bool]:
    return page.evaluate(NEAR_JS, NEAR_PX - 20)


def _masked(summaries: list[str], near: list[bool] | None) -> list:
    return summaries if near is None else [s if n else None for s, n in zip(summaries, near)]


def _last_summaries(page) -> list[str]:
    return page.evaluate("() => window.__bench.log[window.__bench.log.length - 1].summaries")


def _settle(page, quiet: _Quiet, timeout_s: float, quiet_s: float, want: list[str] | None = None,
            near: list[bool] | None = None) -> bool:
    """Wait until everything is quiet (and, given `want`, the views `near` show it); False on timeout."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        if quiet(page, quiet_s) and (want is None or _masked(_last_summaries(page), near) == _masked(want, near)):
            return True
        time.sleep(0.1)
    return False


def _sight_check(page, want: list[str], near: list[bool], timeout_s: float) -> tuple[list[float], list[int]]:
    """Scroll to each view that was out of sight and wait for it to say `want`: (ms from each
    scroll to its summary, the indices of views that never did)."""
    times, wrong = [], []
    for i, was_near in enumerate(near):
        if was_near:
            continue
        page.evaluate(SCROLL_TO_CARD_JS, i)
        start, deadline = time.perf_counter(), time.perf_counter() + timeout_s
        while _last_summaries(page)[i] != want[i]:
            if time.perf_counter() > deadline:
                wrong.append(i)
                break
            time.sleep(0.02)
        else:
            times.append(round(1000 * (time.perf_counter() - start), 1))
    return times, wrong


def _tally_patches(contents) -> dict[str, int]:
    """Bokeh document events the server sent, by kind and attribute (e.g. 'ModelChanged.css_classes')."""
    tally: Counter = Counter()
    for content in contents:
        try:
            events = json.loads(content).get("events", [])
        except (ValueError, AttributeError):
            continue
        for event in events:
            tally[f"{event.get('kind')}.{event.get('attr', '')}".rstrip(".")] += 1
    return dict(tally.most_common())


def _redrawn_at(log: list[dict], expected: list[str], near: list[bool]) -> float | None:
    """Page time from which every summary `near` equals `expected` and no spinner is on, to the end."""
    at, expected = None, _masked(expected, near)
    for entry in log:
        ok = _masked(entry["summaries"], near) == expected and entry["loading"] == 0
        at = (entry["t"] if at is None else at) if ok else None
    return at


def run_sequence(browser, url: str, clicks: int, seed: int, expected: Expected, timeout_s: float,
                 quiet_s: float, progress=print, on_click=None, root: Path = ROOT, cached: bool = False,
                 aimed: bool = True) -> dict:
    server = start_timed_server(url, root=root)
    tab = Page(browser, *VIEWPORT)
    frames: list[tuple[float, int, str | None]] = []  # (perf_counter, bytes, Bokeh patch JSON) received
    sent: list[float] = []

    def received(payload) -> None:
        patch = payload if isinstance(payload, str) and '"events"' in payload else None
        frames.append((time.perf_counter(), len(payload), patch))

    tab.page.on("websocket", lambda ws: (ws.on("framereceived", received),
                                         ws.on("framesent", lambda p: sent.append(time.perf_counter()))))
    tab.page.add_init_script(ANSWER_INIT_JS)
    try:
        opened = time.perf_counter()
        tab.page.goto(server.url, wait_until="commit", timeout=timeout_s * 1000)
        wait_full_render(tab.page, timeout_s)
        first_render_s = time.perf_counter() - opened
        tab.page.evaluate(RECORDER_JS, N_VIEWS)
        quiet = _Quiet(server.proc.pid, frames)
        _settle(tab.page, quiet, timeout_s, quiet_s)
        if cached:  # the same sequence once, untimed, so that every answer of the timed one is cached
            progress("  warming the query cache with the same sequence")
            _warm(tab.page, clicks, seed, quiet, timeout_s, quiet_s)
        rng = random.Random(seed)
        previous, records = None, []
        partial = {"seed": seed, "first_render_s": round(first_render_s, 3), "clicks": records}
        for i in range(clicks):
            before_chips = chips(tab.page)
            action = choose(rng, len(before_chips), previous)
            previous = action[0]
            if aimed:
                aim(tab.page, action)
                _settle(tab.page, quiet, timeout_s, quiet_s)
            tab.page.evaluate("() => window.__bench.reset()")
            before = tab.page.evaluate("() => window.__bench.log[0].summaries")
            wall = time.perf_counter()
            record = {"i": i, "action": action[0], "chips_before": before_chips}
            try:
                record["target"] = perform(tab.page, action)
            except (LookupError, PlaywrightError) as exc:
                record.update(status="not found", error=str(exc)[:500])
                records.append(record)
                progress(f"  {i + 1:>2}. {action[0]:<24} target not found: {str(exc).splitlines()[0]}")
                continue
            changed = _wait_chips(tab.page, before_chips, min(timeout_s, 60.0))
            record["chips_after"] = chips(tab.page)
            near = record["in_sight"] = _in_sight(tab.page)
            if changed:
                # quiet first (so the in-process computation below does not compete with the page),
                # then, if the page does not show the expected figures yet, wait for them
                _settle(tab.page, quiet, timeout_s, quiet_s)
                selection, want = expected(tab.page.evaluate("() => window.location.search"))  # every value
                record["selection"] = {d: [str(v) for v in vs] for d, vs in selection.items()}
                _settle(tab.page, quiet, timeout_s, quiet_s, want, near)
            else:
                _settle(tab.page, quiet, timeout_s, quiet_s)
            settled = time.perf_counter()
            rec = tab.page.evaluate("""() => ({log: window.__bench.log, click: window.__bench.click,
                ws: window.__wsTimes.filter(t => t >= (window.__bench.click || 0)),
                long: window.__longTasks.filter(t => t >= (window.__bench.click || 0))})""")
            mine = [f for f in frames if wall <= f[0] <= settled]
            record["ws_messages"] = len(mine)
            record["ws_bytes"] = sum(f[1] for f in mine)
            record["patch_events"] = _tally_patches(f[2] for f in mine if f[2])
            record["ws_sent"] = sum(1 for t in sent if wall <= t <= settled)
            record["spinners_max"] = max(e["loading"] for e in rec["log"])
            if rec["click"] is not None and len(rec["log"]) > 1:
                record["first_change_ms"] = round(rec["log"][1]["t"] - rec["click"], 1)
            if not changed:
                record.update(status="missed")
                records.append(record)
                progress(f"  {i + 1:>2}. {action[0]:<24} missed (no filter changed)")
                continue
            got = rec["log"][-1]["summaries"]
            at = _redrawn_at(rec["log"], want, near)
            record["sight_ms"], wrong = _sight_check(tab.page, want, near, min(timeout_s, 60.0))
            if wrong:
                got = _last_summaries(tab.page)
            if _masked(got, near) != _masked(want, near) or wrong or at is None or rec["click"] is None:
                record.update(status="mismatch", shown=dict(zip(TITLES, got)), expected=dict(zip(TITLES, want)))
                progress(f"  {i + 1:>2}. {action[0]:<24} MISMATCH with the in-process store")
            else:
                answered = max([at, *rec["ws"], *rec["long"]])  # last message in, main thread idle
                record.update(status="ok", ms=round(at - rec["click"], 1), answered_ms=round(answered - rec["click"], 1),
                              long_tasks=len(rec["long"]), views_in_sight=sum(near),
                              views_changed=sum(a != b for a, b in zip(before, want)),
                              changes_logged=len(rec["log"]) - 1)
                progress(f"  {i + 1:>2}. {action[0]:<24} {record['ms']:>7.0f} ms shown, "
                         f"{record['answered_ms']:>7.0f} ms answered  "
                         f"({record['views_changed']:>2} views changed, {sum(near)} in sight, "
                         f"first change {record.get('first_change_ms', 0):.0f} ms, "
                         f"{record['ws_messages']} ws messages, {record['ws_bytes'] / 1e3:.0f} kB) "
                         f"-> {', '.join(record['chips_after']) or 'no filters'}")
            records.append(record)
            if on_click is not None:
                on_click(partial)
        return {"seed": seed, "first_render_s": round(first_render_s, 3), "clicks": records,
                "console_errors": list(tab.console_errors), "outside_requests": list(tab.outside)}
    except Exception as exc:
        raise RuntimeError(f"{exc}\n--- server log ---\n{server.log_tail()}") from exc
    finally:
        tab.page.close()
        server.stop()


def _warm(page, clicks: int, seed: int, quiet, timeout_s: float, quiet_s: float) -> None:
    """Play the seeded sequence without timing it, then Clear all: the timed run that follows
    starts from the same state and asks only what was asked here."""
    rng, previous = random.Random(seed), None
    for _ in range(clicks):
        before_chips = chips(page)
        action = choose(rng, len(before_chips), previous)
        previous = action[0]
        try:
            perform(page, action)
        except (LookupError, PlaywrightError):
            continue
        _wait_chips(page, before_chips, min(timeout_s, 60.0))
        _settle(page, quiet, timeout_s, quiet_s)
    if chips(page):
        perform(page, CLEAR_ACTION)
        _wait_chips(page, chips(page), 60.0)
    _settle(page, quiet, timeout_s, quiet_s)


def summarize(results: dict, runs: list[dict]) -> dict:
    """Fill in the figures over every measured click of `runs` (also used for partial results)."""
    clicks = [c for run_ in runs for c in run_["clicks"]]
    ok = [c for c in clicks if c["status"] == "ok"]
    ms = [c["ms"] for c in ok]
    results["click_to_redrawn_ms"] = {
        "n": len(ms), "p50": round(percentile(ms, 50), 1), "p95": round(percentile(ms, 95), 1),
        "max": round(max(ms), 1) if ms else None, "mean": round(statistics.fmean(ms), 1) if ms else None,
        "samples": ms}
    sight = [t for c in ok for t in c.get("sight_ms", [])]
    results["scroll_to_current_ms"] = {"n": len(sight), "p50": round(percentile(sight, 50), 1),
                                       "p95": round(percentile(sight, 95), 1)}
    answered = [c["answered_ms"] for c in ok if "answered_ms" in c]
    results["click_answered_ms"] = {
        "n": len(answered), "p50": round(percentile(answered, 50), 1), "p95": round(percentile(answered, 95), 1),
        "max": round(max(answered), 1) if answered else None, "samples": answered}
    statuses = [c["status"] for c in clicks]
    results["counts"] = {s: statuses.count(s) for s in sorted(set(statuses))}
    results["ws_per_click"] = {
        "messages_median": statistics.median([c["ws_messages"] for c in ok]) if ok else None,
        "kbytes_median": round(statistics.median([c["ws_bytes"] for c in ok]) / 1e3, 1) if ok else None}
    events: Counter = Counter()
    for c in ok:
        events.update(c.get("patch_events", {}))
    results["patch_events_per_click"] = {k: round(v / max(1, len(ok)), 1) for k, v in events.most_common()}
    results["runs"] = runs
    return results


def run(url: str | None = None, repeats: int = 1, clicks: int = 20, seed: int = 20261125, timeout_s: float = 300.0,
        quiet_s: float = 1.5, progress=print, checkpoint=None, compare: Path | None = None,
        cached: bool = False, aimed: bool = True) -> dict:
    """`repeats` sequences of `clicks` interactions, each on a fresh server; returns the results.

    With `compare` (another checkout, e.g. `git worktree add /tmp/before <commit>`), each repeat
    runs that checkout's dashboard and then this one's, alternating, on the same warehouse and
    browser: the results hold both ("before", "after") and their ratios.
    `checkpoint(results)` is called after every click with the figures so far (the CLI writes the
    JSON then, so an interrupted run keeps what it measured).
    """
    url = check_warehouse(url)
    expected = Expected(url)
    roots = {"before": Path(compare), "after": ROOT} if compare else {"this": ROOT}
    results: dict = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "warehouse": url, "repeats": repeats,
                     "clicks_per_repeat": clicks, "seed": seed, "cached": cached, "aimed": aimed, "roots": {k: str(v) for k, v in roots.items()}}
    per_root: dict[str, list] = {label: [] for label in roots}
    with chromium() as browser:
        results["machine"] = machine_info(browser.version)
        for r in range(repeats):
            for label, root in roots.items():
                progress(f"repeat {r + 1}/{repeats}: {label} ({root})")
                runs = per_root[label]

                def on_click(partial: dict, runs=runs, label=label) -> None:
                    if checkpoint is not None:
                        checkpoint(_combined(results, per_root, label, runs + [partial]))
                runs.append(run_sequence(browser, url, clicks, seed, expected, timeout_s, quiet_s, progress,
                                         on_click, root, cached, aimed))
    return _combined(results, per_root)


def _combined(results: dict, per_root: dict[str, list], label: str | None = None, partial: list | None = None) -> dict:
    """The figures of one checkout (the plain layout), or of both with their ratios."""
    runs = {k: (partial if k == label and partial is not None else v) for k, v in per_root.items()}
    if list(runs) == ["this"]:
        return summarize(results, runs["this"])
    both = {**results, **{k: summarize({}, v) for k, v in runs.items()}}
    for figure in ("click_answered_ms", "click_to_redrawn_ms"):
        for q in ("p50", "p95"):
            before, after = both["before"][figure][q], both["after"][figure][q]
            if before and after and after == after and before == before:
                both.setdefault("ratios", {})[f"{figure}.{q}"] = round(before / after, 2)
    return both


def format_table(results: dict) -> str:
    if "after" in results:
        common = {k: v for k, v in results.items() if k not in ("before", "after")}
        return "\n".join([f"{label}:\n" + format_table({**common, **results[label]}) for label in ("before", "after")]
                         + [f"ratios before/after: {results.get('ratios', {})}"])
    s = results["click_to_redrawn_ms"]
    a = results.get("click_answered_ms", {})
    counts = ", ".join(f"{v} {k}" for k, v in results["counts"].items())
    ws = results["ws_per_click"]
    return "\n".join([
        f"click -> all {N_VIEWS} views redrawn (ms; target p95 <= 500) over {results['repeats']} x "
        f"{results['clicks_per_repeat']} clicks ({counts})",
        f"  {'n':>4} {'p50':>8} {'p95':>8} {'max':>8}   ws messages/click {'kB/click':>9}",
        f"  {s['n']:>4} {s['p50']:>8.0f} {s['p95']:>8.0f} {s['max'] or float('nan'):>8.0f}   "
        f"{ws['messages_median'] or 0:>17} {ws['kbytes_median'] or 0:>9}",
        f"  answered (last message in, main thread idle): p50 {a.get('p50', float('nan')):.0f} ms, "
        f"p95 {a.get('p95', float('nan')):.0f} ms",
        "  Bokeh document events sent per click (mean): " + ", ".join(
            f"{k} {v:g}" for k, v in list(results.get("patch_events_per_click", {}).items())[:8]),
    ])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="warehouse SQLAlchemy URL (default: the dashboard's default warehouse)")
    p.add_argument("--repeats", type=int, default=1, help="click sequences, each on a fresh server")
    p.add_argument("--clicks", type=int, default=20, help="interactions per sequence")
    p.add_argument("--seed", type=int, default=20261125, help="seed of the interaction sequence")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the views after a click")
    p.add_argument("--quiet", type=float, default=1.5, help="seconds without any change that mean 'settled'")
    p.add_argument("--compare", type=Path, default=None,
                   help="another checkout to run alternately with this one (before/after in one run)")
    p.add_argument("--name", default="browser", help="results file name (bench/results/NAME.json)")
    p.add_argument("--cached", action="store_true",
                   help="play each sequence once untimed first, so the timed clicks find their answers cached")
    p.add_argument("--no-aim", dest="aimed", action="store_false",
                   help="click at once after scrolling to the target (the scroll's catch-ups counted in the click)")
    args = p.parse_args()
    run_and_report(args.name, lambda checkpoint: run(args.url, args.repeats, args.clicks, args.seed, args.timeout,
                                                     args.quiet, checkpoint=checkpoint, compare=args.compare,
                                                     cached=args.cached, aimed=args.aimed),
                   format_table)


if __name__ == "__main__":
    main()
