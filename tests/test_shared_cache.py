"""dashboard/shared_cache.py: one result per key for every process, on disk and on a real Redis server
(tests/redis_server.py), hashed keys, off when unset; a Redis outage degrades to computing, said once."""
from __future__ import annotations

import logging
import multiprocessing
import time
import zlib

import pandas as pd
import pytest

from dashboard import shared_cache
from dashboard.config import WarehouseError
from dashboard.data import DataStore
from dashboard.warehouse.filters import Filters
from gold_reference import reference_transactions


def _in_another_process(directory: str, queue) -> None:
    import os
    os.environ[shared_cache.ENV_CACHE_DIR] = directory
    queue.put(shared_cache.cached(lambda: "computed again", "query", "postgresql://u:secret@db/bank", 1))


def test_a_result_stored_by_one_process_is_read_by_another(tmp_path, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_DIR, str(tmp_path))
    frame = pd.DataFrame({"segment": ["Premium"], "spend": [1.5]})
    calls = []
    first = shared_cache.cached(lambda: calls.append(1) or frame, "query", "postgresql://u:secret@db/bank", 1)
    again = shared_cache.cached(lambda: calls.append(1) or frame, "query", "postgresql://u:secret@db/bank", 1)
    assert calls == [1] and first.equals(frame) and again.equals(frame)
    assert shared_cache.stats() == (1, 1)

    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a second server would be
    queue = context.Queue()
    child = context.Process(target=_in_another_process, args=(str(tmp_path), queue))
    child.start()
    child.join(60)
    assert queue.get(timeout=5).equals(frame)  # not "computed again"
    assert shared_cache.stats() == (2, 1)


def test_keys_are_hashed_so_no_password_reaches_the_disk(tmp_path, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_DIR, str(tmp_path))
    shared_cache.cached(lambda: 1, "query", "postgresql://u:hunter2secret@db/bank", 1)
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"hunter2secret" not in stored and b"postgresql://" not in stored


def test_unset_means_no_second_level(monkeypatch):
    monkeypatch.delenv(shared_cache.ENV_CACHE_DIR, raising=False)
    calls = []
    for _ in range(2):
        shared_cache.cached(lambda: calls.append(1), "query", 1)
    assert calls == [1, 1] and shared_cache.stats() == (0, 0)


# -- Redis: one cache for every machine ($DASHBOARD_CACHE_URL) ---------------------------------------
SECRET_URL = "postgresql://reader:hunter2secret@db.bank.internal/bank"


@pytest.fixture(scope="module")
def redis_server():
    """A throwaway redis-server (tests/redis_server.py); skipped where it is not installed."""
    from redis_server import RedisServer, unavailable
    if reason := unavailable():
        pytest.skip(reason)
    with RedisServer() as server:
        yield server


@pytest.fixture
def redis_url(redis_server, monkeypatch, caplog):
    """Redis as the only shared level, emptied, with a short retry interval so outages end quickly."""
    redis_server.start().client().flushdb()
    monkeypatch.delenv(shared_cache.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv(shared_cache.ENV_CACHE_URL, redis_server.url)
    monkeypatch.setattr(shared_cache, "RETRY_S", 0.5)
    caplog.set_level(logging.WARNING, logger=shared_cache.__name__)
    shared_cache._redis.cache_clear()  # a fresh client, as in a new process: no outage left from another test
    return redis_server.url


def _machine(directory: str, url: str, label: str, queue) -> None:
    """Another server on another machine: its own disk cache, the shared Redis."""
    import os
    os.environ[shared_cache.ENV_CACHE_DIR] = directory
    os.environ[shared_cache.ENV_CACHE_URL] = url
    computed = []
    value = shared_cache.cached(lambda: computed.append(label) or pd.DataFrame({"by": [label]}), "query", SECRET_URL, 2)
    queue.put((value, computed))


def _spawned(target, *args):
    context = multiprocessing.get_context("spawn")  # a fresh interpreter, as a server elsewhere would be
    queue = context.Queue()
    child = context.Process(target=target, args=(*args, queue))
    child.start()
    try:
        return queue.get(timeout=120)
    finally:
        child.join(30)


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == shared_cache.__name__]


