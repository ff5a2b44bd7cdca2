"""A Plotly figure built once, updated without plotly.py or the pane's whole-figure diff.

On each update, `trace.update` validates every property and runs plotly.py's change callbacks,
and Panel's Plotly pane serialises the whole figure to JSON and compares it, trace by trace,
with what it sent before. For a figure whose structure is fixed at build (PlotlyView), neither
is needed: new arrays are written into the figure's own dicts (so the figure stays what the view
shows, for tests, saving and export) and set on the pane's per-trace ColumnDataSources, which
send only the columns that changed, as binary; one `_render_count` tick asks the browser to
redraw (Plotly.react). Anything else (a scalar that changed, a property the pane never saw as
an array, dates) goes the pane's own way.
"""
from __future__ import annotations

import numpy as np
import panel as pn

from .sources import same

_MISSING = object()


def _keys(path: str) -> list:
    return [int(k) if k.isdigit() else k for k in path.replace("[", ".").replace("]", "").split(".")]


def _own(container, key):
    """A copy of `container[key]`, put in its place (a new dict or list; {} when missing)."""
    child = container[key] if isinstance(key, int) else container.get(key)
    child = list(child) if isinstance(child, list) else dict(child or {})
    container[key] = child
    return child


def write(target: dict, path: str, value) -> None:
    """Set `value` at a Plotly path ("marker.line.width", "dimensions[2].values") in plain dicts and
    lists, copying the dicts and lists on the way: the pane's model may share them (it copied the
    figure's trace dicts one level deep), and must not see a change that was not sent."""
    keys = _keys(path)
    for key in keys[:-1]:
        target = _own(target, key)
    target[keys[-1]] = value


def read(target, path: str):
    """The value at a Plotly path, or _MISSING."""
    for key in _keys(path):
        try:
            target = target[key]
        except (KeyError, IndexError, TypeError):
            return _MISSING
    return target


def flatten(properties: dict, prefix: str = "") -> dict:
    """{"marker": {"size": a}} -> {"marker.size": a}: the pane names its columns by dotted path."""
    flat = {}
    for key, value in properties.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            flat.update(flatten(value, path))
        else:
            flat[path] = value
    return flat


def _containers(value):
    """`value` with its dicts and lists copied, arrays shared."""
    if isinstance(value, dict):
        return {k: _containers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_containers(v) for v in value]
    return value


class FigurePane(pn.pane.Plotly):
    """Panel's Plotly pane, minus a side effect: to send a trace's arrays as binary columns it pops
    them out of the trace's dicts, and it copies a trace one level deep, so the arrays nested in the
    figure's own dicts (`marker.size`, `line.color`) left the figure whenever the pane read it whole
    (a card attached later, a theme switch): the figure would no longer be what the view shows."""

    @classmethod
    def _plotly_json_wrapper(cls, fig):
        json = super()._plotly_json_wrapper(fig)
        json["data"] = [_containers(trace) for trace in json["data"]]
        return json


def _columns(model, updates: list[dict]) -> list[dict] | None:
    """Per trace, the source columns that changed; None when an update cannot go by the sources."""
    if len(model.data_sources) != len(updates):
        return None
    changed = []
    for source, sent, flat in zip(model.data_sources, model.data, updates):
        columns = {}
        for path, value in flat.items():
            column = path.replace("[", ".").replace("]", "")  # the pane's name: "dimensions.2.values"
            if isinstance(value, np.ndarray) and value.dtype.kind != "M" and column in source.data:
                if not same(source.data[column][0], value):
                    columns[column] = [value]
            elif isinstance(value, np.ndarray) or not _equal(read(sent, path), value):
                return None  # a new array, or a changed scalar: the pane re-sends the trace
        changed.append(columns)
    return changed


def _equal(old, new) -> bool:
    try:
        return bool(old == new)
    except (TypeError, ValueError):
        return False


def send(pane, figure, updates: list[dict], layout: dict) -> None:
    """Write `updates` (per trace, dotted paths) and `layout` into `figure` and send them to every
    model of `pane` (a FigurePane showing `figure`)."""
    for data, flat in zip(figure._data, updates):
        for path, value in flat.items():
            write(data, path, value)
    for path, value in flatten(layout).items():  # nested or dotted ("coloraxis.cmin") alike
        write(figure._layout, path, value)
    models = [model for model, _ in pane._models.values()]
    plans = [_columns(model, updates) for model in models]
    if any(plan is None for plan in plans):
        pane.param.trigger("object")  # the pane's own whole-figure diff
        return
    for model, plan in zip(models, plans):
        for source, columns in zip(model.data_sources, plan):
            if columns:
                source.data.update(columns)
        if layout:  # `write` copied what it changed: the model's old layout still differs
            model.layout = dict(figure._layout)
        if layout or any(plan):
            model._render_count += 1
