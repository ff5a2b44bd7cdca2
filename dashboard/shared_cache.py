"""Query results shared by every server process: on this machine's disk, on a Redis server, or both.

Each process keeps its own in-memory `pn.cache` (data.py), the fastest place to find an answer.
Behind it sit up to two shared levels, looked up in this order:

- `$DASHBOARD_CACHE_DIR`: a diskcache store (SQLite with file locks, safe across processes) that
  every process of this machine shares, bounded in bytes (`$DASHBOARD_CACHE_MB`), least recently
  used evicted first.
- `$DASHBOARD_CACHE_URL=redis://host:port/db`: one Redis server for every machine. Entries expire
  after `$DASHBOARD_CACHE_TTL_S` (default a day): a rebuilt warehouse has a new build stamp, so its
  old entries are never read again, and the TTL clears them. Memory is bounded by the server's
  `maxmemory` with `maxmemory-policy allkeys-lru` (the operator's redis.conf; see README).

With both, disk first: a hit there costs no network round trip, and the machine's processes
still share answers while Redis is away; an answer found in Redis is copied to the disk.
A Redis that fails (refused, timed out, out of memory) is skipped for `RETRY_S` seconds and said
once in the log; queries are answered meanwhile from the other levels or computed. Socket
timeouts are short: a click never waits long on a dead server. Keys are sha256 digests of what
identifies a result: the warehouse URL, with its password, never reaches the disk or Redis.
Redis values are pickled frames compressed with zlib level 1: a quarter of the memory and of the
bytes on the network, for about 1 ms more per hit (bench/README.md, *Shared cache*).
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import threading
import time
import zlib
from functools import lru_cache
from urllib.parse import urlsplit

from .config import WarehouseError

ENV_CACHE_DIR = "DASHBOARD_CACHE_DIR"
ENV_CACHE_MB = "DASHBOARD_CACHE_MB"
ENV_CACHE_URL = "DASHBOARD_CACHE_URL"
ENV_CACHE_TTL = "DASHBOARD_CACHE_TTL_S"
DEFAULT_TTL_S = 86_400
PREFIX = "dashboard:"  # every key this module writes in Redis: "dashboard:<sha256>", "dashboard:stats"
STATS_KEY = PREFIX + "stats"
CONNECT_TIMEOUT_S = 0.25  # a LAN round trip is well under a millisecond; a dead host must not hold a click
TIMEOUT_S = 1.0  # a frozen server: the one query that finds out waits this long, the next ones skip Redis
ZLIB_LEVEL = 1  # a filter state's frames: 1.2 MB pickled, 0.33 MB at level 1 (bench/README.md, *Shared cache*)
RETRY_S = 10.0  # how long a failed Redis is skipped before the next query tries it again
log = logging.getLogger(__name__)
_MISS = object()

# GET that counts itself, in one round trip: hits and misses of every process on every machine.
_COUNTED_GET = """
local value = redis.call('GET', KEYS[1])
redis.call('HINCRBY', KEYS[2], value and 'hits' or 'misses', 1)
return value
"""


class _Disk:
    """This machine's level: diskcache keeps its own hit and miss counts for every process."""

    def __init__(self, directory: str):
        import diskcache

        size = int(float(os.environ.get(ENV_CACHE_MB, "1024")) * 2**20)
        self.cache = diskcache.Cache(directory, size_limit=size, eviction_policy="least-recently-used", statistics=1)

    def get(self, key: str):
        return self.cache.get(key, default=_MISS, retry=True)

    def set(self, key: str, value) -> None:
        self.cache.set(key, value, retry=True)

    def stats(self) -> tuple[int, int]:
        return self.cache.stats()


