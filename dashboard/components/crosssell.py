"""What the two product views compute that is not a figure: holders from the pair table, the
theme's colours, the words of their hovers, label wrapping, where an edge may be hovered, and
round colour-bar ticks. Pure functions (no Bokeh model), so each is tested on its own."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .style import SELECTED_LINE, floats, is_missing, money
from .theme import pick

# Per page theme (a switch redraws: theme.py): text and emphasis must read on the plot's background
# (white; Panel's dark Bokeh theme paints #2b3035), at least 4.5:1 (WCAG AA) for the labels.
THEMES = {"light": {"label": "#333333", "emphasis": "#303030", "outline": SELECTED_LINE, "diagonal": "#f0f0f0"},
          "dark": {"label": "#e6e6e6", "emphasis": "#e8e8e8", "outline": "#f5f5f5", "diagonal": "#3a4047"}}


def theme_colors() -> dict[str, str]:
    """The colours for the session's theme."""
    return pick(THEMES)


def balance_words(value) -> str:
    """-$208,275 (negative = owed to the bank): loans and cards count as negative balances."""
    return money(value) + (" (negative = owed to the bank)" if not is_missing(value) and value < 0 else "")


def holders_words(value, product: str, top: str | None) -> str:
    """'89% as many as Checking Account (the most held)': a share a banker reads without a legend."""
    if is_missing(value):
        return "n/a"
    return "the most held product" if product == top else f"{value:.0%} as many as {top} (the most held)"


def texts(values) -> np.ndarray:
    """Text for a source column (an object array: Bokeh sends it as a list of strings)."""
    return np.asarray(list(values), dtype=object)


def short_label(name: str, width: int = 12) -> str:
    """A product name on at most two lines of `width` characters (cut with '…'): it fits beside its node."""
    words, best = str(name).split(), None
    for i in range(1, len(words)):  # the most even split into two lines
        lines = (" ".join(words[:i]), " ".join(words[i:]))
        if best is None or max(map(len, lines)) < max(map(len, best)):
            best = lines
    lines = [str(name)] if len(str(name)) <= width or best is None else list(best)
    return "\n".join(line if len(line) <= width else line[:width - 1] + "…" for line in lines)


def clear_of_nodes(x0, y0, x1, y1, cx, cy, radius) -> np.ndarray:
    """Per segment (x0, y0)-(x1, y1): the longest piece of it outside every disc (cx, cy, radius),
    as rows (x0, y0, x1, y1); NaN where nothing is left. `radius` is per disc, or per segment and
    disc. Edges are hovered on these pieces only, so a pointer on a node shows no edge's tooltip."""
    out = np.full((len(x0), 4), np.nan)
    radius = np.broadcast_to(np.asarray(radius, dtype=float), (len(x0), len(cx)))
    for i, (ax, ay, bx, by) in enumerate(zip(x0, y0, x1, y1)):
        dx, dy = bx - ax, by - ay
        a = dx * dx + dy * dy
        if not a > 0:
            continue
        # |start + t (end - start) - centre| < radius  <=>  a t^2 + b t + c < 0
        b = 2 * (dx * (ax - cx) + dy * (ay - cy))
        c = (ax - cx) ** 2 + (ay - cy) ** 2 - radius[i] ** 2
        disc = b * b - 4 * a * c
        root = np.sqrt(np.maximum(disc, 0.0))
        cuts = sorted((lo, hi) for lo, hi, d in zip((-b - root) / (2 * a), (-b + root) / (2 * a), disc)
                      if d > 0 and hi > 0 and lo < 1)
        pieces, start = [], 0.0
        for lo, hi in cuts:
            pieces.append((start, lo))
            start = max(start, hi)
        pieces.append((start, 1.0))
        t0, t1 = max(pieces, key=lambda p: p[1] - p[0])
        if t1 - t0 > 1e-6:
            out[i] = ax + t0 * dx, ay + t0 * dy, ax + t1 * dx, ay + t1 * dy
    return out


