"""Panel's queued websocket writes: a message queued while an earlier write was under way must still
reach the page (dashboard/panel_writes.py), or the page keeps showing the previous figures."""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from bokeh.document import Document
from panel.io import document as pn_document

from dashboard import panel_writes


class _Socket:
    """A websocket whose write lock the test holds and releases (Bokeh's is held while it writes)."""

    def __init__(self):
        self.write_lock = SimpleNamespace(_block=SimpleNamespace(_value=1))
        self.sent: list[str] = []

    def lock(self, held: bool) -> None:
        self.write_lock._block._value = 0 if held else 1


class _Connection:
    def __init__(self, socket: _Socket):
        self._socket = socket
        self.protocol = SimpleNamespace(create=lambda kind, events: events[0])


def _send(conn, msg=None):
    """Panel's hook for other socket types: record the message, finish the write 50 ms later."""
    conn._socket.sent.append(msg)
    return [asyncio.ensure_future(asyncio.sleep(0.05))]


def _race() -> list[str]:
    """A write (M0) under way; M1 queued behind it finds the socket busy and retries; M0's write
    ends and clears the block, the socket frees, and the retry finds no block."""
    socket = _Socket()
    conn = _Connection(socket)
    doc = Document()
    pn_document.extra_socket_handlers[_Socket] = _send

    async def run():
        pn_document.schedule_write_events(doc, [conn], ["M0"])
        await asyncio.sleep(0.01)  # M0 is being written
        socket.lock(True)
        pn_document.schedule_write_events(doc, [conn], ["M1"])
        await asyncio.sleep(0.1)  # M0's write has ended meanwhile
        socket.lock(False)
        await asyncio.sleep(0.3)
        return list(socket.sent)

    try:
        with ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright's may run in this thread)
            return pool.submit(asyncio.run, run()).result()
    finally:
        del pn_document.extra_socket_handlers[_Socket]


@pytest.fixture
def original_dispatch(monkeypatch):
    monkeypatch.setattr(pn_document, "_dispatch_msgs", panel_writes._original)


def test_without_the_fix_panel_strands_the_queued_message(original_dispatch):
    assert _race() == ["M0"]  # the race the fix is for (if this fails, Panel fixed it upstream)


def test_with_the_fix_the_queued_message_is_sent(monkeypatch):
    monkeypatch.setattr(pn_document, "_dispatch_msgs", pn_document._dispatch_msgs)
    panel_writes.install()
    assert _race() == ["M0", "M1"]


def test_the_fix_is_installed_only_on_the_panel_versions_read_to_have_the_race():
    assert panel_writes.affected("1.9.4") and panel_writes.affected("1.9.0")
    assert not panel_writes.affected("1.8.9") and not panel_writes.affected("1.10.0")
