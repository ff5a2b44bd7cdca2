"""A throwaway Redis server for tests: Debian's redis-server on 127.0.0.1 at a free port, in a temp dir.

    with RedisServer() as server:         # start; stop and delete the dir at the end, even on failure
        server.url                        # redis://:<password>@127.0.0.1:<port>/0
        server.client()                   # a redis-py client, for looking at what was stored
        server.stop(); server.start()     # an outage (connections refused), then the same port back, empty
        server.pause(); server.resume()   # a hang: the process is stopped (SIGSTOP), sockets time out

Nothing is persisted (`--save "" --appendonly no`), memory is capped with LRU eviction as the
README recommends, and a password is required, so tests that no secret reaches Redis mean
something. `unavailable()` says why no server can be started (redis-server not installed).
"""
from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from throwaway import ThrowawayServer

from postgres_server import free_port


def binary() -> str | None:
    """Debian's redis-server ($PATH first; /usr/bin and /usr/sbin when they are not on it)."""
    return shutil.which("redis-server", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/bin", "/usr/sbin"]))


def unavailable() -> str | None:
    """Why no throwaway server can be started here (None when one can)."""
    if binary() is None:
        return "redis-server is not installed (apt-get install redis-server, as .ci/run does)"
    return None


class RedisServer(ThrowawayServer):
    """One redis-server process; `stop()` / `start()` keep the port, so clients find it again."""

    def __init__(self, maxmemory: str = "64mb"):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.dir = Path(tempfile.mkdtemp(prefix="redistest-"))
        self.port = free_port()
        self.password = secrets.token_hex(12)
        self.maxmemory = maxmemory
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def client(self):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=5)

    def start(self) -> "RedisServer":
        """Start the server and wait until it answers PING."""
        if self.process is not None:
            return self
        self.process = subprocess.Popen(
            [binary(), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir), "--save", "",
             "--appendonly", "no", "--requirepass", self.password, "--maxmemory", self.maxmemory,
             "--maxmemory-policy", "allkeys-lru", "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                if self.client().ping():
                    return self
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.dir / "redis.log").read_text(errors="replace")[-2000:] if (self.dir / "redis.log").exists() else ""
                    self.stop()
                    raise RuntimeError(f"redis-server did not start on port {self.port}:\n{log}")
                time.sleep(0.05)

    def stop(self) -> None:
        """Kill the server (an outage: open connections are cut, new ones refused); its data is gone."""
        if self.process is not None:
            self.resume()
            self.process.kill()
            self.process.wait(10)
            self.process = None
            _wait_closed(self.port)

    def pause(self) -> None:
        """Freeze the server: connections are accepted by the kernel but never answered (a hang)."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _wait_closed(port: int, timeout: float = 10) -> None:
    """Block until nothing listens on `port` any more."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return
        time.sleep(0.05)
