"""Load: N concurrent dashboard sessions changing filters against `panel serve` (issue #5, item 4).

    python -m bench.load [--sessions 50] [--minutes 3] [--num-procs 1|2] [--think S] [--url URL]

Fifty headless browsers do not fit on two shared cores, so each session is a websocket client
speaking Bokeh's server protocol, sending what BokehJS sends and nothing more: GET the page (the
server creates the session and its document), open the websocket with the page's token,
PULL-DOC-REQ (the reply is the whole document, ~0.5 MB of JSON, of which only model ids are kept:
Panel's JSComponent data models are classes made at run time in the server, so nothing is
deserialized), then the `document_ready` event BokehJS sends once it has drawn the page (Panel
holds the views' updates until then), and then what the page's IntersectionObserver says of the
cards below the first `--in-sight` (page order): `seen` false on their status lines, so that
those views, as in a browser on a screen that shows that many cards, ask for nothing until
seen (no session scrolls). A user action is a sidebar MultiChoice's `value` changed in
a PATCH-DOC, the message BokehJS sends when a choice is picked or removed.

Latency of an action: from sending the change to the last patch of the server's answer. The
charts answer in waves (`Coordinator` in dashboard/components/coordinator.py), one PATCH-DOC each:
the first, 0.3 s after the queries start, redraws every chart whose data is ready and sets
`updating` on the status line (`ViewHeader`) of each one still waiting; each later wave redraws
charts and clears their flag. So "a patch inside a chart's card has come and no status line is
updating" is exactly "all 13 charts are redrawn" (`charts` below), no guess. The detail table
and the address bar's query announce nothing, so the answer is over once the charts are redrawn
and no patch has come for 1 s; the latency is stamped at the last patch, and patches that still
come later, before the session's next action, are counted (`late`: 0 means nothing was missed).
What a browser adds (drawing, the range and relayout messages it sends back) is not in these figures.

Phases: start the server (sessions discarded 5 s after their websocket closes). Warm-up: sessions
opened, used and closed until every worker process has served one that visited every filter
state of the load (below), plus one more, so imports are done and the query cache holds what
it will hold at the end; **baseline** = worker RSS once Panel has destroyed them. Ramp: the
sessions are opened one after another and stay idle (with everyone clicking, the k-th open
would queue behind k redraws on the server's event loop: an hour for 50); `open_s` is GET ->
document received. Steady: every session changes filters with think time for `--minutes`;
15 s in, one more visitor opens a session (`newcomer`: what a page load waits while everyone clicks). Close: each session finishes its
action and closes; **after close** = worker RSS 20 s after Panel has destroyed every session.
`--rounds` (2): ramp, steady and close again with the same number of new sessions. Live session
objects (Bokeh documents, stores, views, counted in each worker after a full gc by
bench/load_probe.py) must be back to the baseline's after every round: a session that is never
freed is an error. RSS cannot say that alone: pymalloc keeps arenas that still hold one live block
(a query-cache entry made mid-round), so the first busy round leaves a high-water mark; a leak is
RSS that grows again with the next round (`rss_last_over_first_round`).
RSS is summed over the worker processes (with --num-procs 2 the forking parent only waits and is
reported apart).

The filter states: two values of each of six sidebar filters (customer and transaction ones),
one at a time; an action picks one, switches to the other value or clears it. Because the
warm-up visits them all, RSS after close measures what the sessions leave behind, not new
entries of the process-wide query cache (bounded by item count, not bytes); every query is then
a cache hit, as for colleagues looking at the same filters (cold queries: bench/crossfilter.py).

Errors: a failed connection, a protocol error or ERROR reply, a view in its error state, an
action not answered within --timeout s, a session with no answered action, ERROR/Traceback lines
in the server log. Results: bench/results/load_<procs>p.json and a table on stdout.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
from bokeh.protocol import Protocol
from bokeh.protocol.receiver import Receiver
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

if __package__ in (None, ""):  # `python bench/load.py`: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import machine, percentile, write_results  # noqa: E402
from dashboard.config import database_url, duckdb_path, mask_url  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_VIEWS = 13
SESSION_OBJECTS = ("documents", "stores", "views")  # what every session makes (bench/load_probe.py counts them)
FILTERS = ("Segment", "Region", "Income", "Channel", "Category group", "Day of week")  # sidebar titles
QUIET_S = 1.0
ERROR_TEXTS = ("Cannot load this view", "drawing this view failed")
LOG_FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s %(message)s"
LOG_PROBLEM = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback|cannot read the warehouse")
STATS_LINE = re.compile(r"^\S+ \S+ (\d+) DEBUG .* /serve has (\d+) sessions", re.MULTILINE)  # pid: our format's
TOKEN = re.compile(r'"token":\s*"([^"]+)"')
def view_titles() -> list[str]:
    """The charts' titles in page order."""
    from dashboard import components
    from dashboard.app import SECTIONS
    return [getattr(components, name).title for _, names in SECTIONS for name in names]


