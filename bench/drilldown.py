"""Drill-down page latency: the first, middle and last page of each list, by a few sorts.

    python -m bench.drilldown --url duckdb:////path/warehouse.duckdb [--repeats 3] [--forward] [--name drilldown]

Each page is read straight from the database (no cache of ours), `--repeats` times; medians in
seconds. The last page is read from the end of the list (what the dashboard does); `--forward`
also times it the plain way (OFFSET past every other row), which on 100 M transactions takes
minutes.
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from bench.common import machine, write_results
from dashboard.engines import shared_engine
from dashboard.warehouse.detail import count_query, page_query
from dashboard.warehouse.filters import Filters

SORTS = {"customers": ("total_spend", "city"), "transactions": ("transaction_ts", "amount", "merchant_name")}
PAGE_SIZE = 25


def _median_s(engine, query, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        pd.read_sql(query, engine)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def run(url: str, repeats: int = 3, forward: bool = False) -> dict:
    engine, f, rows = shared_engine(url), Filters(), []
    for kind, sorts in SORTS.items():
        total = int(pd.read_sql(count_query(kind, f), engine).iat[0, 0])
        last = (total + PAGE_SIZE - 1) // PAGE_SIZE
        for sort in sorts:
            def page(n, known=total):
                return _median_s(engine, page_query(kind, f, n, PAGE_SIZE, sort, True, known), repeats)
            row = {"list": kind, "rows": total, "sort": sort, "first_s": page(1), "middle_s": page(last // 2),
                   "last_s": page(last)}
            if forward:
                row["last_forward_s"] = page(last, None)
            rows.append(row)
            print(row, flush=True)
    return {"url": url, "page_size": PAGE_SIZE, "repeats": repeats, "pages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--forward", action="store_true", help="also time the last page read the plain way")
    parser.add_argument("--name", default="drilldown", help="bench/results/<name>.json")
    args = parser.parse_args()
    results = run(args.url, args.repeats, args.forward)
    print(pd.DataFrame(results["pages"]).to_string(index=False))
    print("written to", write_results(args.name, {"machine": machine(), **results}))


if __name__ == "__main__":
    main()
