"""What a new user tripped on (issue #16, "Wrong or broken"), checked on the served page: what the
drill-down table shows, what a click on the map selects, what the 3D view says and offers when its
threshold hides every group."""
from __future__ import annotations

import pytest

from dashboard.data import DataStore

from .test_dashboard import chips, loaded, wait_until

pytestmark = pytest.mark.browser


def detail_card(page):
    card = page.locator(".view-card", has=page.locator("h4", has_text="Behind the selection"))
    card.scroll_into_view_if_needed()
    return card


def test_the_transactions_list_shows_dates_and_times(server, tab, warehouse_url):
    """The list read 1767225546000 (epoch milliseconds) on every row."""
    page = tab.page
    page.goto(server)
    wait_until(lambda: loaded(page), timeout=60, message="views")
    card = detail_card(page)
    card.locator("button", has_text="Transactions").click()
    rows, _ = DataStore(warehouse_url).detail("transactions", 1, 25, "transaction_ts", True)
    want = [ts.strftime("%d %b %Y %H:%M") for ts in rows["transaction_ts"]]
    cells = card.locator('.tabulator-row .tabulator-cell[tabulator-field="transaction_ts"]')
    shown = wait_until(lambda: (texts := [t.strip() for t in cells.all_text_contents()]) == want and texts,
                       timeout=60, message=f"the first page's dates ({want[:2]} …)")
    assert not any(t.isdigit() for t in shown)
