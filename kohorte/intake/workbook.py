"""Reading an XLSX workbook as text rows, as German Excel would have written its CSV.

Refused unopened: a zip bomb, a macro workbook, anything that is no Excel zip archive.
Formula cells are found in the sheet XML itself (calamine returns only cached results).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pyarrow as pa

from kohorte.contract import Kind
from kohorte.intake.report import LineError
from kohorte.intake.survey import check_header
from kohorte.textfiles import UnreadableFile

MAX_XLSX_UNPACKED = 512 * 1024 * 1024  # a zip bomb disguised as XLSX is refused unopened
FORMULA_ELEMENT = re.compile(rb"<(\w+:)?f[ >/]")


def _cell_text(value: object) -> str:
    """An Excel cell as the text German Excel would have written into a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ja" if value else "nein"
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value).replace(".", ",")
    return str(value)


def read_xlsx(path: Path, kind: Kind) -> tuple[pa.Table, dict]:
    """A workbook's rows as text (``_line`` plus the contract's columns), and what
    ``check_file`` needs to know: header, formula cells as structural errors."""
    from python_calamine import CalamineWorkbook

    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
            if any(name.lower().endswith("vbaproject.bin") for name in archive.namelist()):
                raise UnreadableFile(
                    "Die Arbeitsmappe enthält Makros; erwartet wird .xlsx ohne Makros.",
                    category="security",
                )
            if unpacked > MAX_XLSX_UNPACKED:
                raise UnreadableFile(
                    f"Die XLSX-Datei entpackt sich auf {unpacked // 2**20} MiB (mehr als "
                    f"{MAX_XLSX_UNPACKED // 2**20} MiB erlaubt): abgelehnt.",
                    category="size",
                )
            formulas = _formula_cells(archive)
    except (zipfile.BadZipFile, EOFError):
        raise UnreadableFile("Keine gültige XLSX-Datei (kein Excel-Zip-Archiv).") from None
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine raises several error types for broken files
        raise UnreadableFile(f"XLSX-Datei nicht lesbar: {error}") from None
    sheets = workbook.sheet_names
    if len(sheets) != 1:
        raise UnreadableFile(
            f"Die Arbeitsmappe hat {len(sheets)} Blätter ({', '.join(sheets)}); erwartet wird "
            f"genau ein Blatt."
        )
    rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    if not rows or not any(str(v).strip() for v in rows[0] if v is not None):
        raise UnreadableFile(
            "Das Blatt ist leer oder die Kopfzeile fehlt.", line=1, category="structure"
        )
    header = [_cell_text(v).strip().lower() for v in rows[0]]
    while header and not header[-1]:
        header.pop()
    names = check_header(header, kind)
    data: dict[str, list] = {"_line": []}
    for name in names:
        if name is not None:
            data[name] = []
    structural = []
    for line, column in sorted(formulas.items()):
        name = names[column] if column < len(names) else None
        structural.append(
            LineError(
                line,
                name or f"Spalte {column + 1}",
                "Formel statt Wert (Zellen mit Formeln werden nicht übernommen)",
                category="security",
            )
        )
    for index, row in enumerate(rows[1:], start=2):
        cells = [_cell_text(v) for v in row]
        if index in formulas or not any(c.strip() for c in cells):
            continue  # rows with formulas are rejected; empty rows are formatting, not data
        data["_line"].append(index)
        for i, name in enumerate(names):
            if name is not None:
                data[name].append(cells[i] if i < len(cells) else "")
    table = pa.table(
        {k: pa.array(v, type=pa.int64() if k == "_line" else pa.string()) for k, v in data.items()}
    )
    return table, {"encoding": "xlsx", "format": "xlsx", "structural": structural, "header": names}


def _formula_cells(archive: zipfile.ZipFile) -> dict[int, int]:
    """Rows holding a formula cell (row -> 0-based column of its first formula).

    calamine returns a formula's cached result (or nothing), so formulas are found in the
    sheet XML itself, streamed."""
    found: dict[int, int] = {}
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        if not _mentions_formula(archive, name):
            continue  # the common case: no need to parse the XML in Python
        with archive.open(name) as stream:
            for _, element in ElementTree.iterparse(stream):
                if element.tag.endswith("}c"):
                    if any(child.tag.endswith("}f") for child in element):
                        ref = element.get("r", "")
                        letters = ref.rstrip("0123456789")
                        if ref[len(letters) :].isdigit():
                            found.setdefault(int(ref[len(letters) :]), _column_index(letters))
                    element.clear()
    return found


def _mentions_formula(archive: zipfile.ZipFile, name: str) -> bool:
    tail = b""
    with archive.open(name) as stream:
        while chunk := stream.read(1 << 20):
            if FORMULA_ELEMENT.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _column_index(letters: str) -> int:
    """0-based index of an Excel column name (A -> 0, AA -> 26)."""
    index = 0
    for letter in letters.upper():
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1
