"""A Plotly view's figure stays what the view shows while Panel's pane draws and re-draws it."""
from __future__ import annotations

import json

import panel as pn
import plotly.io as pio
from bokeh.document import Document

from dashboard.components import GeoBubbleMap
from dashboard.data import DataStore


def shown(figure) -> dict:
    return json.loads(pio.to_json(figure, validate=False))


def test_the_figure_keeps_its_nested_arrays_when_the_pane_reads_it_whole(warehouse_url):
    """Panel's pane popped the arrays nested in a trace (`marker.size`, `marker.line.color`) out of the
    figure as it read it: a card attached late, or a theme switch, left a figure without its bubbles."""
    view = GeoBubbleMap(DataStore(warehouse_url))
    drawn = shown(view.figure)
    assert len(drawn["data"][0]["marker"]["size"]["bdata"]) > 0  # bubbles with sizes
    doc = Document()
    doc.add_root(pn.panel(view).get_root(doc))  # the pane makes its model from the figure
    view._plot.param.trigger("object")  # and reads it whole again
    assert shown(view.figure) == drawn
    model = next(m for m, _ in view._plot._models.values())
    assert "marker.size" in model.data_sources[0].data  # the pane still sends them as binary columns
