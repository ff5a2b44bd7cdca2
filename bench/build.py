"""Warehouse build throughput: wall time and transactions/s, median over repeats.

    python -m bench.build                      # default size (20,000 customers x 12 months), 3 runs
    python -m bench.build --scale 10 --repeats 1   # also 10x the default size (opt-in: minutes)

Each run builds a fresh DuckDB file in a temporary directory; results go to
bench/results/build.json and a table on stdout. `readable` is the time until silver and gold are
swapped in (the dashboard serves from then on); `fast` is the fast-path tables' phase, which
follows in the background; `wall` and `txn/s` are for the whole build. `cpu s` is the process's
CPU time (all threads, DuckDB's included): on a shared machine it moves much less than the wall time.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from dashboard.warehouse.build import build_warehouse
from dashboard.warehouse.generate import BankSpec

RESULTS = Path(__file__).parent / "results" / "build.json"


def measure(customers: int, months: int, repeats: int) -> dict:
    runs, cpu = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.process_time()
            report = build_warehouse(f"duckdb:///{tmp}/bench.duckdb", BankSpec(customers=customers, months=months))
            cpu.append(time.process_time() - started)
            runs.append(report)
    med = lambda xs: statistics.median(xs)  # noqa: E731
    return {
        "customers": customers, "months": months, "repeats": repeats,
        "transactions": runs[0].transactions,
        "wall_s_median": med([r.seconds for r in runs]),
        "wall_s_runs": [round(r.seconds, 2) for r in runs],
        "readable_s_median": med([r.readable_seconds for r in runs]),
        "readable_s_runs": [round(r.readable_seconds, 2) for r in runs],
        "transactions_per_s_median": med([r.transactions_per_second for r in runs]),
        "generate_s_median": med([r.generate_seconds for r in runs]),
        "load_s_median": med([r.load_seconds for r in runs]),
        "gold_s_median": med([r.gold_seconds for r in runs]),
        "fast_s_median": med([r.fast_seconds for r in runs]),
        "cpu_s_median": med(cpu),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--customers", type=int, default=BankSpec().customers)
    p.add_argument("--months", type=int, default=BankSpec().months)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scale", type=int, default=0, help="also measure N x the customers (one run each)")
    args = p.parse_args()
    sizes = [(args.customers, args.repeats)] + ([(args.customers * args.scale, 1)] if args.scale else [])
    results = []
    print(f"{'customers':>10} {'transactions':>13} {'readable s':>11} {'wall s (median)':>16} {'txn/s':>12} "
          f"{'generate':>9} {'load':>7} {'gold':>7} {'fast':>7} {'cpu s':>7}")
    for customers, repeats in sizes:
        r = measure(customers, args.months, repeats)
        results.append(r)
        print(f"{r['customers']:>10,} {r['transactions']:>13,} {r['readable_s_median']:>11.1f} {r['wall_s_median']:>16.1f} "
              f"{r['transactions_per_s_median']:>12,.0f} {r['generate_s_median']:>9.1f} {r['load_s_median']:>7.1f} "
              f"{r['gold_s_median']:>7.1f} {r['fast_s_median']:>7.1f} {r['cpu_s_median']:>7.1f}", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"measured_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": platform.platform(),
                                   "results": results}, indent=2))
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
