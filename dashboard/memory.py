"""Give the memory of closed sessions back to the operating system; keep full collections short.

A closed session's objects are freed (the load test counts them: none outlive their session),
but the allocators keep the freed memory: glibc in its heaps and per-thread arenas (the query
threads allocate there), pymalloc in arenas that still hold a live block. A few seconds after
sessions close: one full garbage collection, then `malloc_trim(0)`, which gives glibc's free
pages back (a 10-session load run: RSS after close 1.35x -> 1.24x the baseline; pymalloc's
share stays, see bench/README.md, *Load*).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import gc

from tornado.ioloop import IOLoop

DELAY_S = 5.0  # after the last of a burst of closing sessions: one collection for all of them
_frozen = False


def _malloc_trim():
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to trim
        return None


_TRIM = _malloc_trim()
_pending = None


def release() -> None:
    """Collect garbage and hand free heap pages back to the system."""
    global _pending
    _pending = None
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def release_soon(*_) -> None:
    """A `pn.state.on_session_destroyed` callback: release DELAY_S after the last session closed."""
    global _pending
    loop = IOLoop.current()
    if _pending is not None:
        loop.remove_timeout(_pending)
    _pending = loop.call_later(DELAY_S, release)


def freeze_long_lived() -> None:
    """Once per process, before its first page: what is alive now (the imported libraries, module
    state) lasts as long as the process, so move it out of the collector's sight (`gc.freeze`).
    Python's full collections, every few hundred thousand allocations, then go over what sessions
    made since, not the whole heap: in a process answering changes, one paused a change for
    150-190 ms about once in 25 changes, 30-50 ms with the imports frozen."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()