DOCUMENT_READY = {"kind": "MessageSent", "msg_type": "bokeh_event",
                  "msg_data": {"type": "event", "name": "document_ready", "values": {"type": "map", "entries": []}}}


# -- the server ---------------------------------------------------------------------------------
class Server:
    """`panel serve serve.py --warm --num-procs N` on a free port, logging sessions and per-process stats."""

    def __init__(self, warehouse_url: str, num_procs: int, timeout: float = 300.0):
        self.num_procs, self.port = num_procs, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
        self.probe_dir = Path(tempfile.mkdtemp(prefix="load-probe-"))
        env.update(DASHBOARD_DATABASE_URL=warehouse_url, PANEL_LOG_LEVEL="info",  # Panel logs sessions made/destroyed
                   LOAD_PROBE_DIR=str(self.probe_dir))
        self.command = [
            sys.executable, "-m", "panel", "serve", "serve.py", "--warm", "--address", "127.0.0.1",
            "--port", str(self.port), "--allow-websocket-origin", f"127.0.0.1:{self.port}",
            "--num-procs", str(num_procs), "--check-unused-sessions", "1000", "--unused-session-lifetime", "5000",
            "--setup", str(ROOT / "bench" / "load_probe.py"),  # SIGUSR1: live session objects (`objects`)
            # debug: Bokeh's "/serve has S sessions" line per process every 2 s (it adds little else)
            "--log-level", "debug", "--stats-log-frequency", "2000", "--log-format", LOG_FORMAT]
        fd, name = tempfile.mkstemp(prefix=f"load-server-{self.port}-", suffix=".log")
        self.log_path = Path(name)
        with os.fdopen(fd, "w") as log:
            self.proc = subprocess.Popen(self.command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout  # --warm runs the app once before the server listens
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                urllib.request.urlopen(f"{self.base}/favicon.ico", timeout=2)
            except urllib.error.HTTPError:  # any HTTP answer means the server is up
                pass
            except OSError:
                time.sleep(0.3)
                continue
            if len(self.workers()) == num_procs:
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log()[-3000:]}")

    def workers(self) -> list[psutil.Process]:
        """The processes serving sessions: the server itself, or the children it forked."""
        root = psutil.Process(self.proc.pid)
        return root.children() if self.num_procs > 1 else [root]

    def rss_mb(self) -> float:
        return sum(_rss(p) for p in self.workers()) / 1e6

    def cpu_s(self) -> float:
        total = 0.0
        for p in self.workers():
            try:
                t = p.cpu_times()
                total += t.user + t.system
            except psutil.NoSuchProcess:
                pass
        return total

    def websockets(self) -> dict[int, int]:
        """Established connections to the server port per worker pid (between page loads: the websockets)."""
        return {p.pid: sum(1 for c in p.net_connections(kind="tcp")
                           if c.status == psutil.CONN_ESTABLISHED and c.laddr.port == self.port)
                for p in self.workers()}

    def objects(self, timeout: float = 60.0) -> dict[str, int]:
        """Live documents, stores and views summed over the workers, after a full gc in each."""
        for old in self.probe_dir.glob("*.json"):
            old.unlink()
        workers = self.workers()
        for p in workers:
            p.send_signal(signal.SIGUSR1)
        deadline, counts = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            files = list(self.probe_dir.glob("*.json"))
            if len(files) == len(workers):
                time.sleep(0.2)  # written, not just created
                for f in files:
                    for k, v in json.loads(f.read_text()).items():
                        counts[k] = counts.get(k, 0) + v
                return counts
            time.sleep(0.2)
        raise RuntimeError(f"{len(workers)} workers did not answer the probe in {timeout:.0f} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def sessions(self) -> tuple[int, int]:
        """(created, destroyed) sessions so far, from Panel's log lines (the --warm one included)."""
        log = self.log()
        return len(re.findall(r"Session \d+ launching", log)), len(re.findall(r"Session \d+ destroyed", log))

    def stop(self) -> None:
        """The server and, with --num-procs 2, its workers (they outlive a terminated parent)."""
        try:
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children()]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            p.terminate()
        _, alive = psutil.wait_procs(procs, timeout=20)
        for p in alive:
            p.kill()
        self.proc.wait()
        shutil.rmtree(self.probe_dir, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


# -- one simulated visitor ------------------------------------------------------------------------
class Session:
    """A browser's part of one session: the page, its websocket, the model ids it acts on, what it saw."""

    def __init__(self, number: int, base: str, seed: int, timeout: float, in_sight: int = N_VIEWS):
        self.number, self.base, self.timeout, self.in_sight = number, base, timeout, in_sight
        self.rng = random.Random(seed)
        self.receiver = Receiver(Protocol())
        self.ws = None
        self.widgets: dict[str, str] = {}  # sidebar title -> MultiChoice model id
        self.states: dict[str, list[str]] = {}  # title -> the two values the load uses
        self.active: tuple[str, str] | None = None  # the one filter set, if any
        self.status_ids: set[str] = set()  # the charts' ViewStatus models
        self.card_status: dict[str, set[str]] = {}  # chart title -> its status line's models
        self.chart_ids: set[str] = set()  # every model inside a chart's card
        self.updating: set[str] = set()
        self.open_s: float | None = None  # GET -> document received
        self.opened_at = 0.0
        self.page_s: float | None = None  # the GET alone (the server creates the session)
        self.actions: list[dict] = []
        self.late: list[float] = []  # s after an answer's end that a patch still came
        self.errors: list[str] = []
        self.closing = False
        self._replies: dict[str, asyncio.Future] = {}
        self._charts_done: asyncio.Future | None = None
        self._wave = self._spun = False
        self._last_patch = self._ended = 0.0
        self._msgid = 0
        self._reader: asyncio.Task | None = None

    async def open(self) -> None:
        """GET the page, connect, pull the document, say it is drawn; `open_s` = GET -> document received."""
        started = time.perf_counter()
        page = await AsyncHTTPClient().fetch(f"{self.base}/serve", connect_timeout=self.timeout,
                                             request_timeout=self.timeout)
        self.page_s = time.perf_counter() - started
        token = TOKEN.search(page.body.decode()).group(1)
        # cookies go back with the websocket, as a browser's would (a proxy's session affinity)
        self.cookies = dict(c.split(";", 1)[0].strip().split("=", 1) for c in page.headers.get_list("Set-Cookie"))
        headers = {"Origin": self.base}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        request = HTTPRequest(self.base.replace("http", "ws", 1) + "/serve/ws", headers=headers,
                              connect_timeout=self.timeout, request_timeout=self.timeout)
        self.ws = await websocket_connect(request, subprotocols=["bokeh", token], max_message_size=256 * 2**20)
        ack = await self._receive()
        if ack is None or ack.msgtype != "ACK":
            raise RuntimeError(f"expected ACK, got {ack and ack.msgtype}")
        await self._send("PULL-DOC-REQ", {})
        while (reply := await self._receive()) is not None and reply.msgtype == "PATCH-DOC":
            pass  # a change made before the pull: the document in the reply holds it
        if reply is None or reply.msgtype != "PULL-DOC-REPLY":
            raise RuntimeError(f"expected PULL-DOC-REPLY, got {reply and reply.msgtype}")
        self._index(reply.content["doc"])
        self.opened_at = time.perf_counter()
        self.open_s = self.opened_at - started
        self._reader = asyncio.ensure_future(self._read())
        await self._request("PATCH-DOC", {"events": [DOCUMENT_READY]})
        away = [m for title in view_titles()[self.in_sight:] for m in self.card_status[title]]
        if away:  # what the page's observer says of the cards off the screen, once it is drawn
            await self._request("PATCH-DOC", {"events": [{"kind": "ModelChanged", "model": {"id": m}, "attr": "seen",
                                                          "new": False} for m in away]})

    def _index(self, doc: dict) -> None:
        """Find the sidebar widgets, the charts' status lines and every model inside a chart's card."""
        models: dict[str, dict] = {}
        refs: dict[str, set[str]] = {}

        def walk(node, owner: str | None) -> None:
            if isinstance(node, dict):
                mid = node.get("id")
                if mid is not None and (node.get("type") == "object" or set(node) == {"id"}):
                    if owner is not None:
                        refs[owner].add(mid)
                    if node.get("type") != "object":
                        return
                    models[mid], owner = node, mid
                    refs.setdefault(mid, set())
                for value in node.values():
                    walk(value, owner)
            elif isinstance(node, list):
                for value in node:
                    walk(value, owner)

        walk(doc, None)
        for mid, model in models.items():
            name, attrs = model["name"], model.get("attributes", {})
            if name == "MultiChoice" and attrs.get("title") in FILTERS:
                options = [o if isinstance(o, str) else o[0] for o in attrs["options"]]
                self.widgets[attrs["title"]] = mid
                self.states[attrs["title"]] = random.Random(attrs["title"]).sample(options, 2)  # same in every session
            elif any(text in str(attrs.get("text", "")) for text in ERROR_TEXTS):
                self.errors.append(f"session {self.number}: a view opened in its error state")
            elif "view-card" in attrs.get("css_classes", []) and "detail-card" not in attrs["css_classes"]:
                inside, todo = set(), [mid]
                while todo:
                    node = todo.pop()
                    if node not in inside:
                        inside.add(node)
                        todo.extend(refs.get(node, ()))
                status = {m for m in inside if models.get(m, {}).get("name", "").startswith(("ViewStatus", "ViewHeader"))}
                if status:  # a chart
                    self.status_ids |= status
                    self.card_status[attrs.get("name")] = status
                    self.chart_ids |= inside
        if len(self.status_ids) != N_VIEWS or len(self.widgets) != len(FILTERS):
            raise RuntimeError(f"unexpected document: {len(self.status_ids)} chart status lines, "
                               f"sidebar filters {sorted(self.widgets)}")

    def every_state(self) -> list[tuple[str, str | None]]:
        """Changes that visit every filter state of the load: each value of a filter, then none."""
        return [(title, value) for title, values in self.states.items() for value in (*values, None)]

    def next_change(self) -> tuple[str, str | None]:
        """A filter's value when none is set; else the filter's other value or none, half and half."""
        if self.active is None:
            title = self.rng.choice(FILTERS)
            return title, self.rng.choice(self.states[title])
        title, value = self.active
        return title, (self.rng.choice([v for v in self.states[title] if v != value]) if self.rng.random() < 0.5
                       else None)

    async def act(self, title: str, value: str | None) -> None:
        """One sidebar change (`value` None clears the filter), timed until the server's answer is over."""
        self._charts_done = asyncio.get_running_loop().create_future()
        self._wave = self._spun = False
        sent = time.perf_counter()
        change = {"kind": "ModelChanged", "model": {"id": self.widgets[title]}, "attr": "value",
                  "new": [] if value is None else [value]}
        await self._request("PATCH-DOC", {"events": [change]})
        self.active = None if value is None else (title, value)
        try:
            charts = await asyncio.wait_for(self._charts_done, self.timeout)
        except asyncio.TimeoutError:
            raise RuntimeError(f"{title}={value} not answered in {self.timeout:g} s (a chart patch seen: "
                               f"{self._wave}; charts still updating: {len(self.updating)})") from None
        while (quiet := self._last_patch + QUIET_S - time.perf_counter()) > 0:  # the detail table, the URL …
            await asyncio.sleep(quiet)
        self._ended, self._charts_done = self._last_patch, None
        self.actions.append({"sent": sent, "charts_s": charts - sent, "answer_s": self._last_patch - sent,
                             "spinner": self._spun})

    async def run(self, stop: asyncio.Event, think: float) -> None:
        """Change filters, thinking 0.5-1.5 x `think` s before each change, until `stop`."""
        try:
            while not stop.is_set():
                try:
                    await asyncio.wait_for(stop.wait(), think * self.rng.uniform(0.5, 1.5))
                    break
                except asyncio.TimeoutError:
                    await self.act(*self.next_change())
        except Exception as exc:
            self.errors.append(f"session {self.number}: {type(exc).__name__}: {exc}")

    async def close(self) -> None:
        self.closing = True
        if self.ws is not None:
            self.ws.close()
        if self._reader is not None:
            await self._reader

    # -- the wire ------------------------------------------------------------------------------
    async def _send(self, msgtype: str, content: dict) -> str:
        self._msgid += 1
        msgid = f"{self.number}.{self._msgid}"
        for frame in ({"msgid": msgid, "msgtype": msgtype}, {}, content):
            await self.ws.write_message(json.dumps(frame))
        return msgid

    async def _request(self, msgtype: str, content: dict) -> None:
        """Send and wait for the server's OK (it has applied the message)."""
        reply = asyncio.get_running_loop().create_future()
        self._replies[await self._send(msgtype, content)] = reply
        await asyncio.wait_for(reply, self.timeout)

    async def _receive(self):
        while True:
            fragment = await self.ws.read_message()
            if fragment is None:
                return None
            message = await self.receiver.consume(fragment)
            if message is not None:
                return message

    async def _read(self) -> None:
        try:
            while (message := await self._receive()) is not None:
                self._handle(message)
        except Exception as exc:
            self._fail(f"protocol error: {exc!r}")
        if not self.closing:
            self._fail("the server closed the connection")

    def _handle(self, message) -> None:
        if message.msgtype in ("OK", "ERROR"):
            reply = self._replies.pop(message.header.get("reqid"), None)
            if message.msgtype == "ERROR":
                self._fail(f"ERROR reply: {message.content.get('text', '')[:200]}")
            elif reply is not None and not reply.done():
                reply.set_result(None)
            return
        if message.msgtype != "PATCH-DOC":
            return
        now = time.perf_counter()
        events = message.content.get("events", [])
        for event in events:
            if event.get("attr") == "text" and any(text in str(event.get("new")) for text in ERROR_TEXTS):
                self.errors.append(f"session {self.number}: a view shows its error state")
        if self._charts_done is None:  # between actions: nothing should come
            if self._ended:
                self.late.append(now - self._ended)
            return
        self._last_patch = now
        for event in events:
            mid = (event.get("model") or {}).get("id")
            self._wave |= mid in self.chart_ids
            if mid in self.status_ids and event.get("attr") == "updating":
                (self.updating.add if event.get("new") else self.updating.discard)(mid)
                self._spun |= bool(event.get("new"))
        if self._wave and not self.updating and not self._charts_done.done():
            self._charts_done.set_result(now)

    def _fail(self, why: str) -> None:
        self.errors.append(f"session {self.number}: {why}")
        for future in [self._charts_done, *self._replies.values()]:
            if future is not None and not future.done():
                future.set_exception(RuntimeError(why))


# -- the run ----------------------------------------------------------------------------------------
class Sampler:
    """Worker RSS and the machine's 1-min load average every second, tagged with the phase."""

    def __init__(self, server: Server):
        self.server, self.phase, self.samples = server, "warm-up", []
        self.started = time.perf_counter()

    async def run(self) -> None:
        while True:
            self.samples.append((round(time.perf_counter() - self.started, 1), self.phase,
                                 round(self.server.rss_mb(), 1), round(os.getloadavg()[0], 2)))
            await asyncio.sleep(1.0)

    def during(self, *phases: str, column: int) -> list:
        return [s[column] for s in self.samples if s[1] in phases]


async def _destroyed(server: Server, timeout: float = 120.0) -> tuple[int, int]:
    """Wait until Panel has destroyed every session it created (closed websockets + 5 s unused)."""
    deadline = time.monotonic() + timeout
    while True:
        created, destroyed = server.sessions()
        if created == destroyed or time.monotonic() > deadline:
            return created, destroyed
        await asyncio.sleep(1.0)


async def _settled_rss(server: Server, seconds: int) -> float:
    """Median worker RSS over the last 5 s of `seconds` (freed memory goes back slowly, if at all)."""
    samples = []
    for _ in range(seconds):
        await asyncio.sleep(1.0)
        samples.append(server.rss_mb())
    return round(statistics.median(samples[-5:]), 1)


async def _warm_up(server: Server, timeout: float, seed: int, progress) -> dict:
    """Sessions until every worker has served one that visited every filter state, plus one more."""
    warmed: set[int] = set()
    opened, errors = 0, []
    while len(warmed) < server.num_procs and opened < 6 * server.num_procs:
        s = Session(-1 - opened, server.base, seed - 1 - opened, timeout)
        before = server.websockets()
        await s.open()
        worker = next((pid for pid, n in server.websockets().items() if n > before.get(pid, 0)), None)
        for change in (s.every_state() if worker not in warmed else s.every_state()[:3]):
            await s.act(*change)
        warmed.add(worker)
        await s.close()
        errors += s.errors
        opened += 1
        progress(f"  warm-up session {opened}: worker {worker}, {len(s.actions)} changes")
    s = Session(-1 - opened, server.base, seed - 1 - opened, timeout)
    await s.open()
    for change in s.every_state()[:3]:
        await s.act(*change)
    await s.close()
    errors += s.errors
    if len(warmed) < server.num_procs:
        errors.append(f"warm-up: {opened} sessions reached only {len(warmed)} of {server.num_procs} workers")
    created, destroyed = await _destroyed(server)
    if created != destroyed:
        errors.append(f"warm-up: Panel destroyed {destroyed} of {created} sessions")
    return {"sessions": opened + 1, "workers_warmed": len(warmed), "created": created, "errors": errors}


async def _drive(server: Server, sessions: int, minutes: float, think: float, timeout: float, seed: int,
                 rounds: int, in_sight: int, progress) -> dict:
    sampler = Sampler(server)
    sampling = asyncio.ensure_future(sampler.run())
    try:
        warm = await _warm_up(server, timeout, seed, progress)
        out = {"errors": warm.pop("errors"), "warm_up": warm, "rss_mb_baseline": await _settled_rss(server, 10),
               "objects_baseline": server.objects(), "rounds": []}
        progress(f"  baseline RSS {out['rss_mb_baseline']:.0f} MB after {warm['sessions']} warm-up sessions")
        created_before = warm["created"]
        for r in range(rounds):
            figures, clients, steady = await _round(server, sessions, minutes, think, timeout, seed + 1000 * r,
                                                    in_sight, sampler, progress)
            created, _ = server.sessions()
            figures["sessions_created_by_server"] = created - created_before
            created_before = created
            out["errors"] += figures.pop("errors")
            if r == 0:  # the first round's figures are the report's; later rounds add memory and errors
                out.update(figures)
                first = (clients, *steady)
            else:
                out["errors"] += [f"round {r + 1}: {e}" for c in clients for e in c.errors]
            out["rounds"].append({"rss_mb_after_close": figures["rss_mb_after_close"],
                                  "objects_after_close": figures["objects_after_close"]})
            progress(f"  round {r + 1}: RSS after close {figures['rss_mb_after_close']:.0f} MB, "
                     f"live objects {figures['objects_after_close']}")
        out["stats_log_max_sessions_per_pid"] = _max_sessions_per_pid(server.log())
        if server.num_procs > 1:
            out["rss_mb_forking_parent"] = round(_rss(psutil.Process(server.proc.pid)) / 1e6, 1)
        for r, after in enumerate(out["rounds"]):
            if any(after["objects_after_close"].get(k) != out["objects_baseline"].get(k) for k in SESSION_OBJECTS):
                out["errors"].append(f"round {r + 1}: live objects after close {after['objects_after_close']} "
                                     f"!= baseline {out['objects_baseline']}")
    finally:
        sampling.cancel()
    return _summary(out, first[0], sampler, *first[1:])


async def _round(server: Server, sessions: int, minutes: float, think: float, timeout: float, seed: int,
                 in_sight: int, sampler: Sampler, progress) -> tuple[dict, list[Session], tuple[float, float]]:
    """Ramp, steady, close: one visit of `sessions` colleagues; the figures, the clients, the steady phase."""
    out: dict = {"errors": []}
    clients: list[Session] = []
    sampler.phase = "ramp"
    started = time.perf_counter()
    for i in range(sessions):
        s = Session(i, server.base, seed + i, timeout, in_sight)
        clients.append(s)
        try:
            await s.open()
        except Exception as exc:
            s.errors.append(f"session {i}: could not open: {type(exc).__name__}: {exc}")
        progress(f"  session {i + 1}/{sessions} open in {s.open_s or float('nan'):.1f} s; "
                 f"RSS {server.rss_mb():.0f} MB, load {os.getloadavg()[0]:.1f}")
    out["ramp_s"] = round(time.perf_counter() - started, 1)
    out["rss_mb_all_open_idle"] = await _settled_rss(server, 5)
    out["websockets_per_process"] = {str(pid): n for pid, n in server.websockets().items()}

    sampler.phase = "steady"
    stop = asyncio.Event()
    tasks = [asyncio.ensure_future(s.run(stop, think)) for s in clients if s.open_s is not None]
    steady_started, cpu_started = time.perf_counter(), server.cpu_s()
    await asyncio.sleep(15)
    newcomer = Session(sessions, server.base, seed + sessions, timeout, in_sight)
    opening = asyncio.ensure_future(newcomer.open())
    await asyncio.sleep(max(0.0, minutes * 60 - (time.perf_counter() - steady_started)))
    stop.set()
    steady_ended = time.perf_counter()
    out["server_cores_busy_steady"] = round((server.cpu_s() - cpu_started) / (steady_ended - steady_started), 2)
    out["steady_s"] = round(steady_ended - steady_started, 1)

    sampler.phase = "close"
    await asyncio.gather(*tasks)  # each finishes the action it is in
    try:
        await opening
        out["newcomer"] = {"open_s": round(newcomer.open_s, 1), "page_s": round(newcomer.page_s, 1),
                           "done_at_s": round(newcomer.opened_at - steady_started, 1)}  # into the steady phase
    except Exception as exc:
        newcomer.errors.append(f"the newcomer could not open: {type(exc).__name__}: {exc}")
    for s in [*clients, newcomer]:
        await s.close()
    out["errors"] += newcomer.errors
    created, destroyed = await _destroyed(server)
    if created != destroyed:
        out["errors"].append(f"close: Panel destroyed {destroyed} of {created} sessions")
    sampler.phase = "after close"
    out["rss_mb_after_close"] = await _settled_rss(server, 20)
    out["objects_after_close"] = server.objects()
    return out, clients, (steady_started, steady_ended)


def _max_sessions_per_pid(log: str) -> dict[str, int]:
    peak: dict[str, int] = {}
    for pid, n in STATS_LINE.findall(log):
        peak[pid] = max(peak.get(pid, 0), int(n))
    return peak


def _stats(values: list[float], digits: int = 2) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": round(min(values), digits),
            **{f"p{q}": round(percentile(values, q), digits) for q in (50, 90, 95, 99)},
            "max": round(max(values), digits)}


