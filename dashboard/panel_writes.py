"""A fix for a lost-update race in Panel's websocket writes (panel 1.9.x, `panel.io.document`).

Changes made outside Bokeh's document lock (our served updates run as a coroutine) are written
by Panel itself. While an earlier write to the same page is still in progress, Panel queues the
new message and schedules `_dispatch_msgs`; but a dispatch that finishes meanwhile clears the
page's write block, and the scheduled one then finds no block and returns without sending.
The message stays queued until some later change happens to flush it: the page keeps showing
the previous figures although the server drew the new ones (seen as a chip bar that says one
thing and views that show another, after back/forward or quick chip removals).

The fix wraps `_dispatch_msgs`: when it returns with messages still queued and no write under
way, it dispatches again. Nothing else of Panel's behaviour changes. It is installed only on the
Panel versions whose `panel/io/document.py` has this code (1.9.x; read in 1.9.4, the
`_dispatch_msgs` / `_WRITE_BLOCK` pair): tests/test_panel_writes.py reproduces the race on
Panel's own functions, so an upgrade that fixes it shows there.
"""
from __future__ import annotations

import panel
from packaging.version import Version
from panel.io import document as _document

AFFECTED = (Version("1.9.0"), Version("1.10.0"))  # [from, to): the versions read to have the race

_original = getattr(_document._dispatch_msgs, "__wrapped__", _document._dispatch_msgs)


async def _dispatch_msgs(doc) -> None:
    await _original(doc)
    if _document._WRITE_MSGS.get(doc) and doc not in _document._WRITE_BLOCK:  # stranded: send them
        _document._WRITE_BLOCK[doc] = True
        _document._dispatch_write_task(doc, _document._dispatch_msgs, doc)


_dispatch_msgs.__wrapped__ = _original


def affected(version: str = panel.__version__) -> bool:
    """Whether this Panel version has the race (and the internals the fix wraps)."""
    return (AFFECTED[0] <= Version(version) < AFFECTED[1] and hasattr(_document, "_WRITE_BLOCK")
            and hasattr(_document, "_dispatch_write_task"))


def install() -> bool:
    """Install the fix where Panel needs it (idempotent: `panel.io.document` looks the function
    up by name on every write); True if installed."""
    if not affected():
        return False
    _document._dispatch_msgs = _dispatch_msgs
    return True
