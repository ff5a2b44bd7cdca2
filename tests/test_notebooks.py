"""The example notebooks run headlessly (nbclient, a real python3 kernel) on the small test warehouse.

No cell may fail; every notebook shows views and loads nothing from a CDN (offline); what the tour
prints about its cross-filter equals the independent pandas reference, and its HTML files are written.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dashboard.app import TITLE
from dashboard.components import GeoMetricsHeatmap, MerchantSunburst, TimeHeatmap
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold

pytestmark = pytest.mark.server  # a kernel per notebook: about 30-60 s each on 2 shared cores

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
VIEW_MIME = "application/vnd.holoviews_exec.v0+json"
LOADER_URLS = re.compile(r"const (?:js_urls|css_urls|js_modules) = \[([^\]]*)\]")


def run(path: Path, url: str, cwd: Path) -> nbformat.NotebookNode:
    """Execute the notebook in `cwd` against the warehouse at `url`; a failing cell raises (and fails the test)."""
    nb = nbformat.read(path, as_version=4)
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))  # this checkout
    NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(cwd)}}).execute(
        env={**os.environ, "DASHBOARD_DATABASE_URL": url, "PYTHONPATH": pythonpath})
    return nb


def outputs(nb) -> list:
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]


def printed(nb) -> str:
    return "".join(o.text for o in outputs(nb) if o.output_type == "stream")


def number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not in {text!r}"
    return int(match.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def executed(warehouse_url, tmp_path_factory):
    """Runs an example notebook once, in a directory of its own (for the files it writes)."""
    done: dict[str, tuple[nbformat.NotebookNode, Path]] = {}

    def get(name: str) -> tuple[nbformat.NotebookNode, Path]:
        if name not in done:
            cwd = tmp_path_factory.mktemp(name)
            done[name] = run(ROOT / "examples" / f"{name}.ipynb", warehouse_url, cwd), cwd
        return done[name]

    return get


def test_examples_exist_with_outputs_cleared():
    assert {"tour", "geography", "time_patterns"} <= {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        assert all(not c.outputs and not c.execution_count for c in cells), path


@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOKS])
def test_notebook_shows_views_offline(executed, name):
    nb, _ = executed(name)
    outs = outputs(nb)
    assert any(o.output_type == "execute_result" and VIEW_MIME in o.data for o in outs)  # a cell's views
    texts = [v for o in outs for v in o.get("data", {}).values() if isinstance(v, str)]
    assert any("window.PlotlyGeoAssets.topojson.usa_110m = {" in t for t in texts)  # the map's outline
    loaders = [urls for t in texts for urls in LOADER_URLS.findall(t)]
    assert loaders and all(not urls.strip() for urls in loaders), "a loader fetches from a URL (a CDN)"
    assert not any(re.search(r'<(?:link|script)[^>]+(?:href|src)="https?://', t) for t in texts)


def test_tour_cross_filter_numbers_match_the_reference(executed, silver):
    nb, _ = executed("tour")
    text = printed(nb)

    def transactions(table: str, **selection) -> int:
        return int(reference_gold(silver, table, Filters(**selection))["transaction_count"].sum())

    assert number(r"All customers: ([\d,]+) transactions", text) == transactions(TimeHeatmap.table)
    assert "Filters: Segment: Premium" in text
    premium = number(r"Premium customers: ([\d,]+) transactions", text)
    assert premium == transactions(TimeHeatmap.table, customer_segment=("Premium",))
    assert 0 < premium < transactions(TimeHeatmap.table)
    # the sunburst draws segments itself: not filtered by them
    assert number(r"still shows ([\d,]+)", text) == transactions(MerchantSunburst.table)


def test_tour_saves_standalone_html(executed):
    nb, cwd = executed("tour")
    for name, title in (("premium_heatmap.html", "Premium customers: transaction times"),
                        ("dashboard.html", TITLE)):
        path = cwd / name
        assert path.stat().st_size > 1_000_000, name  # Bokeh, Panel and plotly.js inline
        html = path.read_text(encoding="utf-8")
        assert f"<title>{title}</title>" in html
        assert "window.PlotlyGeoAssets.topojson.usa_110m = {" in html
        assert f"{name}: " in printed(nb)


def test_geography_state_selection_matches_the_reference(executed, silver):
    nb, _ = executed("geography")
    match = re.search(r"([A-Z]{2}): (\d+) cities, ([\d,]+) customers", printed(nb))
    assert match, printed(nb)
    state, cities, customers = match.group(1), int(match.group(2)), int(match.group(3).replace(",", ""))
    top = reference_gold(silver, GeoMetricsHeatmap.table, Filters(state=(state,))).nlargest(
        GeoMetricsHeatmap.param.top_cities.default, "customer_count")
    assert (cities, customers) == (len(top), int(top["customer_count"].sum()))
