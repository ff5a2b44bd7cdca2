"""A live brush on the time heatmap -> the other views in sight redrawn, in headless Chromium.

    python -m bench.brush --url duckdb:////path/w.duckdb --repeats 3

Each repeat starts a fresh server and page, waits for the full dashboard, scrolls the time heatmap
into sight and plays one scripted drag: press on Monday 09:00, ten moves over 2 s that stretch the
brush to Friday 09:00 + 1 h, + 2 h … + 10 h, release. A recorder in the page samples the chip bar
and every view's summary every 25 ms (page clock). An applied brush step is a new chip text (the
server has set the store; the chips are drawn in the same callback); for each, an in-process
`DataStore` with that step's filters computes what every view must say (as tests/browser/ does).
A step's latency is from its chip to the first sample at which every other view in sight (cards
on the screen or within NEAR_PX: a served view out of sight asks for nothing) says that and shows
no spinner. A step overtaken by the next one before that is counted, not timed. With `--cached`
the same drag is first played once untimed and cleared, so the timed one asks only for answers
already in the server's query cache (the drawing path alone).

Results: bench/results/brush.json and a table on stdout.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import percentile, run_and_report  # noqa: E402
from bench._browser_common import (N_VIEWS, TITLES, VIEW_STATE_JS, Page, check_warehouse, chromium,  # noqa: E402
                                   machine_info, start_timed_server, wait_full_render)
from dashboard.components.header import NEAR_PX  # noqa: E402
from tests.browser.test_dashboard import HEATMAP_BOX_JS, expected_summaries  # noqa: E402

HEATMAP = "Transaction time heatmap"
MOVES, DRAG_S, START_HOUR = 10, 2.0, 9

RECORDER_JS = r"""(n) => {
  const state = (""" + VIEW_STATE_JS + r""");
  const chipText = () => {
    const found = [];
    const walk = (x) => { for (const c of (x.shadowRoot ? [...x.shadowRoot.children, ...x.children] : [...x.children])) {
      if (c.classList.contains('filter-chip')) found.push(c.textContent.replace('\u2715', '').trim()); else walk(c); } };
    walk(document.body);
    return found.join(' | ');
  };
  const rec = window.__brush = {log: [], last: ''};
  rec.sample = () => {
    const s = state(n);
    if (!s) return;
    const row = {chips: chipText(), summaries: s.cards.map(c => c.summary), loading: s.cards.map(c => c.loading)};
    const key = JSON.stringify(row);
    if (key !== rec.last) { rec.last = key; rec.log.push({t: performance.now(), ...row}); }
  };
  rec.timer = setInterval(rec.sample, 25);
}"""


def in_sight(page) -> list[str]:
    """The titles of the cards on the screen or within NEAR_PX of it."""
    height = page.viewport_size["height"]
    boxes = [page.locator(".view-card:not(.detail-card)").nth(i).bounding_box() for i in range(N_VIEWS)]
    return [t for t, b in zip(TITLES, boxes) if b and b["y"] + b["height"] > -NEAR_PX and b["y"] < height + NEAR_PX]


def hours_of(chips: str) -> list[int] | None:
    """The brushed hours a chip bar names ('Hour: 09:00–12:00' or 'Hour: 09:00'), None if none."""
    run = re.search(r"Hour: (\d\d):00(?:–(\d\d):00)?", chips)
    if not run:
        return None
    first = int(run.group(1))
    return list(range(first, int(run.group(2) or first) + 1))


def drag(page, at) -> None:
    page.mouse.move(*at(1, START_HOUR))
    page.mouse.down()
    for i in range(1, MOVES + 1):
        page.mouse.move(*at(5, START_HOUR + i), steps=2)
        time.sleep(DRAG_S / MOVES)
    page.mouse.up()
    time.sleep(4.0)


def one_drag(browser, server_url: str, warehouse_url: str, cached: bool) -> dict:
    tab = Page(browser, 1600, 1000)
    page = tab.page
    page.goto(server_url)
    wait_full_render(page)
    box = page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct")
    time.sleep(1.0)  # the page settles after the scroll (cards coming into sight are drawn)
    box = page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct")
    sight = [t for t in in_sight(page) if t != HEATMAP]
    width, height = box["x1"] - box["x0"], box["y1"] - box["y0"]
    at = lambda day, hour: (box["x0"] + (day + 0.5) / 7 * width, box["y0"] + (hour + 0.5) / 24 * height)  # noqa: E731
    if cached:
        drag(page, at)
        page.locator("button.chip-clear").click()
        time.sleep(4.0)
        box = page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct")
        width, height = box["x1"] - box["x0"], box["y1"] - box["y0"]
    page.evaluate(RECORDER_JS, N_VIEWS)
    drag(page, at)
    log = page.evaluate("() => { clearInterval(window.__brush.timer); return window.__brush.log; }")
    page.close()
    steps, seen = [], None
    for row in log:
        hours = hours_of(row["chips"])
        if hours and hours != seen:
            steps.append((row["t"], hours))
            seen = hours
    timed, overtaken = [], 0
    for i, (t0, hours) in enumerate(steps):
        want = expected_summaries(warehouse_url, {"day_of_week": [1, 2, 3, 4, 5], "transaction_hour": hours})
        until = steps[i + 1][0] if i + 1 < len(steps) else float("inf")
        done = next((row["t"] for row in log if row["t"] >= t0 and all(
            row["summaries"][TITLES.index(v)] == want[v] and not row["loading"][TITLES.index(v)] for v in sight)), None)
        if done is None or done > until:
            overtaken += 1
        else:
            timed.append(done - t0)
    return {"steps": len(steps), "overtaken": overtaken, "latencies_ms": timed, "in_sight": sight,
            "drag_s": DRAG_S, "moves": MOVES}


def run(warehouse_url: str, repeats: int, cached: bool, checkpoint) -> dict:
    results = {"what": "live heatmap brush: chip shown -> every other view in sight redrawn (ms)",
               "warehouse": warehouse_url, "cached": cached, "drags": []}
    with chromium() as browser:
        results["machine"] = machine_info(browser.version)
        for _ in range(repeats):
            server = start_timed_server(warehouse_url)
            try:
                results["drags"].append(one_drag(browser, server.url, warehouse_url, cached))
            finally:
                server.stop()
            checkpoint(results)
    every = [v for d in results["drags"] for v in d["latencies_ms"]]
    results["summary"] = {"applied_steps": sum(d["steps"] for d in results["drags"]),
                          "overtaken": sum(d["overtaken"] for d in results["drags"]),
                          "steps_per_s": sum(d["steps"] for d in results["drags"]) / (DRAG_S * repeats),
                          "p50_ms": percentile(every, 50), "p95_ms": percentile(every, 95),
                          "max_ms": max(every, default=float("nan"))}
    return results


def table(results: dict) -> str:
    s = results["summary"]
    return (f"applied steps {s['applied_steps']} ({s['steps_per_s']:.1f}/s over the drags), overtaken "
            f"{s['overtaken']}; step -> views in sight redrawn: p50 {s['p50_ms']:.0f} ms, p95 {s['p95_ms']:.0f} ms, "
            f"max {s['max_ms']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="warehouse URL (default: the dashboard's default warehouse)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cached", action="store_true", help="play the drag once untimed first (warm query cache)")
    args = parser.parse_args()
    url = check_warehouse(args.url)
    run_and_report("brush_cached" if args.cached else "brush",
                   lambda checkpoint: run(url, args.repeats, args.cached, checkpoint), table)


if __name__ == "__main__":
    main()