def _summary(out: dict, clients: list[Session], sampler: Sampler, steady_started: float, steady_ended: float) -> dict:
    actions = [a for s in clients for a in s.actions]
    late = [t for s in clients for t in s.late]
    out["errors"] += [e for s in clients for e in s.errors]
    out["errors"] += [f"session {s.number}: no action answered" for s in clients if not s.actions]
    out.update({
        "sessions_opened": sum(1 for s in clients if s.open_s is not None),
        "actions": len(actions),
        "actions_per_session": _stats([len(s.actions) for s in clients], 0),
        "actions_with_spinner": sum(1 for a in actions if a["spinner"]),
        "latency_s": _stats([a["answer_s"] for a in actions]),
        "latency_s_charts": _stats([a["charts_s"] for a in actions]),
        "late_patches": {"n": len(late), "max_s_after_answer": round(max(late), 2) if late else None},
        "open_s": _stats([s.open_s for s in clients if s.open_s is not None]),
        "rss_mb_peak": max(sampler.during("ramp", "steady", "close", column=2)),
        "loadavg_steady": _stats(sampler.during("steady", column=3)),
        "rss_curve": sampler.samples,
    })
    out["rss_after_over_baseline"] = round(out["rss_mb_after_close"] / out["rss_mb_baseline"], 3)
    last = out["rounds"][-1]["rss_mb_after_close"]
    out["rss_last_over_first_round"] = round(last / out["rss_mb_after_close"], 3)
    return out


