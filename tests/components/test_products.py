"""Product views: the cross-sell network and the affinity matrix against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here), read
through what the figures show (their Bokeh sources, tools and colour mapper), clicked the way a
browser does (a Bokeh Tap event)."""
from __future__ import annotations

import functools

import math
import re

import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.events import DoubleTap, Tap
from bokeh.models import GlyphRenderer, HoverTool, Legend, LogColorMapper, Rect, Scatter, Segment, Text
from bokeh.palettes import Turbo256

from dashboard.components.crosssell import round_ticks, short_label
from dashboard.components.affinity import AffinityMatrix
from dashboard.components.products import CrossSellNetwork, relative_holders
from dashboard.components.style import FADED_OPACITY
from dashboard.warehouse.filters import Filters
from gold_reference import reference_customers

from .helpers import EMPTY, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_product_cross_sell_patterns"
reference = functools.partial(shared_reference, table=TABLE)
SELECTIONS = {
    "none": {},
    "segment": {"customer_segment": ["Mass Market"]},
    "state": {"state": ["CA", "TX"]},
    "channel": {"channel": ["Mobile"]},
    "day_of_week": {"day_of_week": [0, 6]},
    "credit band": {"credit_score_band": ["Good"]},
}




def kept(selection: dict) -> Filters:
    """The store filters minus the views' own dimension (product)."""
    return Filters(**{d: tuple(v) for d, v in selection.items() if d != "product"})


def holders_share(silver, filters: Filters) -> pd.Series:
    """Holders of each product among the chosen customers, relative to the most-held product in pairs."""
    ids = reference_customers(silver, filters)
    acc = silver["accounts"][silver["accounts"]["customer_id"].isin(ids)]
    holders = acc.drop_duplicates(["customer_id", "product_name"]).groupby("product_name").size()
    multi = acc.groupby("customer_id")["product_name"].nunique()
    in_pairs = acc[acc["customer_id"].isin(multi[multi >= 2].index)]["product_name"].unique()
    holders = holders[holders.index.isin(in_pairs)].astype(float)
    return holders / holders.max()


def expected_network(gold: pd.DataFrame, share: pd.Series, min_customers=1, top_pairs=50) -> pd.DataFrame:
    out = gold[gold["customer_count"] >= min_customers]
    out = out.sort_values(["customer_count", "product_1", "product_2"], ascending=[False, True, True])
    out = out.head(top_pairs).drop(columns="last_updated").reset_index(drop=True)
    out["holders_index_1"] = out["product_1"].map(share)
    out["holders_index_2"] = out["product_2"].map(share)
    return out


def expected_matrix(gold: pd.DataFrame, products: list[str]) -> pd.DataFrame:
    lookup = {}
    for r in gold.itertuples(index=False):
        lookup[(r.product_1, r.product_2)] = lookup[(r.product_2, r.product_1)] = r
    paired = set(gold["product_1"]) | set(gold["product_2"])
    rows = []
    for a in products:
        for b in products:
            r = lookup.get((a, b))
            if a == b:
                count = lift = balance = np.nan
            elif r is None:
                count, balance = 0, np.nan
                lift = 0.0 if a in paired and b in paired else np.nan
            else:
                count, lift, balance = r.customer_count, r.cross_sell_score, r.avg_combined_balance
            rows.append({"product_a": a, "product_b": b, "customer_count": count, "cross_sell_score": lift,
                         "avg_combined_balance": balance})
    out = pd.DataFrame(rows)
    out["log_customers"] = np.log(1 + out["customer_count"].astype(float))
    return out


