"""Setting columns on a ColumnDataSource so that only those whose values changed travel.

Bokeh sends every column set on a source (`data.update`), equal or not, so both drawing layers
compare first: the Bokeh views' sources (`patch`) and the Plotly pane's per-trace sources
(plotly_patch.py, with `same`).
"""
from __future__ import annotations

import numpy as np
from bokeh.models import ColumnDataSource


def same(old, new) -> bool:
    """Whether two columns hold the same values (False when they cannot be compared)."""
    try:
        return len(old) == len(new) and bool(np.array_equal(np.asarray(old), np.asarray(new)))
    except (TypeError, ValueError):
        return False


def patch(source: ColumnDataSource, columns: dict) -> None:
    """Set these columns on a source, sending only those that changed (all of them when the
    number of rows changes: a source's columns must stay equally long)."""
    rows = {len(v) for v in columns.values()}
    if len(rows) > 1:
        raise ValueError(f"columns of unequal length: { {k: len(v) for k, v in columns.items()} }")
    current = next(iter(source.data.values()), None)
    if current is not None and rows and len(current) != rows.pop():
        source.data = {**{k: v[:0] for k, v in source.data.items() if k not in columns}, **columns}
        return
    changed = {k: v for k, v in columns.items() if k not in source.data or not same(source.data[k], v)}
    if changed:
        source.data.update(changed)
