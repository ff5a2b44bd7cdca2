"""Serving for a team: with Panel's basic auth and a cookie secret, nothing but the login form is
served to a visitor who has not logged in, and a wrong password gets no further."""
from __future__ import annotations

import json
import secrets
import urllib.request

import pytest

from .conftest import page_text, start_server, stop_server
from .test_dashboard import loaded, wait_until

pytestmark = pytest.mark.browser

USER, PASSWORD = "analyst", "correct horse battery staple"


@pytest.fixture(scope="module")
def guarded(warehouse_url, tmp_path_factory):
    users = tmp_path_factory.mktemp("auth") / "users.json"
    users.write_text(json.dumps({USER: PASSWORD}))
    proc, url, log = start_server({"DASHBOARD_DATABASE_URL": warehouse_url},
                                  extra_args=("--basic-auth", str(users), "--cookie-secret", secrets.token_hex(32)))
    yield url, log
    stop_server(proc)


def _is_login_form(html: str) -> bool:
    return 'name="password"' in html and "view-card" not in html


def test_a_visitor_without_login_gets_the_form_and_no_data(guarded):
    url, _ = guarded
    for path in ("", "?customer_segment=Premium"):
        with urllib.request.urlopen(url + path, timeout=30) as response:  # redirects to the login page
            html = response.read().decode()
            assert "/login" in response.url and _is_login_form(html)
            assert "transactions" not in html and "customers" not in html


def test_wrong_password_stays_out_and_the_right_one_gets_the_dashboard(guarded, browser):
    url, log = guarded
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    try:
        page.goto(url)
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", "wrong password")
        page.click("button[type=submit]", no_wait_after=True)
        page.wait_for_url("**/login?error=*")  # Panel sends a wrong password back to the form
        page.wait_for_load_state()
        assert _is_login_form(page.content()) and "Invalid username or password" in page.content()
        page.fill("input[name=username]", USER)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]", no_wait_after=True)
        page.wait_for_url(url, timeout=90_000)  # back to the dashboard once logged in
        page.wait_for_load_state()
        shown = wait_until(lambda: loaded(page), timeout=90, message="the dashboard after login")
        assert len(shown) == 13 and "Banking analytics" in page_text(page)
        assert PASSWORD not in log.read_text()
    finally:
        page.close()
