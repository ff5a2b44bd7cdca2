"""Credit views: the behaviour scatter matrix and the risk bubble chart against an independent pandas
computation (tests/gold_reference.py + the views' post-processing written again here), asserted through
what the views show (`view.frame`, the traces of `view.figure`), on a figure built once."""
from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import panel as pn
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from bokeh.document import Document

from dashboard.components.credit import CreditScatterMatrix
from dashboard.components.credit_risk import CreditRiskBubble
from dashboard.components.style import BAND_COLORS, EXTRA_COLORS, FADED_OPACITY, INCOME_COLORS, OTHER_COLOR
from warehouse_copy import altered_copy
from .helpers import EMPTY, click, make_store
from .helpers import reference as shared_reference

TABLE = "analytics_credit_score_behavior_correlation"
reference = functools.partial(shared_reference, table=TABLE)
KEYS = ["credit_score_band", "income_bracket", "customer_segment"]
BANDS = ["Poor", "Fair", "Good", "Very Good", "Excellent"]
INCOMES = ["Low", "Medium", "High", "Very High"]
SPLOM = ["avg_credit_score", "avg_transactions", "avg_transaction_size", "avg_credit_utilization_pct",
         "avg_total_balance"]
BUBBLE = ["avg_credit_score", "avg_past_due_accounts", "avg_late_payments", "avg_missed_payments",
          "avg_credit_utilization_pct"]
SELECTIONS = {
    "none": {},
    "segment": {"customer_segment": ["Mass Market", "Premium"]},
    "state": {"state": ["CA", "TX", "NY"]},
    "income": {"income_bracket": ["Medium"]},
    "channel": {"channel": ["Mobile"]},
    "day_of_week": {"day_of_week": [0]},
}
# Panel's dark theme (bootstrap_dark.css): the card (--panel-surface-color) and the page behind it
DARK_BACKGROUNDS = ("#2b3035", "#212529")


def expected(gold: pd.DataFrame, columns: list[str], min_customers: int) -> pd.DataFrame:
    out = gold[gold["customer_count"] >= min_customers]
    rank = {"credit_score_band": BANDS, "income_bracket": INCOMES,
            "customer_segment": ["Premium", "Affluent", "Mass Market", "Business"]}
    order = sorted(range(len(out)), key=lambda i: tuple(rank[k].index(out.iloc[i][k]) for k in KEYS))
    return out.iloc[order][KEYS + ["customer_count", *columns]].reset_index(drop=True)


def assert_same(actual: pd.DataFrame, expected_frame: pd.DataFrame) -> None:
    assert list(actual.columns) == list(expected_frame.columns)
    assert len(actual) == len(expected_frame), (len(actual), len(expected_frame))
    for col in expected_frame.columns:
        a, e = actual[col], expected_frame[col]
        if col in KEYS:
            assert a.astype(object).tolist() == e.astype(object).tolist(), col
        elif col == "customer_count":
            assert a.astype("int64").tolist() == e.astype("int64").tolist(), col
        else:
            np.testing.assert_allclose(a.astype(float), e.astype(float), rtol=1e-9, atol=0, equal_nan=True,
                                       err_msg=col)


def point_of(view, row: int) -> dict:
    """A Plotly point payload for frame row `row`, with the trace's customdata as Panel sends it."""
    key = tuple(view.frame.loc[row, KEYS])
    for number, trace in enumerate(view.figure.data):
        for index, custom in enumerate(trace.customdata):
            if tuple(custom[:3]) == key:
                return {"curveNumber": number, "pointNumber": index, "pointIndex": index,
                        "x": float(view.frame.loc[row, "avg_credit_score"]), "y": 0.0,
                        "customdata": list(custom)}
    raise AssertionError("row not drawn")


