"""Several server processes: two `panel serve` behind Debian's nginx running deploy/nginx.conf
(ports and paths moved to a temp dir), sharing one query cache on disk ($DASHBOARD_CACHE_DIR).

Sessions are websocket clients speaking Bokeh's protocol (bench/load.py) that keep cookies as a
browser does. Checked: each session's page, websocket and files reach one process (sticky), both
processes serve sessions, and a filter computed by one process is read by the other from the
shared cache (its hits rise by the views' queries, no miss, no new entry).
"""
from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench.load import Session, free_port
from browser.conftest import start_server, stop_server
from dashboard import shared_cache

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
if not Path(NGINX).exists():
    pytest.skip("nginx is not installed (apt-get install nginx)", allow_module_level=True)
LOG_LINE = re.compile(r'"GET (/serve/ws|/serve)[ ?][^"]*" \d+ affinity=(\S+) upstream=(\S+)')


def _config(tmp: Path, port: int, backends: list[int]) -> Path:
    """deploy/nginx.conf with only its listen port, upstream ports and file paths changed."""
    text = (ROOT / "deploy" / "nginx.conf").read_text()
    changes = {
        "listen 8080;": f"listen 127.0.0.1:{port};",
        "server 127.0.0.1:5006;\n        server 127.0.0.1:5007;":
            "\n        ".join(f"server 127.0.0.1:{p};" for p in backends),
        "/run/dashboard-nginx.pid": str(tmp / "nginx.pid"),
        "/var/log/nginx/": f"{tmp}/",
        "http {": "http {\n" + "".join(f"    {kind}_temp_path {tmp}/{kind};\n"
                                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")),
    }
    for old, new in changes.items():
        assert old in text, f"deploy/nginx.conf no longer has {old!r}"
        text = text.replace(old, new)
    if os.geteuid() == 0:  # workers would otherwise run as nobody, who cannot enter the temp dir
        text = "user root;\n" + text
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def deployment(warehouse_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("deploy")
    port = free_port()
    env = {"DASHBOARD_DATABASE_URL": warehouse_url, "DASHBOARD_CACHE_DIR": str(tmp / "cache")}
    origin = ("--allow-websocket-origin", f"127.0.0.1:{port}")
    with ThreadPoolExecutor(2) as pool:  # both start (--warm) at once
        backends = list(pool.map(lambda _: start_server(env, extra_args=origin), range(2)))
    ports = [int(url.split(":")[2].split("/")[0]) for _, url, _ in backends]
    nginx = subprocess.Popen([NGINX, "-c", str(_config(tmp, port, ports)), "-g", "daemon off;"],
                             stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=2)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                if nginx.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"nginx did not start: {nginx.stderr.read().decode()[-2000:]}")
                time.sleep(0.2)
        os.environ[shared_cache.ENV_CACHE_DIR] = env["DASHBOARD_CACHE_DIR"]  # to read its statistics here
        yield {"base": f"http://127.0.0.1:{port}", "ports": ports, "log": tmp / "dashboard-access.log"}
    finally:
        os.environ.pop(shared_cache.ENV_CACHE_DIR, None)
        nginx.terminate()
        nginx.wait(timeout=20)
        for proc, _, _ in backends:
            stop_server(proc)


def _upstreams(log: Path) -> dict[str, set[tuple[str, str]]]:
    """affinity cookie -> {(path, upstream)} of every page and websocket request nginx passed on."""
    seen: dict[str, set[tuple[str, str]]] = {}
    for path, affinity, upstream in LOG_LINE.findall(log.read_text()):
        seen.setdefault(affinity, set()).add((path, upstream))
    return seen


async def _drive(base: str, log: Path, max_sessions: int = 20) -> dict:
    """Open sessions through nginx until both processes hold one; then one filter on each, in turn."""
    sessions, where, out = [], {}, {}
    try:
        while len(set(where.values())) < 2 and len(sessions) < max_sessions:
            s = Session(len(sessions), base, seed=len(sessions), timeout=300)
            await s.open()
            sessions.append(s)
            await asyncio.sleep(0.5)  # nginx writes its log line when the request is over
            hops = _upstreams(log).get(s.cookies.get("affinity"), set())
            upstreams = {u for _, u in hops}
            assert {p for p, _ in hops} == {"/serve"}, hops  # the websocket is logged when it closes
            assert len(upstreams) == 1, f"session {s.number}'s page went to {upstreams}"
            where[s] = upstreams.pop()
        first = next(s for s in sessions)
        other = next((s for s in sessions if where[s] != where[first]), None)
        out |= {"sessions": len(sessions), "per_process": {u: list(where.values()).count(u) for u in set(where.values())},
               "first": where[first], "other": other and where[other]}
        if other is None:
            return out
        segment = first.states["Segment"][0]
        before = shared_cache.stats(), len(shared_cache.shared_cache())
        await first.act("Segment", segment)
        middle = shared_cache.stats(), len(shared_cache.shared_cache())
        await other.act("Segment", segment)
        after = shared_cache.stats(), len(shared_cache.shared_cache())
        out.update(before=before, middle=middle, after=after, errors=[e for s in sessions for e in s.errors],
                   computed_s=first.actions[-1]["answer_s"], shared_s=other.actions[-1]["answer_s"])
        return out
    finally:
        for s in sessions:
            await s.close()
        await asyncio.sleep(0.5)
        out["websockets"] = {a: hops for a, hops in _upstreams(log).items()
                             if a in {s.cookies.get("affinity") for s in sessions}}


def test_two_processes_behind_nginx_keep_sessions_and_share_the_query_cache(deployment):
    with ThreadPoolExecutor(1) as pool:  # a loop of its own (Playwright may run one in this thread)
        out = pool.submit(asyncio.run, _drive(deployment["base"], deployment["log"])).result()
    print(out)
    assert out["other"] is not None, f"{out['sessions']} sessions all went to {out['first']}"
    assert set(out["per_process"]) == {f"127.0.0.1:{p}" for p in deployment["ports"]}
    for affinity, hops in out["websockets"].items():  # page and websocket through the same process
        assert {p for p, _ in hops} == {"/serve", "/serve/ws"} and len({u for _, u in hops}) == 1, hops
    assert out["errors"] == []
    (hits0, misses0), entries0 = out["before"]
    (hits1, misses1), entries1 = out["middle"]
    (hits2, misses2), entries2 = out["after"]
    assert misses1 > misses0 and entries1 > entries0  # the first process computed the segment's views
    assert misses2 == misses1 and entries2 == entries1  # the second computed nothing …
    assert hits2 - hits1 == misses1 - misses0  # … it read what the first computed (one query per gold table asked)
