"""Exports as German Excel expects them: CSV (``;``, decimal comma, dd.mm.yyyy, UTF-8 BOM)
and XLSX, with spreadsheet formula injection neutralised.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
run as a formula by Excel or LibreOffice (OWASP "CSV injection"); such text cells get a
leading apostrophe. Numbers stay numbers. Callers pass frames that are already protected
against small counts (``kohorte.read.disclosure``); exports never see more than the screen.
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Text that a spreadsheet would evaluate, made literal; everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    safe = frame.copy()
    safe.columns = [str(neutralise(str(c))) for c in safe.columns]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise).astype(object)
    return safe


def _german_text(value: object) -> object:
    if value is pd.NaT:  # an empty date or timestamp is an empty cell
        return None
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return value


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV for German Excel: ``;``, decimal comma, dd.mm.yyyy, CRLF, UTF-8 with BOM."""
    safe = _safe(frame).map(_german_text)
    text = safe.to_csv(sep=";", decimal=",", index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")


def _cell(value: object) -> object:
    """A value as an XLSX cell: empty for missing values, and control characters, which
    the format cannot hold (a NUL in a name, say), shown as the replacement character."""
    if pd.isna(value):
        return None
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def to_xlsx(frame: pd.DataFrame, sheet: str = "Kohorte") -> bytes:
    """One-sheet XLSX with real numbers and dates and no formulas."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    safe = _safe(frame)
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]
    ws.append(list(safe.columns))
    for row in safe.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for index, column in enumerate(safe.columns, start=1):
        if pd.api.types.is_datetime64_any_dtype(frame[frame.columns[index - 1]]) or (
            len(frame) and isinstance(frame.iloc[0, index - 1], dt.date)
        ):
            for cell in ws[get_column_letter(index)][1:]:
                cell.number_format = "DD.MM.YYYY"
        width = max([len(str(column))] + [len(str(v)) for v in safe[column].head(200)])
        ws.column_dimensions[get_column_letter(index)].width = min(60, width + 2)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet, for analysts' own tools: types as they are, no formatting."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