def drawn_keys(trace) -> list[tuple]:
    return [tuple(c[:3]) for c in trace.customdata]


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rrggbb colour."""
    channels = [int(colour.lstrip("#")[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# -- (a) the frame equals the independent computation -----------------------------------------------
@pytest.mark.parametrize("name", list(SELECTIONS))
def test_frames_match_reference(warehouse_url, silver, name):
    selection = SELECTIONS[name]
    store = make_store(warehouse_url, **selection)
    splom, bubble = CreditScatterMatrix(store), CreditRiskBubble(store)
    splom_gold = reference(silver, selection, CreditScatterMatrix.own)
    assert not splom_gold.empty
    if selection:  # the filter bites
        assert splom_gold["customer_count"].sum() < reference(silver, {}, ())["customer_count"].sum()
    assert_same(splom.frame, expected(splom_gold, SPLOM, 20))
    assert_same(bubble.frame, expected(reference(silver, selection, CreditRiskBubble.own), BUBBLE, 1))
    # every row of the frame is drawn once, on its band's (its income's) trace, at its values
    for view, column in ((splom, "credit_score_band"), (bubble, "income_bracket")):
        drawn = [k for t in view.figure.data for k in drawn_keys(t)]
        assert sorted(drawn) == sorted(map(tuple, view.frame[KEYS].to_numpy()))
        for trace in view.figure.data[:-1]:
            assert {k[KEYS.index(column)] for k in drawn_keys(trace)} <= {trace.name}
    got = pd.DataFrame({d.label: np.concatenate([t.dimensions[j].values for t in splom.figure.data])
                        for j, d in enumerate(splom.figure.data[0].dimensions)})
    np.testing.assert_allclose(np.sort(got.iloc[:, 0]), np.sort(splom.frame["avg_credit_score"]), rtol=1e-12)


def test_thresholds_are_parameters(warehouse_url, silver):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store, min_customers=50)
    gold = reference(silver, {}, ())
    assert_same(splom.frame, expected(gold, SPLOM, 50))
    splom.min_customers = 5  # re-transforms on change
    assert_same(splom.frame, expected(gold, SPLOM, 5))
    assert sum(len(t.customdata) for t in splom.figure.data) == len(splom.frame)
    bubble = CreditRiskBubble(store)
    bubble.min_customers = 10
    assert_same(bubble.frame, expected(gold, BUBBLE, 10))
    assert bubble.figure.layout.yaxis.title.text == "Avg past-due accounts"
    bubble.risk_metric = "avg_late_payments"  # redraws with the other indicator
    fig = bubble.figure
    assert fig.layout.yaxis.title.text == "Avg late payments (12m)"
    drawn = np.concatenate([np.asarray(t.y, float) for t in fig.data])
    np.testing.assert_allclose(np.sort(drawn), np.sort(bubble.frame["avg_late_payments"].to_numpy(float)))


# -- (b) own dimensions: highlight, don't filter -------------------------------------------------------
def test_band_selection_highlights_without_filtering_the_splom(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    before = splom.frame.copy()
    fig = splom.figure
    assert [t.name for t in fig.data] == BANDS + ["Other"]  # a trace per band, fixed at build
    assert all(set(t.marker.opacity) <= {0.8} for t in fig.data)
    store.select(credit_score_band=["Fair", "Good"])
    pd.testing.assert_frame_equal(splom.frame, before)
    assert splom.figure is fig and len(fig.data) == 6
    for trace in fig.data:
        opacity, width = set(trace.marker.opacity), set(trace.marker.line.width)
        if trace.name in ("Fair", "Good"):
            assert opacity == {0.8} and width == {1.5}
        else:
            assert opacity <= {FADED_OPACITY} and width <= {0.4}
    assert all(len(fig.data[BANDS.index(b)].marker.opacity) > 0 for b in ("Fair", "Good", "Poor"))
    assert all(t.marker.color == BAND_COLORS[t.name] for t in fig.data[:5]) and fig.data[5].marker.color == OTHER_COLOR
    assert all(t.diagonal.visible is False for t in fig.data) and fig.layout.dragmode == "select"
    store.select(income_bracket=["High"])  # not its own dimension: filters
    assert len(splom.frame) < len(before)
    assert sum(len(t.marker.opacity) for t in fig.data) == len(splom.frame)


def test_band_and_income_highlight_without_filtering_the_bubbles(warehouse_url):
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store)
    before = bubble.frame.copy()
    assert [t.name for t in bubble.figure.data] == INCOMES + ["Other"]
    store.select(credit_score_band=["Good"], income_bracket=["High"])
    pd.testing.assert_frame_equal(bubble.frame, before)
    for trace in bubble.figure.data[:4]:
        assert trace.marker.color == INCOME_COLORS[trace.name]
        on = [c[0] == "Good" and c[1] == "High" for c in trace.customdata]
        assert list(trace.marker.opacity) == [0.85 if x else FADED_OPACITY for x in on]
        assert list(trace.marker.line.width) == [2.0 if x else 0.6 for x in on]
    assert any(bubble.figure.data[INCOMES.index("High")].marker.opacity == 0.85)
    shapes = {a.text: s for a, s in zip(bubble.figure.layout.annotations, bubble.figure.layout.shapes)}
    assert shapes["Good"].opacity > shapes["Fair"].opacity == shapes["Excellent"].opacity  # the band lit
    store.select(customer_segment=["Business"])  # not its own dimension: filters
    assert len(bubble.frame) < len(before)


def test_the_figure_is_built_once_and_a_highlight_runs_no_query(warehouse_url, monkeypatch):
    store = make_store(warehouse_url)
    views = (CreditScatterMatrix(store), CreditRiskBubble(store))
    built = [(v.figure, len(v.figure.data), [type(t) for t in v.figure.data]) for v in views]
    fetched = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda *a, **k: fetched.append(a) or fetch(*a, **k))
    frames = [v.frame for v in views]
    store.select(credit_score_band=["Poor"])  # own by both: only the highlight
    assert fetched == [] and all(v.frame is f for v, f in zip(views, frames))
    assert set(views[0].figure.data[0].marker.opacity) == {0.8}  # the highlight did change
    assert set(views[0].figure.data[1].marker.opacity) == {FADED_OPACITY}
    store.select(income_bracket=["Low"])  # the bubbles' own, a filter of the matrix
    assert [own for _, own, *_ in fetched] == [CreditScatterMatrix.own] and views[1].frame is frames[1]
    store.select(customer_segment=["Premium"], state=["CA"])  # filters both: new data, same figures
    assert len(fetched) == 3 and views[1].frame is not frames[1]
    store.clear()
    for view, (figure, n, types) in zip(views, built):
        assert view.figure is figure and len(figure.data) == n and [type(t) for t in figure.data] == types


def test_updates_send_arrays_not_the_traces_as_json(warehouse_url):
    """Panel re-sends every trace as JSON when anything but a NumPy array differs: filters and the
    highlight only change the trace's arrays (its data sources), never `data` itself."""
    store = make_store(warehouse_url)
    for view in (CreditScatterMatrix(store), CreditRiskBubble(store)):
        root = view._plot.get_root(Document())
        model = view._plot._models[root.ref["id"]][0]
        data, text = model.data, json.dumps(model.data)
        sources = [dict(s.data) for s in model.data_sources]
        layout = model.layout
        store.select(credit_score_band=["Good"])
        store.select(customer_segment=["Business"])
        assert model.data is data and json.dumps(model.data) == text
        assert [s.data.keys() for s in model.data_sources] == [s.keys() for s in sources]  # nothing lost
        first = model.data_sources[0].data
        assert "customdata" in first and "marker.opacity" in first and "marker.line.width" in first
        changed = [k for k in sources[2] if not np.array_equal(np.asarray(sources[2][k][0]),
                                                             np.asarray(model.data_sources[2].data[k][0]))]
        assert "customdata" in changed and "marker.opacity" in changed
        if isinstance(view, CreditScatterMatrix):
            assert "dimensions.0.values" in first
            assert model.layout is layout  # the matrix ranges itself
        store.clear()


