"""Serving: cold start to the first full render, and server memory per open session.

    python -m bench.serving                                     # default warehouse, 3 cold starts, 20 sessions
    python -m bench.serving --url duckdb:////path/w.duckdb --repeats 5 --sessions 20 --profile

Cold start: `panel serve serve.py` (the README's way; `--how python` for `python serve.py`) is
started against an existing warehouse and one headless Chromium tab opens the page as soon as
the server answers HTTP. Timed from spawning the process to the first full render: all 13 views
show a drawn figure, a non-empty summary, no spinner and no "Loading"/"Preparing" text. Split:
  http_s          process spawn -> the server answers HTTP (Python, Panel and Bokeh imports)
  session_s       page request -> first byte of the HTML (the server runs serve.py: dashboard
                  imports, create_app, the session's Bokeh document)
  client_s        HTML -> full render (bundles, websocket, BokehJS/Plotly drawing the views)
  warm_page_s     a second tab on the same server, page request -> full render (imports done,
                  queries cached: what every later visitor waits)
Memory: RSS of the server process (psutil, children included) idle after start, with 1 and with
N fully rendered sessions (one browser context each), and after closing them all (the server
runs with --check-unused-sessions/--unused-session-lifetime so closed sessions go within seconds).
`--profile` also times one session's creation in a fresh interpreter, view by view.

Results: bench/results/serving.json (medians, raw runs, machine) and a table on stdout.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # `python bench/serving.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import run_and_report  # noqa: E402
from bench._browser_common import (N_VIEWS, ROOT, Page, check_warehouse, chromium, machine_info,  # noqa: E402
                                   rss_mb, start_timed_server, summary_stats, view_state, wait_full_render)

CLEANUP_ARGS = ("--check-unused-sessions", "1000", "--unused-session-lifetime", "2000")
VIEWPORT = (1600, 1000)


# -- cold start ---------------------------------------------------------------------------------
def _open_and_render(browser, url: str, timeout_s: float) -> dict:
    """Open `url` in a fresh context and wait for the full render; timings in s from the request."""
    tab = Page(browser, *VIEWPORT)
    try:
        opened = time.perf_counter()
        response = tab.page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        committed = time.perf_counter()
        rendered = wait_full_render(tab.page, timeout_s)
        timing = response.request.timing  # ms from the request's start
        server_ms = timing["responseStart"] - timing["requestStart"] if timing["responseStart"] > 0 else None
        nav = tab.page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
            return n ? {dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd} : null; }""")
        return {"opened": opened, "page_s": rendered - opened, "commit_s": committed - opened,
                "server_response_s": None if server_ms is None else server_ms / 1000,
                "dom_content_loaded_s": nav and nav["dom_content_loaded"] / 1000,
                "load_event_s": nav and nav["load"] / 1000,
                "rendered": rendered, "console_errors": list(tab.console_errors), "outside": list(tab.outside)}
    finally:
        tab.page.close()


def cold_start_once(browser, url: str, how: str = "panel", timeout_s: float = 180.0) -> dict:
    server = start_timed_server(url, how)
    try:
        first = _open_and_render(browser, server.url, timeout_s)
        rss_first = rss_mb(server.proc.pid)
        warm = _open_and_render(browser, server.url, timeout_s)
        session_s = first["server_response_s"] if first["server_response_s"] is not None else first["commit_s"]
        return {
            "total_s": round(first["rendered"] - server.started, 3),
            "http_s": round(server.http_s, 3),
            "gap_s": round(first["opened"] - server.http_ready, 3),  # harness: HTTP answer -> page opened
            "page_s": round(first["page_s"], 3),
            "session_s": round(session_s, 3),
            "client_s": round(first["page_s"] - session_s, 3),
            "dom_content_loaded_s": first["dom_content_loaded_s"],
            "load_event_s": first["load_event_s"],
            "warm_page_s": round(warm["page_s"], 3),
            "warm_session_s": warm["server_response_s"],
            "rss_mb_after_first_page": round(rss_first, 1),
            "console_errors": first["console_errors"] + warm["console_errors"],
            "outside_requests": first["outside"] + warm["outside"],
        }
    except Exception as exc:
        raise RuntimeError(f"{exc}\n--- server log ---\n{server.log_tail()}") from exc
    finally:
        server.stop()


# -- memory -----------------------------------------------------------------------------------
def _settled_rss(pid: int, seconds: float = 3.0) -> float:
    """RSS after a short pause (the server finishes sending the last session's document)."""
    time.sleep(seconds)
    return rss_mb(pid)


