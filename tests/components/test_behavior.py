"""Behaviour views: the 3D cluster scatter and the engagement radar against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here)."""
from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from bokeh.document.events import ModelChangedEvent
from bokeh.model import Model

from dashboard.components.behavior import OTHER, BehaviorScatter3D
from dashboard.components.radar import LABELS, EngagementRadar
from dashboard.components.style import FADED_OPACITY
from dashboard.warehouse import reference as ref
from gold_reference import reference_gold

from .helpers import EMPTY, click, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_customer_behavior_clusters"
reference = functools.partial(shared_reference, table=TABLE)
KEYS = ["customer_segment", "age_group", "income_bracket"]
XYZ = ["avg_transactions_90d", "avg_transaction_size", "avg_total_balance"]
RADAR = ["avg_transactions_90d", "avg_unique_categories", "avg_accounts", "mobile_usage_pct",
         "avg_satisfaction_score", "engagement_score"]


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def selections(silver) -> dict[str, dict]:
    """Store selections that concern these views: none, a customer filter, two transaction filters."""
    c = silver["customers"]
    return {
        "none": {},
        "state": {"state": [c["state"].value_counts().index[0]]},
        "age_group": {"age_group": [sorted(c["age_group"].unique())[1]]},
        "channel": {"channel": ["Mobile"]},
        "day_of_week": {"day_of_week": [0]},
    }


@pytest.fixture(scope="module")
def small_state(silver) -> dict:
    """A state whose customers all fall in groups under the 20-customer threshold (one exists in any
    warehouse with small states): the 3D scatter has nothing to draw, the radar does."""
    counts = silver["customers"]["state"].value_counts(ascending=True)
    for state in counts.index[counts >= 2]:
        gold = reference(silver, {"state": [state]}, BehaviorScatter3D.own)
        if not gold.empty and gold["customer_count"].max() < 20:
            return {"state": [state]}
    pytest.skip("no state has only groups under 20 customers")


def drawn(trace, coordinate: str = "x") -> np.ndarray:
    """Which points of a trace Plotly draws (a NaN coordinate is drawn nowhere)."""
    return ~np.isnan(np.asarray(getattr(trace, coordinate), dtype=float))


def points(fig, coordinate: str = "x") -> list[tuple[tuple, float]]:
    """(the first three customdata fields, the trace's opacity) of every point drawn."""
    out = []
    for trace in fig.data:
        opacity = trace.marker.opacity if trace.type == "scatter3d" else trace.opacity
        out += [(tuple(cd[:3]), opacity) for cd, on in zip(trace.customdata, drawn(trace, coordinate)) if on]
    return out


def counting_fetch(store, monkeypatch) -> list[str]:
    asked: list[str] = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda table, *rest: asked.append(table) or fetch(table, *rest))
    return asked


