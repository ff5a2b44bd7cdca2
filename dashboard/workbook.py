"""The filtered dashboard as one Excel workbook: a sheet saying what was filtered, then one sheet
per view holding exactly the frame that view shows (what its CSV button gives)."""
from __future__ import annotations

import datetime as dt
import io
import re
from typing import Iterable

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from openpyxl.comments import Comment

from .config import mask_url, warehouse_name
from .data import LABELS

_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
_DANGLING = {"by", "vs", "of", "and", "the", "in", "per", "for", "to"}  # a cut name does not end on these
WORDS = {"avg": "Avg", "pct": "%", "90d": "(90d)", "12m": "(12m)", "clv": "CLV", "id": "ID", "ts": "time",
         "zscore": "z-score"}
MONEY_WORDS = ("balance", "spend", "amount", "income", "clv", "volume", "size")
MONEY, COUNT, DECIMAL, PERCENT = '"$"#,##0.00', "#,##0", "#,##0.00", '0.0"%"'


def _cut(text: str, most: int) -> str:
    """`text` in at most `most` characters, cut between words (not after 'by', 'vs' …)."""
    if len(text) <= most:
        return text
    words = text[:most + 1].split()[:-1] or [text[:most]]
    while len(words) > 1 and words[-1].lower() in _DANGLING:
        words.pop()
    return " ".join(words).rstrip(" (·-")


def sheet_name(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique regardless of case; cut between words."""
    base = _cut(" ".join(_NOT_IN_SHEET_NAMES.sub(" ", title).split()), 31) or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = _cut(base, 31 - len(suffix)) + suffix, n + 1
    taken.add(name.lower())
    return name


def column_label(column: str) -> str:
    """A frame's column as a reader's header: the filters' words (Segment, Credit band), else the
    column's words ('avg_transactions_90d' -> 'Avg transactions (90d)', 'premium_pct' -> 'Premium %')."""
    if column in LABELS:
        return LABELS[column]
    words = [WORDS.get(w, w) for w in str(column).split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def number_format(column: str, values: pd.Series) -> str | None:
    """Excel's number format for a column of numbers: $ for money, thousands separators, one decimal for %."""
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return None
    words = str(column).split("_")
    if "pct" in words:
        return PERCENT
    if any(w in MONEY_WORDS for w in words):
        return MONEY
    whole = pd.api.types.is_integer_dtype(values) or bool(values.dropna().eq(values.dropna().round()).all())
    return COUNT if whole else DECIMAL


def _cell(value):
    """A value Excel can hold: no time zones (UTC wall time), no NaN/NA (an empty cell)."""
    if isinstance(value, (pd.Timestamp, dt.datetime)) and value.tzinfo is not None:
        return pd.Timestamp(value).tz_convert("UTC").tz_localize(None).to_pydatetime()
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # a list or array: as text
        return str(value)


def _write(sheet, frame: pd.DataFrame) -> None:
    headers = [column_label(c) for c in frame.columns]
    sheet.append(headers)
    for row in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    formats = [number_format(c, frame[c]) for c in frame.columns]
    for cells in sheet.iter_rows(min_row=2):
        for cell, fmt in zip(cells, formats):
            # Text from the data is text: openpyxl would store '=HYPERLINK(…)' as a live formula.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
            elif fmt and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                cell.number_format = fmt
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        width = max([len(headers[i - 1])] + [len(str(v)) for v in frame[column].head(200)]) + 2
        sheet.column_dimensions[get_column_letter(i)].width = min(width, 40)


def workbook(views: Iterable, filters_text: str, url: str, built_at) -> io.BytesIO:
    """The .xlsx bytes for these views (each with `title` and `frame`) under the described filters."""
    book = Workbook()
    about = book.active
    about.title = "Filters"
    for row in (("Banking analytics export",), ("Filters", filters_text), ("Warehouse", warehouse_name(url)),
                ("Data built", str(built_at)), ("Exported", f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")):
        about.append(row)
    about["B3"].comment = Comment(mask_url(url), "Banking analytics")  # the full URL, password masked
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 18, 90
    taken = {"filters"}
    for view in views:
        frame = view.frame if view.frame is not None else pd.DataFrame()
        _write(book.create_sheet(sheet_name(view.title, taken)), frame)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer
