"""A real `panel serve serve.py` on localhost and headless Debian Chromium driven by Playwright."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LOCAL = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:", "about:")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env_overrides: dict[str, str], command: list[str] | None = None, path: str = "/serve",
                 extra_args: tuple[str, ...] = ()):
    """Start `panel serve serve.py [extra_args]` (or `command`) on a free port; returns (process, url, log path)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    env.update(env_overrides)
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"server-{port}.log"
    command = command or [sys.executable, "-m", "panel", "serve", "serve.py", "--warm", "--address", "127.0.0.1",
                          "--allow-websocket-origin", f"127.0.0.1:{port}", *extra_args]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command + ["--port", str(port)], cwd=ROOT, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    deadline = time.time() + 180  # --warm runs the app once before the server listens
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=2)
            return proc, f"http://127.0.0.1:{port}{path}", log_path
        except urllib.error.HTTPError:  # any HTTP answer means the server is up
            return proc, f"http://127.0.0.1:{port}{path}", log_path
        except Exception:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError(f"server did not start: {log_path.read_text()[-3000:]}")


def stop_server(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


SERVER_LOGS: list[Path] = []  # of the shared server, for a failing test's report


@pytest.fixture(scope="session")
def server(warehouse_url):
    """`panel serve serve.py` against the small test warehouse; yields the app URL (one server for
    every module that only reads: starting one with --warm costs 10-30 s)."""
    proc, url, log = start_server({"DASHBOARD_DATABASE_URL": warehouse_url})
    SERVER_LOGS.append(log)
    yield url
    stop_server(proc)
    SERVER_LOGS.remove(log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing browser test's report ends with the server log's last lines (CI keeps no files)."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and "server" in getattr(item, "fixturenames", ()) and SERVER_LOGS:
        tail = SERVER_LOGS[-1].read_text(errors="replace").splitlines()[-40:]
        report.sections.append(("server log (last 40 lines)", "\n".join(tail)))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


DEEP_TEXT_JS = """() => { const out = [];
  const walk = (n) => { if (n.shadowRoot) walk(n.shadowRoot);
    for (const c of n.childNodes) { if (c.nodeType === 3) out.push(c.textContent); else walk(c); } };
  walk(document.body); return out.join(' ').replace(/\\s+/g, ' '); }"""

# The status lines of the 13 charts, in page order (the drill-down table has one too: not counted).
VIEW_SUMMARIES = ".view-card:not(.detail-card) .view-summary div"


def page_text(page) -> str:
    """All text of the page, including what Panel renders inside shadow roots."""
    return page.evaluate(DEEP_TEXT_JS)


class Page:
    """A browser tab that records console errors and blocks (and records) non-local requests."""

    def __init__(self, browser, width=1600, height=1000):
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.console_errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.route("**/*", self._route)

    def _route(self, route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()


@pytest.fixture
def tab(browser):
    t = Page(browser)
    yield t
    t.page.close()
