"""Where the browser's time goes on one click with cached answers (Chromium, CDP).

    python -m bench.click_profile [--url URL] [--warm 3] [--window 5]

Serves the dashboard, plays the same sunburst click and Clear all `--warm` times (so every
answer is cached), then profiles one more click: the main thread's task, script, layout and
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
from bench.browser import CLEAR_ACTION, VIEWPORT, _wait_chips, chips, perform  # noqa: E402

CLICK = ("sunburst Lifestyle", "slice", ("sunburst", "Lifestyle"))
METRICS = ("TaskDuration", "ScriptDuration", "LayoutDuration", "RecalcStyleDuration", "LayoutCount",
           "RecalcStyleCount", "Nodes")


def _toggle(page, action) -> None:
    before = chips(page)
    perform(page, action)
    _wait_chips(page, before, 60)


def profile(url: str, warm: int, window_s: float) -> dict:
    server = bc.start_timed_server(bc.check_warehouse(url))
    try:
        with bc.chromium() as browser:
            tab = bc.Page(browser, *VIEWPORT)
            tab.page.goto(server.url, wait_until="commit", timeout=300_000)
            bc.wait_full_render(tab.page, 300)
            cdp = tab.page.context.new_cdp_session(tab.page)
            cdp.send("Performance.enable")
            for _ in range(warm):
                for action in (CLICK, CLEAR_ACTION):
                    _toggle(tab.page, action)
                    time.sleep(window_s)
            metrics = lambda: {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}  # noqa: E731
            cdp.send("Profiler.enable")
            cdp.send("Profiler.setSamplingInterval", {"interval": 500})
            start = metrics()
            cdp.send("Profiler.start")
            _toggle(tab.page, CLICK)
            time.sleep(window_s)
            js = cdp.send("Profiler.stop")["profile"]
            end = metrics()
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
    return {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "warehouse": url, "warm_rounds": warm,
            "window_s": window_s, "main_thread": {k: round((end.get(k, 0) - start.get(k, 0)) * (1e3 if k in seconds else 1), 1)
                                                  for k in METRICS},
            "js_self_ms_by_file": {k: round(v, 1) for k, v in by_file.most_common(12)},
            "js_self_ms_top": {k: round(v, 1) for k, v in by_function.most_common(25)}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="warehouse SQLAlchemy URL (default: the dashboard's default warehouse)")
    p.add_argument("--warm", type=int, default=3, help="rounds of the same click and Clear all before the profiled one")
    p.add_argument("--window", type=float, default=5.0, help="seconds measured after the click")
    args = p.parse_args()
    result = profile(args.url, args.warm, args.window)
    out = Path(__file__).resolve().parent / "results" / "click_profile.json"
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps({k: result[k] for k in ("main_thread", "js_self_ms_by_file")}, indent=1))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