def assert_frame_matches(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    """Same key rows; integer columns exact, float columns to rel 1e-9 (NaN == NaN)."""
    assert len(actual) == len(expected), (len(actual), len(expected))
    a = actual.sort_values(keys).reset_index(drop=True)
    e = expected.sort_values(keys).reset_index(drop=True)
    for k in keys:
        assert a[k].astype(object).tolist() == e[k].astype(object).tolist(), k
    for col in e.columns:
        if col in keys:
            continue
        if pd.api.types.is_integer_dtype(e[col]):
            assert a[col].astype("int64").tolist() == e[col].astype("int64").tolist(), col
        else:
            np.testing.assert_allclose(a[col].astype(float), e[col].astype(float), rtol=1e-9, atol=0,
                                       equal_nan=True, err_msg=col)



def expected_scatter(gold: pd.DataFrame, min_customers: int = 20) -> pd.DataFrame:
    keep = (gold["customer_count"] >= min_customers) & gold[XYZ].notna().all(axis=1)
    return gold.loc[keep, KEYS + ["customer_count"] + XYZ + ["engagement_score"]]


def expected_radar(gold: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for segment in gold["customer_segment"].unique():
        g = gold[gold["customer_segment"] == segment]
        row = {"customer_segment": segment, "customer_count": int(g["customer_count"].sum())}
        for col in RADAR:
            # customer-weighted; Mobile % weighted by the group's transactions (pooled share)
            w = g["customer_count"] * (g["avg_transactions_90d"] if col == "mobile_usage_pct" else 1)
            ok = g[col].notna() & (w > 0)
            row[col] = np.average(g.loc[ok, col], weights=w[ok]) if w[ok].sum() > 0 else np.nan
        rows.append(row)
    out = pd.DataFrame(rows)
    for col in RADAR:
        out[col + "_index"] = out[col] / out[col].max() * 100
    return out


# -- 3D scatter ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "state", "channel", "day_of_week"])
def test_scatter_frame_equals_reference(warehouse_url, silver, selections, name):
    view = BehaviorScatter3D(make_store(warehouse_url, **selections[name]))
    expected = expected_scatter(reference(silver, selections[name], BehaviorScatter3D.own))
    assert not expected.empty
    assert_frame_matches(view.frame, expected, KEYS)
    assert not view._message.shown
    # what is drawn: one bubble per row of the frame, where the frame puts it
    shown = {cd[:3]: (x, y, z) for t in view.figure.data for cd, x, y, z, on in
             zip(map(tuple, t.customdata), t.x, t.y, t.z, drawn(t)) if on}
    assert len(shown) == sum(drawn(t).sum() for t in view.figure.data) == len(view.frame)
    for row in view.frame.itertuples(index=False):
        assert shown[(row.customer_segment, row.age_group, row.income_bracket)] == pytest.approx(
            (row.avg_transactions_90d, row.avg_transaction_size, row.avg_total_balance))


def test_scatter_threshold_is_a_parameter(warehouse_url, silver):
    view = BehaviorScatter3D(make_store(warehouse_url))
    gold = reference_gold(silver, TABLE)
    view.min_customers = 1
    assert_frame_matches(view.frame, expected_scatter(gold, 1), KEYS)
    assert sum(drawn(t).sum() for t in view.figure.data) == len(expected_scatter(gold, 1))
    view.min_customers = 30
    assert_frame_matches(view.frame, expected_scatter(gold, 30), KEYS)
    assert sum(drawn(t).sum() for t in view.figure.data) == len(expected_scatter(gold, 30))
    assert len(expected_scatter(gold, 30)) < len(expected_scatter(gold, 1))


def test_scatter_bubble_area_is_proportional_to_customers(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url))
    size = {tuple(cd[:3]): s for t in view.figure.data
            for cd, s, on in zip(t.customdata, t.marker.size, drawn(t)) if on}
    counts = view.frame.set_index(KEYS)["customer_count"]
    got = np.array([size[k] for k in counts.index])
    np.testing.assert_allclose(got ** 2 / counts.to_numpy(), (got.max() ** 2) / counts.max(), rtol=1e-9)
    assert got.max() == pytest.approx(BehaviorScatter3D.BUBBLE_PX)


def test_scatter_has_a_lit_and_a_faded_trace_per_segment_known_at_build(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url))
    names = [t.name for t in view.figure.data]
    slots = list(ref.SEGMENTS) + [OTHER]  # the small warehouse has no segment of its own
    assert names == [s for s in slots for _ in (0, 1)]
    assert [t.marker.opacity for t in view.figure.data] == [0.85, FADED_OPACITY] * len(slots)
    assert [t.showlegend for t in view.figure.data] == [True, False] * len(slots)  # one legend entry each


def test_scatter_own_dimensions_highlight_not_filter(warehouse_url):
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    before = view.frame.copy()
    assert {o for _, o in points(view.figure)} == {0.85}
    store.select(customer_segment=["Premium"])
    pd.testing.assert_frame_equal(view.frame, before)
    shown = dict(points(view.figure))
    assert len(shown) == len(points(view.figure)) == len(before)  # each bubble drawn once
    assert all(o == (0.85 if key[0] == "Premium" else FADED_OPACITY) for key, o in shown.items())
    first = before.iloc[0]
    store.select(customer_segment=[first.customer_segment], age_group=[first.age_group],
                 income_bracket=[first.income_bracket])
    pd.testing.assert_frame_equal(view.frame, before)
    shown = dict(points(view.figure))
    assert [k for k, o in shown.items() if o == 0.85] == [tuple(first[KEYS])]
    # every segment keeps its legend entry (its lit trace's) although none of its bubbles is lit:
    # plotly.js drops the entry of a zero-length trace, not of one whose points are all NaN
    present = set(before["customer_segment"])
    assert all(len(t.x) > 0 for t in view.figure.data[::2] if t.name in present)