def assert_same(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(actual) == len(expected), (len(actual), len(expected))
    for col in expected.columns:
        a, e = actual[col].reset_index(drop=True), expected[col].reset_index(drop=True)
        if col in ("product_1", "product_2", "category_1", "category_2", "product_a", "product_b"):
            assert a.astype(object).tolist() == e.astype(object).tolist(), col
        elif col == "customer_count" and not e.isna().any():
            assert a.astype("int64").tolist() == e.astype("int64").tolist(), col
        else:
            np.testing.assert_allclose(a.astype(float), e.astype(float), rtol=1e-9, atol=0, equal_nan=True,
                                       err_msg=col)


def tap(view, x, y) -> None:
    """What Bokeh does with a browser click on the figure at data coordinates (x, y)."""
    view.figure._trigger_event(Tap(view.figure, x=x, y=y))


def tap_cell(matrix, a: str, b: str) -> None:
    """A click in the middle of cell (row a, column b): categorical axes give synthetic coordinates."""
    tap(matrix, matrix.figure.x_range.factors.index(b) + 0.5, matrix.figure.y_range.factors.index(a) + 0.5)


def column(view, source: str, name: str, by: str | tuple = "product") -> pd.Series:
    data = view.sources[source].data
    index = pd.MultiIndex.from_arrays([list(data[k]) for k in by]) if isinstance(by, tuple) else list(data[by])
    return pd.Series(np.asarray(data[name]), index=index)


def renderer(view, glyph_type, x_field: str | None = None) -> GlyphRenderer:
    found = [r for r in view.figure.renderers if isinstance(r.glyph, glyph_type)
             and (x_field is None or getattr(r.glyph, "x0", None) == x_field)]
    assert len(found) == 1, found
    return found[0]


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    rgb = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def distance_to_segment(px, py, ax, ay, bx, by) -> float:
    dx, dy = bx - ax, by - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0, 1) if dx or dy else 0.0
    return float(np.hypot(px - ax - t * dx, py - ay - t * dy))


@pytest.fixture(scope="module")
def products(silver) -> list[str]:
    return sorted(silver["accounts"]["product_name"].unique())


# -- (a) the frame equals the independent computation -----------------------------------------------
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_frames_match_reference(warehouse_url, silver, products, name):
    selection = SELECTIONS[name]
    store = make_store(warehouse_url, **selection)
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    gold = reference(silver, kept(selection))
    assert not gold.empty
    if selection:  # the filter bites
        assert gold["customer_count"].sum() < reference(silver)["customer_count"].sum()
    assert_same(network.frame, expected_network(gold, holders_share(silver, kept(selection))))
    assert list(network.nodes["product"]) == products  # every product, in a fixed order
    assert_same(matrix.frame, expected_matrix(gold, products))
    assert matrix.frame["customer_count"].isna().sum() == len(products)  # the diagonal is empty, not 0


def test_thresholds_are_parameters(warehouse_url, silver):
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store, min_customers=100, top_pairs=7)
    gold = reference(silver)
    share = holders_share(silver, Filters())
    assert_same(network.frame, expected_network(gold, share, 100, 7))
    network.param.update(min_customers=1, top_pairs=3)  # re-transforms on change
    assert_same(network.frame, expected_network(gold, share, 1, 3))


def test_relative_holders_is_nan_when_not_identifiable():
    bipartite = pd.DataFrame({"product_1": ["A", "A"], "product_2": ["B", "C"], "customer_count": [5, 7],
                              "cross_sell_score": [1.2, 0.9]})
    assert relative_holders(bipartite).isna().all()
    triangle = pd.DataFrame({"product_1": ["A", "A", "B"], "product_2": ["B", "C", "C"],
                             "customer_count": [30, 20, 12], "cross_sell_score": [30 * 100 / (60 * 40),
                                                                               20 * 100 / (60 * 30),
                                                                               12 * 100 / (40 * 30)]})
    np.testing.assert_allclose(relative_holders(triangle)[["A", "B", "C"]], [1, 40 / 60, 30 / 60], rtol=1e-12)


# -- (b) what the figures show: the frame, in their sources --------------------------------------------
def test_sources_show_the_frame(warehouse_url):
    store = make_store(warehouse_url, customer_segment=["Affluent"])
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    edges, frame = network.sources["edges"].data, network.frame
    assert list(edges["customer_count"]) == frame["customer_count"].tolist()
    assert list(edges["pair"]) == (frame["product_1"] + " ↔ " + frame["product_2"]).tolist()
    at = network.nodes.set_index("product")
    np.testing.assert_allclose(edges["x0"], at.loc[frame["product_1"], "x"])
    np.testing.assert_allclose(edges["y1"], at.loc[frame["product_2"], "y"])
    assert np.all(np.diff(edges["width"]) <= 0) and edges["width"].max() == 8.0  # most customers first, widest
    size = column(network, "nodes", "size")
    index = network.nodes.set_index("product")["holders_index"]
    assert list(size.index) == list(network.nodes["product"])
    assert size[index.idxmax()] == size.max() and size[index.idxmin()] == size.min()
    cells, grid = matrix.sources["cells"].data, matrix.frame
    for key in ("product_a", "product_b"):
        assert list(cells[key]) == grid[key].tolist(), key
    np.testing.assert_array_equal(cells["customers"], grid["customer_count"].astype(float).to_numpy())
    labels = [f"{int(v):,}" if not pd.isna(v) else "— (click: holders of this product)"
              for v in grid["customer_count"]]
    assert list(cells["count_label"]) == labels
    assert matrix.summarize(grid) and network.summarize(frame)


