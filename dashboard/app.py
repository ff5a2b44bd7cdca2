"""Assembles the served dashboard: template, filter sidebar, chips bar and the views by theme.

Only this module knows about the template (templates do not render in notebooks; the
components stay template-free). If the default embedded warehouse does not exist yet, the
first session starts building it in a background thread and shows its progress; every
session then fills in the dashboard when the build is done.
"""
from __future__ import annotations

import html
import os
import sys
import threading

import panel as pn
from markdown_it import MarkdownIt

from . import components as views
from .components.brush import brushed
from .components import theme
from .components.coordinator import Coordinator, served
from . import engines, memory, panel_writes
from .config import WarehouseError, database_url, default_duckdb_path, duckdb_path, mask_url, warehouse_name
from .data import DataStore
from .warehouse.build import READABLE, build_warehouse
from .warehouse.generate import BankSpec
from .workbook import workbook

TITLE = "Banking analytics"
SECTIONS = (
    ("Customer behaviour", ("BehaviorScatter3D", "EngagementRadar")),
    ("Time patterns", ("TimeHeatmap", "HourlyChannelArea")),
    ("Product cross-sell", ("CrossSellNetwork", "AffinityMatrix")),
    ("Merchant spending", ("MerchantSunburst", "MerchantTreemap")),
    ("Credit", ("CreditScatterMatrix", "CreditRiskBubble")),
    ("Geography", ("GeoBubbleMap", "GeoMetricsHeatmap")),
    ("Seasonality", ("SeasonalLines",)),
)
EAGER_VIEWS = 4  # the figures a 1000 px high window shows at the top: in the first paint; the rest join after it
HELP = """Click a mark in any chart to filter every other chart to it: a segment in the
sunburst or radar, a cell of the time heatmap, a product in the network, a state on the map … The chart
you clicked keeps showing everything and highlights your choice; click the same mark again, double-click
the chart or press its *Reset* to clear it. Selections add up across charts (AND); several values of one
kind combine with OR. Active filters show above the charts as chips, grouped by the chart that set them:
click a chip to remove it, *Undo* to take back the last change. The address bar holds the filters: copy it
to share this view; the browser's back and forward buttons step through your filters. Every chart's *CSV*
button downloads exactly the data it shows; *Excel workbook* gives them all, a sheet each."""


class _FirstBuild:
    """The one background build of the default warehouse in this process, with its progress text.

    The sessions are served once the warehouse is readable (silver and gold swapped in); the fast
    tables follow while they read, through the build's own engine (`engines.writing`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.status = "waiting"
        self.fraction = 0.0
        self.readable = False
        self.error: str | None = None

    def start(self, url: str) -> None:
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, args=(url,), daemon=True)
                self.thread.start()

    def _progress(self, stage: str, done: float | None = None, detail: str = "") -> None:
        self.status = f"{stage} {detail}".strip()
        if stage == READABLE:
            self.fraction, self.readable = 1.0, True
        elif done is not None and not self.readable:
            self.fraction = (0.85 * done) if stage == "transactions" else (0.85 + 0.15 * done)
        print(f"[warehouse] {self.status}", flush=True)

    def _run(self, url: str) -> None:
        try:
            with engines.writing(url) as engine:
                build_warehouse(url, first_start_spec(), progress=self._progress, engine=engine)
            self.status = "done"
        except Exception as exc:  # shown on the page if the warehouse is not readable yet
            self.error = str(exc)
            print(f"[warehouse] the build failed: {self.error}", file=sys.stderr, flush=True)

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


FIRST_BUILD = _FirstBuild()


def first_start_spec() -> BankSpec:
    """The default bank, resizable for demos and tests with DASHBOARD_BUILD_CUSTOMERS / _MONTHS."""
    default = BankSpec()
    return BankSpec(customers=int(os.environ.get("DASHBOARD_BUILD_CUSTOMERS", default.customers)),
                    months=int(os.environ.get("DASHBOARD_BUILD_MONTHS", default.months)))


def needs_first_build(url: str) -> bool:
    path = duckdb_path(url)
    missing_default = path is not None and path == default_duckdb_path() and not path.exists()
    return missing_default or (FIRST_BUILD.thread is not None and not FIRST_BUILD.readable
                               and not FIRST_BUILD.done)


def dashboard_views(store: DataStore) -> list[tuple[str, list]]:
    """Every view, grouped by theme, all sharing one store."""
    return [(title, [getattr(views, name)(store) for name in names if hasattr(views, name)])
            for title, names in SECTIONS]


def _body(store: DataStore, link: views.Permalink, sections: list[tuple[str, list]]) -> list:
    body = [link, views.FilterChips(store)]
    for title, items in sections:
        if items:
            body.append(pn.pane.Markdown(f"### {title}", margin=(18, 10, 0, 10)))
            body.append(pn.GridBox(*items, ncols=min(2, len(items)), sizing_mode="stretch_width"))
    body += [pn.pane.Markdown("### Drill to detail: the customers and transactions behind the filters",
                              margin=(18, 10, 0, 10)), views.DetailTable(store)]
    return body


def _excel_button(store: DataStore, shown: list) -> pn.widgets.FileDownload:
    """Every view's shown frame under the current filters, one sheet each."""
    def export():
        for view in shown:
            view.settle()  # a view out of sight may lag the filters
        return workbook(shown, store.describe(brushed(store)), store.url, store.build_info()["built_at"])
    return pn.widgets.FileDownload(callback=export, filename="banking_dashboard.xlsx", label="Excel workbook",
                                   color="primary", sizing_mode="stretch_width",
                                   description="Every chart's data under the current filters, a sheet each")