@pytest.mark.redis
def test_two_processes_with_their_own_disks_share_one_redis(redis_url, redis_server, tmp_path):
    first, computed_first = _spawned(_machine, str(tmp_path / "a"), redis_url, "first")
    second, computed_second = _spawned(_machine, str(tmp_path / "b"), redis_url, "second")
    assert computed_first == ["first"] and computed_second == []  # the second read it, did not compute it
    assert second.equals(first) and first["by"].tolist() == ["first"]
    assert shared_cache.stats() == (1, 1)  # counted in Redis: one miss (the first), one hit (the second)
    assert len(list(redis_server.client().scan_iter(shared_cache.PREFIX + "*"))) == 2  # the answer and the counts


@pytest.mark.redis
def test_no_secret_reaches_redis_and_entries_expire(redis_url, redis_server, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_TTL, "120")
    shared_cache.cached(lambda: pd.DataFrame({"x": [1]}), "query", SECRET_URL, 1)
    client = redis_server.client()
    keys = sorted(client.keys("*"))
    assert [k for k in keys if k != shared_cache.STATS_KEY.encode()] == [
        (shared_cache.PREFIX + shared_cache.key_of("query", SECRET_URL, 1)).encode()]
    stored = b"".join(keys) + b"".join(zlib.decompress(client.get(k)) for k in keys if k != shared_cache.STATS_KEY.encode())
    stored += b"".join(b"".join(pair) for pair in client.hgetall(shared_cache.STATS_KEY).items())
    for secret in (b"hunter2secret", b"postgresql://", b"db.bank.internal", redis_server.password.encode()):
        assert secret not in stored
    assert 100 < client.ttl(keys[0]) <= 120


@pytest.mark.redis
def test_an_outage_degrades_to_computing_with_one_log_line_and_redis_comes_back(redis_url, redis_server, caplog):
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert shared_cache.cached(compute, "query", 1) == 1
    assert shared_cache.cached(compute, "query", 1) == 1 and len(calls) == 1  # read from Redis
    redis_server.stop()  # connections cut, new ones refused
    started = time.perf_counter()
    answers = [shared_cache.cached(compute, "query", 1) for _ in range(5)]
    assert answers == [2, 3, 4, 5, 6] and time.perf_counter() - started < 2  # computed locally, no error
    assert len(_warnings(caplog)) == 1 and "unavailable" in _warnings(caplog)[0]
    assert redis_server.password not in _warnings(caplog)[0] and ":***@" in _warnings(caplog)[0]
    assert shared_cache.stats() == (0, 0)

    redis_server.start()  # back, empty, on the same port
    assert shared_cache.cached(compute, "query", 1) == 7  # still inside RETRY_S: Redis not tried yet
    assert redis_server.client().dbsize() == 0
    time.sleep(shared_cache.RETRY_S + 0.1)
    assert shared_cache.cached(compute, "query", 1) == 8  # tried again: a miss, stored
    assert shared_cache.cached(compute, "query", 1) == 8 and len(calls) == 8  # and read from Redis again
    assert _warnings(caplog)[1:] == [f"shared cache {shared_cache.masked(redis_url)} is back"]


@pytest.mark.redis
def test_a_frozen_redis_costs_one_short_timeout_not_one_per_query(redis_url, redis_server, caplog):
    shared_cache.cached(lambda: "stored", "query", 1)
    redis_server.pause()  # accepts connections, answers nothing
    try:
        started = time.perf_counter()
        assert shared_cache.cached(lambda: "computed", "query", 1) == "computed"
        first = time.perf_counter() - started
        started = time.perf_counter()
        assert [shared_cache.cached(lambda: "computed", "query", 1) for _ in range(20)] == ["computed"] * 20
        rest = time.perf_counter() - started
    finally:
        redis_server.resume()
    assert shared_cache.TIMEOUT_S * 0.9 < first < shared_cache.TIMEOUT_S + 1  # waited once, for the socket timeout
    assert rest < 0.2  # then skipped Redis (20 queries)
    assert len(_warnings(caplog)) == 1 and "TimeoutError" in _warnings(caplog)[0]