def run(warehouse_url: str, sessions: int = 50, minutes: float = 3.0, num_procs: int = 1, think: float = 5.0,
        timeout: float = 600.0, seed: int = 7, rounds: int = 2, in_sight: int = N_VIEWS, progress=print) -> dict:
    """Start the server, run the phases, stop it; returns the figures (see the module docstring)."""
    results = {"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "warehouse": mask_url(warehouse_url),
               "num_procs": num_procs, "sessions_requested": sessions, "minutes": minutes, "think_s": think,
               "rounds_requested": rounds, "in_sight": in_sight,
               "machine": {**machine(), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}}
    client_cpu = psutil.Process().cpu_times()
    server = Server(warehouse_url, num_procs)
    try:
        results["server_command"] = " ".join(server.command[1:])
        # a thread of its own: the caller (pytest after Playwright) may have an event loop running
        with ThreadPoolExecutor(1) as pool:
            results.update(pool.submit(asyncio.run, _drive(server, sessions, minutes, think, timeout, seed,
                                                           rounds, in_sight, progress)).result())
    finally:
        server.stop()
        log = server.log()
        server.log_path.unlink(missing_ok=True)
    problems = [line for line in log.splitlines() if LOG_PROBLEM.search(line)]
    results["server_log"] = {"problem_lines": problems[:50], "bytes": len(log),
                             "warnings": sum(" WARNING " in line for line in log.splitlines())}
    results["errors"] += [f"server log: {line[:300]}" for line in problems]
    results["error_count"] = len(results["errors"])
    now = psutil.Process().cpu_times()
    results["client_cpu_s"] = round(now.user + now.system - client_cpu.user - client_cpu.system, 1)
    return results


