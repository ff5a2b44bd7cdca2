"""Server CPU of one filter change with cached answers: all 13 views on one Bokeh document (as a
served session holds them), each change drawn synchronously inside one wave (`coordinator.wave`:
its events held, the models re-indexed only if a change asked; an older checkout: Bokeh's `freeze`).

    python -m bench.change_cpu [--url URL]      # prints and writes bench/results/change_cpu.json

CPU time (`time.process_time`), so a busy machine inflates it less than wall time. Run it from
another checkout (PYTHONPATH=/tmp/before python /work/main/bench/change_cpu.py) for a before/after.
"""
import argparse
import json
import statistics
import time
from pathlib import Path

import panel as pn
from bokeh.document import Document
from dashboard.app import dashboard_views
from dashboard.data import DataStore
try:
    from dashboard.components.coordinator import wave  # one served wave: hold, and re-index only if asked
except ImportError:  # an older checkout: Bokeh's freeze, as its sessions did
    def wave(doc):
        return doc.models.freeze()
p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--url", default=f"duckdb:///{Path(__file__).resolve().parent / 'data' / 'default.duckdb'}")
p.add_argument("--name", default="change_cpu", help="results file: bench/results/NAME.json")
p.add_argument("--served", action="store_true", help="as in a served session whose 13 cards are all in sight: frames "
               "made from an answer are shared across sessions (shaped.SHAPED), so a state already shown costs no pandas")
args = p.parse_args()
if args.served:
    from dashboard.components import base
    base.served = lambda: True  # the coordinator stays synchronous: each change is drawn here, in one wave
store = DataStore(args.url)
views = [v for _, items in dashboard_views(store) for v in items]
doc = Document(); doc.add_root(pn.Column(*views).get_root(doc))
states = [dict(customer_segment=["Premium"]), dict(region=["West"]), dict(day_of_week=[6], transaction_hour=[12]),
          dict(product=["Mortgage"]), {}]
for s in states:  # fill the query cache
    store.select(**s) if s else store.clear()
cpu = []
for _ in range(3):
    for s in states:
        t = time.process_time()
        with wave(doc):
            store.select(**s) if s else store.clear()
        cpu.append(1000 * (time.process_time() - t))
result = {"served": args.served, "models": len(doc.models), "cpu_ms_median": round(statistics.median(cpu), 1),
          "cpu_ms_max": round(max(cpu), 1), "samples": [round(c) for c in cpu]}
print(json.dumps(result))
(Path(__file__).resolve().parent / "results" / f"{args.name}.json").write_text(json.dumps(result, indent=1))
