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

from .config import mask_url

_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def sheet_name(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique regardless of case."""
    base = _NOT_IN_SHEET_NAMES.sub(" ", title).strip()[:31] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


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
    sheet.append([str(c) for c in frame.columns])
    for row in frame.itertuples(index=False):
        sheet.append([_cell(v) for v in row])
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            # Text from the data is text: openpyxl would store '=HYPERLINK(…)' as a live formula.
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"
    sheet.freeze_panes = "A2"
    for i, column in enumerate(frame.columns, start=1):
        width = max([len(str(column))] + [len(str(v)) for v in frame[column].head(200)]) + 2
        sheet.column_dimensions[get_column_letter(i)].width = min(width, 40)


def workbook(views: Iterable, filters_text: str, url: str, built_at) -> io.BytesIO:
    """The .xlsx bytes for these views (each with `title` and `frame`) under the described filters."""
    book = Workbook()
    about = book.active
    about.title = "Filters"
    for row in (("Banking analytics export",), ("Filters", filters_text), ("Warehouse", mask_url(url)),
                ("Data built", str(built_at)), ("Exported", f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")):
        about.append(row)
    about.column_dimensions["A"].width, about.column_dimensions["B"].width = 18, 90
    taken = {"filters"}
    for view in views:
        frame = view.frame if view.frame is not None else pd.DataFrame()
        _write(book.create_sheet(sheet_name(view.title, taken)), frame)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer
