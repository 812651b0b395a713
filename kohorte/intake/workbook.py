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

from kohorte.define.contract import Kind
from kohorte.intake.report import LineError
from kohorte.intake.survey import check_header
from kohorte.intake.textfiles import UnreadableFile

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
    """A workbook's rows as text (``_line`` plus the contract's columns), and what the
    stage needs to know: header, formula and merged cells as structural errors, notes."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    _refuse_ole(path)
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
            parts = _sheet_parts(archive)
            workbook = CalamineWorkbook.from_path(str(path))
            visible = [
                m.name
                for m in workbook.sheets_metadata
                if m.visible == SheetVisibleEnum.Visible and m.typ == SheetTypeEnum.WorkSheet
            ]
            hidden = [n for n in workbook.sheet_names if n not in visible]
            if len(visible) != 1:
                raise UnreadableFile(
                    f"Die Arbeitsmappe hat {len(visible)} Blätter ({', '.join(visible)}); "
                    f"erwartet wird genau ein sichtbares Blatt."
                )
            formulas = _formula_cells(archive, parts.get(visible[0]))
    except (zipfile.BadZipFile, EOFError):
        raise UnreadableFile("Keine gültige XLSX-Datei (kein Excel-Zip-Archiv).") from None
    except UnreadableFile:
        raise
    except Exception as error:  # calamine raises several error types for broken files
        raise UnreadableFile(f"XLSX-Datei nicht lesbar: {error}") from None
    notes = [f"Ausgeblendetes Blatt »{name}« nicht gelesen." for name in hidden]
    sheet = workbook.get_sheet_by_name(visible[0])
    rows = sheet.to_python(skip_empty_area=False)
    if not rows or not any(str(v).strip() for row in rows for v in row if v is not None):
        raise UnreadableFile(
            "Das Blatt ist leer oder die Kopfzeile fehlt.", line=1, category="structure"
        )
    top = _header_row(rows)
    if top:
        notes.append(
            f"Kopfzeile in Zeile {top + 1} gefunden; {top} Zeile(n) darüber (Titel) übersprungen."
        )
    header = [_cell_text(v).strip().lower() for v in rows[top]]
    while header and not header[-1]:
        header.pop()
    names = check_header(header, kind, line=top + 1)
    data: dict[str, list] = {"_line": []}
    for name in names:
        if name is not None:
            data[name] = []
    rejected = dict(formulas)
    structural = [
        LineError(
            line,
            (names[column] if column < len(names) else None) or f"Spalte {column + 1}",
            "Formel statt Wert (Zellen mit Formeln werden nicht übernommen)",
            category="security",
        )
        for line, column in sorted(formulas.items())
    ]
    for line, column, ref in _merged_cells(sheet, top, len(names)):
        if line not in rejected:
            rejected[line] = column
            structural.append(
                LineError(
                    line,
                    names[column] or f"Spalte {column + 1}",
                    f"verbundene Zelle ({ref}): der Wert steht nur in der ersten Zeile; bitte "
                    "die Verbindung aufheben und den Wert in jede Zeile schreiben",
                    category="structure",
                )
            )
    structural.sort(key=lambda e: e.line)
    for index, row in enumerate(rows[top + 1 :], start=top + 2):
        cells = [_cell_text(v) for v in row]
        if index in rejected or not any(c.strip() for c in cells):
            continue  # rows with formulas are rejected; empty rows are formatting, not data
        data["_line"].append(index)
        for i, name in enumerate(names):
            if name is not None:
                data[name].append(cells[i] if i < len(cells) else "")
    table = pa.table(
        {k: pa.array(v, type=pa.int64() if k == "_line" else pa.string()) for k, v in data.items()}
    )
    info = {"structural": structural, "header": names, "notes": notes}
    return table, info


OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: .xls, or encrypted
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
HEADER_SEARCH_ROWS = 20  # a title and notes above the header: looked for this far down


def _refuse_ole(path: Path) -> None:
    """A password-protected workbook (Excel encrypts it into an OLE file) or an old .xls
    file renamed to .xlsx is named as such."""
    with path.open("rb") as handle:
        head = handle.read(1 << 20)
    if not head.startswith(OLE_MAGIC):
        return
    if ENCRYPTED in head:
        raise UnreadableFile(
            "Die Arbeitsmappe ist mit einem Kennwort geschützt: bitte ohne Kennwort als .xlsx "
            "speichern und erneut liefern."
        )
    raise UnreadableFile(
        "Altes Excel-Format (.xls) unter dem Namen .xlsx: bitte in Excel als "
        "„Excel-Arbeitsmappe (*.xlsx)“ speichern und erneut liefern."
    )


def _header_row(rows: list[list]) -> int:
    """0-based index of the header row: the first row naming ``kundennummer`` among the
    first rows, else the first row that is not empty."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if any(_cell_text(v).strip().lower() == "kundennummer" for v in row):
            return index
    return next(i for i, row in enumerate(rows) if any(_cell_text(v).strip() for v in row))


def _merged_cells(sheet, top: int, width: int) -> list[tuple[int, int, str]]:
    """(line, column, range) of every data cell a merge covers but does not hold the value
    of; merges in the title or header rows are layout and are left alone."""
    covered = []
    for (row0, col0), (row1, col1) in sheet.merged_cell_ranges or []:
        if row0 <= top:
            continue
        ref = f"{_column_letters(col0)}{row0 + 1}:{_column_letters(col1)}{row1 + 1}"
        for row in range(row0, row1 + 1):
            for col in range(col0, min(col1, width - 1) + 1):
                if (row, col) != (row0, col0):
                    covered.append((row + 1, col, ref))
    return sorted(covered)


def _column_letters(index: int) -> str:
    """Excel column name of a 0-based index (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its XML part in the archive (``xl/worksheets/sheet1.xml``)."""
    try:
        book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ElementTree.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    parts = {}
    for element in book.iter():
        if element.tag.endswith("}sheet"):
            rid = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "").lstrip("/")
            parts[element.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return parts


def _formula_cells(archive: zipfile.ZipFile, part: str | None = None) -> dict[int, int]:
    """Rows holding a formula cell (row -> 0-based column of its first formula), in the
    sheet ``part`` (every sheet if unknown).

    calamine returns a formula's cached result (or nothing), so formulas are found in the
    sheet XML itself, streamed."""
    found: dict[int, int] = {}
    for name in archive.namelist():
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        if part is not None and name != part:
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
