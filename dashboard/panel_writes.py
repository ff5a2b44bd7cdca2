"""A fix for a lost-update race in Panel's websocket writes (panel 1.9.x, `panel.io.document`).

Changes made outside Bokeh's document lock (our served updates run as a coroutine) are written
by Panel itself. While an earlier write to the same page is still in progress, Panel queues the
new message and schedules `_dispatch_msgs`; but a dispatch that finishes meanwhile clears the
page's write block, and the scheduled one then finds no block and returns without sending.
The message stays queued until some later change happens to flush it: the page keeps showing
the previous figures although the server drew the new ones (seen as a chip bar that says one
thing and views that show another, after back/forward or quick chip removals).

The fix wraps `_dispatch_msgs`: when it returns with messages still queued and no write under
way, it dispatches again. Nothing else of Panel's behaviour changes.
"""
from __future__ import annotations

from panel.io import document as _document

_original = getattr(_document._dispatch_msgs, "__wrapped__", _document._dispatch_msgs)


async def _dispatch_msgs(doc) -> None:
    await _original(doc)
    if _document._WRITE_MSGS.get(doc) and doc not in _document._WRITE_BLOCK:  # stranded: send them
        _document._WRITE_BLOCK[doc] = True
        _document._dispatch_write_task(doc, _document._dispatch_msgs, doc)


_dispatch_msgs.__wrapped__ = _original


def install() -> None:
    """Idempotent: `panel.io.document` looks the function up by name on every write."""
    _document._dispatch_msgs = _dispatch_msgs