def test_what_an_update_writes_is_a_valid_figure(warehouse_url):
    """The views write their arrays into the figure without plotly.py's validation (it cost ~15 ms a
    trace): after filters and highlights, the figure must still pass it unchanged, dark theme included."""
    store = make_store(warehouse_url)
    views = (CreditScatterMatrix(store), CreditRiskBubble(store, risk_metric="avg_missed_payments"))
    store.select(customer_segment=["Premium"])
    store.select(credit_score_band=["Good", "Fair"], income_bracket=["High"])
    for view in views:
        checked = go.Figure(view.figure.to_dict())  # validates every property (raises on a bad one)
        assert json.loads(pio.to_json(checked)) == json.loads(pio.to_json(view.figure))
        assert [len(t.customdata) for t in checked.data] == [len(t.customdata) for t in view.figure.data]
    assert views[1].figure.layout.yaxis.title.text == "Avg missed payments (12m)"
    assert views[1].figure.layout.yaxis.range[0] < 0 < views[1].figure.layout.yaxis.range[1]


# -- (c) clicks and brushing ---------------------------------------------------------------------------
def test_splom_click_selects_and_clears_band(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    splom.click_debounce = 0  # deliberate second clicks
    row = int(splom.frame.index[splom.frame["credit_score_band"] == "Fair"][0])
    point = point_of(splom, row)
    click(splom, point)
    assert store.credit_score_band == ["Fair"] and store.origin["credit_score_band"] == splom.title
    click(splom, point)
    assert store.credit_score_band == []
    click(splom, {"curveNumber": 0, "pointNumber": 0})  # no customdata: nothing
    assert store.credit_score_band == []


def test_splom_box_selection_selects_bands_of_points(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store)
    frame = splom.frame
    rows = [int(frame.index[frame["credit_score_band"] == b][0]) for b in ("Very Good", "Poor")]
    points = [point_of(splom, r) for r in rows] + [point_of(splom, rows[0])]
    box = {"points": points, "selector": {"type": "box", "selector_state": {"xrange": [0, 1], "yrange": [0, 1]}}}
    splom._plot.selected_data = box
    assert store.credit_score_band == ["Poor", "Very Good"]  # band order, no duplicates
    lasso = {"points": [point_of(splom, rows[1])], "selector": {"type": "lasso", "selector_state": {}}}
    splom._plot.selected_data = lasso
    assert store.credit_score_band == ["Poor"]
    splom._plot.selected_data = None  # Plotly clearing its selection changes nothing
    assert store.credit_score_band == ["Poor"]
    splom._plot.selected_data = {"points": [], "selector": None}  # a box over no point: a brush of nothing
    assert store.credit_score_band == []
    assert splom.selection_from_points([]) is None


def test_bubble_click_selects_band_and_income(warehouse_url):
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store)
    bubble.click_debounce = 0  # deliberate second clicks
    row = int(bubble.frame["customer_count"].idxmax())
    band, income = bubble.frame.loc[row, ["credit_score_band", "income_bracket"]]
    point = point_of(bubble, row)
    assert point["curveNumber"] == INCOMES.index(income)
    click(bubble, point)
    assert store.credit_score_band == [band] and store.income_bracket == [income]
    click(bubble, point)
    assert store.credit_score_band == [] and store.income_bracket == []
    assert bubble.selection_from_click({"curveNumber": 0, "pointNumber": 0}) is None


