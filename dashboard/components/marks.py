"""What the views share about marks: which are highlighted, how big a bubble is, and hover
texts whose fields have names. One place, so every view fades, sizes and explains alike."""
from __future__ import annotations

import re
from typing import Mapping

import numpy as np
import pandas as pd

from .style import FADED_OPACITY


def lit(view, frame: pd.DataFrame, columns: Mapping[str, str] | None = None) -> np.ndarray:
    """Per row: whether it is part of the view's selection (every row when nothing is selected).

    `columns` maps a store dimension to the frame's column holding it (default: the same name)
    for the dimensions to compare; a row is lit when, in every one with a selection, its value
    is selected (the crossfilter highlight)."""
    columns = columns or {d: d for d in view.own}
    out = np.ones(len(frame), dtype=bool)
    for dimension, column in columns.items():
        chosen = view.selected(dimension)
        if chosen:
            out &= frame[column].isin(chosen).to_numpy()
    return out


def alpha(on: np.ndarray, high: float = 1.0, low: float = FADED_OPACITY) -> np.ndarray:
    """Opacity per mark: `high` for a lit mark, `low` for a faded one."""
    return np.where(on, high, low).astype(float)


def any_selected(view, dimensions=None) -> bool:
    return any(view.selected(d) for d in (dimensions or view.own))


def bubble_px(counts, max_px: float, min_px: float = 3.0) -> np.ndarray:
    """Bubble diameters in pixels with the area proportional to the count (largest = max_px)."""
    counts = np.nan_to_num(np.asarray(counts, dtype=float), nan=0.0).clip(min=0)
    top = counts.max() if counts.size else 0.0
    if top <= 0:
        return np.full(counts.shape, min_px)
    return np.maximum(max_px * np.sqrt(counts / top), min_px)


def plotly_sizeref(counts, max_px: float) -> float:
    """Plotly's `sizeref` for area-sized markers whose largest is `max_px` across (px.scatter's size_max)."""
    top = float(np.nanmax(np.asarray(counts, dtype=float))) if len(counts) else 0.0
    return 2.0 * max(top, 1.0) / max_px ** 2


class Hover:
    """A Plotly hover template with named fields: `Hover("<b>{segment}</b> · {age}", "segment", "age")`.

    Plotly only numbers `customdata`; this keeps the numbers in one place: `template` is Plotly's
    text (`%{customdata[i]}` for each `{name}`), `customdata(**columns)` the 2-D array in field
    order, and `read(point, name)` a field of a clicked point."""

    def __init__(self, text: str, *fields: str):
        self.fields = fields
        unknown = set(re.findall(r"(?<!%)\{(\w+)\}", text)) - set(fields)
        if unknown:
            raise ValueError(f"hover text names unknown fields: {sorted(unknown)}")
        self.template = re.sub(r"(?<!%)\{(\w+)\}", lambda m: f"%{{customdata[{fields.index(m.group(1))}]}}",
                               text) + "<extra></extra>"

    def customdata(self, **columns) -> np.ndarray:
        missing = set(self.fields) - set(columns)
        if missing:
            raise ValueError(f"no values for hover fields {sorted(missing)}")
        n = len(next(iter(columns.values()))) if columns else 0
        out = np.empty((n, len(self.fields)), dtype=object)
        for i, name in enumerate(self.fields):
            out[:, i] = list(columns[name])
        return out

    def read(self, point: dict, name: str):
        data = point.get("customdata")
        i = self.fields.index(name)
        if isinstance(data, (list, tuple)) and len(data) > i:
            return data[i]
        return None