def test_scatter_click_sets_segment_age_income_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    view.click_debounce = 0  # a deliberate second click (the repeat test is below)
    curve, trace = 2, view.figure.data[2]  # Affluent, lit
    assert drawn(trace)[0]
    point = {"curveNumber": curve, "pointNumber": 0, "x": trace.x[0], "y": trace.y[0], "z": trace.z[0],
             "marker.size": trace.marker.size[0], "customdata": list(trace.customdata[0])}
    click(view, point)
    segment, age, income = trace.customdata[0][:3]
    assert (store.customer_segment, store.age_group, store.income_bracket) == ([segment], [age], [income])
    assert store.origin["age_group"] == view.title
    click(view, point)  # the same bubble again clears the three dimensions
    assert (store.customer_segment, store.age_group, store.income_bracket) == ([], [], [])
    click(view, {"curveNumber": 0, "pointNumber": 0, "x": 1.0, "y": 2.0, "z": 3.0})  # no customdata
    assert store.active() == []


def test_scatter_repeated_3d_click_event_is_one_click(warehouse_url):
    """A 3D scene sends plotly_click on every frame while the button is held: one toggle only."""
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    trace = view.figure.data[0]
    point = {"curveNumber": 0, "pointNumber": 0, "customdata": list(trace.customdata[0])}
    for _ in range(3):
        click(view, point)
    assert store.customer_segment == [trace.customdata[0][0]]
    click(view, {"curveNumber": 0, "pointNumber": 0})  # a stale frame after the redraw: ignored
    assert store.customer_segment == [trace.customdata[0][0]]