class _Redis:
    """Every machine's level. Any Redis error marks it down for RETRY_S seconds (one log line per
    outage, one when it is back); while down it answers nothing and stores nothing."""

    def __init__(self, url: str, ttl_s: int):
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self.shown, self.ttl_s, self.errors = masked(url), ttl_s, redis.RedisError
        # no retries inside redis-py: one failed attempt is the signal to skip Redis for a while
        self.client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=TIMEOUT_S,
                                           retry=Retry(NoBackoff(), 0))
        self._counted_get = self.client.register_script(_COUNTED_GET)
        self._lock = threading.Lock()
        self._retry_at: float | None = None  # set while down: when the next query may try again

    def _call(self, action):
        """`action()` on the server, or _MISS while it is down or when it fails now."""
        with self._lock:
            if self._retry_at is not None:
                if time.monotonic() < self._retry_at:
                    return _MISS
                self._retry_at = time.monotonic() + RETRY_S  # this caller probes; the others keep skipping
        try:
            result = action()
        except self.errors as exc:
            with self._lock:
                first = self._retry_at is None
                self._retry_at = time.monotonic() + RETRY_S
            if first:
                log.warning("shared cache %s unavailable (%s: %s); answering without it, trying again every %g s",
                            self.shown, type(exc).__name__, str(exc).splitlines()[0] if str(exc) else "", RETRY_S)
            return _MISS
        with self._lock:
            back, self._retry_at = self._retry_at is not None, None
        if back:
            log.warning("shared cache %s is back", self.shown)
        return result

    def get(self, key: str):
        raw = self._call(lambda: self._counted_get(keys=[PREFIX + key, STATS_KEY]))
        if raw is _MISS or raw is None:
            return _MISS
        try:
            return pickle.loads(zlib.decompress(raw))
        except Exception:  # written by another version of pandas (a machine not upgraded yet): compute it
            return _MISS

    def set(self, key: str, value) -> None:
        packed = zlib.compress(pickle.dumps(value, protocol=5), ZLIB_LEVEL)
        self._call(lambda: self.client.set(PREFIX + key, packed, ex=self.ttl_s))

    def stats(self) -> tuple[int, int]:
        counts = self._call(lambda: self.client.hmget(STATS_KEY, "hits", "misses"))
        return (0, 0) if counts is _MISS else tuple(int(n or 0) for n in counts)


@lru_cache(maxsize=None)
def _disk(directory: str) -> _Disk:
    return _Disk(directory)


@lru_cache(maxsize=None)
def _redis(url: str, ttl_s: int) -> _Redis:
    return _Redis(url, ttl_s)


def masked(url: str) -> str:
    """The URL with its password replaced by *** (for messages and logs)."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return "<unparseable URL>"
    return url.replace(f":{password}@", ":***@") if password else url


def problems() -> list[str]:
    """What is wrong with the cache settings, in words (empty when nothing is): said at start."""
    url, ttl = os.environ.get(ENV_CACHE_URL), os.environ.get(ENV_CACHE_TTL)
    found = []
    if url and not _is_redis_url(url):
        found.append(f"{ENV_CACHE_URL} is not a Redis URL: {masked(url)!r} (expected redis://[:password@]host[:port]"
                     "[/db], rediss://… for TLS, or unix:///path/to/redis.sock)")
    if ttl is not None and not _is_ttl(ttl):
        found.append(f"{ENV_CACHE_TTL} must be a number of seconds, at least 1, got {ttl[:40]!r}")
    return found


def _is_ttl(text: str) -> bool:
    try:
        return 1 <= float(text) < 10**9
    except ValueError:
        return False


def _is_redis_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        port = parts.port  # a port that is not a number raises here
    except ValueError:
        return False
    if parts.scheme == "unix":
        return bool(parts.path)
    return (parts.scheme in ("redis", "rediss") and bool(parts.hostname) and re.fullmatch(r"(/\d*)?", parts.path)
            is not None and (port is None or 0 < port < 65536))


def levels() -> list:
    """The shared levels in lookup order (none when neither setting is made); a bad setting raises."""
    if found := problems():
        raise WarehouseError(found[0])
    chosen = []
    if directory := os.environ.get(ENV_CACHE_DIR):
        chosen.append(_disk(directory))
    if url := os.environ.get(ENV_CACHE_URL):
        chosen.append(_redis(url, round(float(os.environ.get(ENV_CACHE_TTL, DEFAULT_TTL_S)))))
    return chosen


def shared_cache():
    """This machine's disk cache (a diskcache.Cache), or None when $DASHBOARD_CACHE_DIR is unset."""
    directory = os.environ.get(ENV_CACHE_DIR)
    return _disk(directory).cache if directory else None


def key_of(*parts) -> str:
    return hashlib.sha256(pickle.dumps(parts, protocol=5)).hexdigest()


def cached(compute, *parts):
    """`compute()`, unless some process has already stored its result under `parts` in a shared level."""
    chosen = levels()
    if not chosen:
        return compute()
    key = key_of(*parts)
    for depth, level in enumerate(chosen):
        value = level.get(key)
        if value is not _MISS:
            for nearer in chosen[:depth]:
                nearer.set(key, value)
            return value
    value = compute()
    for level in chosen:
        level.set(key, value)
    return value


def stats() -> tuple[int, int]:
    """(hits, misses) of the outermost shared level over every process since it was made: Redis's
    (every machine) when $DASHBOARD_CACHE_URL is set, else the disk's. With both, Redis counts only
    what the disk lacked. (0, 0) when no level is set or Redis is down."""
    chosen = levels()
    return chosen[-1].stats() if chosen else (0, 0)
