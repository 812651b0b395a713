"""Exports as German Excel expects them: CSV (``;``, decimal comma, dd.mm.yyyy, UTF-8 BOM)
and XLSX (real numbers and dates with number formats), each with a head that says what it
is, and with spreadsheet formula injection neutralised.

A table to export is a ``Table``: the frame, how its numbers are written (``kinds``: per
column a ``Kind`` or its name, or one per row where rows differ in unit, as the KPI list
does), and a head (a title, then label/value lines such as the as-of date and the active
filters). A cell holding a number is written as that number, rounded to the places the
screen shows; a cell holding text stays text, so a protected value (``<3``, ``*``) is
never mistaken for a number.

- XLSX: the title in bold, the head's lines below it (dates as real dates), a blank row,
  then the table with a bold header row, frozen under it. Numbers carry number formats:
  percent ``0.0%``, counts ``#,##0``, decimals ``#,##0.0``, dates ``DD.MM.YYYY``.
- CSV: the same head lines above the table (so ``pandas.read_csv(skiprows=len(head)+1)``
  reads the table), then the table. A percent is written as the screen shows it,
  ``51,5 %``, which German Excel takes for a percentage (a tool that wants the bare
  fraction reads the XLSX); counts without thousands separator (``1234``: a ``1.234`` is
  ambiguous outside German Excel); decimals with a comma; dates dd.mm.yyyy.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be
run as a formula by Excel or LibreOffice (OWASP "CSV injection"); such text cells, in the
table and in the head, get a leading apostrophe. Callers pass frames that are already
protected against small counts (``kohorte.read.disclosure``); exports never see more than
the screen.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from kohorte.read import cards, fmt

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Kind:
    """How the numbers of a column are written: ``unit`` (percent, count, decimal, date)
    and the decimal places the screen shows (of the percentage, for a percent)."""

    unit: str
    places: int = 0

    @property
    def number_format(self) -> str:
        """The XLSX number format (Excel shows it in the reader's locale: 51,5%)."""
        decimals = "." + "0" * self.places if self.places else ""
        return {
            "percent": f"0{decimals}%",
            "count": "#,##0",
            "decimal": f"#,##0{decimals}",
            "date": "DD.MM.YYYY",
        }[self.unit]


PERCENT = Kind("percent", 1)
COUNT = Kind("count")
DECIMAL = Kind("decimal", 1)
DATE = Kind("date")
KINDS = {
    "percent": PERCENT,
    "count": COUNT,
    "decimal": DECIMAL,
    "date": DATE,
    # a KPI's unit (kohorte.define.kpis) names the kind of its value
    "rate": PERCENT,
    "ratio": DECIMAL,
    "days": COUNT,
}

KindSpec = Kind | str | Sequence[Kind | str | None]


@dataclass(frozen=True)
class Table:
    """A table to export: the frame, how its numbers are written (``kinds`` by column
    name), its ``title`` and the label/value ``lines`` under the title."""

    frame: pd.DataFrame
    kinds: Mapping[str, KindSpec] = field(default_factory=dict)
    title: str | None = None
    lines: tuple[tuple[str, object], ...] = ()

    @property
    def head(self) -> list[list[object]]:
        """The rows above the table: the title, then one row per line."""
        rows = [[self.title]] if self.title else []
        return rows + [[label, value] for label, value in self.lines]


def card_cell(card: cards.Card, threshold: int, lang: str = "de") -> object:
    """A KPI (``kohorte.read.cards.Card``) as an export's cell: its value where it is shown
    (written by the kind ``KINDS[card.kpi.unit]``), else the text the screen shows in its
    place (``<3``, ``*``, "nicht erreicht", "–")."""
    if card.state == cards.SHOWN and card.value is not None:
        return card.value
    return fmt.card_value(card, threshold, lang)


def file_name(name: str, as_of: dt.date | None, suffix: str) -> str:
    """``kennzahlen_2026-03-26.csv``: the as-of date of the data in ISO form, so that a
    folder of exports sorts by date; without a date just ``name.suffix``."""
    if as_of is None:
        return f"{name}.{suffix}"
    return f"{name}_{as_of:%Y-%m-%d}.{suffix}"


def neutralise(value: object) -> object:
    """Text that a spreadsheet would evaluate, made literal; everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _table(table: pd.DataFrame | Table) -> Table:
    return table if isinstance(table, Table) else Table(table)


def _kind(spec: Kind | str | None) -> Kind | None:
    return KINDS[spec] if isinstance(spec, str) else spec


def _column_kinds(table: Table) -> list[list[Kind | None]]:
    """Per column, the kind of each row's cell (None: as the value comes)."""
    frame, rows = table.frame, len(table.frame)
    kinds = []
    for name in frame.columns:
        spec = table.kinds.get(name)
        if isinstance(spec, (Kind, str)) or spec is None:
            kinds.append([_kind(spec)] * rows)
        else:
            if len(spec) != rows:
                raise ValueError(f"{name}: {len(spec)} kinds for {rows} rows")
            kinds.append([_kind(s) for s in spec])
    return kinds


def _missing(value: object) -> bool:
    try:
        return value is None or bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array in a cell
        return False


def _rounded(value: float, places: int) -> float:
    """Rounded as Babel rounds what the screen shows (half to even, of the decimal)."""
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN))


