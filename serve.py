"""Entry point of the served dashboard.

    panel serve serve.py --warm   # one dashboard per browser session, at http://localhost:5006/serve
    python serve.py [--port N]    # the same, at http://localhost:5006/

The warehouse is $DASHBOARD_DATABASE_URL, else the embedded DuckDB file data/warehouse.duckdb,
which the server builds at start (`--warm` runs the app once before serving) if it does not
exist yet. `--warm` also does the imports and fills the query cache before the first visitor,
and a warehouse that cannot be read is said in the server's log at start, in one line.
"""
import argparse
import os

import panel as pn

from dashboard.app import TITLE, create_app

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Serve the banking analytics dashboard")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", 5006)))
    parser.add_argument("--address", default="127.0.0.1")
    args = parser.parse_args()
    pn.serve(create_app, port=args.port, address=args.address, show=False, title=TITLE, warm=True,
             websocket_origin=[f"localhost:{args.port}", f"127.0.0.1:{args.port}"])
else:
    create_app().servable(title=TITLE)
