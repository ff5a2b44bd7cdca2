"""Views that draw with no network (banks run air-gapped): standalone HTML files and notebooks.

A served page gets Bokeh, Panel and plotly.js from `panel serve`'s own /static and the map
outline from the server (`dashboard.static`). A saved file or a notebook has no server: the
JS and CSS go inline, and the outline goes into the page as `window.PlotlyGeoAssets`, where
plotly.js looks before it fetches `<topojsonURL>/usa_110m.json`.

    from dashboard import offline
    offline.notebook()                                   # first, in a notebook
    offline.save_html(TimeHeatmap(store), "heatmap.html")
    offline.save_dashboard("dashboard.html", store)      # every view, under the store's filters
"""
from __future__ import annotations

import io
from pathlib import Path

import holoviews as hv
import panel as pn
from bokeh.document import Document
from bokeh.models import UIElement
from bokeh.resources import INLINE
from panel.io.notebook import LOAD_MIME, patch_inline_stylesheets
from panel.io.save import save
from pyviz_comms import Comm

from . import static
from .data import DataStore

OUTLINE = Path(static.__file__).parent / "topojson" / "usa_110m.json"  # scope="usa" needs only this one
# Panel's page links its favicons from cdn.holoviz.org unless the page names its own: none.
NO_ICONS = {"app_favicon": "", "apple_icon": ""}


def geo_assets_js() -> str:
    """JS giving plotly.js the US outline in the page, so the geo map fetches nothing.

    It must run before the map draws: plotly.js looks the outline up once, as it plots."""
    outline = OUTLINE.read_text().replace("</", "<\\/")  # JSON is a JS expression; no early </script>
    return ("window.PlotlyGeoAssets = window.PlotlyGeoAssets || {topojson: {}};\n"
            f"window.PlotlyGeoAssets.topojson.usa_110m = {outline};")


def notebook() -> None:
    """Load Bokeh, Panel, plotly.js and the map outline into this notebook itself: views draw offline.

    Call it before importing `dashboard.components`, whose own `hv.extension`/`pn.extension` calls
    would otherwise have the browser load them from CDNs first (the notebook default)."""
    from IPython.display import publish_display_data

    hv.extension.inline = True  # also the default of the later hv.extension call in dashboard.components
    hv.extension("bokeh", logo=False)
    pn.extension("plotly", "tabulator", inline=True)
    js = geo_assets_js()
    publish_display_data({"application/javascript": js, LOAD_MIME: js})  # as Panel publishes its own JS


def save_html(viewable, path: str | Path, title: str | None = None) -> Path:
    """One self-contained HTML file (every script and style inline) that opens from file:// offline.

    A snapshot of the data shown now: clicks cross-filter only where Python runs (served, notebook)."""
    doc = Document()
    root = pn.panel(viewable).get_root(doc, Comm())  # as Panel's own save does
    for model in root.select({"type": UIElement}):
        patch_inline_stylesheets(model)  # Panel's save links each model's CSS from its CDN; inline it
    doc.add_root(root)
    page = io.StringIO()
    save(doc, page, title=title or getattr(viewable, "title", "") or Path(path).stem, resources=INLINE,
         template_variables=NO_ICONS)
    # first thing in <head>: before plotly.js loads and long before any map draws
    html = page.getvalue().replace("<head>", f"<head>\n<script>{geo_assets_js()}</script>", 1)
    Path(path).write_text(html, encoding="utf-8")
    return Path(path)


def save_dashboard(path: str | Path, store: DataStore | None = None, title: str | None = None) -> Path:
    """Every view on one store (its filters are what the file shows), by theme, in one HTML file.

    Not the served template: saved, it loses its layout, and its sidebar widgets need a server."""
    from .app import TITLE, dashboard_views  # here: `notebook()` must be able to run before the views load

    store = store if store is not None else DataStore()
    info = store.build_info()
    body: list = [pn.pane.Markdown(f"# {title or TITLE}\n**Data as of** {info['as_of_date']:%d %b %Y} · "
                                   f"**Filters** {store.describe()}", margin=(0, 10))]
    for section, views in dashboard_views(store):
        body += [pn.pane.Markdown(f"### {section}", margin=(18, 10, 0, 10)),
                 pn.GridBox(*views, ncols=min(2, len(views)), sizing_mode="stretch_width")]
    return save_html(pn.Column(*body, sizing_mode="stretch_width"), path, title or TITLE)