def test_product_selection_highlights_without_filtering(warehouse_url):
    store = make_store(warehouse_url, customer_segment=["Premium"])
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    before_net, before_matrix = network.frame.copy(), matrix.frame.copy()
    assert (column(network, "nodes", "alpha") == 1.0).all()

    store.select(product=["Checking Account", "Mortgage"])
    pd.testing.assert_frame_equal(network.frame, before_net)
    pd.testing.assert_frame_equal(matrix.frame, before_matrix)

    nodes = pd.DataFrame({k: column(network, "nodes", k) for k in ("alpha", "outline")})
    assert nodes.loc["Mortgage", "alpha"] == 1.0 and nodes.loc["Savings Account", "alpha"] == FADED_OPACITY
    assert nodes.loc["Mortgage", "outline"] > nodes.loc["Savings Account", "outline"]
    edges = pd.DataFrame({k: network.sources["edges"].data[k] for k in ("product_1", "product_2", "alpha", "color")})
    touching = (edges["product_1"].isin(["Checking Account", "Mortgage"])
                | edges["product_2"].isin(["Checking Account", "Mortgage"]))
    assert edges.loc[touching, "alpha"].min() > edges.loc[~touching, "alpha"].max()
    assert edges.loc[touching, "color"].nunique() == 1 and set(edges.loc[touching, "color"]).isdisjoint(
        edges.loc[~touching, "color"])

    cells = column(matrix, "cells", "alpha", by=("product_a", "product_b"))
    assert cells[("Checking Account", "Mortgage")] == cells[("Mortgage", "Checking Account")] == 1.0
    assert cells[("Checking Account", "Savings Account")] == FADED_OPACITY
    store.select(product=["Mortgage"])  # one product: its row and column
    cells = column(matrix, "cells", "alpha", by=("product_a", "product_b"))
    assert cells[("Checking Account", "Mortgage")] == cells[("Mortgage", "Auto Loan")] == 1.0
    assert cells[("Checking Account", "Savings Account")] == FADED_OPACITY
    store.select(customer_segment=["Affluent"])  # new data keeps the highlight
    assert not network.frame.equals(before_net)
    alpha = column(network, "nodes", "alpha")
    assert alpha["Mortgage"] == 1.0 and alpha["Savings Account"] == FADED_OPACITY
    assert column(matrix, "cells", "alpha", by=("product_a", "product_b"))[("Checking Account", "Savings Account")] \
        == FADED_OPACITY


def test_figures_are_built_once_and_a_highlight_runs_no_query(warehouse_url, monkeypatch):
    store = make_store(warehouse_url)
    views = (CrossSellNetwork(store), AffinityMatrix(store))

    def structure():
        return [(id(v.figure), len(v.figure.renderers), {k: id(s) for k, s in v.sources.items()},
                 [id(r.data_source) for r in v.figure.renderers], [id(t) for t in v.figure.tools]) for v in views]

    built = structure()
    assert [len(v.figure.renderers) for v in views] == [4, 1]  # edges, their hover layer, nodes, labels | cells
    store.select(customer_segment=["Premium"], state=["CA"])
    assert structure() == built
    asked: list[str] = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda table, *a, **k: asked.append(table) or fetch(table, *a, **k))
    network, matrix = views
    sizes, counts = network.sources["nodes"].data["size"], matrix.sources["cells"].data["customers"]
    store.select(product=["Mortgage"])  # the views' own dimension: the highlight only
    assert asked == [] and structure() == built
    assert column(network, "nodes", "alpha")["Credit Card"] == FADED_OPACITY
    assert network.sources["nodes"].data["size"] is sizes and matrix.sources["cells"].data["customers"] is counts
    store.select(product=[], customer_segment=["Business"])  # a filter: a query, the same figures
    assert asked and structure() == built


def test_other_filters_still_apply(warehouse_url):
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store)
    total = network.frame["customer_count"].sum()
    store.select(customer_segment=["Business"])
    assert network.frame["customer_count"].sum() < total
    assert sum(network.sources["edges"].data["customer_count"]) == network.frame["customer_count"].sum()


