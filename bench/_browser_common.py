"""What the browser benchmarks share: a timed `panel serve`, headless Chromium, page state, results.

The server start/stop, Chromium launch arguments, the request-blocking tab and the view titles
come from the browser tests (`tests/browser/`), so the benchmarks drive the dashboard exactly
as the tests do. What is added here is timing: when the server process started, when it first
answered HTTP, and a page-side probe of the thirteen views (summary text, loading spinner,
drawn figure) that reads through Panel's shadow roots.
"""
from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import percentile, write_results
from dashboard.config import database_url, duckdb_path, mask_url
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, Page, free_port, page_text, stop_server
from tests.browser.test_dashboard import TITLES

N_VIEWS = len(TITLES)

__all__ = ["CHROMIUM", "FULL_RENDER_JS", "N_VIEWS", "Page", "ROOT", "Server", "TITLES", "VIEW_STATE_JS",
           "chromium", "check_warehouse",
           "machine_info", "page_text", "percentile", "rss_mb", "start_timed_server", "stop_server",
           "summary_stats", "view_state", "wait_full_render", "write_results"]


# -- the server ---------------------------------------------------------------------------------
@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    url: str  # the dashboard page
    log_path: Path
    started: float  # time.perf_counter() just before the process was spawned
    http_ready: float  # time.perf_counter() when it first answered HTTP
    command: list[str] = field(default_factory=list)

    @property
    def http_s(self) -> float:
        return self.http_ready - self.started

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text()[-chars:]
        except OSError:
            return ""

    def stop(self, keep_log: bool = False) -> None:
        stop_server(self.proc)
        if not keep_log:
            self.log_path.unlink(missing_ok=True)


def check_warehouse(url: str | None) -> str:
    """The warehouse URL to benchmark; a missing DuckDB file is an error here, not a 25 s first build."""
    url = database_url(url)
    path = duckdb_path(url)
    if path is not None and not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: build one first "
                         f"(python -m dashboard.warehouse build --url {mask_url(url)})")
    return url


def start_timed_server(warehouse_url: str, how: str = "panel", extra_args: tuple[str, ...] = (),
                       timeout: float = 120.0, poll: float = 0.02, root: Path = ROOT) -> Server:
    """Start the dashboard the way the README says and time it until it answers HTTP.

    `how="panel"`: `panel serve serve.py` (app at /serve); `how="python"`: `python serve.py` (app at /).
    Like tests/browser/conftest.start_server, but polling every 20 ms and keeping the timestamps,
    and taking extra `panel serve` options (session clean-up for the memory benchmark). `root` is
    the checkout whose dashboard is served (another one, e.g. a `git worktree` of an earlier
    commit, for a before/after comparison in one run).
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    env["DASHBOARD_DATABASE_URL"] = warehouse_url
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if how == "panel":
        command = [sys.executable, "-m", "panel", "serve", "serve.py", "--warm", "--address", "127.0.0.1", "--port", str(port),
                   "--allow-websocket-origin", f"127.0.0.1:{port}", *extra_args]
        path = "/serve"
    elif how == "python":
        if extra_args:
            raise ValueError("python serve.py takes no panel serve options")
        command = [sys.executable, "serve.py", "--port", str(port)]
        path = "/"
    else:
        raise ValueError(f"unknown way to serve: {how!r}")
    log_fd, log_name = tempfile.mkstemp(prefix=f"bench-server-{port}-", suffix=".log")
    with os.fdopen(log_fd, "w") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    probe = f"http://127.0.0.1:{port}/favicon.ico"
    deadline = started + timeout
    while time.perf_counter() < deadline:
        try:
            urllib.request.urlopen(probe, timeout=2).read()
        except urllib.error.HTTPError:  # any HTTP answer means the server is up
            pass
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(poll)
            continue
        return Server(proc, port, f"http://127.0.0.1:{port}{path}", Path(log_name), started, time.perf_counter(),
                      command)
    proc.kill()
    raise RuntimeError(f"server did not start: {Path(log_name).read_text()[-3000:]}")


def rss_mb(pid: int) -> float:
    """Resident set size of a process and all its children, in MB (10^6 bytes)."""
    import psutil
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return float("nan")
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total / 1e6


# -- the browser --------------------------------------------------------------------------------
@contextmanager
def chromium():
    """Headless Debian Chromium with the tests' launch arguments (never `playwright install`)."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# The state of the page's views, read through shadow roots; null before the document has a body.