def _freeze(page) -> None:
    """Stop a rendered tab's JavaScript (its websocket, hence its server session, stays open).

    An idle dashboard tab keeps a core ~30 % busy in headless software rendering (Plotly's 3D
    scene redraws on every animation frame): twenty of them would slow the machine to a crawl.
    """
    page.context.new_cdp_session(page).send("Page.setWebLifecycleState", {"state": "frozen"})


def memory(browser, url: str, sessions: int = 20, timeout_s: float = 180.0, cleanup_wait_s: float = 20.0,
           min_available_gb: float = 3.0, freeze: bool = True, progress=print) -> dict:
    """Server RSS idle, with 1 and with `sessions` rendered sessions, and after closing them.

    Each tab takes ~0.5 GB in Chromium: opening stops early (and says so) when the machine has
    less than `min_available_gb` available.
    """
    import psutil
    server = start_timed_server(url, "panel", extra_args=CLEANUP_ARGS)
    pid = server.proc.pid
    tabs: list[Page] = []
    try:
        idle = _settled_rss(pid, 2.0)
        curve = []
        for i in range(sessions):
            if i >= 2 and psutil.virtual_memory().available < min_available_gb * 2**30:
                progress(f"  memory: stopped at {i} sessions (less than {min_available_gb} GB available)")
                break
            tab = Page(browser, *VIEWPORT)
            tabs.append(tab)
            tab.page.goto(server.url, wait_until="commit", timeout=timeout_s * 1000)
            wait_full_render(tab.page, timeout_s)
            if len((view_state(tab.page) or {}).get("cards", [])) != N_VIEWS:
                raise RuntimeError(f"session {i + 1} did not render {N_VIEWS} views")
            if freeze:
                _freeze(tab.page)
            curve.append(round(_settled_rss(pid, 2.0 if i == 0 else 1.0), 1))
        opened = len(curve)
        one, full = curve[0], _settled_rss(pid, 3.0)
        closed_early = server.log_tail(200_000).count("WebSocket connection closed")  # must be 0
        for tab in tabs:
            tab.page.close()
        closed_at, after = time.perf_counter(), []
        while time.perf_counter() - closed_at < cleanup_wait_s:  # closed sessions are dropped within ~3 s
            time.sleep(1.0)
            after.append(round(rss_mb(pid), 1))
        # Python seldom hands freed memory back to the OS: whether the closed sessions' memory is
        # reusable shows when one more session comes (a leak would add another session's worth).
        tab = Page(browser, *VIEWPORT)
        tabs.append(tab)
        tab.page.goto(server.url, wait_until="commit", timeout=timeout_s * 1000)
        wait_full_render(tab.page, timeout_s)
        reopened = _settled_rss(pid, 2.0)
        log = server.log_tail(200_000)
        return {
            "sessions_requested": sessions,
            "sessions": opened,
            "tabs_frozen_after_render": freeze,
            "rss_mb_idle": round(idle, 1),
            "rss_mb_1_session": one,
            "rss_mb_n_sessions": round(full, 1),
            "rss_mb_after_close": after[-1] if after else None,
            "mb_per_extra_session": round((full - one) / (opened - 1), 2) if opened > 1 else None,
            "mb_first_session": round(one - idle, 1),
            "mb_released_after_close": round(full - after[-1], 1) if after else None,
            "rss_mb_one_more_session_after_close": round(reopened, 1),
            "mb_one_more_session_after_close": round(reopened - after[-1], 1) if after else None,
            "rss_mb_curve": curve,
            "rss_mb_after_close_curve": after,
            "websockets_opened_in_log": log.count("WebSocket connection opened"),
            "websockets_closed_in_log": log.count("WebSocket connection closed"),
            "websockets_closed_before_tabs_closed": closed_early,
        }
    except Exception as exc:
        raise RuntimeError(f"{exc}\n--- server log ---\n{server.log_tail()}") from exc
    finally:
        for tab in tabs:
            if not tab.page.is_closed():
                tab.page.close()
        server.stop()


