"""Validation of single deliveries: every bad line is named with line, column and reason."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from kohorte.define.contract import KINDS
from kohorte.define.privacy import pseudonym
from kohorte.intake import ingest_file
from kohorte.store import rawstore

AS_OF = dt.date(2026, 6, 30)
KEY = b"k"
HEADER = {
    "anwesenheit": "kundennummer;datum;status;stunden",
    "teilnehmende": "kundennummer;eintritt;austritt;austrittsgrund;coach;geschlecht;geburtsjahr;"
    "langzeitleistungsbezug;berufsabschluss",
    "ergebnisse": "kundennummer;datum;art;befristet;wochenstunden",
}
GOOD_PERSON = "012D000001;05.01.2026;;;Anja;w;1980;ja;nein"


def _ingest(tmp_path: Path, name: str, content: bytes | str, encoding: str = "utf-8"):
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    path = inbox / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    result = ingest_file(
        path,
        raw=tmp_path / "raw",
        quarantine=tmp_path / "quarantine",
        work=tmp_path / "work",
        key=KEY,
        delivery_id="d1",
        as_of=AS_OF,
    )
    return result


def _csv(kind: str, *lines: str) -> str:
    return "\r\n".join([HEADER[kind], *lines]) + "\r\n"


def _raw_rows(tmp_path: Path, kind: str) -> list[tuple]:
    path = rawstore.parquet_path(tmp_path / "raw", kind, "d1")
    return duckdb.sql(f"select * from read_parquet('{path}') order by line").fetchall()


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("012D000001;31.02.2026;anwesend;3", "datum", "ungültiges Datum"),
        ("012D000001;01.02.26;anwesend;3", "datum", "kein Datum im Format TT.MM.JJJJ"),
        ("012D000001;2026-02-01;anwesend;3", "datum", "kein Datum im Format TT.MM.JJJJ"),
        ("012D000001;01.02.2027;anwesend;3", "datum", "Datum liegt in der Zukunft"),
        ("012D000001;01.02.1999;anwesend;3", "datum", "Datum vor 2000"),
        ("012D000001;01.02.2026;krank;3", "status", "unbekannter Wert"),
        ("012D000001;01.02.2026;anwesend;-1", "stunden", "Wert zu klein"),
        ("012D000001;01.02.2026;anwesend;25", "stunden", "Wert zu groß"),
        ("012D000001;01.02.2026;anwesend;3.5", "stunden", "keine Zahl"),  # a point is no comma
        ("012D000001;01.02.2026;anwesend;drei", "stunden", "keine Zahl"),
        ("12000001;01.02.2026;anwesend;3", "kundennummer", "ungültige Kundennummer"),
        (";01.02.2026;anwesend;3", "kundennummer", "Pflichtwert fehlt"),
        ("012D000001;;anwesend;3", "datum", "Pflichtwert fehlt"),
    ],
)
def test_bad_value_is_reported_and_the_good_line_loads(tmp_path, line, column, reason):
    content = _csv("anwesenheit", "012D000002;02.02.2026;anwesend;3", line)
    result = _ingest(tmp_path, "anwesenheit_x.csv", content)
    assert result.status == "partial"
    assert (result.rows_accepted, result.rows_rejected) == (1, 1)
    [error] = [e for e in result.errors if e.column == column]
    assert error.line == 3
    assert reason in error.reason
    assert [row[1] for row in _raw_rows(tmp_path, "anwesenheit")] == [2]


def test_line_numbers_survive_blank_and_broken_lines(tmp_path):
    content = _csv(
        "anwesenheit",
        "012D000001;01.02.2026;anwesend;3",  # line 2
        "012D000002;01.02.2026;anwesend;3;extra",  # line 3: too many columns
        "",  # line 4: blank
        "012D000003;01.02.2026;anwesend;3",  # line 5
        "012D000004;31.02.2026;anwesend;3",  # line 6: bad date
        "012D000005;01.02.2026;anwesend",  # line 7: missing column
        "012D000006;01.02.2026;anwesend;1,5",  # line 8
    )
    result = _ingest(tmp_path, "anwesenheit_x.csv", content)
    assert {(e.line, e.column is None or e.column) for e in result.errors} == {
        (3, True),
        (6, "datum"),
        (7, "stunden"),
    }
    assert [row[1] for row in _raw_rows(tmp_path, "anwesenheit")] == [2, 5, 8]
    assert result.rows_rejected == 3


def test_decimal_comma_and_thousands_dot(tmp_path):
    content = _csv("ergebnisse", "012D000001;01.02.2026;svb_beschaeftigung;ja;38,5")
    _ingest(tmp_path, "ergebnisse_x.csv", content)
    [row] = _raw_rows(tmp_path, "ergebnisse")
    assert float(row[-2]) == 38.5 and row[-3] is True and row[-1] is False  # storno: nein


def test_kundennummer_is_pseudonymised_and_never_stored(tmp_path):
    content = _csv("anwesenheit", "012d000001;01.02.2026;Anwesend;3")
    _ingest(tmp_path, "anwesenheit_x.csv", content)
    [row] = _raw_rows(tmp_path, "anwesenheit")
    assert row[2] == pseudonym(KEY, "012D000001")
    assert row[4] == "anwesend"  # codes are case-insensitive, stored lower-case
    stored = rawstore.parquet_path(tmp_path / "raw", "anwesenheit", "d1").read_bytes()
    assert b"000001" not in stored
    assert not (tmp_path / "inbox" / "anwesenheit_x.csv").exists()


def test_duplicate_key_within_a_file_is_rejected_naming_the_first(tmp_path):
    content = _csv(
        "anwesenheit",
        "012D000001;01.02.2026;anwesend;3",
        "012D000001;01.02.2026;unentschuldigt;0",
    )
    result = _ingest(tmp_path, "anwesenheit_x.csv", content)
    [error] = result.errors
    assert (error.line, error.column, error.value) == (3, "kundennummer", "erstmals in Zeile 2")


@pytest.mark.parametrize(
    ("line", "column", "reason"),
    [
        ("012D000001;05.01.2026;01.01.2026;regulaer;Anja;w;1980;ja;nein", "austritt", "vor dem"),
        ("012D000001;05.01.2026;01.02.2026;;Anja;w;1980;ja;nein", "austrittsgrund", "fehlt"),
        ("012D000001;05.01.2026;;regulaer;Anja;w;1980;ja;nein", "austritt", "fehlt"),
        ("012D000001;05.01.2026;;;Anja;x;1980;ja;nein", "geschlecht", "unbekannter Wert"),
        ("012D000001;05.01.2026;;;Anja;w;1980;vielleicht;nein", "langzeitleistungsbezug", "unbek"),
        ("012D000001;05.01.2026;;;An\x07ja;w;1980;ja;nein", "coach", "Steuerzeichen"),
        ("012D000001;05.01.2026;;;Anja;w;1880;ja;nein", "geburtsjahr", "Wert zu klein"),
    ],
)
def test_participant_rules(tmp_path, line, column, reason):
    result = _ingest(tmp_path, "teilnehmende_x.csv", _csv("teilnehmende", line))
    assert result.rows_accepted == 0
    [error] = result.errors
    assert (error.line, error.column) == (2, column)
    assert reason in error.reason


def test_html_in_names_is_kept_as_text(tmp_path):
    line = "012D000001;05.01.2026;;;<script>alert(1)</script>;w;1980;ja;nein"
    result = _ingest(tmp_path, "teilnehmende_x.csv", _csv("teilnehmende", line))
    assert result.status == "loaded"
    assert _raw_rows(tmp_path, "teilnehmende")[0][6] == "<script>alert(1)</script>"


def test_windows_1252_file_loads_with_its_special_characters(tmp_path):
    line = "012D000001;05.01.2026;;;Renée „Nené“ Weiß – Süd;w;1980;ja;nein"
    content = _csv("teilnehmende", line).encode("windows-1252")
    result = _ingest(tmp_path, "teilnehmende_x.csv", content)
    assert (result.status, result.encoding) == ("loaded", "windows-1252")
    assert _raw_rows(tmp_path, "teilnehmende")[0][6] == "Renée „Nené“ Weiß – Süd"


def _xlsx(path: Path, rows: list[list], sheets: int = 1) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for i in range(1, sheets):
        book.create_sheet(f"Blatt{i + 1}")
    book.save(path)
    return path.read_bytes()


def test_xlsx_with_date_cells_and_text_ids_loads_like_csv(tmp_path):
    data = _xlsx(
        tmp_path / "a.xlsx",
        [
            ["Kundennummer", "Datum", "Status", "Stunden"],
            ["012D000001", dt.date(2026, 2, 1), "anwesend", 2.5],
            ["012D000002", "02.02.2026", "anwesend", 3],
            [None, None, None, None],
            [12000003, dt.date(2026, 2, 3), "anwesend", 3],  # number-formatted id
        ],
    )
    result = _ingest(tmp_path, "anwesenheit_x.xlsx", data)
    assert (result.status, result.file_format) == ("partial", "xlsx")
    [error] = result.errors
    assert (error.line, error.column) == (5, "kundennummer")
    rows = _raw_rows(tmp_path, "anwesenheit")
    assert [(r[1], r[2], float(r[5])) for r in rows] == [
        (2, pseudonym(KEY, "012D000001"), 2.5),
        (3, pseudonym(KEY, "012D000002"), 3.0),
    ]


def test_xlsx_with_two_sheets_is_quarantined_whole(tmp_path):
    data = _xlsx(tmp_path / "a.xlsx", [["kundennummer", "datum", "status", "stunden"]], sheets=2)
    result = _ingest(tmp_path, "anwesenheit_x.xlsx", data)
    assert result.status == "quarantined"
    assert "2 Blätter" in result.message
    report_file = tmp_path / "quarantine" / "d1__anwesenheit_x.xlsx.report.json"
    report = json.loads(report_file.read_text())
    assert report["file_name"] == "anwesenheit_x.xlsx"


def test_every_kind_accepts_its_own_header(tmp_path):
    for kind in KINDS.values():
        header = ";".join(c.name for c in kind.columns)
        result = _ingest(tmp_path, f"{kind.prefix}_empty.csv", header + "\r\n")
        assert (result.status, result.rows_accepted) == ("loaded", 0), kind.name


def test_a_file_without_one_good_line_is_quarantined_with_its_line_errors(tmp_path):
    content = _csv("anwesenheit", "012D000001;31.02.2026;anwesend;3", "x;y;z;w")
    result = _ingest(tmp_path, "anwesenheit_x.csv", content)
    assert (result.status, result.rows_accepted, result.rows_rejected) == ("quarantined", 0, 2)
    assert "Keine gültige Zeile" in result.message
    assert {e.line for e in result.errors} == {2, 3}
    assert not rawstore.parquet_path(tmp_path / "raw", "anwesenheit", "d1").exists()
    assert rawstore.deliveries(tmp_path / "raw") == []


def test_the_quarantine_is_readable_by_the_service_account_only(tmp_path):
    """Originals and reports hold customer numbers in clear: folder 0700, files 0600, also
    under a permissive umask and for a folder an older version created 0755."""
    import os
    import stat

    from kohorte.config import Settings

    settings = Settings(home=tmp_path / "home", pseudonym_key_env="k")
    settings.quarantine.mkdir(parents=True, mode=0o755)
    settings.ensure_dirs()
    assert stat.S_IMODE(settings.quarantine.stat().st_mode) == 0o700
    old = os.umask(0o022)
    try:
        content = _csv("anwesenheit", "012D000001;31.02.2026;anwesend;3")
        result = _ingest(tmp_path, "anwesenheit_x.csv", content)
    finally:
        os.umask(old)
    assert result.status == "quarantined"
    files = list((tmp_path / "quarantine").iterdir())
    assert len(files) == 3  # original, JSON and text report
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}


def test_the_load_keeps_to_its_memory_limit(tmp_path):
    """Checking files runs under KOHORTE_LOAD_MEMORY_LIMIT (DuckDB spills beyond it)."""
    from kohorte.intake.stage import connection

    con = connection(tmp_path / "work-a", "300MB")
    try:
        limit = con.execute("select current_setting('memory_limit')").fetchone()[0]
    finally:
        con.close()
    assert limit.startswith("286") and "MiB" in limit  # 300 MB in DuckDB's MiB


@given(st.lists(st.text(alphabet=st.sampled_from("a1;,. \t\r\n\u00a0\u2007\u202f\u200b\ufeffäß"))))
def test_the_fast_trim_is_the_trim_of_the_contract(values):
    """Values are trimmed only where an edge character is one to trim: the same result as
    trimming every value over the whole set, for any text (empty and NULL too)."""
    from kohorte.intake.validate import TRIMMED, _trimmed

    con = duckdb.connect()
    con.execute("create table v (x varchar)")
    con.executemany("insert into v values (?)", [(x,) for x in [*values, None]])
    fast, full = _trimmed("x"), f"trim(x, '{TRIMMED}')"
    assert con.execute(
        f"select count(*) from v where ({fast}) is distinct from ({full})"
    ).fetchone() == (0,)
