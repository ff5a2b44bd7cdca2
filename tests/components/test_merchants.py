"""Merchant hierarchies: totals per node equal the reference; a click selects the clicked path."""
from __future__ import annotations

import html

import numpy as np
import pytest

from dashboard.components import MerchantSunburst, MerchantTreemap
from dashboard.data import DataStore
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold

from .helpers import EMPTY

TABLE = "analytics_merchant_spending_patterns"


@pytest.mark.parametrize("cls", [MerchantSunburst, MerchantTreemap])
@pytest.mark.parametrize("selection, filters", [
    ({}, Filters()),
    ({"credit_score_band": ["Poor", "Fair"]}, Filters(credit_score_band=("Poor", "Fair"))),
    ({"channel": ["POS"], "month": [11, 12]}, Filters(channel=("POS",), month=(11, 12))),
])
def test_spend_per_leaf_equals_the_reference(warehouse_url, silver, cls, selection, filters):
    store = DataStore(warehouse_url)
    view = cls(store)
    store.select(**selection)
    cols = [c for c, _ in cls.levels]
    want = reference_gold(silver, TABLE, filters).groupby(cols)["total_spend"].sum()
    got = view.frame.set_index(cols)["total_spend"].sort_index()
    want = want[want > 0].sort_index()
    assert list(got.index) == list(want.index)
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)


def test_sunburst_is_not_filtered_by_its_own_rings_but_highlights_them(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantSunburst(store)
    before = view.frame.copy()
    figure, colors_before = view.figure, list(view.figure.data[0].marker.colors)
    view._plot.click_data = {"points": [{"id": "Retail/Online Shopping/Premium", "label": "Premium"}]}
    assert (store.category_group, store.merchant_category, store.customer_segment) == \
        (["Retail"], ["Online Shopping"], ["Premium"])
    assert view.frame.equals(before)
    assert view.figure is figure and len(figure.data) == 1  # the same figure, re-coloured
    colors = figure.data[0].marker.colors
    ids = list(figure.data[0].ids)
    assert colors[ids.index("Retail/Online Shopping/Premium")].endswith(",1.0)")
    assert colors[ids.index("Lifestyle")].endswith(",0.25)")
    assert colors_before != list(colors)


def test_a_filter_sends_new_nodes_to_the_same_trace_and_hovers_name_each_field(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantTreemap(store)
    figure = view.figure
    store.select(customer_segment=["Business"])
    trace = figure.data[0]
    assert view.figure is figure and len(figure.data) == 1
    assert float(trace.values[0]) == pytest.approx(view.frame.loc[view.frame["region"] == trace.ids[0],
                                                                  "total_spend"].sum())
    assert "customdata" in trace.hovertemplate and "{" not in trace.hovertemplate.replace("%{", "")
    spend = [row[1] for row in trace.customdata]
    assert all(s.startswith("$") for s in spend) and len(spend) == len(trace.ids)


def test_sunburst_inner_ring_click_clears_the_deeper_rings_it_set(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantSunburst(store)
    view._plot.click_data = {"points": [{"id": "Retail/Online Shopping/Premium"}]}
    view._plot.click_data = {"points": [{"id": "Lifestyle"}]}
    assert store.category_group == ["Lifestyle"] and store.merchant_category == [] and store.customer_segment == []
    view._plot.click_data = {"points": [{"id": "Lifestyle"}]}  # again: deselect
    assert store.active() == []


def test_a_segment_set_elsewhere_survives_an_inner_ring_click(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantSunburst(store)
    store.select(origin="Customer engagement radar", customer_segment=["Business"])
    view._plot.click_data = {"points": [{"id": "Retail"}]}
    assert store.customer_segment == ["Business"] and store.category_group == ["Retail"]


def test_treemap_click_sets_region_group_and_category(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantTreemap(store)
    view._plot.click_data = {"points": [{"id": "West/Lifestyle/Travel"}]}
    assert (store.region, store.category_group, store.merchant_category) == (["West"], ["Lifestyle"], ["Travel"])
    other = MerchantSunburst(store)  # a sibling is filtered by the treemap's region
    assert other.frame["total_spend"].sum() < MerchantSunburst(DataStore(warehouse_url)).frame["total_spend"].sum()


def test_no_data_state(warehouse_url):
    store = DataStore(warehouse_url)
    view = MerchantTreemap(store)
    store.select(**EMPTY)
    assert view.frame.empty and view._message.shown


def _node(trace, *labels: str) -> int:
    """Index of the node whose path of (escaped) labels is `labels`, found through the parents."""
    index = {node_id: i for i, node_id in enumerate(trace.ids)}
    for i in range(len(trace.ids)):
        path, j = [], i
        while j is not None:
            path.insert(0, trace.labels[j])
            j = index.get(trace.parents[j])
        if path == [html.escape(v, quote=False) for v in labels]:
            return i
    raise AssertionError(f"no node {labels}")


@pytest.mark.parametrize("cls, path", [("MerchantSunburst", ("BOLD", "IMG", "SEGMENT")),
                                       ("MerchantTreemap", ("QUOTES", "BOLD", "SCRIPT"))])
def test_names_with_markup_or_slashes_show_as_text_and_click_back(hostile_url, cls, path):
    """plotly.js reads <b>, <i>, &amp; … in labels as formatting: they go there escaped. A click's node
    id is looked up, not split at '/': '</div><b>bold</b>' holds slashes."""
    import hostile_warehouse as hostile
    from dashboard import components
    view_class = getattr(components, cls)
    path = tuple(getattr(hostile, name) for name in path)
    store = DataStore(hostile_url)
    view = view_class(store)
    trace = view.figure.data[0]
    hostile.assert_shown_as_text(view.figure, path)
    i = _node(trace, *path)
    view._plot.click_data = {"points": [{"id": trace.ids[i], "label": trace.labels[i]}]}
    assert [getattr(store, dim) for _, dim in view_class.levels] == [[v] for v in path]
