"""Time views: data under filters equals the reference; own dimensions highlight; taps select."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.events import Tap
from bokeh.models import HoverTool

from dashboard.components import HourlyChannelArea, TimeHeatmap
from dashboard.components.style import CHANNEL_COLORS, FADED_OPACITY, OTHER_COLOR
from dashboard.components.time import OTHER_CHANNELS
from dashboard.data import DataStore
from dashboard.engines import shared_engine
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold
from warehouse_copy import altered_copy

from .helpers import EMPTY

TABLE = "analytics_transaction_time_patterns"


def tap(view, x, y) -> None:
    """What the browser sends for a click on the figure at data coordinates (x, y)."""
    view.figure._trigger_event(Tap(view.figure, x=x, y=y))


def expected_cells(silver, filters: Filters) -> pd.Series:
    gold = reference_gold(silver, TABLE, filters)
    cells = gold.groupby(["day_of_week", "transaction_hour"])["transaction_count"].sum()
    full = pd.MultiIndex.from_product([range(7), range(24)], names=cells.index.names)
    return cells.reindex(full, fill_value=0)


@pytest.mark.parametrize("selection, filters", [
    ({}, Filters()),
    ({"customer_segment": ["Premium"]}, Filters(customer_segment=("Premium",))),
    ({"channel": ["Online"], "state": ["TX"]}, Filters(channel=("Online",), state=("TX",))),
    ({"product": ["Mortgage"], "day_of_week": [0]}, Filters(product=("Mortgage",))),  # own dim ignored
])
def test_heatmap_cells_equal_the_reference(warehouse_url, silver, selection, filters):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    store.select(**selection)
    got = view.frame.set_index(["day_of_week", "transaction_hour"])["transaction_count"]
    assert len(got) == 168
    np.testing.assert_array_equal(got.to_numpy(), expected_cells(silver, filters).to_numpy())
    assert view.summarize(view.frame) == f"{int(got.sum()):,} transactions"


def test_heatmap_labels_sunday_as_day_zero(warehouse_url, silver):
    view = TimeHeatmap(DataStore(warehouse_url))
    sunday = view.frame[view.frame["day"] == "Sun"]
    assert set(sunday["day_of_week"]) == {0}
    t = silver["transactions"]
    assert sunday["transaction_count"].sum() == (pd.to_datetime(t["transaction_date"]).dt.day_of_week == 6).sum()


def test_heatmap_source_holds_the_frame(warehouse_url):
    """What is drawn: each cell of HoloViews' source holds its (day, hour)'s count, rate and colour value."""
    view = TimeHeatmap(DataStore(warehouse_url))
    cells = pd.DataFrame({k: view.sources["cells"].data[k] for k in ("day", "transaction_hour", "zvalues",
                                                                     "transaction_count", "fraud_rate_pct")})
    assert len(cells) == 168
    want = view.frame.set_index(["day", "transaction_hour"])
    got = cells.set_index(["day", "transaction_hour"]).loc[want.index]
    np.testing.assert_array_equal(got["transaction_count"], want["transaction_count"])
    np.testing.assert_array_equal(got["zvalues"], want["transaction_count"])
    np.testing.assert_array_equal(got["fraud_rate_pct"], want["fraud_rate_pct"])


def test_heatmap_tap_selects_the_cell_and_a_second_tap_clears_it(warehouse_url):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    before = view.frame.copy()
    saturday = list(view.figure.x_range.factors).index("Sat")  # factor i spans [i, i + 1) of the axis
    tap(view, saturday + 0.4, 12.3)
    assert store.day_of_week == [6] and store.transaction_hour == [12]
    pd.testing.assert_frame_equal(view.frame, before)  # its own dimensions do not filter it
    data = view.sources["cells"].data
    lit = np.asarray(data["alpha"]) == 1.0
    assert lit.sum() == 1 and np.asarray(data["alpha"]).min() < 1.0  # one highlighted cell: Sat 12:00
    assert np.asarray(data["day"])[lit][0] == "Sat" and np.asarray(data["transaction_hour"])[lit][0] == 12
    tap(view, saturday + 0.6, 11.8)
    assert store.day_of_week == [] and store.transaction_hour == []
    tap(view, len(view.figure.x_range.factors) + 0.5, 3)  # right of the last day: nothing
    assert store.day_of_week == []


def _stack(view) -> pd.DataFrame:
    """The channel area as drawn: one row per hour and band (bottom, top, transactions, share) from the
    source of the quads the hover and the taps use; NaN bottom/top where a band has no height."""
    data = view.sources["cells"].data
    return pd.DataFrame({k: np.asarray(data[k]) for k in ("hour", "channel", "bottom", "top", "transactions",
                                                          "share")}).assign(
        transaction_hour=np.asarray(data["left"]) + 0.5).set_index(["transaction_hour", "channel"])


def _drawn_bands(view) -> dict[str, str]:
    """{channel: colour} of the bands that have a polygon (NaN ys: not drawn) and a legend entry."""
    data = view.sources["bands"].data
    legend = {item.label.value: item.visible for item in view.figure.legend[0].items}
    drawn = {c: col for c, col, ys in zip(data["channel"], data["color"], data["ys"]) if np.isfinite(ys).any()}
    assert {c for c, on in legend.items() if on} == set(drawn)  # a legend entry exactly for each drawn band
    return drawn


def test_channel_area_draws_the_reference_stacked_and_taps_select_a_band(warehouse_url, silver):
    store = DataStore(warehouse_url)
    view = HourlyChannelArea(store)
    store.select(age_group=["65+"])
    gold = reference_gold(silver, TABLE, Filters(age_group=("65+",)))
    want = gold.groupby(["transaction_hour", "channel"])["transaction_count"].sum()
    got = view.frame.set_index(["transaction_hour", "channel"])["total"]
    assert got[got > 0].sort_index().to_dict() == want[want > 0].sort_index().to_dict()
    stack = _stack(view)
    drawn = stack["transactions"]
    assert drawn[drawn > 0].sort_index().to_dict() == {k: float(v) for k, v in want[want > 0].sort_index().items()}
    hour = 12
    at = stack.loc[hour]
    order = [c for c in ("ATM", "Online", "Branch", "POS", "Mobile") if at.loc[c, "transactions"] > 0]
    tops = at.loc[order, "transactions"].cumsum()
    np.testing.assert_allclose(at.loc[order, "top"], tops)  # stacked in the usual order, from 0
    np.testing.assert_allclose(at.loc[order, "bottom"], tops - at.loc[order, "transactions"])
    assert view.figure.y_range.start == 0 and view.figure.y_range.end >= stack["top"].max()
    branch = at.loc["Branch"]
    tap(view, hour + 0.3, (branch["bottom"] + branch["top"]) / 2)  # inside the Branch band
    assert store.channel == ["Branch"]
    assert view.frame.set_index(["transaction_hour", "channel"])["total"].equals(got)  # not filtered by channel
    alphas = dict(zip(view.sources["bands"].data["channel"], view.sources["bands"].data["alpha"]))
    assert alphas["Branch"] > alphas["ATM"] == alphas["Online"] == FADED_OPACITY
    tap(view, hour, stack["top"].max() * 10)  # above every band: nothing
    tap(view, hour, -1)  # below the axis: nothing
    assert store.channel == ["Branch"]
    tap(view, hour - 0.2, (branch["bottom"] + branch["top"]) / 2)  # again: cleared
    assert store.channel == []


def test_channel_hover_fields_are_filled(warehouse_url, silver):
    """A band's tooltip shows the hour as 13:00, the channel, its transactions at that hour and its
    share of the hour (HoloViews' stacked Area showed ??? for each field)."""
    view = HourlyChannelArea(DataStore(warehouse_url))
    stack = _stack(view)
    want = reference_gold(silver, TABLE, Filters()).groupby(["transaction_hour", "channel"])["transaction_count"].sum()
    cell = stack.loc[(13, "ATM")]
    assert cell["hour"] == "13:00"
    assert cell["transactions"] == want.loc[(13, "ATM")]
    assert cell["share"] == pytest.approx(want.loc[(13, "ATM")] / want.loc[13].sum())
    hoverable = stack[np.isfinite(stack["top"])]
    assert len(hoverable) and (hoverable["transactions"] > 0).all()
    shares = hoverable.groupby(level="transaction_hour")["share"].sum()
    np.testing.assert_allclose(shares, 1.0)
    # the quads of two neighbouring hours touch: a pointer on the line between them shows one tooltip
    assert [t.limit for t in view.figure.tools if isinstance(t, HoverTool)] == [1]


@pytest.mark.parametrize("cls", [TimeHeatmap, HourlyChannelArea])
def test_every_hover_field_is_a_column_of_its_renderer(warehouse_url, cls):
    view = cls(DataStore(warehouse_url))
    hovers = [t for t in view.figure.tools if isinstance(t, HoverTool)]
    assert hovers
    for hover in hovers:
        renderers = hover.renderers if hover.renderers != "auto" else view.figure.renderers
        assert renderers
        fields = {name for _, text in hover.tooltips
                  for groups in re.findall(r"@\{([^}]+)\}|@(\w+)", text) for name in groups if name}
        assert fields
        for renderer in renderers:
            assert fields <= set(renderer.data_source.data), fields - set(renderer.data_source.data)


def test_empty_selection_shows_the_no_data_state(warehouse_url):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    store.select(**EMPTY)
    area = HourlyChannelArea(store)
    for v in (view, area):
        assert v.frame.empty and v._message.shown
        assert "No data for this selection" in v._message.text
    store.clear()
    assert not view.frame.empty and not view._message.shown
    assert not area.frame.empty and not area._message.shown and _drawn_bands(area)


@pytest.mark.parametrize("cls, highlight", [(TimeHeatmap, {"day_of_week": [2], "transaction_hour": [9]}),
                                            (HourlyChannelArea, {"channel": ["Online"], "transaction_hour": [9]})])
def test_figure_is_built_once_and_a_highlight_runs_no_query(warehouse_url, monkeypatch, cls, highlight):
    store = DataStore(warehouse_url)
    view = cls(store)
    doc = Document()
    doc.add_root(view.__panel__().get_root(doc))
    figure, sources, renderers = view.figure, dict(view.sources), list(view.figure.renderers)
    models = {m.id for m in doc.models}
    for change in ({"customer_segment": ["Premium"]}, {"region": ["West"]}, highlight, {}):
        store.clear()
        store.select(**change)
        assert view.figure is figure and view.figure.renderers == renderers and view.sources == sources
        assert {m.id for m in doc.models} == models  # no model made or dropped
    asked = []
    fetch = store.fetch
    monkeypatch.setattr(store, "fetch", lambda *a, **k: asked.append(a) or fetch(*a, **k))
    store.select(customer_segment=["Mass Market"])
    assert asked  # a filter change queries (so the counter can fail)
    asked.clear()
    alpha_before = {name: np.asarray(s.data.get("alpha")).copy() for name, s in view.sources.items()}
    store.select(**highlight)
    assert asked == []  # only its own dimensions changed: the highlight, no query
    assert any(not np.array_equal(np.asarray(s.data.get("alpha")), alpha_before[name])
               for name, s in view.sources.items() if "alpha" in s.data)


def test_figures_draw_on_canvas(warehouse_url):
    for cls in (TimeHeatmap, HourlyChannelArea):
        assert cls(DataStore(warehouse_url)).figure.output_backend == "canvas"


def test_a_warehouse_with_its_own_channels_gets_a_band_each(warehouse_url, tmp_path):
    """Channels beyond the usual five (a bank's own) are stacked too, after the known ones, each in a
    colour of its own, and clickable: nothing is dropped from the stack or its total."""
    store = altered_copy(warehouse_url, tmp_path, "DROP SCHEMA fast CASCADE", *(
        f"UPDATE {table} SET channel = '{new}' WHERE channel = '{old}'"
        for table in ("silver.transactions", f"gold.{TABLE}") for old, new in (("POS", "Contactless"),
                                                                             ("Mobile", "Voice banking"))))
    view = HourlyChannelArea(store)
    colours = _drawn_bands(view)
    assert list(colours) == ["ATM", "Online", "Branch", "Contactless", "Voice banking"]
    want = pd.read_sql(f"SELECT transaction_hour, channel, sum(transaction_count) AS n FROM gold.{TABLE} "
                       "GROUP BY transaction_hour, channel", shared_engine(store.url)
                       ).set_index(["transaction_hour", "channel"])["n"]
    got = view.frame.set_index(["transaction_hour", "channel"])["total"]
    assert got[got > 0].sort_index().to_dict() == want[want > 0].sort_index().astype(int).to_dict()
    drawn = _stack(view)["transactions"]
    assert drawn[drawn > 0].sort_index().to_dict() == want[want > 0].sort_index().astype(float).to_dict()
    assert colours["ATM"] == CHANNEL_COLORS["ATM"] and OTHER_COLOR not in colours.values()
    assert len(set(colours.values())) == 5  # the two new channels each have a colour of their own
    hour = 18
    cell = _stack(view).loc[(hour, "Contactless")]
    tap(view, hour, (cell["bottom"] + cell["top"]) / 2)
    assert store.channel == ["Contactless"] and store.notice == ""  # a value the data holds: kept


def test_channels_the_build_did_not_know_share_the_last_band(warehouse_url, tmp_path, monkeypatch):
    """A warehouse whose channel list cannot be read at build (gold tables only): its own channels
    are stacked in one last band (nothing dropped from the total) and a tap there selects them."""
    store = altered_copy(warehouse_url, tmp_path, "DROP SCHEMA fast CASCADE", *(
        f"UPDATE {table} SET channel = '{new}' WHERE channel = '{old}'"
        for table in ("silver.transactions", f"gold.{TABLE}") for old, new in (("POS", "Contactless"),
                                                                             ("Mobile", "Voice banking"))))
    with monkeypatch.context() as build_time:
        build_time.setattr(store, "options", lambda dimension: 1 / 0)
        view = HourlyChannelArea(store)
    assert list(_drawn_bands(view)) == ["ATM", "Online", "Branch", OTHER_CHANNELS]
    stack = _stack(view)
    total = view.frame.groupby("transaction_hour")["total"].sum()
    np.testing.assert_allclose(stack["transactions"].groupby(level="transaction_hour").sum(), total)
    other = view.frame[view.frame["channel"].isin(["Contactless", "Voice banking"])]
    np.testing.assert_allclose(stack.xs(OTHER_CHANNELS, level="channel")["transactions"],
                               other.groupby("transaction_hour")["total"].sum())
    cell = stack.loc[(18, OTHER_CHANNELS)]
    tap(view, 18, (cell["bottom"] + cell["top"]) / 2)
    assert store.channel == ["Contactless", "Voice banking"]
