"""Time views: data under filters equals the reference; own dimensions highlight; taps select."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard.components import HourlyChannelArea, TimeHeatmap
from dashboard.components.style import CHANNEL_COLORS, OTHER_COLOR
from dashboard.data import DataStore, shared_engine
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold
from warehouse_copy import altered_copy

from .helpers import EMPTY

TABLE = "analytics_transaction_time_patterns"


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


def test_heatmap_tap_selects_the_cell_and_a_second_tap_clears_it(warehouse_url):
    store = DataStore(warehouse_url)
    view = TimeHeatmap(store)
    before = view.frame.copy()
    view._on_tap(x="Sat", y=12.3)
    assert store.day_of_week == [6] and store.transaction_hour == [12]
    pd.testing.assert_frame_equal(view.frame, before)  # its own dimensions do not filter it
    alpha = view.render(view.frame).data["alpha"]
    assert (alpha == 1.0).sum() == 1 and alpha.min() < 1.0  # one highlighted cell
    view._on_tap(x="Sat", y=11.8)
    assert store.day_of_week == [] and store.transaction_hour == []
    assert view._on_tap(x="Someday", y=3) is None and store.day_of_week == []


def test_channel_area_totals_and_tap_on_a_band(warehouse_url, silver):
    store = DataStore(warehouse_url)
    view = HourlyChannelArea(store)
    store.select(age_group=["65+"])
    gold = reference_gold(silver, TABLE, Filters(age_group=("65+",)))
    want = gold.groupby(["transaction_hour", "channel"])["transaction_count"].sum()
    got = view.frame.set_index(["transaction_hour", "channel"])["total"]
    assert got[got > 0].sort_index().to_dict() == want[want > 0].sort_index().to_dict()
    wide = view._wide(view.frame)
    hour = 12
    bottom = wide.loc[hour, "ATM"] + wide.loc[hour, "Online"]  # inside the Branch band (stacked 3rd)
    view._on_tap(x=hour, y=bottom + wide.loc[hour, "Branch"] / 2)
    assert store.channel == ["Branch"]
    assert view.frame.set_index(["transaction_hour", "channel"])["total"].equals(got)  # not filtered by channel
    view._on_tap(x=hour, y=wide.loc[hour].sum() * 10)  # above every band: nothing
    assert store.channel == ["Branch"]


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


def test_a_warehouse_with_its_own_channels_gets_a_band_each(warehouse_url, tmp_path):
    """Channels beyond the usual five (a bank's own) are stacked too, after the known ones, each in a
    colour of its own, and clickable: nothing is dropped from the stack or its total."""
    store = altered_copy(warehouse_url, tmp_path, "DROP SCHEMA fast CASCADE", *(
        f"UPDATE {table} SET channel = '{new}' WHERE channel = '{old}'"
        for table in ("silver.transactions", f"gold.{TABLE}") for old, new in (("POS", "Contactless"),
                                                                             ("Mobile", "Voice banking"))))
    view = HourlyChannelArea(store)
    wide = view._wide(view.frame)
    assert list(wide.columns) == ["ATM", "Online", "Branch", "Contactless", "Voice banking"]
    want = pd.read_sql(f"SELECT transaction_hour, channel, sum(transaction_count) AS n FROM gold.{TABLE} "
                       "GROUP BY transaction_hour, channel", shared_engine(store.url)
                       ).set_index(["transaction_hour", "channel"])["n"]
    got = view.frame.set_index(["transaction_hour", "channel"])["total"]
    assert got[got > 0].sort_index().to_dict() == want[want > 0].sort_index().astype(int).to_dict()
    colours = {area.label: area.opts.get().kwargs["color"] for area in view.render(view.frame)}
    assert colours["ATM"] == CHANNEL_COLORS["ATM"] and OTHER_COLOR not in colours.values()
    assert len(set(colours.values())) == 5  # the two new channels each have a colour of their own
    hour = 18
    below = wide.loc[hour, ["ATM", "Online", "Branch"]].sum()
    view._on_tap(x=hour, y=below + wide.loc[hour, "Contactless"] / 2)
    assert store.channel == ["Contactless"] and store.notice == ""  # a value the data holds: kept
