"""The frames views made from answers, shared by every session of the process."""
from __future__ import annotations

from typing import TYPE_CHECKING

import threading
from collections import OrderedDict

import pandas as pd

from .coordinator import served

if TYPE_CHECKING:
    from .base import View


class _Shaped:
    """The frames views made from answers, shared by every session of the process (the answers
    themselves are in the store's query cache): a served view whose transform is a function of
    the answer and its knobs alone skips the pandas of a state another session, or itself, has
    already shown. Bounded; keyed by the warehouse build, so a rebuild misses."""

    MAX = 1024

    def __init__(self):
        self._frames: "OrderedDict[tuple, pd.DataFrame]" = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, view: "View", raw: pd.DataFrame, key) -> pd.DataFrame:
        if not view.shares_frames or not served():  # one session alone shares nothing
            return view.transform(raw)
        store = view.store
        name = (type(view), store.url, str(store.build_info()["built_at"]), key,
                tuple(getattr(view, k) for k in view._knobs))
        with self._lock:
            frame = self._frames.get(name)
            if frame is not None:
                self._frames.move_to_end(name)
                return frame.copy()  # a view's frame is its own
        frame = view.transform(raw)
        with self._lock:
            self._frames[name] = frame.copy()
            while len(self._frames) > self.MAX:
                self._frames.popitem(last=False)
        return frame


SHAPED = _Shaped()
