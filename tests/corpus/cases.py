"""The bad-input corpus: broken and hostile deliveries, and what Kohorte must do with each.

Each case is one file in the inbox. Most are committed in ``files/`` byte for byte
(``.gitattributes`` keeps Git off their line endings); the ones that are binary, huge or
must not sit in the repository (a zip bomb, a 2 GB file) are built by a small function at
run time. ``tests/test_corpus.py`` delivers all of them beside a set of good files in one
nightly run and checks every case against this manifest.

All data is synthetic: customer numbers 900D…/901D… and 999D999999 belong to nobody; the
one 012D… number is a participant of the KPI fixture (``tests/fixtures/kpi``).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

FILES = Path(__file__).resolve().parent / "files"
ANWESENHEIT = ["kundennummer", "datum", "status", "stunden"]
GOOD_ROW = ["900D000001", "02.06.2026", "anwesend", "3"]


@dataclass(frozen=True)
class Case:
    """One kind of broken delivery and the verdict the loader must give it."""

    id: str
    file: str  # name in the inbox (and in files/ unless ``build`` makes it)
    what: str  # what is wrong, for people
    status: str  # loaded | partial | quarantined | duplicate
    category: str | None  # contract.ERROR_CATEGORIES; None for a clean load
    message: str | None = None  # fragment of the file message or of the line's reason
    line: int | None = None  # for line-level errors: where
    column: str | None = None
    rows: tuple[int, int] = (0, 0)  # rows accepted, rows rejected
    stored: tuple[str, str | None] | None = None  # (column, value) that must arrive verbatim
    build: Callable[[Path], None] | None = None  # writes the file at run time
    reported: str | None = None  # the name reports use, if the inbox name cannot be stored
    kept: bool = True  # the original is kept in the quarantine (not a link, pipe, device)

    @property
    def name(self) -> str:
        """The file's name in results and reports."""
        return self.reported or self.file

    def write(self, folder: Path) -> Path:
        """Put this case's file into ``folder`` (an inbox)."""
        target = folder / self.file
        if self.build is not None:
            self.build(target)
        else:
            target.write_bytes((FILES / self.file).read_bytes())
        return target


# --- files built at run time ---


def _workbook(rows: list[list], sheets: int = 1) -> Workbook:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    for i in range(1, sheets):
        book.create_sheet(f"Blatt{i + 1}")
    return book


def _long_line(path: Path) -> None:
    """A line of 2 MiB (DuckDB's limit here is 1 MiB): a runaway export or an attack."""
    lines = [";".join(ANWESENHEIT), ";".join(GOOD_ROW).replace("0001", "2301")]
    lines.append("900D002302;02.06.2026;" + "x" * (2 * 2**20) + ";3")
    lines.append("900D002303;02.06.2026;anwesend;3")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())


