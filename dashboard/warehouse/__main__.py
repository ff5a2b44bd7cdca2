"""Command line: `python -m dashboard.warehouse build|accelerate|export|info`.

Errors a user can fix print one line and exit with status 2; no traceback wall.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from ..config import ENV_URL, WarehouseError, database_url, mask_url
from .build import MAX_CUSTOMERS, Progress, accelerate_warehouse, build_warehouse
from .generate import BankSpec
from .inspect import warehouse_info
from .spark import build_gold_on_spark, export_silver


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard.warehouse",
                                description="Build or inspect the banking analytics warehouse.")
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="generate a synthetic bank and build silver + gold")
    defaults = BankSpec()
    b.add_argument("--customers", type=int, default=defaults.customers,
                   help=f"number of customers, 100 to {MAX_CUSTOMERS:,} (default {defaults.customers:,})")
    b.add_argument("--months", type=int, default=defaults.months,
                   help=f"months of history ending on --as-of, 3 to 120 (default {defaults.months})")
    b.add_argument("--seed", type=int, default=defaults.seed, help="random seed (default %(default)s)")
    b.add_argument("--as-of", type=_date, default=defaults.as_of,
                   help="last day of data; the 90-day window ends here (default %(default)s)")
    b.add_argument("--url", help=f"SQLAlchemy URL of the target (default ${ENV_URL} or the embedded DuckDB file)")
    b.add_argument("--engine", choices=("sql", "spark"), default="sql",
                   help="sql: generate a bank and build silver + gold at --url; spark: build only gold with "
                        "Apache Spark from --silver Parquet files into --gold")
    b.add_argument("--silver", type=Path, help="(spark) directory of silver Parquet files, one per table")
    b.add_argument("--gold", type=Path, help="(spark) directory to write the gold tables to, as Parquet")
    b.add_argument("--quiet", action="store_true", help="no progress display")
    a = sub.add_parser("accelerate", help="(re)build only the fast-path tables (schema `fast`) from silver")
    a.add_argument("--url", help=f"SQLAlchemy URL (default ${ENV_URL} or the embedded DuckDB file)")
    a.add_argument("--quiet", action="store_true", help="no progress display")
    e = sub.add_parser("export", help="write the silver tables of --url as Parquet files (for --engine spark)")
    e.add_argument("--url", help=f"SQLAlchemy URL (default ${ENV_URL} or the embedded DuckDB file)")
    e.add_argument("--to", type=Path, required=True, help="directory for <table>.parquet")
    e.add_argument("--quiet", action="store_true", help="no progress display")
    i = sub.add_parser("info", help="show what the warehouse at --url holds")
    i.add_argument("--url", help=f"SQLAlchemy URL (default ${ENV_URL} or the embedded DuckDB file)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build" and args.engine == "spark":
            if args.silver is None or args.gold is None:
                raise WarehouseError("--engine spark needs --silver DIR (Parquet) and --gold DIR")
            seconds = build_gold_on_spark(args.silver, args.gold, progress=Progress(quiet=args.quiet))
            print(f"built {len(seconds)} gold tables on Spark in {sum(seconds.values()):.1f}s into {args.gold}")
        elif args.command == "export":
            rows = export_silver(args.url, args.to, Progress(quiet=args.quiet))
            print(f"wrote {len(rows)} silver tables ({sum(rows.values()):,} rows) to {args.to}")
        elif args.command == "build":
            spec = BankSpec(customers=args.customers, months=args.months, seed=args.seed, as_of=args.as_of)
            report = build_warehouse(args.url, spec, Progress(quiet=args.quiet))
            print(f"built {report.transactions:,} transactions for {report.customers:,} customers in "
                  f"{report.seconds:.1f}s ({report.transactions_per_second:,.0f} transactions/s; readable after "
                  f"{report.readable_seconds:.1f}s) at {report.url}")
        elif args.command == "accelerate":
            seconds = accelerate_warehouse(args.url, Progress(quiet=args.quiet))
            print(f"built the fast-path tables in {seconds:.1f}s at {mask_url(database_url(args.url))}")
        else:
            for key, value in warehouse_info(args.url).items():
                print(f"{key:>20}: {value}")
    except WarehouseError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\ninterrupted: the previous warehouse at {mask_url(database_url(args.url))} is unchanged",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
