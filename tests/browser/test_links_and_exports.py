"""What users keep and take away, in a real browser: a link reopens the same filtered dashboard,
back/forward and Undo step through filters, hostile links are refused, the theme switch keeps the
filters, and the CSV and Excel downloads and the drill-down table hold exactly what the views show."""
from __future__ import annotations

import io
import re
import time
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from dashboard.data import DataStore
from dashboard.workbook import column_label

from .conftest import Page, page_text
from .test_dashboard import VIEW_CLASSES, address, chips, reach, ready, wait_until

pytestmark = pytest.mark.browser

LINK = "?customer_segment=Business&day_of_week=6"
LINK_CHIPS = ["Segment: Business", "Day of week: Saturday"]
HEATMAP = "Transaction time heatmap"
CLICKED = LINK + "&set_by=day_of_week%3ATransaction+time+heatmap"  # the day set by a click in the heatmap


def expected_views(url: str, selection: dict) -> list:
    store = DataStore(url)
    store.select(**selection)
    return [cls(store) for cls in VIEW_CLASSES]


def expected(url: str, selection: dict) -> dict[str, str]:
    return {v.title: v.summarize(v.frame) if v.frame is not None and not v.frame.empty else ""
            for v in expected_views(url, selection)}


def opened(page, url: str) -> dict[str, str]:
    page.goto(url, timeout=90_000)
    return wait_until(lambda: ready(page), timeout=90, message="all views and their figures")


def settled(page, want_chips: list[str], want: dict[str, str]) -> dict[str, str]:
    """Wait until the chips and every view's summary are what an in-process store computes."""
    wait_until(lambda: chips(page) == want_chips, timeout=60, message=f"chips {want_chips}")
    return reach(page, want)


def query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(address(page)).query)


def test_a_link_reopens_the_same_dashboard_and_back_forward_walk_the_filters(server, tab, browser, warehouse_url):
    page = tab.page
    opened(page, server + LINK)
    both = expected(warehouse_url, {"customer_segment": ["Business"], "day_of_week": [6]})
    settled(page, LINK_CHIPS, both)

    page.locator(".filter-chip button", has_text="Saturday").click()  # a new history entry each change
    business = expected(warehouse_url, {"customer_segment": ["Business"]})
    settled(page, ["Segment: Business"], business)
    assert query(page) == {"customer_segment": ["Business"]}
    page.locator("button.chip-clear").click()
    settled(page, [], expected(warehouse_url, {}))
    assert urlsplit(page.url).query == ""

    page.go_back()
    settled(page, ["Segment: Business"], business)
    page.go_back()
    settled(page, LINK_CHIPS, both)
    page.go_forward()
    settled(page, ["Segment: Business"], business)

    # the address bar, pasted into another browser tab (Playwright gives each page a context of its
    # own: no shared cookies or storage), shows the same
    other = Page(browser)
    try:
        opened(other.page, page.url)
        settled(other.page, ["Segment: Business"], business)
        assert other.console_errors == [] and other.outside == []
    finally:
        other.page.close()


def chip_groups(page) -> dict[str, str]:
    """Each chip group's title and count badge, as shown."""
    groups = page.locator(".chip-group")
    return {groups.nth(i).get_attribute("data-group"): groups.nth(i).locator(".chip-count").text_content()
            for i in range(groups.count())}


def test_undo_takes_back_clear_all_and_the_theme_switch_keeps_the_filters(server, tab, warehouse_url):
    page = tab.page
    opened(page, server + CLICKED)
    assert page.locator("button.chip-undo").count() == 0  # opening a link is not a change to undo
    page.locator("button.chip-clear").click()
    wait_until(lambda: chips(page) == [], message="chips cleared")
    page.locator("button.chip-undo").click()
    both = expected(warehouse_url, {"customer_segment": ["Business"], "day_of_week": [6]})
    settled(page, LINK_CHIPS, both)
    assert chip_groups(page) == {"Sidebar": "1", HEATMAP: "1"}  # grouped by who set them, with a count badge
    assert query(page) == {"customer_segment": ["Business"], "day_of_week": ["6"],
                           "set_by": [f"day_of_week:{HEATMAP}"]}

    page.locator("button.theme-switch:visible").first.click()  # dark in place; the filters stay in the URL
    wait_until(lambda: query(page).get("theme") == ["dark"], message="the dark theme in the URL")
    settled(page, LINK_CHIPS, both)
    assert chip_groups(page) == {"Sidebar": "1", HEATMAP: "1"}
    def dark() -> bool:  # the dark theme's stylesheets load a moment after the click
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        return sum(int(x) for x in re.findall(r"\d+", background)[:3]) < 3 * 80
    wait_until(dark, timeout=10, message="a dark page")
    assert page.locator("button.theme-switch").text_content().endswith("Light")
    page.locator(".filter-chip button", has_text="Saturday").click()  # the next change keeps the theme
    wait_until(lambda: chips(page) == ["Segment: Business"], message="chip removed")
    # the link comes in a message of its own, a moment after the chips' (a loaded machine showed the gap)
    wait_until(lambda: query(page) == {"customer_segment": ["Business"], "theme": ["dark"]}, timeout=10,
               message="the link without the removed chip, with the theme")


