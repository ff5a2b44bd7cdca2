"""What the component tests share: a store with a selection, and the memoised independent reference."""
from __future__ import annotations

import pandas as pd

from dashboard.data import DataStore
from dashboard.warehouse.filters import Filters
from gold_reference import reference_gold

_REFERENCE: dict[tuple[str, Filters], pd.DataFrame] = {}


def make_store(url: str, **selection) -> DataStore:
    store = DataStore(url)
    store.param.update(**selection)
    return store


def reference(silver, selection: dict | Filters | None = None, own: tuple[str, ...] = (), *, table: str) -> pd.DataFrame:
    """The independent gold table under a selection minus the view's own dimensions (computed once)."""
    if isinstance(selection, Filters):
        filters = selection.without(*own)
    else:
        filters = Filters(**{d: tuple(v) for d, v in (selection or {}).items() if d not in own})
    if (table, filters) not in _REFERENCE:
        _REFERENCE[(table, filters)] = reference_gold(silver, table, filters)
    return _REFERENCE[(table, filters)].copy()


def click(view, point: dict) -> None:
    """What Panel's Plotly pane does with a browser click on a point."""
    view._plot.click_data = {"points": [point], "selector": None}

# Real values whose combination holds nothing, even for a view that ignores one of them (its own
# dimension): Atlanta is not in Alaska, and neither is in the Northeast.
EMPTY = {"state": ["AK"], "city": ["ATLANTA"], "region": ["Northeast"]}
