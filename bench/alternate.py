"""Before/after cross-filter latency, alternating change by change in one run (a shared machine's
load then weighs on both alike).

    python -m bench.alternate --url URL --before /path/to/other/checkout [--changes 30] [--seed 7] [--broad] [--name N]

Two worker processes, one importing `dashboard` from this checkout and one from `--before`, replay the
seeded sequence of `bench.crossfilter`; for each change both, in turn (the order alternating), empty
their query cache and fetch all 13 views' data concurrently (cold: a state no one asked before).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.common import machine, percentile, write_results
from bench.crossfilter import broad_states
from dashboard.data import DataStore

HERE = Path(__file__).resolve().parents[1]
# The worker imports `dashboard` from its own checkout (PYTHONPATH) and only the click sequence from
# this one, by file: putting this checkout on sys.path would import this checkout's dashboard in both.
WORKER = """
import importlib.util, json, sys, time
from concurrent.futures import ThreadPoolExecutor
spec = importlib.util.spec_from_file_location("sequence", {crossfilter!r})
sequence_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sequence_module)
apply, click_sequence, clear_answers = sequence_module.apply, sequence_module.click_sequence, sequence_module.clear_answers
import dashboard
from dashboard.app import dashboard_views
from dashboard.data import DataStore
print(json.dumps(dashboard.__file__), flush=True)
store = DataStore({url!r})
views = [v for _, items in dashboard_views(store) for v in items]
import dashboard.memory  # as a served process before its first page (a checkout without it: nothing)
getattr(dashboard.memory, "freeze_long_lived", lambda: None)()
# what each view asks: only its sums where it says so (needs.py); `main` before that asked whole tables
ask = lambda v: store.fetch(v.table, v.own, need=v.need) if getattr(v, "need", None) else store.fetch(v.table, v.own)
broad = {broad}
sequence = sequence_module.broad_states(store) if broad else click_sequence(store, {changes}, {seed})
# as the views' requests do (components/base.py): every view says what it will ask, then all ask at once
expect = getattr(store, "expect", lambda *args: None)
with ThreadPoolExecutor(len(views)) as pool:
    for line in sys.stdin:
        if broad:
            store.clear()
        apply(store, sequence[int(line)])
        clear_answers()
        start = time.perf_counter()
        for v in views:
            expect(v.table, v.own, None, getattr(v, "need", None))
        for view, frame in zip(views, pool.map(ask, views)):
            view.transform(frame)
        print(json.dumps([1000 * (time.perf_counter() - start), sorted(store.filters().active())]), flush=True)
"""


def _worker(root: str, url: str, changes: int, seed: int, broad: bool) -> subprocess.Popen:
    code = WORKER.format(crossfilter=str(HERE / "bench" / "crossfilter.py"), url=url, changes=changes, seed=seed,
                         broad=broad)
    env = {**os.environ, "PYTHONPATH": root}
    return subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env=env, cwd="/tmp")


def run(url: str, before: str, changes: int, seed: int, broad: bool = False) -> dict:
    """`broad`: the states of `bench.crossfilter.broad_states`, each from a cleared dashboard, instead of the clicks."""
    workers = {name: _worker(root, url, changes, seed, broad) for name, root in (("before", before), ("after", str(HERE)))}
    imported = {name: json.loads(w.stdout.readline()) for name, w in workers.items()}
    for name, root in (("before", before), ("after", str(HERE))):
        assert imported[name].startswith(str(Path(root).resolve())), (name, imported[name], root)
    samples, states = {name: [] for name in workers}, []
    for i in range(changes):
        for name in (("before", "after") if i % 2 == 0 else ("after", "before")):
            workers[name].stdin.write(f"{i}\n")
            workers[name].stdin.flush()
            ms, state = json.loads(workers[name].stdout.readline())
            samples[name].append(round(ms, 1))
        states.append(state)
        print(i, state, samples["before"][-1], samples["after"][-1], flush=True)
    for w in workers.values():
        w.stdin.close()
        w.wait()
    stats = {name: {"median_ms": round(statistics.median(s), 1), "p95_ms": round(percentile(s, 95), 1),
                    "max_ms": max(s), "samples_ms": s} for name, s in samples.items()}
    ratio = round(stats["before"]["median_ms"] / stats["after"]["median_ms"], 2)
    return {"url": url, "before": before, "imported": imported, "broad": broad, "changes": changes, "seed": seed, "states": states, "results": stats,
            "before_vs_after_median": ratio}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--before", required=True, help="a checkout of the code to compare with (its repository root)")
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--name", default="alternate")
    parser.add_argument("--broad", action="store_true", help="single broad filters instead of the seeded clicks")
    args = parser.parse_args()
    changes = len(broad_states(DataStore(args.url))) if args.broad else args.changes
    result = run(args.url, args.before, changes, args.seed, args.broad)
    for name in ("before", "after"):
        s = result["results"][name]
        print(f"{name}: p50 {s['median_ms']:,.0f} ms, p95 {s['p95_ms']:,.0f} ms, max {s['max_ms']:,.0f} ms")
    print("written to", write_results(args.name, {"machine": machine(), **result}))


if __name__ == "__main__":
    main()