def test_a_hostile_link_is_cut_down_to_what_the_data_holds_with_a_notice(server, tab, warehouse_url):
    page = tab.page
    hostile = ("?customer_segment=Premium&customer_segment=%3Cimg%20src%3Dx%20onerror%3D%22window.__xss%3D1%22%3E"
               "&customer_segment=%27%20OR%201%3D1%20--&day_of_week=x&date_from=2025-13-40&foo=%3Cb%3E")
    page.goto(server + hostile, timeout=90_000)
    text = wait_until(lambda: "Ignored" in page_text(page) and page_text(page), timeout=90, message="a notice")
    settled(page, ["Segment: Premium"], expected(warehouse_url, {"customer_segment": ["Premium"]}))
    assert "Ignored filter values not in the data" in text and "Ignored in the link" in text
    assert "is not a whole number" in text and "is not a date" in text and "unknown parameter" in text
    assert page.evaluate("() => window.__xss") is None
    assert query(page) == {"customer_segment": ["Premium"]}  # the address bar now holds what is applied
    assert tab.console_errors == []


def _download(page, locator) -> bytes:
    """Click `locator` and return the file it downloads. Paced as a reader clicks: Chromium stops
    starting downloads a page asks for in quick succession (the 11th CSV ~100 ms after the 10th was
    clicked, its anchor clicked, and no download came), so each waits a moment first."""
    time.sleep(1.5)
    with page.expect_download(timeout=60_000) as info:
        locator.click()
    with open(info.value.path(), "rb") as f:
        return f.read()


def test_csv_excel_and_drill_down_hold_exactly_what_the_page_shows(server, tab, warehouse_url):
    page = tab.page
    opened(page, server + LINK)
    selection = {"customer_segment": ["Business"], "day_of_week": [6]}
    views = expected_views(warehouse_url, selection)
    settled(page, LINK_CHIPS, {v.title: v.summarize(v.frame) for v in views})

    for view in views:  # each view's CSV button
        card = page.locator(".view-card", has=page.locator("h4", has_text=view.title))
        got = pd.read_csv(io.BytesIO(_download(page, card.locator("button", has_text="CSV"))))
        want = pd.read_csv(io.StringIO(view.frame.to_csv(index=False)))
        # the same rows and columns; floats to 1e-9 (a parallel SUM may differ in its last digit)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, obj=view.title)

    book = pd.read_excel(io.BytesIO(_download(page, page.locator("button", has_text="Excel workbook"))),
                         sheet_name=None)
    about = book.pop("Filters")
    assert "Segment: Business" in about.to_string() and "Day of week: Saturday" in about.to_string()
    assert len(book) == len(views)
    for view, (name, sheet) in zip(views, book.items()):
        assert view.title.startswith(name[:25]), (view.title, name)
        want = view.frame.copy()
        for column in want.select_dtypes("datetimetz"):
            want[column] = want[column].dt.tz_convert("UTC").dt.tz_localize(None)
        for column in want.select_dtypes("number"):  # Excel numbers are floats; a missing one is empty
            want[column] = want[column].astype("float64")
        want = want.rename(columns=column_label)  # headers in words (the CSV keeps the frame's names)
        pd.testing.assert_frame_equal(sheet, want.reset_index(drop=True), check_dtype=False, check_exact=False,
                                      rtol=1e-9, obj=view.title)

    # the drill-down table: the rows the store's detail query gives for the same filters, page by page
    store = DataStore(warehouse_url)
    store.select(**selection)
    detail = page.locator(".view-card", has=page.locator("h4", has_text="Behind the selection"))
    detail.scroll_into_view_if_needed()

    def column(field):
        return detail.locator(f'.tabulator-row .tabulator-cell[tabulator-field="{field}"]').all_text_contents()

    rows, total = store.detail("customers", 1, 25, "total_spend", True)
    wait_until(lambda: column("customer_id") == [str(i) for i in rows["customer_id"]], message="customers page 1")
    assert f"Rows 1–25 of {total:,} customers" in page_text(page)
    detail.locator("button", has_text="Transactions").click()
    rows, total = store.detail("transactions", 1, 25, "transaction_ts", True)
    wait_until(lambda: column("transaction_id") == [str(i) for i in rows["transaction_id"]],
               timeout=60, message="transactions page 1")
    detail.locator("button", has_text="›").click()
    rows, _ = store.detail("transactions", 2, 25, "transaction_ts", True)
    wait_until(lambda: column("transaction_id") == [str(i) for i in rows["transaction_id"]],
               timeout=60, message="transactions page 2")
    assert f"Rows 26–50 of {total:,} transactions" in page_text(page)
    assert tab.console_errors == [] and tab.outside == []