def test_a_warehouse_with_its_own_bands_gets_a_trace_each(warehouse_url, tmp_path):
    """A band the warehouse holds beyond the usual five gets a trace and a colour of its own; one the
    build could not know (only in gold) is drawn in the Other slot; a click reads the raw name of either."""
    store = altered_copy(warehouse_url, tmp_path, "DROP SCHEMA fast CASCADE", *(
        f"UPDATE {table} SET credit_score_band = 'Near prime' WHERE credit_score_band = 'Fair'"
        for table in ("silver.credit_profiles", f"gold.{TABLE}")),
        f"UPDATE gold.{TABLE} SET credit_score_band = 'Unrated' WHERE credit_score_band = 'Poor'")
    splom = CreditScatterMatrix(store, min_customers=1)
    fig = splom.figure
    assert [t.name for t in fig.data] == ["Poor", "Fair", "Good", "Very Good", "Excellent", "Near prime", "Other"]
    near, other = fig.data[5], fig.data[6]
    assert near.marker.color == EXTRA_COLORS[0] and other.marker.color == OTHER_COLOR
    assert len(near.customdata) == (splom.frame["credit_score_band"] == "Near prime").sum() > 0
    assert {c[0] for c in other.customdata} == {"Unrated"} and len(fig.data[0].customdata) == 0
    splom.click_debounce = 0
    click(splom, point_of(splom, int(splom.frame.index[splom.frame["credit_score_band"] == "Near prime"][0])))
    assert store.credit_score_band == ["Near prime"]
    assert set(fig.data[5].marker.opacity) == {0.8} and set(fig.data[2].marker.opacity) == {FADED_OPACITY}
    unrated = point_of(splom, int(splom.frame.index[splom.frame["credit_score_band"] == "Unrated"][0]))
    assert splom.selection_from_click(unrated) == {"credit_score_band": ["Unrated"]}


