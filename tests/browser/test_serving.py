"""Serving: `python serve.py`, the first start that builds the warehouse, and a warehouse that is not there."""
from __future__ import annotations

import sys
import urllib.request

import pytest

from .conftest import page_text, start_server, stop_server
from .test_dashboard import loaded, wait_until

pytestmark = pytest.mark.browser


def test_python_serve_py_serves_the_dashboard_at_the_root(warehouse_url, browser):
    proc, url, _ = start_server({"DASHBOARD_DATABASE_URL": warehouse_url},
                                command=[sys.executable, "serve.py"], path="/")
    try:
        html = urllib.request.urlopen(url, timeout=30).read().decode()
        assert "Banking analytics" in html
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        assert len(wait_until(lambda: loaded(page), timeout=60, message="views")) == 13
        page.close()
    finally:
        stop_server(proc)


def test_first_start_builds_the_embedded_warehouse_and_shows_progress(tmp_path, browser):
    proc, url, log = start_server({"DASHBOARD_DATA_DIR": str(tmp_path), "DASHBOARD_BUILD_CUSTOMERS": "20000",
                                   "DASHBOARD_BUILD_MONTHS": "3"})
    try:
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        page.goto(url)
        wait_until(lambda: "Preparing the warehouse" in page_text(page), interval=0.1, message="progress page")
        wait_until(lambda: "[warehouse] done" in log.read_text(), timeout=120, message="the build to finish")
        page.reload(timeout=90_000)  # a fresh load is the deterministic check (the waiting page fills itself in too, and may still be drawing)
        shown = wait_until(lambda: loaded(page), timeout=120, message="the dashboard after the build")
        assert len(shown) == 13
        assert (tmp_path / "warehouse.duckdb").exists()
        assert "[warehouse] done" in log.read_text()
        page.close()
    finally:
        stop_server(proc)


def test_a_missing_warehouse_is_said_on_the_page(tmp_path, browser):
    proc, url, _ = start_server({"DASHBOARD_DATABASE_URL": f"duckdb:///{tmp_path}/absent.duckdb"})
    try:
        page = browser.new_page()
        page.goto(url)
        text = wait_until(lambda: "cannot read its warehouse" in page_text(page)
                          and page_text(page), message="the error message")
        assert "no warehouse file" in text and "python -m dashboard.warehouse build" in text
        page.close()
    finally:
        stop_server(proc)


def test_a_wrong_database_url_is_said_at_start_in_one_line_without_the_password():
    from .conftest import free_port
    url = f"postgresql+psycopg://reader:s3cr3t-pw@127.0.0.1:{free_port()}/bank"  # nothing listens there
    proc, _, log = start_server({"DASHBOARD_DATABASE_URL": url})  # the README's command, with --warm
    try:
        line = wait_until(lambda: next((t for t in log.read_text().splitlines() if t.startswith("[dashboard]")), None),
                          timeout=60, message="the start-up line")
        assert line.startswith("[dashboard] cannot read the warehouse: cannot connect to "
                               "postgresql+psycopg://reader:***@127.0.0.1:")
        assert "s3cr3t-pw" not in log.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        stop_server(proc)
