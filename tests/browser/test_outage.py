"""An outage: PostgreSQL stops while a session is open. The page says so in every view that has to
re-query (no blank page, no server crash) and heals by itself when the database is back."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from .conftest import start_server, stop_server
from .test_dashboard import HEATMAP_BOX_JS, TITLES, expected_summaries, loaded, reach, visit, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def _errors(page) -> int:
    return page.get_by_text("Cannot load this view").filter(visible=True).count()


def test_database_outage_shows_errors_and_the_page_recovers_by_itself(postgres_server, postgres_reader_url, tab):
    proc, url, log = start_server({"DASHBOARD_DATABASE_URL": postgres_reader_url})
    try:
        page = tab.page
        page.goto(url)
        before = wait_until(lambda: loaded(page), timeout=90, message="views")
        postgres_server.stop()
        try:
            box = wait_until(lambda: page.evaluate(HEATMAP_BOX_JS, "fraud_rate_pct"), message="heatmap frame")
            # Wednesday 14:00: a cell this server has not been asked, so no answer can come from its cache
            page.mouse.click(box["x0"] + 3.5 / 7 * (box["x1"] - box["x0"]), box["y0"] + 14.5 / 24 * (box["y1"] - box["y0"]))

            def every_card_says_so():  # each as it comes into sight: one out of sight asks nothing
                for i in range(len(TITLES)):
                    visit(page, i)
                    page.wait_for_timeout(100)
                return _errors(page) >= 10

            failing = wait_until(every_card_says_so, timeout=90, interval=1, message="the views to say they cannot load")
            assert failing and proc.poll() is None  # the server is still up
            assert "Traceback" not in log.read_text()
            password = make_url(postgres_reader_url).password
            assert password and password not in page.content() and password not in log.read_text()
        finally:
            postgres_server.start()
        expected = expected_summaries(postgres_reader_url, {"day_of_week": [3], "transaction_hour": [14]})
        healed = reach(page, expected)  # the cards in sight retry by themselves, the others as they are seen
        page.locator(".detail-card").evaluate("card => card.scrollIntoView()")  # the drill-down table, too
        wait_until(lambda: _errors(page) == 0, timeout=30, message="no view to say it cannot load")
        assert set(healed) == set(TITLES) and healed != before
    finally:
        stop_server(proc)