# -- (c) clicks, as Bokeh Tap events -------------------------------------------------------------------
def test_network_tap_selects_and_clears_a_product(warehouse_url):
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store)
    node = network.nodes.set_index("product").loc["Credit Card"]
    tap(network, node["x"] + 0.05, node["y"] - 0.05)
    assert store.product == ["Credit Card"] and store.origin["product"] == network.title
    tap(network, node["x"], node["y"])  # the same node again clears
    assert store.product == []
    tap(network, 0.0, 0.0)  # the middle of the circle: no node
    tap(network, 1.9, -1.4)
    assert store.product == []
    assert network.selection_from_tap(0.0, 0.0) is None
    tap(network, node["x"], node["y"])
    network.figure._trigger_event(DoubleTap(network.figure, x=0.0, y=0.0))  # a double-click resets
    assert store.product == []


def test_matrix_tap_selects_pair_or_product(warehouse_url):
    store = make_store(warehouse_url)
    matrix = AffinityMatrix(store)
    tap_cell(matrix, "Checking Account", "Savings Account")
    assert store.product == ["Checking Account", "Savings Account"]
    tap_cell(matrix, "Savings Account", "Checking Account")  # the mirror cell is the same pair: clears
    assert store.product == []
    tap_cell(matrix, "Mortgage", "Mortgage")
    assert store.product == ["Mortgage"]
    tap_cell(matrix, "Mortgage", "Mortgage")
    assert store.product == []
    n = len(matrix.figure.x_range.factors)
    tap(matrix, n + 0.5, 0.5)  # beyond the last column
    assert store.product == [] and matrix.selection_from_tap(-0.5, 0.5) is None
    # the top row is the first product (the y axis reads downwards)
    assert matrix.selection_from_tap(0.5, n - 0.5) == {"product": [matrix.figure.x_range.factors[0]]}


def test_views_follow_each_other(warehouse_url):
    store = make_store(warehouse_url)
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    tap_cell(matrix, "Auto Loan", "Mortgage")
    alpha = column(network, "nodes", "alpha")
    assert alpha["Auto Loan"] == alpha["Mortgage"] == 1.0
    assert alpha["Credit Card"] == FADED_OPACITY


# -- (d) one tooltip per mark, words a banker reads ------------------------------------------------------
def test_a_node_has_one_tooltip_and_no_edge_hover_reaches_it(warehouse_url):
    """The node hover is bound to the nodes alone, the edge hover to a layer of edge pieces that stays
    off every node's disc (plus the hover's reach) on a half-width card at 1280 px and wider: a pointer
    on a node shows one tooltip, not one per edge as well."""
    network = CrossSellNetwork(make_store(warehouse_url))
    nodes, hits = renderer(network, Scatter), renderer(network, Segment, "hx0")
    drawn, labels = renderer(network, Segment, "x0"), renderer(network, Text)
    hovers = [t for t in network.figure.tools if isinstance(t, HoverTool)]
    assert sorted(tuple(id(r) for r in t.renderers) for t in hovers) == sorted([(id(nodes),), (id(hits),)])
    assert all(t.limit == 1 for t in hovers)  # crossing edges: one tooltip too
    assert not any(r in t.renderers for t in hovers for r in (drawn, labels))
    assert hits.glyph.line_alpha == 0 and hits.data_source is drawn.data_source

    data = network.sources["edges"].data
    x, y = network.sources["nodes"].data["x"], network.sources["nodes"].data["y"]
    radius = np.asarray(network.sources["nodes"].data["size"]) / 2
    kept = np.isfinite(data["hx0"])
    assert kept.mean() >= 0.9, kept.mean()  # nearly every pair can be hovered
    for width, height in ((400, 440), (1200, 440)):
        sx, sy = width / (2 * network.X_HALF), height / (2 * network.Y_HALF)  # px per data unit
        for i in np.flatnonzero(kept):
            reach = max(2.0, data["hit_width"][i] / 2)  # Bokeh's segment hit test
            piece = (data["hx0"][i] * sx, data["hy0"][i] * sy, data["hx1"][i] * sx, data["hy1"][i] * sy)
            for k in range(len(x)):
                gap = distance_to_segment(x[k] * sx, y[k] * sy, *piece)
                assert gap >= radius[k] + reach, (data["pair"][i], network.nodes["product"][k], gap, width)
    for i in np.flatnonzero(kept):  # each piece lies on its own edge
        (ax, ay, bx, by), (px, py, qx, qy) = ((data[k][i] for k in keys) for keys in
                                              (("x0", "y0", "x1", "y1"), ("hx0", "hy0", "hx1", "hy1")))
        for cx, cy in ((px, py), (qx, qy)):
            assert distance_to_segment(cx, cy, ax, ay, bx, by) < 1e-9


