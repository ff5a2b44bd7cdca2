"""A query-result cache that every server process on the machine shares ($DASHBOARD_CACHE_DIR).

Each process keeps its own in-memory `pn.cache` (data.py), the fastest place to find an answer.
Behind several `panel serve` processes (nginx, or `--num-procs`), a second level on disk lets a
segment computed by one process be read by the others instead of queried again. diskcache
stores it in SQLite with file locks (safe across processes), bounds it in bytes and evicts the
least recently used. Keys are hashed: the warehouse URL, with its password, never reaches the disk.
Unset: no second level (one process needs none). Across machines, the same role would be played
by Redis (`diskcache` has no network server); the interface here is two functions.
"""
from __future__ import annotations

import hashlib
import os
import pickle
from functools import lru_cache

ENV_CACHE_DIR = "DASHBOARD_CACHE_DIR"
ENV_CACHE_MB = "DASHBOARD_CACHE_MB"
_MISS = object()


@lru_cache(maxsize=None)
def _cache(directory: str):
    import diskcache

    size = int(float(os.environ.get(ENV_CACHE_MB, "1024")) * 2**20)
    # statistics on: hits and misses are counted in the cache itself, for every process (`stats`)
    return diskcache.Cache(directory, size_limit=size, eviction_policy="least-recently-used", statistics=1)


def shared_cache():
    """The shared cache, or None when $DASHBOARD_CACHE_DIR is unset."""
    directory = os.environ.get(ENV_CACHE_DIR)
    return _cache(directory) if directory else None


def key_of(*parts) -> str:
    return hashlib.sha256(pickle.dumps(parts, protocol=5)).hexdigest()


def cached(compute, *parts):
    """`compute()`, unless some process has already stored its result under `parts`."""
    cache = shared_cache()
    if cache is None:
        return compute()
    key = key_of(*parts)
    value = cache.get(key, default=_MISS, retry=True)
    if value is _MISS:
        value = compute()
        cache.set(key, value, retry=True)
    return value


def stats() -> tuple[int, int]:
    """(hits, misses) of the shared cache over every process since it was made."""
    cache = shared_cache()
    return cache.stats() if cache is not None else (0, 0)