# -- session profile (fresh interpreter) ------------------------------------------------------------
def profile_session(url: str) -> dict:
    """Time one session's creation in a fresh interpreter (bench/_session_profile.py)."""
    proc = subprocess.run([sys.executable, "-m", "bench._session_profile", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(f"profile failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- driver ---------------------------------------------------------------------------------------
def run(url: str | None = None, repeats: int = 3, sessions: int = 20, how: str = "panel", profile: bool = False,
        timeout_s: float = 180.0, progress=print, checkpoint=None) -> dict:
    """Measure cold start (`repeats` times) and memory with `sessions` sessions; returns the results.

    `checkpoint(results)` is called after each phase (the CLI writes the JSON then, so a long run
    that is interrupted keeps what it measured).
    """
    def save() -> None:
        if checkpoint is not None:
            checkpoint(results)

    url = check_warehouse(url)
    results: dict = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "warehouse": url, "how": how,
                     "repeats": repeats}
    with chromium() as browser:
        results["machine"] = machine_info(browser.version)
        runs = []
        for i in range(repeats):
            runs.append(cold_start_once(browser, url, how, timeout_s))
            progress(f"  cold start {i + 1}/{repeats}: {runs[-1]['total_s']:.2f} s "
                     f"(http {runs[-1]['http_s']:.2f} + session {runs[-1]['session_s']:.2f} "
                     f"+ client {runs[-1]['client_s']:.2f}); warm page {runs[-1]['warm_page_s']:.2f} s")
        keys = ["total_s", "http_s", "gap_s", "page_s", "session_s", "client_s", "dom_content_loaded_s",
                "warm_page_s", "rss_mb_after_first_page"]
        results["cold_start"] = {
            "median": {k: round(statistics.median(r[k] for r in runs), 3) for k in keys},
            "stats": {k: summary_stats([r[k] for r in runs]) for k in keys},
            "runs": runs,
        }
        save()
        if sessions:
            progress(f"  memory: opening {sessions} sessions …")
            results["memory"] = memory(browser, url, sessions, timeout_s, progress=progress)
            save()
    if profile:
        progress("  profiling one session's creation in a fresh interpreter …")
        results["session_profile"] = profile_session(url)
        save()
    return results


def format_table(results: dict) -> str:
    m = results["cold_start"]["median"]
    lines = [f"cold start ({results['how']}, median of {results['repeats']}; target <= 3 s)",
             f"  {'total s':>8} {'http s':>7} {'session s':>10} {'client s':>9} {'warm page s':>12}",
             f"  {m['total_s']:>8.2f} {m['http_s']:>7.2f} {m['session_s']:>10.2f} {m['client_s']:>9.2f} "
             f"{m['warm_page_s']:>12.2f}"]
    mem = results.get("memory")
    if mem:
        lines += ["server RSS (MB; target <= 30 MB per extra session)",
                  f"  {'idle':>7} {'1 session':>10} {str(mem['sessions']) + ' sessions':>12} {'closed':>8} "
                  f"{'MB/extra session':>17}",
                  f"  {mem['rss_mb_idle']:>7.0f} {mem['rss_mb_1_session']:>10.0f} {mem['rss_mb_n_sessions']:>12.0f} "
                  f"{mem['rss_mb_after_close']:>8.0f} {mem['mb_per_extra_session'] or float('nan'):>17.1f}"]
    prof = results.get("session_profile")
    if prof:
        lines += [f"one session in a fresh interpreter: import panel {prof['import_panel_s']:.2f} s, "
                  f"dashboard {prof['import_dashboard_s']:.2f} s; create_app {prof['session_1_create_app_s']:.2f} s "
                  f"(2nd: {prof['session_2_create_app_s']:.2f} s), Bokeh document {prof['session_1_document_s']:.2f} s "
                  f"(2nd: {prof['session_2_document_s']:.2f} s), {prof['models_per_session']} models",
                  f"  {'view':<40} {'query s':>8} {'build s':>8} {'models s':>9} {'models':>7}"]
        lines += [f"  {v['view']:<40} {v['query_s']:>8.3f} {v['build_s']:>8.3f} {v['bokeh_models_s']:>9.3f} "
                  f"{v['models']:>7}" for v in prof["views"]]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=None, help="warehouse SQLAlchemy URL (default: the dashboard's default warehouse)")
    p.add_argument("--repeats", type=int, default=3, help="cold starts to measure (median reported)")
    p.add_argument("--sessions", type=int, default=20, help="sessions for the memory figure (0: skip)")
    p.add_argument("--how", choices=("panel", "python"), default="panel",
                   help="panel: `panel serve serve.py` (README); python: `python serve.py`")
    p.add_argument("--profile", action="store_true", help="also time one session's creation view by view")
    p.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for a full render")
    args = p.parse_args()
    run_and_report("serving", lambda checkpoint: run(args.url, args.repeats, args.sessions, args.how, args.profile, args.timeout, checkpoint=checkpoint), format_table)


if __name__ == "__main__":
    main()