def table(r: dict) -> str:
    def row(label: str, st: dict) -> str:
        return f"  {label:<30}" + "".join(f"{st.get(k, float('nan')):>8.2f}" for k in ("p50", "p90", "p95", "p99", "max"))

    per, load, new, nan = r["actions_per_session"], r["loadavg_steady"], r.get("newcomer", {}), float("nan")
    lines = [
        f"load: {r['sessions_opened']}/{r['sessions_requested']} sessions, --num-procs {r['num_procs']}, "
        f"{r['steady_s']:.0f} s steady, think {r['think_s']:g} s, ramp {r['ramp_s']:.0f} s",
        f"  errors {r['error_count']}; actions {r['actions']}, per session {per.get('min', 0):.0f}-"
        f"{per.get('max', 0):.0f} (median {per.get('p50', 0):.0f}); {r['actions_with_spinner']} with a chart "
        f"spinning; {r['late_patches']['n']} patches after an answer was over",
        f"  {'seconds':<30}{'p50':>8}{'p90':>8}{'p95':>8}{'p99':>8}{'max':>8}",
        row("action -> answer over", r["latency_s"]),
        row("action -> 13 charts redrawn", r["latency_s_charts"]),
        row("session open (GET -> doc)", r["open_s"]),
        f"  a newcomer 15 s into the steady phase: GET {new.get('page_s', nan):.1f} s, GET -> document "
        f"{new.get('open_s', nan):.1f} s (done {new.get('done_at_s', nan):.0f} s into the steady phase)",
        f"  RSS MB: baseline {r['rss_mb_baseline']:.0f}, all open idle {r['rss_mb_all_open_idle']:.0f}, peak "
        f"{r['rss_mb_peak']:.0f}, after close {r['rss_mb_after_close']:.0f} (after/baseline "
        f"{r['rss_after_over_baseline']:.2f})" + (f"; forking parent {r['rss_mb_forking_parent']:.0f}"
                                                   if "rss_mb_forking_parent" in r else ""),
        f"  RSS MB after each round's close {[x['rss_mb_after_close'] for x in r['rounds']]} (last/first "
        f"{r['rss_last_over_first_round']:.2f}); live {', '.join(SESSION_OBJECTS)} (after gc) baseline "
        f"{[r['objects_baseline'].get(k) for k in SESSION_OBJECTS]}, after each round "
        f"{[[x['objects_after_close'].get(k) for k in SESSION_OBJECTS] for x in r['rounds']]}",
        f"  server busy {r['server_cores_busy_steady']:.2f} cores in the steady phase; 1-min load average "
        f"{load.get('p50', float('nan')):.1f} (max {load.get('max', float('nan')):.1f}); client CPU {r['client_cpu_s']:.0f} s",
        f"  websockets per worker {r['websockets_per_process']}; most sessions per worker (stats log) "
        f"{r['stats_log_max_sessions_per_pid']}; sessions created {r['sessions_created_by_server']} for "
        f"{r['sessions_opened'] + 1} opened",
    ]
    lines += [f"  ! {e}" for e in r["errors"][:10]]
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sessions", type=int, default=50)
    p.add_argument("--minutes", type=float, default=3.0, help="steady phase: every session changing filters")
    p.add_argument("--num-procs", type=int, default=1, choices=(1, 2))
    p.add_argument("--think", type=float, default=5.0, help="mean seconds a session waits before each change")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds an open or an action may take")
    p.add_argument("--rounds", type=int, default=2, help="visits of --sessions colleagues, one after another "
                   "(memory after the last against after the first: a per-session leak grows with each)")
    p.add_argument("--in-sight", type=int, default=N_VIEWS, help="cards on each session's screen, from the top "
                   "(the others are reported out of sight, as a browser does; 13: a screen that shows all)")
    p.add_argument("--url", default=None, help="warehouse SQLAlchemy URL (default: the dashboard's default warehouse)")
    args = p.parse_args()
    url = database_url(args.url)
    path = duckdb_path(url)
    if path is not None and not path.exists():
        raise SystemExit(f"no warehouse at {path}: build one first (python -m dashboard.warehouse build --url {url})")
    results = run(url, args.sessions, args.minutes, args.num_procs, args.think, args.timeout, rounds=args.rounds,
                  in_sight=args.in_sight)
    print(table(results))
    name = f'load_{args.num_procs}p' + (f'_sight{args.in_sight}' if args.in_sight < N_VIEWS else '')
    print(f"written to {write_results(name, results)}")


if __name__ == "__main__":
    main()
