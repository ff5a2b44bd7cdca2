"""Every benchmark figure of bench/README.md in one run.

    python -m bench                  # default size: build, cross-filter, browser clicks, cold start + RSS
    python -m bench --scale          # also 10 M and 100 M transactions (opt-in: about an hour here)
    python -m bench --reuse          # benchmark warehouses already in bench/data/ instead of rebuilding

Warehouses are built into bench/data/<size>.duckdb (build throughput is measured there, fast
tables included); each part writes its JSON to bench/results/ and a summary goes to
bench/results/summary.json.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from bench import browser, crossfilter, serving
from bench.common import machine, write_results
from dashboard.warehouse.build import build_warehouse
from dashboard.warehouse.generate import BankSpec

DATA = Path(__file__).parent / "data"
# customers for ~10 M and ~100 M transactions at 12 months (411 transactions per customer-year)
SIZES = {"default": BankSpec().customers, "10m": 24_300, "100m": 243_000}


def warehouse(size: str, reuse: bool) -> tuple[str, dict | None]:
    path = DATA / f"{size}.duckdb"
    url = f"duckdb:///{path}"
    if reuse and path.exists():
        return url, None
    DATA.mkdir(exist_ok=True)
    report = build_warehouse(url, BankSpec(customers=SIZES[size]))
    built = {"customers": report.customers, "transactions": report.transactions, "seconds": round(report.seconds, 1),
             "readable_s": round(report.readable_seconds, 1),
             "transactions_per_s": round(report.transactions_per_second), "generate_s": round(report.generate_seconds, 1),
             "load_s": round(report.load_seconds, 1), "gold_s": round(report.gold_seconds, 1),
             "fast_s": round(report.fast_seconds, 1)}
    print(f"built {size}: {built}", flush=True)
    return url, built


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scale", action="store_true", help="also the 10 M and 100 M transaction warehouses")
    p.add_argument("--reuse", action="store_true", help="use warehouses already in bench/data/")
    p.add_argument("--changes", type=int, default=50, help="filter changes in the cross-filter sequence")
    args = p.parse_args(argv)
    summary = {"machine": machine(), "sizes": {}}
    for size in ("default", "10m", "100m") if args.scale else ("default",):
        url, built = warehouse(size, args.reuse)
        result = crossfilter.run(url, args.changes, compare=10 if size == "100m" else None)
        print(crossfilter.table(result), flush=True)
        summary["sizes"][size] = {"build": built, "crossfilter": result}
        if size == "default":
            summary["browser"] = browser.run(url)
            summary["serving"] = serving.run(url)
    print(f"written to {write_results('summary', summary)}")


if __name__ == "__main__":
    main()