@pytest.mark.redis
def test_with_both_the_disk_is_asked_first_and_filled_from_redis(redis_url, redis_server, tmp_path, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_DIR, str(tmp_path / "one"))
    assert shared_cache.cached(lambda: "one", "query", 3) == "one"  # computed: stored on disk and in Redis
    key = shared_cache.key_of("query", 3)
    assert shared_cache.shared_cache()[key] == "one" and redis_server.client().exists(shared_cache.PREFIX + key)
    assert shared_cache.cached(lambda: "again", "query", 3) == "one" and shared_cache.stats() == (0, 1)  # a disk hit
    monkeypatch.setenv(shared_cache.ENV_CACHE_DIR, str(tmp_path / "two"))  # another machine's disk
    assert shared_cache.cached(lambda: "two", "query", 3) == "one" and shared_cache.stats() == (1, 1)  # from Redis
    assert shared_cache.shared_cache()[key] == "one"  # copied to this disk
    redis_server.stop()
    assert shared_cache.cached(lambda: "three", "query", 3) == "one"  # Redis away: the disk still answers


@pytest.mark.redis
def test_an_entry_that_does_not_unpickle_is_computed_again(redis_url, redis_server):
    redis_server.client().set(shared_cache.PREFIX + shared_cache.key_of("query", 4), b"written by another pandas")
    assert shared_cache.cached(lambda: "fresh", "query", 4) == "fresh"
    assert shared_cache.cached(lambda: "not again", "query", 4) == "fresh"  # and overwritten


@pytest.mark.parametrize("bad", ["redis://", "http://cache.bank.internal:6379/0", "redis:/cache:6379",
                                 "redis://cache:port/0", "redis://cache:6379/zero", "redis://:s3cret@cache:99999/0",
                                 "cache.bank.internal:6379", "unix://"])
def test_a_malformed_cache_url_is_said_at_start(bad, warehouse_url, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_URL, bad)
    problems = DataStore(warehouse_url).check()
    assert len(problems) == 1 and problems[0].startswith("DASHBOARD_CACHE_URL is not a Redis URL: ")
    assert "s3cret" not in problems[0] and "expected redis://" in problems[0]
    with pytest.raises(WarehouseError, match="DASHBOARD_CACHE_URL is not a Redis URL"):
        shared_cache.cached(lambda: 1, "query", 1)


@pytest.mark.parametrize("good", ["redis://cache:6379/0", "redis://:s3cret@10.0.0.5", "rediss://u:p@cache.bank:6380/2",
                                  "unix:///run/redis/redis.sock"])
def test_well_formed_cache_urls_pass(good, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_URL, good)
    assert shared_cache.problems() == []


@pytest.mark.parametrize("bad", ["0", "-5", "a day", "", "nan", "inf"])
def test_a_bad_ttl_is_said_at_start(bad, monkeypatch):
    monkeypatch.setenv(shared_cache.ENV_CACHE_TTL, bad)
    assert shared_cache.problems() == [f"DASHBOARD_CACHE_TTL_S must be a number of seconds, at least 1, got {bad!r}"]


# -- through the real store: a gold answer computed by one server process is a Redis hit in another ----
def _serve_one_query(directory: str, url: str, warehouse_url: str, query_allowed: bool, queue) -> None:
    import os
    os.environ[shared_cache.ENV_CACHE_DIR] = directory
    os.environ[shared_cache.ENV_CACHE_URL] = url
    from dashboard import queries as running
    queries = []
    if not query_allowed:
        running._read = lambda *a, **k: queries.append(a) or pytest.fail("queried the warehouse")
    frame = DataStore(warehouse_url).fetch("analytics_transaction_time_patterns",
                                           filters=Filters(customer_segment=("Premium",)))
    queue.put((frame, shared_cache.stats(), len(queries)))


@pytest.mark.redis
def test_a_gold_answer_of_one_store_process_is_a_redis_hit_in_another(redis_url, warehouse_url, silver, tmp_path):
    first, after_first, _ = _spawned(_serve_one_query, str(tmp_path / "a"), redis_url, warehouse_url, True)
    second, after_second, queries = _spawned(_serve_one_query, str(tmp_path / "b"), redis_url, warehouse_url, False)
    assert after_first == (0, 1) and after_second == (1, 1) and queries == 0  # the second process ran no query
    assert second.equals(first) and len(first) > 100
    chosen = reference_transactions(silver, Filters(customer_segment=("Premium",)))  # pandas, from silver
    assert first["transaction_count"].sum() == len(chosen)
