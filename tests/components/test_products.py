"""Product views: the cross-sell network and the affinity matrix against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here)."""
from __future__ import annotations

import functools

import holoviews as hv
import numpy as np
import pandas as pd
import pytest

from dashboard.components.products import AffinityMatrix, CrossSellNetwork, relative_holders
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


def layer(overlay, kind):
    return next(el for el in overlay if isinstance(el, kind))


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


# -- (b) own dimension: highlight, don't filter -------------------------------------------------------
def test_product_selection_highlights_without_filtering(warehouse_url):
    store = make_store(warehouse_url, customer_segment=["Premium"])
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    before_net, before_matrix = network.frame.copy(), matrix.frame.copy()
    points = layer(network.render(network.frame), hv.Points).data
    assert (points["alpha"] == 1.0).all()

    store.select(product=["Checking Account", "Mortgage"])
    pd.testing.assert_frame_equal(network.frame, before_net)
    pd.testing.assert_frame_equal(matrix.frame, before_matrix)

    overlay = network.render(network.frame)
    points = layer(overlay, hv.Points).data.set_index("product")
    assert points.loc["Mortgage", "alpha"] == 1.0 and points.loc["Savings Account", "alpha"] == FADED_OPACITY
    assert points.loc["Mortgage", "outline"] > points.loc["Savings Account", "outline"]
    edges = layer(overlay, hv.Segments).data
    touching = (edges["product_1"].isin(["Checking Account", "Mortgage"])
                | edges["product_2"].isin(["Checking Account", "Mortgage"]))
    assert edges.loc[touching, "alpha"].min() > edges.loc[~touching, "alpha"].max()

    cells = matrix.render(matrix.frame).data.set_index(["product_a", "product_b"])["alpha"]
    assert cells[("Checking Account", "Mortgage")] == cells[("Mortgage", "Checking Account")] == 1.0
    assert cells[("Checking Account", "Savings Account")] == FADED_OPACITY
    store.select(product=["Mortgage"])  # one product: its row and column
    cells = matrix.render(matrix.frame).data.set_index(["product_a", "product_b"])["alpha"]
    assert cells[("Checking Account", "Mortgage")] == cells[("Mortgage", "Auto Loan")] == 1.0
    assert cells[("Checking Account", "Savings Account")] == FADED_OPACITY


def test_other_filters_still_apply(warehouse_url):
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store)
    total = network.frame["customer_count"].sum()
    store.select(customer_segment=["Business"])
    assert network.frame["customer_count"].sum() < total


# -- (c) clicks ---------------------------------------------------------------------------------
def test_network_tap_selects_and_clears_a_product(warehouse_url):
    store = make_store(warehouse_url)
    network = CrossSellNetwork(store)
    node = network.nodes.set_index("product").loc["Credit Card"]
    network._on_tap(x=node["x"] + 0.05, y=node["y"] - 0.05)
    assert store.product == ["Credit Card"] and store.origin["product"] == network.title
    network._on_tap(x=node["x"], y=node["y"])  # the same node again clears
    assert store.product == []
    network._on_tap(x=0.0, y=0.0)  # the middle of the circle: no node
    network._on_tap(x=1.9, y=-1.4)
    assert store.product == []
    assert network.selection_from_tap(0.0, 0.0) is None


def test_matrix_tap_selects_pair_or_product(warehouse_url):
    store = make_store(warehouse_url)
    matrix = AffinityMatrix(store)
    matrix._on_tap(x="Savings Account", y="Checking Account")
    assert store.product == ["Checking Account", "Savings Account"]
    matrix._on_tap(x="Checking Account", y="Savings Account")  # the mirror cell is the same pair: clears
    assert store.product == []
    matrix._on_tap(x="Mortgage", y="Mortgage")
    assert store.product == ["Mortgage"]
    matrix._on_tap(x="Mortgage", y="Mortgage")
    assert store.product == []
    assert matrix.selection_from_tap("Nope", "Mortgage") is None


def test_views_follow_each_other(warehouse_url):
    store = make_store(warehouse_url)
    network, matrix = CrossSellNetwork(store), AffinityMatrix(store)
    matrix._on_tap(x="Mortgage", y="Auto Loan")
    points = layer(network.render(network.frame), hv.Points).data.set_index("product")
    assert points.loc["Auto Loan", "alpha"] == points.loc["Mortgage", "alpha"] == 1.0
    assert points.loc["Credit Card", "alpha"] == FADED_OPACITY


# -- (d) empty selection, rendering --------------------------------------------------------------------
def test_empty_selection_shows_message(warehouse_url):
    store = make_store(warehouse_url, **EMPTY)
    views = (CrossSellNetwork(store), AffinityMatrix(store))
    for view in views:
        assert view.frame.empty and view._message.shown
    store.select(state=[], city=[], region=[])  # back to data
    for view in views:
        assert not view.frame.empty and not view._message.shown


def test_renders_to_bokeh(warehouse_url):
    store = make_store(warehouse_url, product=["Mortgage"])
    for view in (CrossSellNetwork(store), AffinityMatrix(store)):
        hv.render(view.render(view.frame))  # NaN diagonal, string columns, dim() styles all draw
        assert view.summarize(view.frame)