# -- (d) legibility: whole bubbles, labels apart, contrast in the dark theme ------------------------------
@pytest.mark.parametrize("metric", list(CreditRiskBubble.RISK_LABELS))
def test_bubbles_are_drawn_whole_inside_the_axes(warehouse_url, metric):
    """No bubble is cut in half at an axis: the ranges hold each bubble's radius (and outline) beyond its
    centre on a plot as narrow as a half-width card at 1280 px, and stay clear of the band labels' rows."""
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store, min_customers=1, risk_metric=metric)
    store.select(credit_score_band=["Good"], income_bracket=["High"])  # the widest outlines
    fig = bubble.figure
    layout = fig.layout
    (x0, x1), (y0, y1) = layout.xaxis.range, layout.yaxis.range
    width = bubble.PLOT_WIDTH_PX
    height = layout.height - layout.margin.t - layout.margin.b
    per_x, per_y = (x1 - x0) / width, (y1 - y0) / height
    x = np.concatenate([t.x for t in fig.data])
    y = np.concatenate([t.y for t in fig.data])
    radius = np.concatenate([np.asarray(t.marker.size) / 2 + np.asarray(t.marker.line.width) / 2 for t in fig.data])
    assert len(x) == len(bubble.frame) and radius.max() >= 19  # the largest bubble is there
    assert (y == 0).any() or y.min() < 0.05 * (y1 - y0)  # bubbles on the axis: what used to be cut
    assert np.all(x - radius * per_x >= x0) and np.all(x + radius * per_x <= x1)
    assert np.all(y - radius * per_y >= y0)
    assert np.all(y + radius * per_y <= y1 - bubble.LABEL_ROWS_PX * per_y)
    assert all(t.cliponaxis is False for t in fig.data)  # narrower still: drawn over the axis, not cut


def test_band_labels_of_neighbours_never_share_a_row(warehouse_url):
    bubble = CreditRiskBubble(make_store(warehouse_url))
    labels = [a for a in bubble.figure.layout.annotations if a.visible]
    assert [a.text for a in labels][-2:] == ["Very Good", "Excellent"]
    rows = [a.yshift for a in labels]
    assert all(a != b for a, b in zip(rows, rows[1:]))
    x0, x1 = bubble.figure.layout.xaxis.range
    for label, shape in zip(bubble.figure.layout.annotations, bubble.figure.layout.shapes):
        assert x0 <= shape.x0 <= shape.x1 <= x1 or not shape.visible
        assert shape.x0 <= label.x <= shape.x1 or not label.visible