def test_scatter_nan_rows_dropped_and_drawn_safely(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    gold.loc[gold.index[:3], "avg_transaction_size"] = np.nan
    gold.loc[gold.index[3:5], "engagement_score"] = np.nan
    view.min_customers = 1
    out = view.transform(gold)
    assert len(out) == gold["avg_transaction_size"].notna().sum()
    traces = view.traces(out)
    assert len(traces) == len(view.figure.data)
    engagement = view.HOVER.fields.index("engagement")
    texts = [cd[engagement] for t in traces[::2] for cd in t["customdata"]]  # each row once: the lit traces
    assert len(texts) == len(out)
    assert texts.count("n/a") == out["engagement_score"].isna().sum() > 0


def test_scatter_empty_selection(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown
    assert "No data" in view._message.text


# -- what the threshold hides ------------------------------------------------------------------------
def test_scatter_says_what_the_threshold_hides(warehouse_url, silver, small_state):
    """The user's report: the 3D scatter said 'No data for this selection' while the radar showed
    customers. Every group of this state is under 20 customers: the scatter says so, with the count."""
    gold = reference(silver, small_state, BehaviorScatter3D.own)
    store = make_store(warehouse_url, **small_state)
    view, radar = BehaviorScatter3D(store), EngagementRadar(store)
    assert view.frame.empty and view._message.shown
    text = view._message.text
    assert "No data" not in text
    assert "No group of this selection has at least 20 customers" in text
    customers, groups = int(gold["customer_count"].sum()), len(gold)
    assert f"{customers:,} customer" in text and f"{groups:,} smaller groups" in text
    assert radar.shown and int(radar.frame["customer_count"].sum()) == customers  # what the radar counts
    assert view._status.summary == ""


def test_the_threshold_message_follows_the_knob_and_the_filters(warehouse_url, silver, small_state):
    store = make_store(warehouse_url)
    view = BehaviorScatter3D(store)
    gold = reference_gold(silver, TABLE)
    view.min_customers = int(gold["customer_count"].max()) + 1  # every group is now under it
    assert view.frame.empty
    assert f"at least {view.min_customers:,} customers" in view._message.text
    assert f"{int(gold['customer_count'].sum()):,} customers are in {len(gold):,} smaller groups" in view._message.text
    view.min_customers = 20
    assert not view._message.shown and view.shown
    store.select(**small_state)
    assert "at least 20 customers" in view._message.text
    store.select(**EMPTY)  # nothing at all: not the threshold's doing
    assert view._message.text.startswith("No data for this selection")
    store.clear()
    assert not view._message.shown
    view.min_customers = 1  # a state's groups all pass a threshold of one: drawn
    store.select(**small_state)
    assert not view._message.shown
    assert_frame_matches(view.frame, expected_scatter(reference(silver, small_state, view.own), 1), KEYS)


def test_the_threshold_message_offers_to_lower_it(warehouse_url, silver, small_state):
    """The message names the threshold and its button lowers it to the largest hidden group: that
    group (and every other one as large) is drawn."""
    gold = reference(silver, small_state, BehaviorScatter3D.own)
    largest = int(gold["customer_count"].max())
    view = BehaviorScatter3D(make_store(warehouse_url, **small_state))
    assert view._message.action == f"Show groups of {largest:,} or more customers"
    assert "at least 20 customers" in view._message.text
    view._message._handle_msg({"action": True})  # what the button's click sends
    assert view.min_customers == largest and view.shown and not view._message.shown
    assert_frame_matches(view.frame, expected_scatter(gold, largest), KEYS)
    assert view._message.action == ""


def test_the_threshold_message_survives_a_highlight_change(warehouse_url, small_state):
    store = make_store(warehouse_url, **small_state)
    view = BehaviorScatter3D(store)
    text = view._message.text
    store.select(customer_segment=["Premium"])  # its own dimension: redrawn without a query
    assert view._message.text == text


def test_hidden_message_words_singulars(warehouse_url):
    view = BehaviorScatter3D(make_store(warehouse_url))
    view._hidden = (1, 1, 0, 1)
    title, detail, action = view.hidden_message()
    assert detail.startswith("1 customer is in a smaller group") and action == "Show groups of 1 or more customers"
    view._hidden = (0, 0, 0, 0)
    assert view.hidden_message() is None
    view._hidden = (0, 0, 40, 0)
    title, detail, action = view.hidden_message()
    assert "no transaction or balance figure" in detail and "40 customers" in detail and "20" not in title
    assert action == ""  # lowering the threshold would show nothing more


# -- radar -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["none", "age_group", "state", "channel"])
def test_radar_frame_equals_reference(warehouse_url, silver, selections, name):
    view = EngagementRadar(make_store(warehouse_url, **selections[name]))
    expected = expected_radar(reference(silver, selections[name], EngagementRadar.own))
    assert_frame_matches(view.frame, expected, ["customer_segment"])
    assert list(view.frame["customer_segment"]) == [s for s in ("Premium", "Affluent", "Mass Market", "Business")
                                                  if s in set(expected["customer_segment"])]
    index = view.frame[[c + "_index" for c in RADAR]]
    np.testing.assert_allclose(index.max(), 100.0, rtol=1e-12)
    assert (index.min() >= 0).all()
    # what is drawn: each segment's shape, in its slot's lit trace (nothing is selected)
    for row in view.frame.itertuples(index=False):
        trace = view.figure.data[2 * list(ref.SEGMENTS).index(row.customer_segment)]
        np.testing.assert_allclose(trace.r, [getattr(row, c + "_index") for c in RADAR + RADAR[:1]], rtol=1e-12)


def test_radar_transactions_axis_is_the_customer_mean(warehouse_url, silver):
    """The customer-weighted mean of group means is the plain mean over the segment's customers."""
    view = EngagementRadar(make_store(warehouse_url))
    gold = reference_gold(silver, TABLE)
    premium = gold[gold["customer_segment"] == "Premium"]
    total = (premium["avg_transactions_90d"] * premium["customer_count"]).sum() / premium["customer_count"].sum()
    row = view.frame.set_index("customer_segment").loc["Premium"]
    assert row["avg_transactions_90d"] == pytest.approx(total, rel=1e-9)
    assert row["customer_count"] == premium["customer_count"].sum()


def _radar_opacity(view) -> dict[str, float]:
    """Segment -> the opacity of the trace its shape is drawn in (each drawn in exactly one)."""
    out = {}
    for trace in view.figure.data:
        if drawn(trace, "r").any():
            assert trace.name not in out, trace.name
            out[trace.name] = trace.opacity
    return out


def test_radar_own_dimension_highlights_not_filters(warehouse_url):
    store = make_store(warehouse_url)
    view = EngagementRadar(store)
    before = view.frame.copy()
    assert set(_radar_opacity(view).values()) == {0.6}
    store.select(customer_segment=["Business"])
    pd.testing.assert_frame_equal(view.frame, before)
    assert _radar_opacity(view) == {s: 0.6 if s == "Business" else FADED_OPACITY for s in before["customer_segment"]}


def test_radar_hover_has_raw_value_and_unit(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url))
    trace = view.figure.data[0]  # Premium's lit trace
    assert list(trace.theta[:6]) == ["Transactions", "Categories", "Accounts", "Mobile %", "Satisfaction",
                                     "Engagement"]
    raw = view.frame.iloc[0]
    assert raw["customer_segment"] == "Premium"
    assert trace.customdata[3][1] == f"{raw['mobile_usage_pct']:,.1f}% (% of transactions on Mobile (90d))"
    assert trace.r[0] == pytest.approx(raw["avg_transactions_90d_index"])
    assert "%{customdata[1]}" in trace.hovertemplate and "%{theta}" in trace.hovertemplate


def test_radar_click_sets_segment_and_toggles(warehouse_url):
    store = make_store(warehouse_url)
    view = EngagementRadar(store)
    view.click_debounce = 0  # deliberate second clicks
    trace = view.figure.data[4]  # Mass Market, lit
    point = {"curveNumber": 4, "pointNumber": 1, "r": trace.r[1], "theta": trace.theta[1],
             "customdata": list(trace.customdata[1])}
    click(view, point)
    assert store.customer_segment == ["Mass Market"]
    click(view, point)
    assert store.customer_segment == []
    click(view, {"curveNumber": 3, "pointNumber": 0, "r": 50.0, "theta": "Accounts"})  # curveNumber only
    assert store.customer_segment == ["Affluent"] == [view.figure.data[3].name]  # Affluent's faded trace
    click(view, {"curveNumber": len(view.figure.data) - 1, "pointNumber": 0})  # the "Other" slot: nothing
    assert store.customer_segment == ["Affluent"]


def test_radar_nan_metric_renders(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url))
    gold = view.store.fetch(TABLE)
    gold.loc[gold["customer_segment"] == "Business", "avg_satisfaction_score"] = np.nan
    out = view.transform(gold)
    assert np.isnan(out.set_index("customer_segment").loc["Business", "avg_satisfaction_score_index"])
    business = view.traces(out)[2 * list(ref.SEGMENTS).index("Business")]
    assert business["r"][4] == 0 and business["customdata"][4][1].startswith("n/a")