def _truncated_xlsx(path: Path) -> None:
    """An XLSX cut off in transfer: the zip's central directory at the end is missing."""
    buffer = io.BytesIO()
    _workbook([ANWESENHEIT, GOOD_ROW]).save(buffer)
    data = buffer.getvalue()
    path.write_bytes(data[: len(data) // 2])


def _two_sheets(path: Path) -> None:
    _workbook([ANWESENHEIT, ["900D005401", "02.06.2026", "anwesend", 3]], sheets=2).save(path)


def _empty_sheet(path: Path) -> None:
    _workbook([]).save(path)


def _macros(path: Path) -> None:
    """A macro workbook renamed to .xlsx: a VBA project inside the zip."""
    buffer = io.BytesIO()
    _workbook([ANWESENHEIT, ["900D005601", "02.06.2026", "anwesend", 3]]).save(buffer)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0 Attribute VB_Name = Auto_Open")
    path.write_bytes(buffer.getvalue())


def _formulas(path: Path) -> None:
    rows = [
        ANWESENHEIT,
        ["900D005701", "02.06.2026", "anwesend", 3],
        ["900D005702", "02.06.2026", "anwesend", "=2+1"],
        ["900D005703", "02.06.2026", "anwesend", 1.5],
    ]
    _workbook(rows).save(path)


def _zip_bomb(path: Path) -> None:
    """520 MiB of spaces as a 2 MiB 'XLSX' (the loader's limit is 512 MiB unpacked)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * 2**20
            for _ in range(520):
                sheet.write(block)


def _symlink(path: Path) -> None:
    """A link in the inbox to a system file outside it (a stand-in for /etc/passwd)."""
    target = path.parent.parent.parent / "passwd"  # beside KOHORTE_HOME, not in it
    target.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    target.chmod(0o644)
    path.symlink_to(target)


def _dangling(path: Path) -> None:
    """A link whose target does not exist (it would crash a loader that follows it)."""
    path.symlink_to(path.parent.parent.parent / "gibt-es-nicht.csv")


def _broken_utf16(path: Path) -> None:
    """'Unicode-Text' cut off in transfer: an odd byte at the end."""
    text = "kundennummer;datum;status;stunden\r\n900D008601;02.06.2026;anwesend;3\r\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le") + b"9")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _utf16_tabs(path: Path) -> None:
    """Excel's "Unicode-Text" as Excel writes it: UTF-16 LE with BOM, tab-separated (a ';'
    inside a value needs no quotes then)."""
    text = "kundennummer\tdatum\tstatus\tstunden\r\n900D007201\t02.06.2026\tanwesend\t3\r\n"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))


def _no_header_xlsx(path: Path) -> None:
    _workbook([["900D006501", "02.06.2026", "anwesend", 3]]).save(path)


def _title_rows(path: Path) -> None:
    """A title, a blank row, then the header in row 3; row 5 holds a bad date."""
    rows = [
        ["Anwesenheit Juni 2026 – Standort Nord"],
        [],
        ANWESENHEIT,
        ["900D007301", "02.06.2026", "anwesend", 3],
        ["900D007302", "31.02.2026", "anwesend", 3],
        ["900D007303", "03.06.2026", "anwesend", 1.5],
    ]
    book = _workbook(rows)
    book.active.merge_cells("A1:D1")  # a merged title is layout, not data
    book.save(path)


def _hidden_sheet(path: Path) -> None:
    book = _workbook([ANWESENHEIT, ["900D007401", "02.06.2026", "anwesend", 3]])
    helper = book.create_sheet("Hilfstabelle")
    helper.append(["=SUMME(A1:A9)", "900D007499"])
    helper.sheet_state = "hidden"
    book.save(path)


def _merged(path: Path) -> None:
    """One coach merged over three rows (E2:E4)."""
    header = [
        "kundennummer",
        "eintritt",
        "austritt",
        "austrittsgrund",
        "coach",
        "geschlecht",
        "geburtsjahr",
        "langzeitleistungsbezug",
        "berufsabschluss",
    ]
    rows = [header] + [
        [
            f"900D00750{i}",
            "01.06.2026",
            None,
            None,
            "Anja Krüger" if i == 1 else None,
            "w",
            1980,
            "ja",
            "nein",
        ]
        for i in (1, 2, 3)
    ]
    book = _workbook(rows)
    book.active.merge_cells("E2:E4")
    book.save(path)


def _password(path: Path) -> None:
    """What Excel writes for a workbook with a password: an OLE file, not a zip."""
    body = b"\x00" * 504 + "EncryptedPackage".encode("utf-16-le") + b"\x00" * 4000
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + body)


def _subfolder(path: Path) -> None:
    path.mkdir()
    (path / "anwesenheit_nord.csv").write_text(
        ";".join(ANWESENHEIT) + "\r\n" + ";".join(GOOD_ROW) + "\r\n", encoding="utf-8"
    )


def _temporary(path: Path) -> None:
    path.write_text(";".join(ANWESENHEIT) + "\r\n900D00", encoding="utf-8")


def _windows_name(path: Path) -> None:
    """A name with Windows-1252 bytes (»Müller«), as an SMB share hands it over."""
    raw = os.fsencode(path.parent) + b"/anwesenheit_k68_M\xfcller.csv"
    with open(raw, "wb") as handle:
        handle.write((";".join(ANWESENHEIT) + "\r\n900D006801;02.06.2026;anwesend;3\r\n").encode())


# read as Windows-1252 and tagged with a hash of the original bytes: no two names meet
WINDOWS_NAME_STORED = (
    "anwesenheit_k68_Müller~"
    + hashlib.sha256(b"anwesenheit_k68_M\xfcller.csv").hexdigest()[:8]
    + ".csv"
)
LONG_NAME = "anwesenheit_k69_" + "x" * 226 + ".csv"  # 246 bytes: fits the inbox only
# stored as its first 187 bytes, a hash of the whole name and its extension (200 bytes)
LONG_NAME_STORED = (
    LONG_NAME[:187] + "~" + hashlib.sha256(LONG_NAME.encode()).hexdigest()[:8] + ".csv"
)


def _long_name(path: Path) -> None:
    rows = [ANWESENHEIT, GOOD_ROW[:1] + ["02.06.2026", "anwesend", "3"]]
    rows.append(["900D006902", "31.02.2026", "anwesend", "3"])
    path.write_text("".join(";".join(r) + "\r\n" for r in rows), encoding="utf-8")


def _two_gigabytes(path: Path) -> None:
    """A valid start, then 2 GiB of nothing: a sparse file, so it costs no disk space."""
    path.write_bytes(b"kundennummer;datum;status;stunden\r\n900D006001;02.06.2026;anwesend;3\r\n")
    os.truncate(path, 2 * 2**30)


# fmt: off
CASES: tuple[Case, ...] = (
    # --- encodings and byte-order marks ---
    Case("k01", "anwesenheit_k01_utf16.csv", "UTF-16 LE with BOM, ';'-separated",
         "loaded", None, rows=(1, 0)),
    Case("k02", "anwesenheit_k02_undefined_bytes.csv", "byte 0x81: neither UTF-8 nor Windows-1252",
         "quarantined", "encoding", "weder UTF-8 noch Windows-1252", line=3),
    Case("k03", "teilnehmende_k03_mixed_encoding.csv", "UTF-8 umlauts, then Windows-1252 ones",
         "quarantined", "encoding", "Gemischte Zeichenkodierung", line=2),
    Case("k04", "teilnehmende_k04_windows1252.csv", "Windows-1252 with „“–: must load exactly",
         "loaded", None, rows=(1, 0), stored=("coach", "Renée „Nené“ Weiß – Süd")),
    Case("k05", "anwesenheit_k05_utf8_bom.csv", "UTF-8 with BOM",
         "loaded", None, rows=(2, 0)),
    Case("k06", "anwesenheit_k06_double_bom.csv", "two BOMs (a BOM file saved again with BOM)",
         "loaded", None, rows=(2, 0)),
    Case("k07", "teilnehmende_k07_nul_byte_late.csv", "a NUL byte in a name after 8 KiB",
         "partial", "value", "Steuerzeichen", line=201, column="coach", rows=(199, 1)),
    # --- structure: delimiters, quoting, line ends, truncation ---
    Case("k08", "anwesenheit_k08_empty.csv", "empty file (0 bytes)",
         "quarantined", "structure", "Die Datei ist leer"),
    Case("k09", "anwesenheit_k09_blank_first_line.csv", "blank line before the header",
         "quarantined", "structure", "Kopfzeile) ist leer", line=1),
    Case("k10", "anwesenheit_k10_comma_delimiter.csv", "comma-separated (English Excel)",
         "quarantined", "structure", "falsches Trennzeichen", line=1),
    Case("k11", "anwesenheit_k11_tab_delimiter.csv", "tab-separated",
         "quarantined", "structure", "falsches Trennzeichen", line=1),
    Case("k12", "anwesenheit_k12_unquoted_semicolon.csv", "a semicolon inside an unquoted value",
         "partial", "structure", "zu viele Spalten", line=3, rows=(2, 1)),
    Case("k13", "anwesenheit_k13_missing_column.csv", "a line with a column too few",
         "partial", "structure", "zu wenige Spalten", line=3, rows=(2, 1)),
    Case("k14", "anwesenheit_k14_truncated_line.csv", "file cut off in the middle of a line",
         "partial", "structure", "zu wenige Spalten", line=4, rows=(2, 1)),
    Case("k15", "anwesenheit_k15_truncated_in_quotes.csv", "file cut off inside a quoted value",
         "partial", "structure", "Anführungszeichen", line=3, rows=(1, 1)),
    Case("k16", "anwesenheit_k16_stray_quote.csv", "a stray quote inside a value",
         "partial", "code", "unbekannter Wert", line=2, column="status", rows=(1, 1)),
    Case("k17", "teilnehmende_k17_quoted_semicolon.csv", "quoted ';' and doubled quotes: data",
         "loaded", None, rows=(2, 0), stored=("coach", "Weiß; Anja")),
    Case("k18", "anwesenheit_k18_mixed_line_endings.csv", "CRLF lines, then LF lines",
         "loaded", None, rows=(4, 0)),
    Case("k19", "anwesenheit_k19_cr_only.csv", "old Mac line ends (CR only)",
         "loaded", None, rows=(3, 0)),
    Case("k20", "anwesenheit_k20_no_final_newline.csv", "last line without a line break",
         "loaded", None, rows=(2, 0)),
    Case("k21", "anwesenheit_k21_whitespace_line.csv", "a line of spaces",
         "partial", "structure", "zu wenige Spalten", line=3, rows=(2, 1)),
    Case("k22", "anwesenheit_k22_only_semicolons.csv", "a line of empty cells (';;;')",
         "partial", "value", "Pflichtwert fehlt", line=3, column="kundennummer", rows=(2, 1)),
    Case("k23", "anwesenheit_k23_long_line.csv", "a 2 MiB line",
         "partial", "size", "Zeile zu lang", line=3, rows=(2, 1), build=_long_line),
    Case("k24", "teilnehmende_k24_header_case_quotes.csv", "header quoted, mixed case, spaces",
         "loaded", None, rows=(1, 0)),
    # --- header ---
    Case("k25", "anwesenheit_k25_duplicate_header.csv", "a column twice in the header",
         "quarantined", "header", "Spalte doppelt", line=1, column="datum"),
    Case("k26", "anwesenheit_k26_missing_required_column.csv", "required column missing",
         "quarantined", "header", "Pflichtspalte fehlt: status", line=1, column="status"),
    Case("k27", "aktivitaeten_k27_extra_column.csv", "unknown extra column, optional one absent",
         "loaded", None, rows=(2, 0)),
    # --- values ---
    Case("k28", "anwesenheit_k28_negative_hours.csv", "negative hours",
         "partial", "value", "Wert zu klein", line=3, column="stunden", rows=(1, 1)),
    Case("k29", "anwesenheit_k29_absurd_hours.csv", "99999 hours in one session",
         "partial", "value", "Wert zu groß", line=3, column="stunden", rows=(1, 1)),
    Case("k30", "anwesenheit_k30_decimal_point.csv", "decimal point instead of comma",
         "partial", "value", "keine Zahl", line=3, column="stunden", rows=(1, 1)),
    Case("k31", "anwesenheit_k31_kundennummer_as_number.csv", "customer number lost its 'D'",
         "partial", "value", "ungültige Kundennummer", line=3, column="kundennummer",
         rows=(1, 1)),
    Case("k32", "ergebnisse_k32_missing_required.csv", "required value empty",
         "partial", "value", "Pflichtwert fehlt", line=3, column="art", rows=(1, 1)),
    Case("k33", "teilnehmende_k33_control_chars_in_name.csv", "ANSI escape and BEL in a name",
         "partial", "value", "Steuerzeichen", line=3, column="coach", rows=(1, 1)),
    Case("k34", "teilnehmende_k34_html_in_name.csv", "HTML/script in a name: kept as text",
         "loaded", None, rows=(1, 0), stored=("coach", "<script>alert(1)</script><b>Anja</b>")),
    Case("k35", "teilnehmende_k35_name_too_long.csv", "a name of 100 characters",
         "partial", "value", "Text länger als 80", line=3, column="coach", rows=(1, 1)),
    Case("k36", "teilnehmende_k36_absurd_birth_year.csv", "born in 2031",
         "partial", "value", "Wert zu groß", line=3, column="geburtsjahr", rows=(1, 1)),
    # --- codes ---
    Case("k37", "anwesenheit_k37_unknown_status.csv", "status 'krank' is no code",
         "partial", "code", "unbekannter Wert", line=3, column="status", rows=(1, 1)),
    Case("k38", "ergebnisse_k38_yes_no_as_digits.csv", "yes/no as 1",
         "partial", "code", "erlaubt: ja, nein", line=3, column="befristet", rows=(1, 1)),
    Case("k39", "verbleib_k39_unknown_status.csv", "unknown follow-up status",
         "partial", "code", "unbekannter Wert", line=3, column="status", rows=(1, 1)),
    # --- dates ---
    Case("k40", "anwesenheit_k40_31_february.csv", "31.02.",
         "partial", "date", "ungültiges Datum", line=3, column="datum", rows=(1, 1)),
    Case("k41", "anwesenheit_k41_two_digit_year.csv", "two-digit year",
         "partial", "date", "kein Datum im Format TT.MM.JJJJ", line=3, column="datum",
         rows=(1, 1)),
    Case("k42", "aktivitaeten_k42_iso_date.csv", "ISO date 2026-06-02",
         "partial", "date", "kein Datum im Format", line=3, column="datum", rows=(1, 1)),
    Case("k43", "anwesenheit_k43_future_date.csv", "a day after the load",
         "partial", "date", "Zukunft", line=3, column="datum", rows=(1, 1)),
    Case("k44", "verbleib_k44_date_before_2000.csv", "31.12.1999",
         "partial", "date", "Datum vor 2000", line=3, column="stichtag", rows=(1, 1)),
    Case("k45", "ergebnisse_k45_excel_serial_date.csv", "Excel serial number as date",
         "partial", "date", "kein Datum im Format", line=3, column="datum", rows=(1, 1)),
    # --- rules across columns, keys ---
    Case("k46", "teilnehmende_k46_exit_before_entry.csv", "exit before entry",
         "partial", "rule", "Austritt liegt vor dem Eintritt", line=3, column="austritt",
         rows=(1, 1)),
    Case("k47", "teilnehmende_k47_exit_without_reason.csv", "exit date without a reason",
         "partial", "rule", "Austrittsgrund fehlt", line=3, column="austrittsgrund",
         rows=(1, 1)),
    Case("k48", "anwesenheit_k48_key_twice.csv", "the same person and day twice",
         "partial", "key", "doppelt in dieser Datei", line=3, column="kundennummer",
         rows=(1, 1)),
    # --- references across files: kept (the other file may come later), warned about ---
    Case("k49", "anwesenheit_k49_unknown_participant.csv", "attendance of an unknown person",
         "loaded", "reference", "assert_attendance_belongs_to_participation", line=2,
         rows=(1, 0)),
    Case("k50", "ergebnisse_k50_outcome_before_entry.csv", "a job starting before entry",
         "loaded", "reference", None, line=2, rows=(1, 0)),
    # --- whole files ---
    Case("k51", "kontakte_k51_unknown_kind.csv", "a file of no known kind",
         "quarantined", "file", "Unbekannte Lieferung"),
    Case("k52", "anwesenheit_k52_csv_named_xlsx.xlsx", "a CSV renamed to .xlsx",
         "quarantined", "file", "Keine gültige XLSX-Datei"),
    Case("k53", "anwesenheit_k53_truncated.xlsx", "an XLSX cut off in transfer",
         "quarantined", "file", "Keine gültige XLSX-Datei", build=_truncated_xlsx),
    Case("k54", "anwesenheit_k54_two_sheets.xlsx", "an XLSX with two sheets",
         "quarantined", "file", "2 Blätter", build=_two_sheets),
    Case("k55", "anwesenheit_k55_empty_sheet.xlsx", "an XLSX with an empty sheet",
         "quarantined", "structure", "Das Blatt ist leer", line=1, build=_empty_sheet),
    # --- hostile ---
    Case("k56", "anwesenheit_k56_macros.xlsx", "a macro workbook renamed to .xlsx",
         "quarantined", "security", "Makros", build=_macros),
    Case("k57", "anwesenheit_k57_formulas.xlsx", "a formula in a cell",
         "partial", "security", "Formel statt Wert", line=3, column="stunden", rows=(2, 1),
         build=_formulas),
    Case("k58", "teilnehmende_k58_formula_injection.csv", "a name starting with '=HYPERLINK('",
         "partial", "security", "beginnt wie eine Formel", line=3, column="coach",
         rows=(1, 1)),
    Case("k59", "anwesenheit_k59_zip_bomb.xlsx", "a zip bomb disguised as XLSX",
         "quarantined", "size", "entpackt sich auf 520 MiB", build=_zip_bomb),
    Case("k60", "anwesenheit_k60_2gb.csv", "a 2 GB file",
         "quarantined", "size", "2.048 MiB groß", build=_two_gigabytes),
    # --- the same file twice: loaded once ---
    Case("k61a", "verbleib_k61a_original.csv", "a delivery (the first of two copies)",
         "loaded", None, rows=(1, 0)),
    Case("k61b", "verbleib_k61b_same_again.csv", "the same content under another name",
         "duplicate", "duplicate", "Bereits geladen"),
    # --- an inbox that tries to trick the intake ---
    Case("k62", "anwesenheit_k62_symlink.csv", "a link to a system file outside the inbox",
         "quarantined", "security", "Keine reguläre Datei", build=_symlink, kept=False),
    Case("k84", "anwesenheit_k84_dangling_link.csv", "a link to nothing",
         "quarantined", "security", "Keine reguläre Datei", build=_dangling, kept=False),
    Case("k63", "anwesenheit_k63_fifo.csv", "a named pipe (FIFO)",
         "quarantined", "security", "Keine reguläre Datei", build=_fifo, kept=False),
    Case("k64", "anwesenheit_k64_no_header.csv", "no header: the first line is data",
         "quarantined", "header", "Die Kopfzeile fehlt", line=1, column="kundennummer"),
    Case("k65", "anwesenheit_k65_no_header.xlsx", "a workbook without a header row",
         "quarantined", "header", "Die Kopfzeile fehlt", line=1, column="kundennummer",
         build=_no_header_xlsx),
    Case("k66", "anwesenheit_k66_upload.csv.filepart", "an upload still in progress",
         "left", None, build=_temporary),
    Case("k67", "~$anwesenheit_k67.xlsx", "Excel's lock file of an open workbook",
         "left", None, build=_temporary),
    Case("k68", os.fsdecode(b"anwesenheit_k68_M\xfcller.csv"), "Windows-1252 bytes in the name",
         "loaded", None, rows=(1, 0), build=_windows_name, reported=WINDOWS_NAME_STORED),
    Case("k69", LONG_NAME, "a name of 246 bytes (too long for the quarantine as it is)",
         "partial", "date", "ungültiges Datum", line=3, column="datum", rows=(1, 1),
         build=_long_name, reported=LONG_NAME_STORED),
    Case("k70", "standort_nord", "deliveries in a subfolder of the inbox",
         "ignored", None, "Unterordner", build=_subfolder, reported="standort_nord/"),
    # --- real exports read generously ---
    Case("k71", "anwesenheit_k71_sep_hint.csv", "Excel's 'sep=;' as the first line",
         "partial", "date", "ungültiges Datum", line=4, column="datum", rows=(1, 1)),
    Case("k72", "anwesenheit_k72_utf16_tabs.csv", "'Unicode-Text', tab-separated",
         "loaded", None, rows=(1, 0), build=_utf16_tabs),
    Case("k86", "anwesenheit_k86_utf16_cut.csv", "'Unicode-Text' cut off after an odd byte",
         "quarantined", "encoding", "kein gültiges UTF-16", build=_broken_utf16),
    Case("k73", "anwesenheit_k73_title_rows.xlsx", "a title and a blank row above the header",
         "partial", "date", "ungültiges Datum", line=5, column="datum", rows=(2, 1),
         build=_title_rows),
    Case("k74", "anwesenheit_k74_hidden_sheet.xlsx", "a hidden second sheet",
         "loaded", None, rows=(1, 0), build=_hidden_sheet),
    Case("k75", "teilnehmende_k75_merged_coach.xlsx", "one coach merged over three rows",
         "partial", "structure", "verbundene Zelle (E2:E4)", line=3, column="coach",
         rows=(1, 2), build=_merged),
    Case("k76", "teilnehmende_k76_open_end.csv", "SAP/VerBIS open end 31.12.9999, 00.00.0000",
         "loaded", None, rows=(2, 0), stored=("austritt", None)),
    Case("k77", "anwesenheit_k77_short_numbers.csv", "hours as '3' and ',5'",
         "loaded", None, rows=(2, 0)),
    Case("k78", "anwesenheit_k78_padded_id.csv", "a customer number with a tab or space",
         "loaded", None, rows=(3, 0)),
    Case("k79", "teilnehmende_k79_invisible_spaces.csv", "a coach with a no-break space",
         "loaded", None, rows=(2, 0), stored=("coach", "Anja Krüger")),
    Case("k80", "anwesenheit_k80_apostrophe_id.csv", "Excel's apostrophe before the number",
         "partial", "value", "Apostroph vor der Kundennummer", line=3, column="kundennummer",
         rows=(1, 1)),
    Case("k81", "anwesenheit_k81_password.xlsx", "a password-protected workbook",
         "quarantined", "file", "mit einem Kennwort geschützt", build=_password),
    Case("k82", "teilnehmende_k82_id_in_name.csv", "a customer number in the coach column",
         "partial", "security", "enthält eine Kundennummer", line=3, column="coach",
         rows=(1, 1)),
    Case("k83", "anwesenheit_k83_storno.csv", "a retraction (storno = ja) with its key only",
         "loaded", None, rows=(2, 0)),
    Case("k85", "teilnehmende_k85_storno_with_content.csv",
         "a retraction whose row still holds a formula and a customer number",
         "loaded", None, rows=(2, 0), stored=("coach", None)),
    # --- the comparison group and the attributes of the impact estimate ---
    Case("k89", "vergleichsgruppe_k89_no_outcome.csv", "a comparison group without its outcome",
         "quarantined", "header", "Pflichtspalte fehlt: verbleib_stichtag, verbleib_status"),
    Case("k90", "vergleichsgruppe_k90_unknown_status.csv",
         "a comparison person's unknown follow-up status",
         "partial", "code", "unbekannter Wert", line=3, column="verbleib_status", rows=(1, 1)),
    Case("k91", "teilnehmende_k91_bad_merkmal.csv", "an attribute neither a number nor ja/nein",
         "partial", "value", "weder eine Zahl", line=3, column="merkmal_schuljahre",
         rows=(1, 1)),
)
# fmt: on


def _shown_name(case: Case) -> str:
    name = case.name
    return name if len(name) < 60 else f"{name[:30]}…{name[-16:]}"


def by_id(case_id: str) -> Case:
    """The case with this id."""
    return next(c for c in CASES if c.id == case_id)


OUTCOME = {
    "loaded": "loaded",
    "partial": "partial",
    "quarantined": "quarantined",
    "duplicate": "duplicate, not counted",
    "left": "not taken, left in the inbox",
    "ignored": "reported as not read, left in the inbox",
}


def render_markdown() -> str:
    """The table of cases for the corpus block of ``docs/reliability.md``."""
    lines = [
        "| case | file | what is wrong | outcome | category | message / line |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for case in CASES:
        where = f"line {case.line}" + (f", `{case.column}`" if case.column else "")
        detail = ", ".join(
            part
            for part in (f"»{case.message}«" if case.message else "", where if case.line else "")
            if part
        )
        outcome = OUTCOME[case.status]
        if case.status == "loaded":
            outcome += f", {case.rows[0]} row{'s' if case.rows[0] != 1 else ''}"
        elif case.status == "partial":
            outcome += f", {case.rows[0]} loaded, {case.rows[1]} rejected"
        lines.append(
            f"| {case.id} | `{_shown_name(case)}` | {case.what} | {outcome} | "
            f"{case.category or '-'} | {detail or '-'} |"
        )
    return "\n".join(lines)
