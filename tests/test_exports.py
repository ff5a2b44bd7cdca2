"""Issue #16 items 13 and 14: the header and the Excel workbook name the warehouse briefly (the full URL,
password masked, on demand) and the workbook reads like the charts: whole sheet names, headers in words,
numbers formatted."""
from __future__ import annotations

import io

import openpyxl

from dashboard.app import _excel_button, freshness
from dashboard.components import BehaviorScatter3D, EngagementRadar, GeoBubbleMap
from dashboard.config import warehouse_name
from dashboard.data import DataStore


def test_the_warehouse_is_named_briefly_with_the_masked_url_on_demand(warehouse_url):
    assert warehouse_name("postgresql+psycopg://reader:secret@db-host/warehouse") == "warehouse on db-host (postgresql)"
    assert warehouse_name("duckdb:////srv/bank/data/warehouse.duckdb") == "warehouse.duckdb"
    line = freshness(DataStore(warehouse_url))
    path = warehouse_url.split("///", 1)[1]
    shown = line.split(">")  # the text between tags: the short name, not the path
    assert "small.duckdb</span>" in line and not any(path in part.split("<")[0] for part in shown)
    assert f"title='Warehouse: {warehouse_url}'" in line  # the full URL in the tooltip


def test_the_workbook_reads_like_the_charts(warehouse_url):
    store = DataStore(warehouse_url)
    views = [BehaviorScatter3D(store), EngagementRadar(store), GeoBubbleMap(store)]
    book = openpyxl.load_workbook(io.BytesIO(_excel_button(store, views).callback().getvalue()))
    assert book.sheetnames == ["Filters", "Customer behaviour clusters", "Customer engagement profile",
                               "Customer geographic"]  # cut between words, not mid-word at 31 characters
    about = book["Filters"]
    assert about["A3"].value == "Warehouse" and about["B3"].value == "small.duckdb"
    assert about["B3"].comment.text == warehouse_url
    scatter = book["Customer behaviour clusters"]
    headers = [c.value for c in scatter[1]]
    assert headers[:5] == ["Segment", "Age group", "Income", "Customer count", "Avg transactions (90d)"]
    assert "Avg total balance" in headers and not any("_" in h for h in headers)
    formats = {h: scatter.cell(row=2, column=i + 1).number_format for i, h in enumerate(headers)}
    assert formats["Customer count"] == "#,##0"
    assert formats["Avg total balance"] == formats["Avg transaction size"] == '"$"#,##0.00'
    assert formats["Avg transactions (90d)"] == "#,##0.00"
    radar = book["Customer engagement profile"]
    radar_headers = [c.value for c in radar[1]]
    assert radar.cell(row=2, column=radar_headers.index("Mobile usage %") + 1).number_format == '0.0"%"'
