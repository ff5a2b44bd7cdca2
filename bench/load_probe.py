"""`panel serve --setup` script for the load test: on SIGUSR1 each worker writes what it holds.

RSS alone cannot tell a leak from memory the allocator keeps: this counts the objects a session
makes (Bokeh documents, data stores, views) after a full garbage collection, so "after close"
can be checked for sessions that were never freed. Written to $LOAD_PROBE_DIR/<pid>.json.
"""
import ctypes
import gc
import json
import os
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path


def _snapshot(*_) -> None:
    from bokeh.document import Document

    from dashboard.components.base import View
    from dashboard.data import DataStore

    gc.collect()
    kinds = Counter()
    for obj in gc.get_objects():
        if isinstance(obj, Document):
            kinds["documents"] += 1
        elif isinstance(obj, DataStore):
            kinds["stores"] += 1
        elif isinstance(obj, View):
            kinds["views"] += 1
    out = Path(os.environ["LOAD_PROBE_DIR"]) / f"{os.getpid()}.json"
    # blocks Python holds live: flat while RSS stays up means freed memory the allocators keep
    out.write_text(json.dumps(dict(kinds, gc_objects=len(gc.get_objects()),
                                   allocated_blocks=sys.getallocatedblocks(), **_malloc(), **_pymalloc())))


class _Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


def _pymalloc() -> dict:
    """pymalloc's arenas: what they hold live and what sits free inside arenas it cannot return."""
    with tempfile.TemporaryFile("w+") as f:
        saved = os.dup(2)
        os.dup2(f.fileno(), 2)
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        f.seek(0)
        text = f.read()
    wanted = {"# arenas allocated current": "pymalloc_arenas", "# bytes in allocated blocks": "pymalloc_used_mb",
              "# bytes in available blocks": "pymalloc_free_mb", "unused pools": "pymalloc_unused_pools_mb"}
    out = {}
    for line in text.splitlines():
        for label, key in wanted.items():
            if line.startswith(label) or (label == "unused pools" and label in line):
                n = int(line.split("=")[-1].replace(",", "").strip())
                out[key] = n if key == "pymalloc_arenas" else round(n / 1e6)
    return out


def _malloc() -> dict:
    """glibc's view: MB in use and MB free but kept (heaps), and MB mmapped."""
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    fn.restype = _Mallinfo2
    m = fn()
    return {"malloc_used_mb": round(m.uordblks / 1e6), "malloc_free_kept_mb": round(m.fordblks / 1e6),
            "malloc_mmapped_mb": round(m.hblkhd / 1e6)}


signal.signal(signal.SIGUSR1, _snapshot)