def round_ticks(low: float, high: float, most: int = 8) -> list[float]:
    """Colour-bar ticks for a log scale at round counts (1, 2, 5, 10 … or 1, 10, 100 …)."""
    decades = range(math.floor(math.log10(low)), math.floor(math.log10(high)) + 1)
    for mantissas in ((1, 2, 5), (1,)):
        ticks = [float(m * 10 ** k) for k in decades for m in mantissas if low <= m * 10 ** k <= high]
        if 2 <= len(ticks) <= most:
            return ticks
    step = 10.0 ** math.floor(math.log10(max(high - low, 1.0)))  # less than a decade: linear round steps
    ticks = [s for s in np.arange(math.ceil(low / step) * step, high + step / 2, step) if low <= s <= high]
    return [float(t) for t in ticks[::max(1, math.ceil(len(ticks) / most))]]


def relative_holders(pairs: pd.DataFrame) -> pd.Series:
    """Holders of each product relative to the most-held one (1.0), from the pair table alone.

    customer_count / cross_sell_score = holders_1 x holders_2 / chosen customers, so the log of it
    is a sum of two per-product terms: a least-squares solve gives every product's holders up to
    one common factor (exact when the pairs do not form a bipartite graph; NaN when they do).
    """
    count, score = (floats(pairs[c]) for c in ("customer_count", "cross_sell_score"))
    ok = (count > 0) & (score > 0) & np.isfinite(score)
    first, second = (pairs[c].to_numpy(object)[ok] for c in ("product_1", "product_2"))
    names = sorted(set(first) | set(second))
    if not names:
        return pd.Series(dtype=float)
    col = {p: i for i, p in enumerate(names)}
    design = np.zeros((len(first), len(names)))
    rows = np.arange(len(first))
    design[rows, [col[p] for p in first]] = 1.0
    design[rows, [col[p] for p in second]] = 1.0
    target = np.log(count[ok] / score[ok])
    if np.linalg.matrix_rank(design) < len(names):
        return pd.Series(np.nan, index=names)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    return pd.Series(np.exp(solution - solution.max()), index=names)


GRID_COLUMNS = ["product_a", "category_a", "product_b", "category_b", "customer_count", "log_customers",
                "cross_sell_score", "avg_combined_balance", "avg_min_age_months"]


def pair_grid(df: pd.DataFrame, products: list[str], categories: dict[str, str]) -> pd.DataFrame:
    """The pair table as a symmetric products x products grid (rows in `products` order, then
    columns): a pair nobody holds has 0 customers, the diagonal (not a pair) NaN. (A few hundred
    cells, filled from a dict: a pandas reindex on a MultiIndex costs ten times more.)"""
    if df.empty:
        return pd.DataFrame(columns=GRID_COLUMNS)
    values = ["customer_count", "cross_sell_score", "avg_combined_balance", "avg_min_age_months"]
    first, second = df["product_1"].tolist(), df["product_2"].tolist()
    rows = list(zip(*(floats(df[v]) for v in values)))
    found = {**dict(zip(zip(first, second), rows)), **dict(zip(zip(second, first), rows))}
    paired = set(first) | set(second)  # products with holders (in at least one pair)
    a = np.repeat(np.array(products, dtype=object), len(products))
    b = np.tile(np.array(products, dtype=object), len(products))
    nan = (np.nan,) * len(values)
    grid = np.array([found.get(pair, nan) for pair in zip(a, b)], dtype=float).reshape(-1, len(values))
    diagonal = a == b
    missing = np.isnan(grid[:, 0]) & ~diagonal
    count = np.where(missing, 0.0, grid[:, 0])
    # no customer holds both: the lift is 0 when both products have holders, undefined otherwise
    zero_lift = missing & np.array([x in paired and y in paired for x, y in zip(a, b)], dtype=bool)
    return pd.DataFrame({
        "product_a": pd.Series(a, dtype="str"), "category_a": pd.Series([categories.get(x) for x in a], dtype="str"),
        "product_b": pd.Series(b, dtype="str"), "category_b": pd.Series([categories.get(x) for x in b], dtype="str"),
        "customer_count": pd.array(np.where(diagonal, pd.NA, count).tolist(), dtype="Int64"),
        "log_customers": np.log1p(np.where(diagonal, np.nan, count)),
        "cross_sell_score": np.where(zero_lift, 0.0, grid[:, 1]),
        "avg_combined_balance": grid[:, 2], "avg_min_age_months": grid[:, 3]})
