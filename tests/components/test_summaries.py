"""Issue #16: totals differed between charts without a word why (19,835 / 19,888 / 17,283 / 20,000
customers). Each status line says what it counts: groups under a minimum left out, the largest
cities only, every customer in the segments."""
from __future__ import annotations

from dashboard.components import (BehaviorScatter3D, CreditRiskBubble, CreditScatterMatrix, EngagementRadar,
                                  GeoBubbleMap, GeoMetricsHeatmap)

from .helpers import make_store


def test_each_status_line_says_what_its_total_counts(warehouse_url):
    store = make_store(warehouse_url)
    scatter, radar, splom, risk, bubbles, heatmap = (cls(store) for cls in (
        BehaviorScatter3D, EngagementRadar, CreditScatterMatrix, CreditRiskBubble, GeoBubbleMap, GeoMetricsHeatmap))

    def customers(view):
        return f"{int(view.frame['customer_count'].sum()):,} customers"

    assert scatter.summarize(scatter.frame) == f"{len(scatter.frame):,} groups of ≥ 20 customers · {customers(scatter)}"
    assert splom.summarize(splom.frame) == f"{len(splom.frame):,} groups of ≥ 20 customers · {customers(splom)}"
    assert risk.summarize(risk.frame) == f"{len(risk.frame):,} groups · {customers(risk)}"  # no minimum: all
    assert radar.summarize(radar.frame) == f"{customers(radar)} in 4 segments"
    assert bubbles.summarize(bubbles.frame) == f"{customers(bubbles)} in the 50 largest cities"
    assert heatmap.summarize(heatmap.frame) == "the 20 largest cities"
    scatter.min_customers = 1  # the words follow the knob
    assert scatter.summarize(scatter.frame) == f"{len(scatter.frame):,} groups · {customers(scatter)}"
    assert customers(scatter) == customers(radar)  # with no minimum the two views count the same customers
