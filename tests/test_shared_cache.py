"""dashboard/shared_cache.py: one result per key for every process, hashed keys, off when unset."""
from __future__ import annotations

import multiprocessing

import pandas as pd

from dashboard import shared_cache


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