def _sidebar(store: DataStore, shown: list) -> list:
    """'How to use' first (below sixteen filters no new user found it), folded away in one click."""
    guide = pn.pane.HTML(f"<details open><summary><b>How to use</b></summary>{MarkdownIt().render(HELP)}</details>",
                         styles={"font-size": "0.85em"}, sizing_mode="stretch_width", margin=(0, 10))
    return [guide, _excel_button(store, shown), views.FilterSidebar(store)]


def freshness(store: DataStore) -> str:
    """The header's line: how fresh the data is and which warehouse it comes from (escaped HTML)."""
    info = store.build_info()
    full = html.escape(mask_url(store.url), quote=True)
    return (f"Data as of <b>{info['as_of_date']:%d %b %Y}</b> · built {info['built_at']:%Y-%m-%d %H:%M} UTC · "
            f"<span title='Warehouse: {full}' style='border-bottom:1px dotted; cursor:help'>"
            f"{html.escape(warehouse_name(store.url))}</span>")


_REPORTED: set[str] = set()


def _problem(text: str) -> pn.pane.Alert:
    """The problem on the page, and once per process in the server's log (with `--warm`, at start)."""
    if text not in _REPORTED:
        _REPORTED.add(text)
        print(f"[dashboard] cannot read the warehouse: {text}", file=sys.stderr, flush=True)
    return pn.pane.Alert(f"**The dashboard cannot read its warehouse.** {html.escape(text)}", alert_type="danger")


def _notify(event) -> None:
    """Dropped filter values (see DataStore.notice) as a toast, escaped: the values may be hostile.
    A notice from the session's start (a shared link's) waits until the page has loaded."""
    if not event.new:
        return

    def show() -> None:
        if pn.state.notifications is not None:
            pn.state.notifications.warning(html.escape(event.new), duration=20000)
    if pn.state.loaded:
        show()
    else:
        pn.state.onload(show)  # runs at once outside a server


def create_app(url: str | None = None) -> pn.template.BootstrapTemplate:
    """One session's dashboard (call once per session; `panel serve serve.py` does)."""
    url = database_url(url)
    memory.freeze_long_lived()
    pn.extension("plotly", "tabulator", notifications=True)
    panel_writes.install()  # served updates are written by Panel outside the document lock: none may be lost
    if pn.state.curdoc is not None and pn.state.curdoc.session_context is not None:
        pn.state.on_session_destroyed(memory.release_soon)
    main = pn.Column(sizing_mode="stretch_width")
    sidebar = pn.Column(sizing_mode="stretch_width")
    # Bootstrap rather than Fast: the Fast design pulls its font from Google, and banks run offline.
    # No global busy indicator: its class toggles re-lay out the page in the browser (0.5-1 s each
    # with 13 plots); each view's status line shows its own spinner instead.
    template = pn.template.BootstrapTemplate(
        title=TITLE, main=[main], sidebar=[sidebar], sidebar_width=330, header_background="#1f4e79",
        busy_indicator=None)
    header = pn.pane.HTML("", styles={"color": "#fff", "font-size": "0.9em"}, margin=(14, 10))
    page: dict = {"views": [], "link": None}  # what a theme switch restyles; the switch comes before `fill`
    document = pn.state.curdoc

    def switch_theme(dark: bool) -> None:
        if page["link"] is not None:
            page["link"].keep_theme(dark)
        theme.switch(document, page["views"], dark)
    template.header.extend([header, views.ThemeSwitch(switch_theme, dark=theme.is_dark(), margin=(8, 10))])

    def fill() -> None:
        try:
            store = DataStore(url)
            problems = store.check()
            if problems:
                more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
                main[:] = [_problem(problems[0] + more)]
                return
            store.param.watch(_notify, ["notice"])
            link = views.Permalink(store)  # the URL's filters, before any view queries
            sections = dashboard_views(store)
            shown = [view for _, items in sections for view in items]
            page.update(views=shown, link=link)
            sidebar[:] = _sidebar(store, shown)
            later = shown[EAGER_VIEWS:] if served() else []
            for view in later:
                view.defer()
            main[:] = _body(store, link, sections)
            if later:
                Coordinator.of(store).attach_later(later)
            header.object = freshness(store)
        except WarehouseError as exc:
            main[:] = [_problem(str(exc))]

    if needs_first_build(url):
        FIRST_BUILD.start(url)
        bar = pn.indicators.Progress(value=0, max=100, sizing_mode="stretch_width")
        text = pn.pane.Markdown("Building the embedded warehouse for the first start (about a minute) …")
        main[:] = [pn.pane.Markdown("## Preparing the warehouse"), text, bar]

        def poll() -> None:
            bar.value = int(100 * FIRST_BUILD.fraction)
            text.object = f"Building the embedded warehouse for the first start: {FIRST_BUILD.status}"
            if FIRST_BUILD.error and not FIRST_BUILD.readable:
                main[:] = [_problem(f"building it failed: {FIRST_BUILD.error}")]
                callback.stop()
            elif FIRST_BUILD.readable or FIRST_BUILD.done:  # served before the fast tables are there
                callback.stop()
                fill()

        callback = pn.state.add_periodic_callback(poll, period=500)
    else:
        fill()
    return template
