"""Drill-down page latency: the first, middle and last page and one page on from the middle, of each
list by several sorts, read the OFFSET way and through the list's index (keyset paging), in one run.

    python -m bench.drilldown --url duckdb:////path/warehouse.duckdb [--repeats 3] [--filter] [--offset-way S]
                              [--name drilldown]

Each page is read straight from the database (no cache of ours), `--repeats` times; medians in
seconds. "offset": the pre-seek way (OFFSET from the nearer end of the list). The plain columns:
what the store does now (warehouse/pages.py): through the list's bucket index where `wants_index`
says so, the index read once per list and sort (`index_s`; prebuilt for the unfiltered list), near
the ends of a filtered list inside a window of the unfiltered list's index (`whole_index_s`, read
once). `count_s`: the list's length. `--filter` lists one segment's transactions instead of all
(its index is built on demand). `--offset-way` skips the OFFSET way's middle pages where its first
page took more than S seconds / 20 (at 100 M a middle page by merchant took 194 s).
"""
from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd

from bench.common import machine, write_results
from dashboard.engines import fast_tables, shared_engine
from dashboard.warehouse.detail import count_query, page_query, wants_index
from dashboard.warehouse.pages import read_index, read_page
from dashboard.warehouse.filters import Filters

SORTS = {"customers": ("total_spend", "city"),
         "transactions": ("transaction_ts", "amount", "merchant_name", "channel", "customer_id")}
PAGE_SIZE = 25


def _median_s(read_once, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        read_once()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


def run(url: str, repeats: int = 3, filtered: bool = False, offset_limit_s: float = 600.0) -> dict:
    engine, available, rows = shared_engine(url), fast_tables(url), []
    read = lambda query: pd.read_sql_query(query, engine)  # noqa: E731
    f = Filters(customer_segment=("Mass Market",)) if filtered else Filters()
    for kind, sorts in SORTS.items():
        start = time.perf_counter()
        total = int(read(count_query(kind, f, available)).iat[0, 0])
        count_s = round(time.perf_counter() - start, 3)
        last = (total + PAGE_SIZE - 1) // PAGE_SIZE
        pages = {"first": 1, "middle": last // 2, "next": last // 2 + 1, "last": last}
        for sort in sorts:
            row, indexes = {"list": kind, "rows": total, "count_s": count_s, "sort": sort}, {}

            def index_of(g: Filters):  # as the store keeps them: read once per list and sort
                key = tuple(sorted(g.active().items()))
                if key not in indexes:
                    start = time.perf_counter()
                    indexes[key] = read_index(read, g, sort, True, available)
                    row["index_s" if g == f else "whole_index_s"] = round(time.perf_counter() - start, 3)
                return indexes[key]

            if any(wants_index(kind, f, n, PAGE_SIZE, sort, total, available) for n in pages.values()):
                row["buckets"] = len(index_of(f))
            for name, n in pages.items():
                row[f"{name}_s"] = _median_s(
                    lambda: read_page(read, kind, f, n, PAGE_SIZE, sort, True, total, available, index_of), repeats)
                if name in ("middle", "next") and row.get("offset_first_s", 0) * 20 > offset_limit_s:
                    continue  # minutes: said in the table
                row[f"offset_{name}_s"] = _median_s(lambda: read(page_query(kind, f, n, PAGE_SIZE, sort, True, total)),
                                                    repeats)
            rows.append(row)
            print(row, flush=True)
    return {"url": url, "filters": f.active(), "page_size": PAGE_SIZE, "repeats": repeats, "pages": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--filter", action="store_true", help="one segment's transactions, not all")
    parser.add_argument("--offset-way", type=float, default=600.0, metavar="S",
                        help="skip the OFFSET way's middle pages when they would take minutes")
    parser.add_argument("--name", default="drilldown", help="bench/results/<name>.json")
    args = parser.parse_args()
    results = run(args.url, args.repeats, args.filter, args.offset_way)
    print(pd.DataFrame(results["pages"]).to_string(index=False))
    print("written to", write_results(args.name, {"machine": machine(), **results}))


if __name__ == "__main__":
    main()