def test_hovers_say_what_a_banker_reads(warehouse_url, silver):
    network, matrix = CrossSellNetwork(make_store(warehouse_url)), AffinityMatrix(make_store(warehouse_url))
    share = holders_share(silver, Filters())
    top = share.idxmax()
    holders = column(network, "nodes", "holders_label")
    assert holders[top] == "the most held product"
    for product, value in share.drop(top).items():
        assert holders[product] == f"{value:.0%} as many as {top} (the most held)", product
    tips = {label: field for tool in (*network.figure.tools, *matrix.figure.tools) if isinstance(tool, HoverTool)
            for label, field in tool.tooltips}
    assert tips["Holders"] == "@holders_label" and tips["Avg combined balance of the two products"] == "@balance_label"
    assert "Avg combined balance" not in tips  # the old wording, without saying whose balance
    for view, source, frame in ((network, "edges", network.frame), (matrix, "cells", matrix.frame)):
        said = list(view.sources[source].data["balance_label"])
        balance = frame["avg_combined_balance"]
        want = ["n/a" if pd.isna(v) else f"-${-v:,.0f} (negative = owed to the bank)" if v < 0 else f"${v:,.0f}"
                for v in balance]
        assert said == want and (balance < 0).any() and (balance > 0).any()


# -- (e) legibility: contrast per theme, labels inside, the matrix's colours and axes -------------------
# Panel's dark Bokeh theme paints the plot #2b3035 and its border #212529 (checked below against Panel)
DARK_BACKGROUNDS = ("#2b3035", "#212529")


@pytest.mark.parametrize("theme, backgrounds", [("dark", DARK_BACKGROUNDS), ("default", ("#ffffff",))])
def test_labels_and_emphasis_read_on_the_theme(warehouse_url, monkeypatch, theme, backgrounds):
    """Product names at least 4.5:1 against the plot (WCAG AA for text), the selected node's outline and
    the emphasised edges at least 3:1 (non-text)."""
    from panel.theme.base import DarkTheme
    assert DarkTheme.param.bokeh_theme.default._json["attrs"]["Plot"]["background_fill_color"] == DARK_BACKGROUNDS[0]
    monkeypatch.setattr(pn.config, "theme", theme)
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store)
    store.select(product=["Mortgage"])
    label = renderer(network, Text).glyph.text_color
    outline = renderer(network, Scatter).glyph.line_color
    edges = network.sources["edges"].data
    (emphasis,) = set(np.asarray(edges["color"])[np.asarray(edges["alpha"]) > 0.5])  # the edges of Mortgage
    for background in backgrounds:
        assert contrast(label, background) >= 4.5, (label, background)
        assert contrast(outline, background) >= 3 and contrast(emphasis, background) >= 3, (outline, emphasis)


@pytest.mark.parametrize("width, height", [(400, 440), (1200, 440)])  # a half-width card at 1280 px; full width
def test_every_label_and_node_lies_inside_the_plot(warehouse_url, width, height):
    """Labels (11 px, a character at most 0.62 em, lines 1.2 em) and nodes fit in the frame and keep off
    every node; the legend is outside the frame, below it, so it covers nothing."""
    network = CrossSellNetwork(make_store(warehouse_url))
    fig, labels, nodes = network.figure, network.sources["labels"].data, network.sources["nodes"].data
    x0, x1, y0, y1 = fig.x_range.start, fig.x_range.end, fig.y_range.start, fig.y_range.end

    def to_px(x, y):  # the frame's top left is (0, 0), y down
        return (np.asarray(x) - x0) / (x1 - x0) * width, (y1 - np.asarray(y)) / (y1 - y0) * height
    font = float(renderer(network, Text).glyph.text_font_size.removesuffix("px"))
    cx, cy = to_px(nodes["x"], nodes["y"])
    radius = np.asarray(nodes["size"]) / 2
    assert np.all(cx - radius >= 0) and np.all(cx + radius <= width) and np.all(cy - radius >= 0)
    assert np.all(cy + radius <= height)
    ax, ay = to_px(labels["x"], labels["y"])
    for i, text in enumerate(labels["text"]):
        lines = text.split("\n")
        w, h = max(map(len, lines)) * 0.62 * font, len(lines) * 1.2 * font
        sx, sy = ax[i] + labels["dx"][i], ay[i] + labels["dy"][i]
        left = {"left": sx, "right": sx - w, "center": sx - w / 2}[labels["align"][i]]
        top = {"top": sy, "bottom": sy - h, "middle": sy - h / 2}[labels["baseline"][i]]
        assert 0 <= left and left + w <= width and 0 <= top and top + h <= height, (text, left, top, w, h)
        nearest_x, nearest_y = np.clip(cx, left, left + w), np.clip(cy, top, top + h)
        assert np.all(np.hypot(cx - nearest_x, cy - nearest_y) >= radius), text  # on no node
    assert [type(m) for m in fig.below] == [Legend] and not any(isinstance(m, Legend) for m in fig.center)