# `cards` are the views' `.view-card`s in page order (= TITLES; not the drill-down table's), each with its summary text, whether a
# loading spinner is on in it, whether its figure is drawn (every Plotly plot in it has its SVG, or
# a Bokeh canvas has a size) and whether it says "Loading"/"Preparing". `bokehIdle`: every Bokeh
# root view has finished rendering. A full deep walk of the page (sidebar choices and Plotly SVG
# included) costs ~50 ms and would slow the page it measures, so the walk skips the plots'
# insides, and once every view is drawn the elements it found are kept on `window` and re-read
# (a few hundred elements) until one of them leaves the document.
VIEW_STATE_JS = r"""(n = 13) => {
  if (!document.body) return null;
  const kids = (x) => x.shadowRoot ? [...x.shadowRoot.children, ...x.children] : [...x.children];
  const textOf = (x) => { let t = ''; const go = (y) => {
      for (const c of (y.shadowRoot ? [...y.shadowRoot.childNodes, ...y.childNodes] : y.childNodes)) {
        if (c.nodeType === 3) t += c.textContent + ' ';
        else if (c.nodeType === 1 && c.tagName !== 'STYLE' && c.tagName !== 'SCRIPT') go(c); } };
    go(x); return t.replace(/\s+/g, ' ').trim(); };
  const scan = () => {
    const cards = [];
    const find = (x) => {
      for (const c of kids(x)) {
        if (c.classList.contains('view-card') && !c.classList.contains('detail-card')) cards.push(c); else find(c); } };
    find(document.body);
    return cards.map((card) => {
      const r = {card, els: [], summary: null, plotly: [], canvases: [], text: ''};
      const visit = (e) => {
        r.els.push(e);
        const cl = e.classList;
        if (cl.contains('view-summary')) { r.summary = e; return; }
        if (cl.contains('js-plotly-plot')) { r.plotly.push(e); return; }
        if (e.tagName === 'CANVAS') { r.canvases.push(e); return; }
        if (e.tagName === 'svg' || e.tagName === 'STYLE' || e.tagName === 'SCRIPT') return;
        if (!e.shadowRoot && e.children.length === 0) r.text += e.textContent + ' ';
        for (const c of kids(e)) visit(c);
      };
      visit(card);
      return r;
    });
  };
  let cache = window.__benchCache, fresh = false;
  if (!cache || cache.length !== n || !cache.every(r => r.els.every(e => e.isConnected))) {
    cache = scan();
    fresh = true;
  }
  const cards = cache.map((r) => {
    const plotlyDrawn = r.plotly.filter(e => e._fullLayout && e.querySelector('.main-svg')).length;
    const canvas = r.canvases.filter(e => e.isConnected && e.width > 0 && e.height > 0).length;
    return {summary: r.summary ? textOf(r.summary) : '',
            loading: r.els.some(e => e.classList.contains('pn-loading') || e.classList.contains('view-updating')),
            drawn: r.plotly.length > 0 ? plotlyDrawn === r.plotly.length : canvas > 0,
            busyText: fresh ? /Loading|Preparing/.test(r.text) : false};
  });
  let bokehIdle = true;
  if (window.Bokeh && Bokeh.index) {
    for (const v of Object.values(Bokeh.index)) { if (v.has_finished && !v.has_finished()) bokehIdle = false; }
  }
  const preparing = fresh ? /Preparing the warehouse|Loading/.test(document.body.innerText || '') : false;
  // keep the elements only once the page is complete (status lines are drawn asynchronously)
  const complete = cards.length === n && cards.every(c => c.drawn && !c.busyText) && !preparing
    && cache.every(r => r.summary);
  window.__benchCache = complete ? cache : null;
  return {cards, bokehIdle, preparing, now: performance.now()};
}"""

# True when the page shows the whole dashboard: every view has a non-empty summary, a drawn
# figure, no spinner and no "Loading"/"Preparing" text, and Bokeh is idle.
FULL_RENDER_JS = r"""(n) => {
  const s = (""" + VIEW_STATE_JS + r""")(n);
  return !!s && s.cards.length === n && !s.preparing && s.bokehIdle
    && s.cards.every(c => c.summary && c.drawn && !c.loading && !c.busyText);
}"""


def view_state(page) -> dict | None:
    return page.evaluate(VIEW_STATE_JS, N_VIEWS)


def wait_full_render(page, timeout_s: float = 120.0, polling_ms: int = 50) -> float:
    """Block until every view is fully drawn; returns time.perf_counter() at that moment."""
    page.wait_for_function(FULL_RENDER_JS, arg=N_VIEWS, timeout=timeout_s * 1000, polling=polling_ms)
    return time.perf_counter()


# -- results --------------------------------------------------------------------------------------
def summary_stats(values: list[float], digits: int = 3) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": round(statistics.median(values), digits),
            "p95": round(percentile(values, 95), digits), "min": round(min(values), digits),
            "max": round(max(values), digits)}


def machine_info(browser_version: str | None = None) -> dict:
    """Where the figures were measured (the machines are shared and noisy: load average included)."""
    from importlib.metadata import PackageNotFoundError, version
    versions = {}
    for name in ("panel", "bokeh", "holoviews", "plotly", "pandas", "duckdb", "sqlalchemy", "playwright"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            pass
    info = {"machine": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "packages": versions}
    try:
        import psutil
        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    if hasattr(os, "getloadavg"):
        info["loadavg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    if browser_version:
        info["chromium"] = browser_version
    info["git"] = _git_state()
    return info


def _git_state() -> dict:
    """The commit measured and the files changed on top of it (uncommitted work is measured too)."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.rstrip()
        except (OSError, subprocess.SubprocessError):
            return ""
    return {"commit": git("rev-parse", "HEAD").strip(),
            "modified": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()]}
