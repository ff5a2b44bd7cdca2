"""What every benchmark shares: percentiles, the machine's description, the results file."""
from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def percentile(samples: list[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) without needing numpy here."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def machine() -> dict:
    return {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S")}


def write_results(name: str, data: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str))
    return path


def run_and_report(name: str, run, format_table) -> None:
    """The end of a browser benchmark's CLI: run (saving partial results as it goes), print, write."""
    try:
        results = run(checkpoint=lambda r: write_results(name, r))
    except FileNotFoundError as exc:  # no warehouse / no chromium: one line, not a traceback
        raise SystemExit(str(exc)) from None
    print(format_table(results))
    print(f"written to {write_results(name, results)}")