def test_long_names_are_wrapped_and_cut():
    assert short_label("Certificate of Deposit") == "Certificate\nof Deposit"
    assert short_label("Premium Credit Card") == "Premium\nCredit Card"
    assert short_label("Mortgage") == "Mortgage"
    for name in ("<img src=x onerror=alert(1)>", "Supercalifragilisticexpialidocious", "A B C D E F G H I J K L M N"):
        lines = short_label(name).split("\n")
        assert len(lines) <= 2 and max(map(len, lines)) <= 12, lines


def test_matrix_colours_are_sequential_on_a_log_scale_with_round_ticks(warehouse_url):
    store = make_store(warehouse_url, customer_segment=["Mass Market"])
    matrix = AffinityMatrix(store)
    cells = renderer(matrix, Rect)
    mapper = cells.glyph.fill_color.transform
    assert isinstance(mapper, LogColorMapper) and list(mapper.palette) != list(Turbo256)
    steps = np.diff([luminance(c) for c in mapper.palette][::16])  # sequential: lightness one way (Turbo fails)
    assert np.all(steps > 0) or np.all(steps < 0)
    counts = matrix.frame["customer_count"].astype(float)
    assert mapper.low == counts[counts > 0].min() and mapper.high == counts.max()
    assert mapper.nan_color != mapper.low_color  # the diagonal is not "nobody"
    bar = next(m for m in matrix.figure.below if type(m).__name__ == "ColorBar")
    ticks = bar.ticker.ticks
    assert len(ticks) >= 3 and all(mapper.low <= t <= mapper.high for t in ticks)
    assert all(re.fullmatch(r"[125]0*", str(int(t))) for t in ticks), ticks  # 10, 20, 50, 100 …, not e^k
    assert bar.formatter.format == "0,0"
    store.select(customer_segment=["Business"], state=["CA"])  # limits follow the frame
    counts = matrix.frame["customer_count"].astype(float)
    assert mapper.high == counts.max() and all(mapper.low <= t <= mapper.high for t in bar.ticker.ticks)


def test_round_ticks():
    assert round_ticks(1, 20_000) == [1, 10, 100, 1_000, 10_000]
    assert round_ticks(10, 830) == [10, 20, 50, 100, 200, 500]
    narrow = round_ticks(402, 480)  # less than a decade: linear round steps
    assert len(narrow) >= 3 and all(t % 10 == 0 and 402 <= t <= 480 for t in narrow)
    assert 2 <= len(round_ticks(5, 7.5)) <= 8


def test_matrix_axis_labels_do_not_pile_up(warehouse_url):
    """Rotated 45-90° in a small font, neighbouring column labels stay a line apart on a half-width card
    at 1280 px (about 430 px wide, minus the row labels)."""
    matrix = AffinityMatrix(make_store(warehouse_url))
    xaxis, yaxis = matrix.figure.xaxis[0], matrix.figure.yaxis[0]
    angle = xaxis.major_label_orientation
    assert math.pi / 4 <= angle <= math.pi / 2
    font = float(xaxis.major_label_text_font_size.removesuffix("px"))
    assert font <= 10 and float(yaxis.major_label_text_font_size.removesuffix("px")) <= 10
    factors = matrix.figure.x_range.factors
    column_px = (430 - max(map(len, factors)) * 0.62 * font) / len(factors)
    assert column_px * math.sin(angle) >= 1.2 * font, column_px


# -- (f) empty selection ---------------------------------------------------------------------------------
def test_empty_selection_shows_message(warehouse_url):
    store = make_store(warehouse_url, **EMPTY)
    views = (CrossSellNetwork(store), AffinityMatrix(store))
    for view in views:
        assert view.frame.empty and view._message.shown
    store.select(state=[], city=[], region=[])  # back to data
    for view in views:
        assert not view.frame.empty and not view._message.shown
        assert len(next(iter(view.sources.values())).data["alpha"]) > 0