def _number(value: object, kind: Kind | None) -> object:
    """A cell's value with its kind applied: a number rounded to the places shown, a
    date as a date; text (a protected ``<3``) stays text, neutralised."""
    if _missing(value):
        return None
    if isinstance(value, str):
        return neutralise(value)
    if hasattr(value, "item") and not isinstance(value, pd.Timestamp):
        value = value.item()  # numpy scalars as Python numbers
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if kind is None or isinstance(value, bool):
        return value
    if kind.unit == "date":
        return value.date() if isinstance(value, dt.datetime) else value
    if not isinstance(value, (int, float)):
        return value
    if kind.unit == "percent":
        return _rounded(value, kind.places + 2)
    if kind.unit == "count" or kind.places == 0:
        return int(_rounded(value, 0))
    return _rounded(value, kind.places)


def _text(value: object, kind: Kind | None) -> str:
    """A cell as CSV text for German Excel."""
    value = _number(value, kind)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float) and kind is not None and kind.unit == "percent":
        return fmt.percent(value, "de", kind.places).replace("\xa0", " ")
    if isinstance(value, float):
        places = kind.places if kind is not None else None
        text = repr(value) if places is None else f"{value:.{places}f}"
        return text.replace(".", ",")
    return str(value)


def to_csv(table: pd.DataFrame | Table) -> bytes:
    """CSV for German Excel: the head's lines, a blank line, the table; ``;``, decimal
    comma, dd.mm.yyyy, CRLF, UTF-8 with BOM."""
    table = _table(table)
    kinds = _column_kinds(table)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    head = table.head
    for row in head:
        writer.writerow([_text(v, DATE if isinstance(v, dt.date) else None) for v in row])
    if head:
        writer.writerow([])
    writer.writerow([neutralise(str(c)) for c in table.frame.columns])
    for index, row in enumerate(table.frame.itertuples(index=False)):
        writer.writerow([_text(v, kinds[c][index]) for c, v in enumerate(row)])
    return buffer.getvalue().encode("utf-8-sig")


def _cell(value: object) -> object:
    """A value as an XLSX cell: empty for missing values, and control characters, which
    the format cannot hold (a NUL in a name, say), shown as the replacement character."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def _number_format(value: object, kind: Kind | None) -> str | None:
    """The number format of a written cell: a date's always, a number's by its kind."""
    if isinstance(value, dt.datetime) and value.time() != dt.time():
        return DATE.number_format + " HH:MM"  # a timestamp keeps its time
    if isinstance(value, (dt.date, dt.datetime)):
        return DATE.number_format
    if kind is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        return kind.number_format
    return None


def to_xlsx(table: pd.DataFrame | Table, sheet: str = "Kohorte") -> bytes:
    """One-sheet XLSX with real numbers and dates in number formats, and no formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    table = _table(table)
    kinds = _column_kinds(table)
    book = Workbook()
    ws = book.active
    ws.title = sheet[:31]

    def put(row: int, values: list, row_kinds: list, font: Font | None = None) -> None:
        for column, (value, kind) in enumerate(zip(values, row_kinds, strict=True), start=1):
            cell = ws.cell(row, column, _cell(_number(value, kind)))
            number_format = _number_format(cell.value, kind)
            if number_format is not None:
                cell.number_format = number_format
            if font is not None and column == 1:
                cell.font = font

    for row, values in enumerate(table.head, start=1):
        title = row == 1 and table.title
        put(row, values, [None] * len(values), Font(bold=True, size=13 if title else 11))
    header = len(table.head) + 2 if table.head else 1  # a blank row under the head
    for column, name in enumerate(table.frame.columns, start=1):
        ws.cell(header, column, _cell(neutralise(str(name)))).font = Font(bold=True)
    for index, values in enumerate(table.frame.itertuples(index=False)):
        put(header + 1 + index, list(values), [kinds[c][index] for c in range(len(values))])
    ws.freeze_panes = ws.cell(header + 1, 1)  # the header stays in view
    for index, column in enumerate(table.frame.columns):
        values = zip(table.frame.iloc[:200, index], kinds[index], strict=False)
        width = max([len(str(column))] + [len(_text(v, kind)) for v, kind in values])
        ws.column_dimensions[get_column_letter(index + 1)].width = min(60, max(8, width + 2))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def to_parquet(frame: pd.DataFrame) -> bytes:
    """Parquet, for analysts' own tools: types as they are, no formatting."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()