def test_radar_empty_selection(warehouse_url):
    view = EngagementRadar(make_store(warehouse_url, **EMPTY))
    assert view.frame.empty and view._message.shown


def test_radar_other_slot_draws_several_unknown_segments_apart(warehouse_url):
    """Segments the build did not know (a gold-only warehouse) share the "Other" traces: NaN gaps
    keep their shapes apart, and a click still selects the segment clicked."""
    view = EngagementRadar(make_store(warehouse_url))
    frame = view.frame.copy()
    frame["customer_segment"] = ["X1", "X2", "X3", "X4"][:len(frame)]
    traces = view.traces(frame)
    other = traces[-2]  # the Other slot's lit trace
    assert len(other["r"]) == len(frame) * (len(LABELS) + 2) - 1
    assert np.isnan(other["r"][len(LABELS) + 1]) and other["customdata"][len(LABELS) + 1][0] is None
    assert all(not np.isfinite(t["r"]).any() for t in traces[:-2])
    assert view.selection_from_click({"curveNumber": 8, "customdata": list(other["customdata"][0])}) == \
        {"customer_segment": ["X1"]}


# -- built once, patched ------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [BehaviorScatter3D, EngagementRadar])
def test_the_figure_is_built_once_and_patched(warehouse_url, small_state, cls, monkeypatch):
    store = make_store(warehouse_url)
    view = cls(store)
    figure, n = view.figure, len(view.figure.data)
    assert view._plot.object is figure
    for selection in ({"state": ["CA"]}, {"channel": ["Mobile"], "month": [1]}, small_state, EMPTY, {}):
        store.clear()
        store.select(**selection)
        assert view.figure is figure and len(figure.data) == n
    assert view.shown
    asked = counting_fetch(store, monkeypatch)
    fixed = ("y", "z", "customdata") if cls is BehaviorScatter3D else ("theta", "customdata")
    before = [[np.array(getattr(t, k), dtype=object) for k in fixed] for t in figure.data]
    shown = sorted(points(figure, "x" if cls is BehaviorScatter3D else "r"))
    store.select(customer_segment=["Affluent"])  # a highlight only
    store.select(customer_segment=["Affluent", "Business"])
    assert asked == []
    assert view.figure is figure and len(figure.data) == n
    after = [[np.array(getattr(t, k), dtype=object) for k in fixed] for t in figure.data]
    for b, a in zip(before, after):  # only the drawn coordinate moved between a slot's traces
        for x, y in zip(b, a):
            assert x.shape == y.shape and (x == y).all()
    assert sorted(k for k, _ in points(figure, "x" if cls is BehaviorScatter3D else "r")) == sorted(k for k, _ in shown)
    store.select(state=["CA"])  # a filter does ask
    assert asked == [cls.table]


