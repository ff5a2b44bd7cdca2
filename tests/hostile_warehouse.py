"""A small warehouse whose names are hostile: markup, quotes, entities and unicode in the data itself.

Built for real by `build_warehouse`: only the generator's frames are relabelled before they are
loaded (as if the bank had named its cities and products so), so silver, gold and the fast path
all come from the project's own definitions. Big cities, categories and products are renamed so
that each hostile name shows in every view (top-N lists, seasonal top 5, the map and the heatmap).
State codes stay valid except one (its cities fall back to no map position, as a real bad code would).
"""
from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from dashboard.warehouse import build
from dashboard.warehouse.generate import Bank, BankSpec

SPEC = BankSpec(customers=1_000, months=3, seed=11)

IMG = '<img src=x onerror="window.__xss=1;alert(1)">'
SCRIPT = "<script>window.__xss=2</script>"
QUOTES = "\"quoted\" & 'single' &amp;"
BOLD = "</div><b>bold</b>"
UNICODE = "Zürich — 東京"
# City labels are title-cased by the page ('NEW YORK' -> 'New York'): this payload still runs then
# ('Window.__Xss=1' sets a flag on the Window constructor), so a title-cased injection is seen too.
CITY_IMG = '<img src=x onerror="Window.__Xss=1">'

RENAMES = {  # column -> {generated value: hostile value}; the same in every frame that has the column
    "city": {"NEW YORK": CITY_IMG, "LOS ANGELES": SCRIPT, "CHICAGO": BOLD, "HOUSTON": QUOTES, "PHOENIX": UNICODE},
    "state": {"PA": 'PA"><i>it</i>'},
    "region": {"Midwest": QUOTES},
    "customer_segment": {"Mass Market": '<b>Mass</b> & "Co" <img src=x onerror="window.__xss=5">'},
    "category_group": {"Essential Services": BOLD, "Lifestyle": UNICODE},
    "merchant_category": {"Grocery": IMG, "Restaurant": SCRIPT, "Travel": UNICODE, "Retail": QUOTES},
    "product_name": {"Checking Account": IMG, "Savings Account": QUOTES, "Mortgage": BOLD,
                     "Investment Account": UNICODE, "Credit Card": SCRIPT},
}
SEGMENT = RENAMES["customer_segment"]["Mass Market"]
STATE = RENAMES["state"]["PA"]


def relabel(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with the RENAMES applied (categorical or plain text columns alike)."""
    for column, names in RENAMES.items():
        if column not in frame:
            continue
        values = frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            frame[column] = values.cat.rename_categories({k: v for k, v in names.items() if k in values.cat.categories})
        else:
            frame[column] = values.replace(names)
    return frame


class HostileBank(Bank):
    """The synthetic bank, with hostile names in every frame it hands to the build."""

    def __init__(self, spec: BankSpec):
        super().__init__(spec)
        for name in ("customers", "accounts", "merchants"):
            relabel(getattr(self, name))

    def transaction_chunks(self, chunk_customers: int = 5_000):
        for frame in super().transaction_chunks(chunk_customers):
            yield relabel(frame)


def build_hostile_warehouse(url: str, spec: BankSpec = SPEC) -> None:
    """The project's build, with the generator swapped for HostileBank for this call only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build, "Bank", HostileBank)
        build.build_warehouse(url, spec)


def shown_texts(fig) -> list[str]:
    """What plotly.js reads as (pseudo-HTML) text in a figure: trace names (legend), labels, and the
    customdata columns its hover templates show."""
    texts = []
    for trace in fig.data:
        labels = getattr(trace, "labels", None)
        texts += [str(trace.name or ""), *(str(v) for v in (() if labels is None else labels))]
        shown = [int(i) for i in re.findall(r"%\{customdata\[(\d+)\]", trace.hovertemplate or "")]
        texts += [str(row[i]) for row in (() if trace.customdata is None else trace.customdata) for i in shown]
    return texts


def assert_shown_as_text(fig, values) -> None:
    """Each value reaches plotly.js escaped, so it shows as it is (no tag or entity left to interpret)."""
    texts = shown_texts(fig)
    assert [t for t in texts if "<" in t] == []
    for value in values:
        assert any(html.escape(value, quote=False) in t for t in texts), value
