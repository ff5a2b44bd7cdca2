"""Where the browser's time goes on one click with cached answers (Chromium, CDP).

    python -m bench.click_profile [--url URL] [--warm 3] [--window 5]

Serves the dashboard, plays the same click twice (select, then the same click clears it) `--warm`
times, so every answer is cached and the page stays scrolled where the target is (a user looks at
a chart before clicking it: the cards a scroll brings into sight have caught up), then profiles
one more click: the main thread's task, script, layout and
style time from `Performance.getMetrics` (deltas over the window), the DOM nodes added, and the
JavaScript self time per function and per script file from the CDP `Profiler` ("(native)": samples
with no script, i.e. idle, "(program)" (paint, raster, WebGL) and the garbage collector). Writes
bench/results/click_profile.json and prints a summary.
"""
from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _browser_common as bc  # noqa: E402
from bench.browser import PLOT_ACTIONS, VIEWPORT, _wait_chips, chips, perform  # noqa: E402

CLICK = "sunburst Lifestyle"
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "LayoutCount",
           "RecalcStyleCount", "Nodes")


TRACE_CATEGORIES = ["devtools.timeline", "disabled-by-default-devtools.timeline", "blink", "cc", "gpu"]


def trace_self_ms(events: list[dict]) -> dict:
    """Self time (ms) per event name and per thread of a Chrome trace: each complete event's
    duration minus that of the events nested in it on the same thread, so names add up."""
    names = {(e["pid"], e["tid"]): e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans: dict = collections.defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and "dur" in e:
            spans[(e["pid"], e["tid"])].append((e["ts"], -e["dur"], e["name"]))
    out: dict = {}
    for thread, items in spans.items():
        items.sort()
        own: collections.Counter = collections.Counter()
        stack: list = []  # [end, name, time of the events nested in it, duration]
        for ts, neg, name in items:
            while stack and stack[-1][0] <= ts:
                end, n, child, dur = stack.pop()
                own[n] += dur - child
            if stack:
                stack[-1][2] += -neg
            stack.append([ts - neg, name, 0, -neg])
        for end, n, child, dur in stack:
            own[n] += dur - child
        label = names.get(thread, str(thread))
        total = sum(own.values()) / 1e3
        if total >= 20:
            out[f"{label} {thread[0]}"] = {"total": round(total, 1),
                                           **{k: round(v / 1e3, 1) for k, v in own.most_common(15)}}
    return dict(sorted(out.items(), key=lambda kv: -kv[1]["total"]))


# Times the synchronous part of every Plotly.react / relayout / newPlot call in the page, keyed
# by the figure's trace types; synchronous WebGL waits fall inside it.
PLOTLY_TIMER_JS = """() => {
  if (window.__plotlyTimes) { window.__plotlyTimes = []; return; }
  window.__plotlyTimes = [];
  for (const name of ['react', 'relayout', 'newPlot', 'restyle', 'redraw']) {
    const original = window.Plotly[name];
    window.Plotly[name] = function (gd, ...rest) {
      const t0 = performance.now();
      const out = original.call(this, gd, ...rest);
      const key = name + ' ' + [...new Set((gd.data || []).map(t => t.type || 'scatter'))].join('+');
      window.__plotlyTimes.push([key, performance.now() - t0]);
      return out;
    };
  }
}"""


def _plotly_ms(page) -> dict:
    totals: collections.Counter = collections.Counter()
    for key, ms in page.evaluate("() => window.__plotlyTimes"):
        totals[key] += ms
    return {k: round(v, 1) for k, v in totals.most_common()}


def _toggle(page, action) -> None:
    before = chips(page)
    perform(page, action)
    _wait_chips(page, before, 60)


def profile(url: str, warm: int, window_s: float, trace: bool = False, click: str = CLICK) -> dict:
    action = next(a for a in PLOT_ACTIONS if a[0] == click)
    server = bc.start_timed_server(bc.check_warehouse(url))
    try:
        with bc.chromium() as browser:
            tab = bc.Page(browser, *VIEWPORT)
            tab.page.goto(server.url, wait_until="commit", timeout=300_000)
            bc.wait_full_render(tab.page, 300)
            cdp = tab.page.context.new_cdp_session(tab.page)
            cdp.send("Performance.enable")
            for _ in range(warm):
                for _ in range(2):  # select, then clear with the same click
                    _toggle(tab.page, action)
                    time.sleep(window_s)
            tab.page.evaluate(PLOTLY_TIMER_JS)
            metrics = lambda: {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}  # noqa: E731
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 500})
            start = metrics()
            if trace:
                tab.page.context.browser.start_tracing(page=tab.page, categories=TRACE_CATEGORIES)
            else:
                cdp.send("Profiler.start")
            _toggle(tab.page, action)
            time.sleep(window_s)
            js = {"nodes": [], "samples": [], "timeDeltas": []} if trace else cdp.send("Profiler.stop")["profile"]
            end = metrics()
            plotly_ms = _plotly_ms(tab.page)
            events = json.loads(tab.page.context.browser.stop_tracing())["traceEvents"] if trace else []
    finally:
        server.stop()
    nodes = {n["id"]: n["callFrame"] for n in js["nodes"]}
    by_function: collections.Counter = collections.Counter()
    for sample, delta in zip(js["samples"], js["timeDeltas"]):
        frame = nodes[sample]
        by_function[f"{frame['functionName'] or '(anonymous)'} {frame['url'].split('/')[-1].split('?')[0]}"] += delta / 1e3
    by_file: collections.Counter = collections.Counter()
    for name, ms in by_function.items():
        by_file[name.rsplit(" ", 1)[-1] or "(native)"] += ms
    seconds = {k for k in METRICS if k.endswith("Duration")}
    return {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "warehouse": url, "click": click, "warm_rounds": warm,
            "window_s": window_s, "main_thread": {k: round((end.get(k, 0) - start.get(k, 0)) * (1e3 if k in seconds else 1), 1)
                                                  for k in METRICS},
            "plotly_calls_ms": plotly_ms, "js_self_ms_by_file": {k: round(v, 1) for k, v in by_file.most_common(12)},
            "js_self_ms_top": {k: round(v, 1) for k, v in by_function.most_common(25)},
            **({"trace_self_ms": trace_self_ms(events)} if trace else {})}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="warehouse SQLAlchemy URL (default: the dashboard's default warehouse)")
    p.add_argument("--click", default=CLICK, choices=[a[0] for a in PLOT_ACTIONS], help="the plot click profiled")
    p.add_argument("--warm", type=int, default=2, help="rounds of the click selecting and clearing before the profiled one")
    p.add_argument("--window", type=float, default=5.0, help="seconds measured after the click")
    p.add_argument("--trace", action="store_true", help="also record a Chrome trace and report self time per event and thread")
    args = p.parse_args()
    result = profile(args.url, args.warm, args.window, args.trace, args.click)
    out = Path(__file__).resolve().parent / "results" / "click_profile.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("main_thread", "plotly_calls_ms", "js_self_ms_by_file", "trace_self_ms") if k in result}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