def test_a_change_sends_arrays_not_the_trace_list(warehouse_url):
    """In a document, as served: no change re-sends a trace list as JSON (a changed opacity would) or
    makes a model; a highlight sends only the coordinate that moves (x in 3D, r on the radar)."""
    store = make_store(warehouse_url)
    views = [BehaviorScatter3D(store), EngagementRadar(store)]
    doc = Document()
    doc.add_root(pn.Column(*views).get_root(doc))
    for selection, highlight in (({"customer_segment": ["Premium"]}, True),
                                 ({"customer_segment": ["Premium"], "age_group": ["35-44"]}, False),
                                 ({"state": ["CA"]}, False), ({}, False)):
        models, events = {m.id for m in doc.models}, []
        doc.on_change(events.append)
        try:
            store.clear() if not selection else store.select(**selection)
        finally:
            doc.remove_on_change(events.append)
        assert {m.id for m in doc.models} == models
        assert events
        for event in events:
            if isinstance(event, ModelChangedEvent):
                assert not isinstance(event.new, Model), event.attr
                assert event.attr != "data" or type(event.model).__name__ != "PlotlyPlot", \
                    "a Plotly trace list was re-sent as JSON: a non-array property changed"
        if highlight:
            cols = {c for e in events for c in (getattr(e, "cols", None) or ())}
            assert cols <= {"x", "r"}, cols


def test_layout_leaves_room_for_labels(warehouse_url):
    """The radar's "Mobile %" was cut to "bile %" and the 3D scene's vertical axis title and ticks were
    cut on a narrow card: side margins hold the longest angular label; the scene keeps its z title."""
    radar = EngagementRadar(make_store(warehouse_url)).figure.layout
    font = radar.polar.angularaxis.tickfont.size
    longest = max(len(label) for label in LABELS)
    assert min(radar.margin.l, radar.margin.r) >= 0.5 * font * longest + 10  # ~0.5 em a character
    assert radar.legend.orientation == "h"  # not beside the polar plot, taking its width
    scene = BehaviorScatter3D(make_store(warehouse_url)).figure.layout
    assert scene.scene.zaxis.title.text == "Balance ($)"
    assert scene.legend.orientation == "h"
    assert max(scene.scene.aspectratio.x, scene.scene.aspectratio.y) < 1


def test_a_segment_named_with_markup_shows_as_text_and_clicks_back(hostile_url):
    """plotly.js reads <b>, <i>, &amp; … in legends and hovers as formatting: the name goes there
    escaped, while a click still sends the raw name (the store only takes names the data holds)."""
    from hostile_warehouse import SEGMENT, assert_shown_as_text
    for cls in (BehaviorScatter3D, EngagementRadar):
        store = make_store(hostile_url)
        view = cls(store)
        assert_shown_as_text(view.figure, [SEGMENT])
        curve, trace = next((i, t) for i, t in enumerate(view.figure.data)
                            if len(t.customdata) and t.customdata[0][0] == SEGMENT)
        assert trace.name != OTHER  # the warehouse's own segment got a slot of its own at build
        click(view, {"curveNumber": curve, "pointNumber": 0, "customdata": list(trace.customdata[0])})
        assert store.customer_segment == [SEGMENT], cls.__name__
