"""The live theme switch (components/theme.py): a session switched to a theme draws every view as a
page loaded in that theme draws it (the figures' layouts, traces and Bokeh colours compared whole),
and back again; nothing is reloaded, the filters and the undo history stay."""
from __future__ import annotations

import json
from collections import Counter

import panel as pn
import plotly.io as pio
import pytest
from bokeh.document import Document
from bokeh.themes import default as bokeh_default
from panel.io.state import set_curdoc

from dashboard.app import dashboard_views
from dashboard.components import theme
from dashboard.components.bokeh_view import BokehView
from dashboard.components.plotly_view import PlotlyView
from dashboard.components.style import SELECTED_LINE
from .helpers import make_store

SELECTION = {"customer_segment": ["Premium", "Business"], "credit_score_band": ["Good"]}


def session(url, monkeypatch, name: str):
    """A document holding every view of one store, drawn in the theme `name` at load (as Panel does)."""
    monkeypatch.setattr(pn.config, "theme", name)
    store = make_store(url, **SELECTION)
    doc = Document()
    doc.theme = theme.DARK_BOKEH if name == "dark" else None
    with set_curdoc(doc):  # the session's: its coordinator draws in it (and reads its theme), as served
        views = [view for _, items in dashboard_views(store) for view in items]
        doc.add_root(pn.Column(*views).get_root(doc))
    return store, views, doc


def colours(view: BokehView) -> Counter:
    """Every colour property of the figure's models, by model type: what a theme may change."""
    found = Counter()
    for model in view.figure.references():
        for prop, value in model.properties_with_values(include_defaults=True).items():
            if prop.endswith("color") and (value is None or isinstance(value, str)):  # not a field's mapper
                found[(type(model).__name__, prop, value)] += 1
    return found


def drawn(view) -> object:
    """What the browser is sent of a view: a Plotly figure's whole JSON, a Bokeh figure's colours."""
    return json.loads(pio.to_json(view.figure, validate=False)) if isinstance(view, PlotlyView) else colours(view)


@pytest.mark.parametrize("start, other", [("default", "dark"), ("dark", "default")])
def test_a_switched_session_draws_what_a_page_loaded_in_that_theme_draws(warehouse_url, monkeypatch, start, other):
    store, views, doc = session(warehouse_url, monkeypatch, start)
    before = [drawn(v) for v in views]
    store.select(customer_segment=["Premium"])  # a change to take back after the switch
    _, loaded, _ = session(warehouse_url, monkeypatch, other)  # a page loaded in the other theme
    monkeypatch.setattr(pn.config, "theme", start)  # the process default stays the start's
    theme.switch(doc, views, other == "dark")
    assert doc.theme is (theme.DARK_BOKEH if other == "dark" else bokeh_default)
    with set_curdoc(doc):  # as a served click: in its session's document
        store.undo()  # the history stayed: back to the loaded page's filters, compared like for like
    for view, twin in zip(views, loaded):
        assert view.frame.equals(twin.frame), view.title
        assert drawn(view) == drawn(twin), f"{view.title}: switched to {other} differs from a page loaded {other}"
    theme.switch(doc, views, start == "dark")  # and back: as it was at load
    assert [drawn(v) for v in views] == before


def test_colours_chosen_for_contrast_follow_the_switch(warehouse_url, monkeypatch):
    """What the views pick for the theme's background, not the templates: the network's labels and
    outlines, the affinity matrix's diagonal, the risk chart's band labels and bubble edges."""
    store, views, doc = session(warehouse_url, monkeypatch, "default")
    by_title = {v.title: v for v in views}
    network = next(v for v in views if type(v).__name__ == "CrossSellNetwork")
    bubble = next(v for v in views if type(v).__name__ == "CreditRiskBubble")
    assert network._labels.glyph.text_color == "#333333" and network._dots.glyph.line_color == SELECTED_LINE
    theme.switch(doc, views, True)
    assert network._labels.glyph.text_color == "#e6e6e6" and network._dots.glyph.line_color == "#f5f5f5"
    assert {a.font.color for a in bubble.figure.layout.annotations} == {"#ced4da"}
    assert set().union(*(set(t.marker.line.color) for t in bubble.figure.data)) <= {"#adb5bd", "#f8f9fa"}
    assert bubble.figure.layout.template.layout.paper_bgcolor is not None  # plotly_dark's, in full
    assert by_title[bubble.title].figure.layout.paper_bgcolor == "rgba(0,0,0,0)"


def test_a_switch_outside_a_served_page_changes_nothing(warehouse_url, monkeypatch):
    """A notebook has no page theme: the views keep what they drew."""
    monkeypatch.setattr(pn.config, "theme", "default")
    views = [v for _, items in dashboard_views(make_store(warehouse_url)) for v in items]
    before = [drawn(v) for v in views]
    theme.switch(None, views, True)
    assert [drawn(v) for v in views] == before and pn.config.theme == "default"
