"""The page's light or dark theme, switched live: no reload, so the session keeps its filters, its
undo history, its drawn figures and the reader's place on the page.

What depends on the theme, and what changes it on a switch:
- the page's CSS (Panel's theme stylesheets in the page's head, Bootstrap's `data-bs-theme`, the
  navbar): the browser, at once (`ThemeSwitch`); every component's own stylesheets read CSS
  variables, so they follow;
- the Bokeh figures' canvas colours: Bokeh's document theme (Panel's dark theme, or Bokeh's default);
- what each view chose for contrast on the theme's background (Plotly's template, label and outline
  colours): `View.restyle`.
The theme at load is Panel's own `?theme=dark`; the switch keeps it in the address (a reload or a
copied link keeps it) and in `pn.config.theme`, which Panel keeps per session.
"""
from __future__ import annotations

from typing import Iterable

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc
from panel.theme.base import DarkTheme

from .coordinator import guarded, wave

DARK_BOKEH = DarkTheme.param.bokeh_theme.default  # Panel's dark Bokeh theme (plots #2b3035 on #212529)


def is_dark() -> bool:
    """Whether the session's page is dark."""
    return pn.config.theme == "dark"


def pick(themes: dict, dark: bool | None = None):
    """A view's {'light': …, 'dark': …} entry for the session's theme (or for `dark`)."""
    return themes["dark" if (is_dark() if dark is None else dark) else "light"]


def switch(document: Document | None, views: Iterable, dark: bool) -> None:
    """Make the session's figures `dark` or light (the browser changed the page's CSS itself)."""
    if document is None:  # a notebook: no page theme to follow
        return
    with set_curdoc(document):
        if is_dark() == dark:
            return
        pn.config.theme = "dark" if dark else "default"  # per session: read by the views' colours
        with wave(document):  # one message, not one per themed property of every model
            document.theme = DARK_BOKEH if dark else None  # None: Bokeh's default theme
            for view in views:
                guarded(view, view.restyle)