def test_scatter_matrix_axis_titles_fit_their_cell(warehouse_url):
    """Five titles share the bottom row of a half-width card (~75 px a cell): short lines, small font."""
    splom = CreditScatterMatrix(make_store(warehouse_url))
    for trace in splom.figure.data:
        for dimension in trace.dimensions:
            assert max(len(line) for line in dimension.label.split("<br>")) <= 15, dimension.label
    assert splom.figure.layout.xaxis5.title.font.size <= 9 and splom.figure.layout.margin.b >= 60


@pytest.mark.parametrize("theme, backgrounds", [("dark", DARK_BACKGROUNDS), ("default", ("#ffffff",))])
def test_band_labels_and_bubble_edges_read_on_the_theme(warehouse_url, monkeypatch, theme, backgrounds):
    """Label text at least 4.5:1 against the background (WCAG AA), the bubble outlines at least 3:1
    (non-text): in the dark theme the navy "Very High" bubbles and a selected bubble keep an edge."""
    monkeypatch.setattr(pn.config, "theme", theme)
    store = make_store(warehouse_url)
    bubble = CreditRiskBubble(store)
    fig = bubble.figure
    if theme == "dark":
        assert fig.layout.template.layout.paper_bgcolor is not None and fig.layout.paper_bgcolor == "rgba(0,0,0,0)"
    labels = {a.font.color for a in fig.layout.annotations}
    assert len(labels) == 1 and len(fig.layout.annotations) == 5
    for background in backgrounds:
        assert all(contrast(label, background) >= 4.5 for label in labels), (labels, background)
    store.select(credit_score_band=["Excellent"], income_bracket=["Very High"])
    navy = fig.data[INCOMES.index("Very High")]
    assert INCOME_COLORS["Very High"] == navy.marker.color == "#08306b"
    edges = set(navy.marker.line.color)
    assert len(edges) == 2  # outlined, and outlined as selected
    for background in backgrounds:
        assert all(contrast(edge, background) >= 3 for edge in edges), edges


# -- (e) empty selection, NaN, escaping ----------------------------------------------------------------
def test_empty_selection_shows_message(warehouse_url):
    store = make_store(warehouse_url, **EMPTY)
    views = (CreditScatterMatrix(store), CreditRiskBubble(store))
    for view in views:
        assert view.frame.empty and view._message.shown
    store.select(state=[], city=[], region=[])
    for view in views:
        assert not view.frame.empty and not view._message.shown
        assert sum(len(t.customdata) for t in view.figure.data) == len(view.frame)


def test_nan_metrics_render_and_hover_as_na(warehouse_url):
    store = make_store(warehouse_url)
    splom = CreditScatterMatrix(store, min_customers=1)
    nan_rows = splom.frame[splom.frame[SPLOM].isna().any(axis=1)]
    assert not nan_rows.empty  # small groups without a card have no utilisation
    pio.to_json(splom.figure)  # serialises (NaN -> null)
    fields = splom.HOVER.fields
    hover = [dict(zip(fields, c)) for t in splom.figure.data for c in t.customdata]
    assert any(h["utilization"] == "n/a" for h in hover)
    assert all(h["customers"].replace(",", "").isdigit() for h in hover)  # counts with thousands separators
    assert any(h["size"].startswith(("$", "-$")) for h in hover)
    bubble = CreditRiskBubble(store)
    pio.to_json(bubble.figure)
    assert all(np.isfinite(bubble.figure.layout.xaxis.range)) and all(np.isfinite(bubble.figure.layout.yaxis.range))
    assert splom.summarize(splom.frame).endswith("customers")


def test_a_segment_named_with_markup_shows_as_text_in_the_hovers(hostile_url):
    """plotly.js reads <b>, <i>, &amp; … in hovers as formatting: names from the data go there escaped."""
    from hostile_warehouse import SEGMENT, assert_shown_as_text
    store = make_store(hostile_url)
    for view in (CreditScatterMatrix(store), CreditRiskBubble(store)):
        assert_shown_as_text(view.figure, [SEGMENT])
        row = int(view.frame.index[view.frame["customer_segment"] == SEGMENT][0])
        assert point_of(view, row)["customdata"][2] == SEGMENT  # the raw name is what a click reads
