"""The dashboard's DuckDB reads: statements of a shape seen before are not compiled again, and each
statement runs in a snapshot of its own (no transaction held across a pooled connection's life)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dashboard.engines import shared_engine
from dashboard.warehouse.fast import plan
from dashboard.warehouse.filters import Filters
from dashboard.warehouse.gold import gold_query
from dashboard.warehouse.schema import SILVER_TABLES

TABLE = "analytics_customer_behavior_clusters"


def test_a_statement_of_a_seen_shape_is_not_compiled_again_and_answers_for_its_own_values(warehouse_url):
    engine, hits = shared_engine(warehouse_url), []
    listener = lambda conn, cursor, statement, parameters, context, many: hits.append(context.cache_hit.name)  # noqa: E731
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        answers = {}
        with engine.connect() as conn:
            for segment in ("Premium", "Affluent", "Premium"):
                answers.setdefault(segment, []).append(pd.read_sql_query(plan(TABLE, Filters(customer_segment=(segment,)),
                                                                              frozenset()), conn))
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    assert hits[1:] == ["CACHE_HIT", "CACHE_HIT"]  # the second segment: the first one's compiled statement
    with shared_engine(warehouse_url).connect() as conn:  # each answer is its own segment's, not the cached one's
        for segment, frames in answers.items():
            reference = pd.read_sql_query(gold_query(TABLE, Filters(customer_segment=(segment,))), conn)
            for frame in frames:
                assert set(frame["customer_segment"]) == {segment}
                assert frame["customer_count"].sum() == reference["customer_count"].sum() > 0


def test_each_read_runs_in_a_transaction_of_its_own(warehouse_url):
    with shared_engine(warehouse_url).connect() as conn:
        first, second = (conn.execute(sa.text("select txid_current()")).scalar() for _ in range(2))
        assert first != second  # no BEGIN held them in one transaction
        customers = conn.execute(sa.select(sa.func.count()).select_from(SILVER_TABLES["customers"])).scalar()
    assert customers == 1_500
