"""Server-side cross-filter latency: ours against the naive way and the seed notebook's way.

    python -m bench.crossfilter --url duckdb:////path/warehouse.duckdb [--changes 50] [--seed 7] [--broad] [--name N]

One fixed, seeded sequence of filter changes (a segment or two, a region, a state, a heatmap cell,
a product, a channel, a merchant category, clear: the clicks people make; filters pile up until a
clear, so most states combine two to four dimensions) is replayed three ways, each with all 13 views:

- ours: the dashboard's store (fast path + cross-session cache), every view's query of one
  change run concurrently, timed from the change to every view's frame ready; "drawn" adds
  the server-side figure build of all 13 views (their sync refresh);
- naive: every view re-runs its plain definition over silver with a WHERE clause, no
  pre-aggregation, no cache;
- seed: the notebook's way: `SELECT *` of each view's gold table, the filters its columns allow
  applied in pandas, a new figure built.

Prints medians and p95 (ms) and ratios; `run()` returns them for `python -m bench`.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import sqlalchemy as sa

from bench.common import machine, percentile, write_results
from dashboard import memory
from dashboard.app import dashboard_views
from dashboard.data import DataStore

try:
    from dashboard.queries import clear_answers
except ImportError:  # an older checkout (bench.alternate's "before"): one cache, in queries.py or data.py
    try:
        from dashboard.queries import _run_query
    except ImportError:
        from dashboard.data import _run_query
    clear_answers = _run_query.clear
from dashboard.engines import shared_engine
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import GOLD

KINDS = ("segment", "region", "state", "cell", "product", "clear", "channel", "category", "segments")
WEIGHTS = (3, 2, 2, 3, 2, 1, 1, 1, 1)


def click_sequence(store: DataStore, changes: int, seed: int) -> list[dict]:
    """Seeded store updates; each replaces one dimension, so filters pile up until a clear."""
    rng = random.Random(seed)
    pick = {
        "segment": lambda: {"customer_segment": [rng.choice(store.options("customer_segment"))]},
        "region": lambda: {"region": [rng.choice(store.options("region"))]},
        "state": lambda: {"state": [rng.choice(store.options("state"))]},
        "cell": lambda: {"day_of_week": [rng.randrange(7)], "transaction_hour": [rng.randrange(8, 22)]},
        "product": lambda: {"product": [rng.choice(store.options("product"))]},
        "channel": lambda: {"channel": [rng.choice(store.options("channel"))]},
        "category": lambda: {"merchant_category": [rng.choice(store.options("merchant_category"))]},
        "segments": lambda: {"customer_segment": rng.sample(store.options("customer_segment"), 2)},
    }
    sequence = []
    for _ in range(changes):
        kind = rng.choices(KINDS, weights=WEIGHTS)[0]
        sequence.append({} if kind == "clear" else pick[kind]())
    return sequence


def broad_states(store: DataStore) -> list[dict]:
    """One broad filter each (applied to a cleared dashboard): what the seeded clicks never reach
    alone (a product, two products, an age group, a credit band, a channel, a month, working hours …)."""
    return [{"product": ["Mortgage"]}, {"product": ["Mortgage"], "customer_segment": ["Premium"]},
            {"product": ["Checking Account", "Credit Card"]}, {"age_group": ["35-44"]},
            {"income_bracket": ["High"], "customer_segment": ["Affluent"]}, {"credit_score_band": ["Good"]},
            {"city": [store.options("city")[0]]}, {"channel": ["Mobile"]}, {"month": [12]},
            {"month": [12], "customer_segment": ["Premium"]}, {"transaction_hour": list(range(9, 18))},
            {"category_group": ["Lifestyle"], "product": ["Mortgage"]}]


def apply(store: DataStore, change: dict) -> None:
    if change:
        store.select(origin="bench", **change)
    else:
        store.clear()


def stats(samples: list[float]) -> dict:
    return {"median_ms": round(statistics.median(samples), 1), "p95_ms": round(percentile(samples, 95), 1),
            "max_ms": round(max(samples), 1), "samples_ms": [round(s, 1) for s in samples]}


def ask(store: DataStore, view):
    """What the view asks the store in the dashboard: its sums (`need`) or its whole table."""
    return store.fetch(view.table, view.own, need=view.need)


def _ours_data(store: DataStore, views: list, pool: ThreadPoolExecutor) -> None:
    for view in views:  # as the views' requests do: each says what it will ask, then all ask at once
        store.expect(view.table, view.own, need=view.need)
    frames = pool.map(lambda v: ask(store, v), views)
    for view, frame in zip(views, frames):
        view.transform(frame)


def _naive(url: str, store: DataStore, views: list) -> None:
    engine = shared_engine(url)
    with engine.connect() as conn:
        for view in views:
            view.transform(pd.read_sql(gold_query(view.table, store.filters(view.own)), conn))


def _seed(url: str, store: DataStore, views: list) -> None:
    with shared_engine(url).connect() as conn:
        for view in views:
            df = pd.read_sql(sa.select(sa.text("*")).select_from(sa.table(view.table, schema=GOLD)), conn)
            for dim, values in store.filters(view.own).active().items():
                if dim in df.columns:
                    df = df[df[dim].isin(values)]
            frame = view.transform(df)
            if not frame.empty:
                view.render(frame)


def run(url: str, changes: int = 50, seed: int = 7, ways: tuple[str, ...] = ("ours", "naive", "seed"),
        compare: int | None = None, broad: bool = False) -> dict:
    """`compare`: run the naive and seed ways on only the first N changes (they take minutes each at 100 M);
    `broad`: the states of `broad_states`, each from a cleared dashboard, instead of the seeded clicks."""
    timed = {"ours_data": [], "ours_drawn": [], "ours_uncached": [], "naive": [], "seed": []}
    drawn_store = DataStore(url)
    views = [v for _, items in dashboard_views(drawn_store) for v in items]
    data_store, bare = DataStore(url), DataStore(url)
    sequence = broad_states(data_store) if broad else click_sequence(data_store, changes, seed)
    changes = len(sequence)
    clear_answers()
    memory.freeze_long_lived()  # as a served process does before its first page
    with ThreadPoolExecutor(max_workers=len(views)) as pool:
        for i, change in enumerate(sequence):
            slow_ways = compare is None or i < compare
            for store in (data_store, bare):
                if broad:
                    store.clear()
                apply(store, change)
            if "ours" in ways:
                start = time.perf_counter()
                _ours_data(data_store, views, pool)
                timed["ours_data"].append(1000 * (time.perf_counter() - start))
                start = time.perf_counter()
                if broad:
                    drawn_store.clear()
                apply(drawn_store, change)  # views attached: each refreshes (cache hit) and redraws
                timed["ours_drawn"].append(1000 * (time.perf_counter() - start))
            if "naive" in ways and slow_ways:
                start = time.perf_counter()
                _naive(url, bare, views)
                timed["naive"].append(1000 * (time.perf_counter() - start))
            if "seed" in ways and slow_ways:
                start = time.perf_counter()
                _seed(url, bare, views)
                timed["seed"].append(1000 * (time.perf_counter() - start))
        if "ours" in ways:  # the same sequence with an empty cache before every change
            for change in sequence:
                if broad:
                    data_store.clear()
                apply(data_store, change)
                clear_answers()
                start = time.perf_counter()
                _ours_data(data_store, views, pool)
                timed["ours_uncached"].append(1000 * (time.perf_counter() - start))
    drawn = {name: stats(samples) for name, samples in timed.items() if samples}
    # like with like: the slow ways' medians against ours over the same (first `compare`) changes
    n = compare or changes
    ours = statistics.median(timed["ours_data"][:n]) if timed["ours_data"] else None
    ratios = {f"{name}_vs_ours_data": round(drawn[name]["median_ms"] / ours, 1)
              for name in ("naive", "seed") if name in drawn and ours}
    if "ours_uncached" in drawn:
        ratios["ours_uncached_vs_ours_data"] = round(drawn["ours_uncached"]["median_ms"] / drawn["ours_data"]["median_ms"], 1)
    with shared_engine(url).connect() as conn:
        transactions = conn.execute(sa.text("select count(*) from silver.transactions")).scalar()
    return {"url": url, "transactions": transactions, "changes": changes, "seed": seed, "compared_changes": compare or changes,
            "sequence": [str(c or "clear") for c in sequence], "results": drawn, "ratios": ratios}


def table(result: dict) -> str:
    lines = [f"{result['transactions']:,} transactions, {result['changes']} changes",
             f"{'way':<16}{'median ms':>12}{'p95 ms':>12}{'max ms':>12}"]
    for name, s in result["results"].items():
        lines.append(f"{name:<16}{s['median_ms']:>12,.1f}{s['p95_ms']:>12,.1f}{s['max_ms']:>12,.1f}")
    lines += [f"{k}: {v}x" for k, v in result["ratios"].items()]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", action="append", help="warehouse URL (repeatable); default: the dashboard's")
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ways", default="ours,naive,seed")
    parser.add_argument("--compare", type=int, help="naive and seed ways on the first N changes only")
    parser.add_argument("--broad", action="store_true", help="single broad filters instead of the seeded clicks")
    parser.add_argument("--name", default="crossfilter", help="bench/results/<name>.json")
    args = parser.parse_args(argv)
    from dashboard.config import database_url
    results = []
    for url in args.url or [database_url()]:
        result = run(url, args.changes, args.seed, tuple(args.ways.split(",")), args.compare, args.broad)
        print(table(result), flush=True)
        results.append(result)
    print(f"written to {write_results(args.name, {'machine': machine(), 'runs': results})}")


if __name__ == "__main__":
    main()
